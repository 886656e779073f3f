"""Delivery robustness: retries with backoff over days, final answers, hosts
marked unavailable and retried slowly (never dropped), per tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from steward.activitypub.transport import FakeTransport, TransportError
from steward.core.clock import aware, utcnow
from steward.db.tables import instances, jobs
from steward.federation import delivery
from steward.federation.delivery import DELIVERY_ATTEMPTS, UNAVAILABLE_AFTER, queue_delivery
from steward.model.entities import Tenant
from tests.world import World

INBOX = "https://flaky.example/inbox"


class ScriptedTransport(FakeTransport):
    """Answers POSTs with the next scripted status (or raises a network error for None)."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[int | None] = []

    async def post_signed(self, url: str, body: bytes, key_id: str, private_pem: str) -> int:
        status = await super().post_signed(url, body, key_id, private_pem)
        answer = self.answers.pop(0) if self.answers else status
        if answer is None:
            raise TransportError(f"POST {url} failed: connection refused")
        return answer


@pytest.fixture
async def fake(world: World, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ScriptedTransport]:
    transport = ScriptedTransport()
    monkeypatch.setattr(world.c, "transport", transport)
    yield transport
    # Retries left waiting would run in later tests (the job table outlives a test's tenants).
    async with world.c.db.write() as conn:
        await conn.execute(jobs.delete().where(jobs.c.tenant_id.in_([world.a.id, world.b.id])))


async def queue(world: World, tenant: Tenant, n: int = 1, inbox: str = INBOX) -> None:
    async with world.c.db.write() as conn:
        for i in range(n):
            await queue_delivery(conn, tenant.id, None, inbox, {"id": f"https://x/{i}", "type": "Like"})


async def waiting(world: World, tenant: Tenant | None = None) -> list[Any]:
    tenant = tenant or world.a
    async with world.c.db.read() as conn:
        return list((await conn.execute(select(jobs).where(jobs.c.kind == "ap.deliver", jobs.c.tenant_id == tenant.id)
                                        .order_by(jobs.c.id))).all())


async def host_row(world: World, tenant: Tenant, domain: str = "flaky.example") -> Any:
    async with world.c.db.read() as conn:
        return (await conn.execute(select(instances).where(instances.c.tenant_id == tenant.id,
                                                           instances.c.domain == domain))).first()


async def test_server_error_is_retried_with_backoff_for_days(world: World, fake: ScriptedTransport) -> None:
    fake.answers = [503]
    await queue(world, world.a)
    await world.c.jobs.run_pending()
    [job] = await waiting(world)
    assert job.state == "queued" and job.attempts == 1 and job.max_attempts == DELIVERY_ATTEMPTS
    assert aware(job.run_at) > utcnow() + timedelta(seconds=5)
    assert "answered 503" in (job.last_error or "")
    row = await host_row(world, world.a)
    assert row.failure_count == 1 and row.unavailable_since is None
    # The attempts the queue allows add up to several days of backoff.
    from steward.jobs.queue import backoff_seconds
    assert sum(backoff_seconds(n) for n in range(1, DELIVERY_ATTEMPTS)) * 0.75 > 3 * 24 * 3600
    # When the retry comes, a success ends the job and clears the host's failures.
    async with world.c.db.write() as conn:
        await conn.execute(jobs.update().where(jobs.c.id == job.id).values(run_at=utcnow()))
    delivery._states.clear()
    await world.c.jobs.run_pending()
    assert await waiting(world) == []
    assert (await host_row(world, world.a)).failure_count == 0
    assert len([s for s in fake.sent if s.method == "POST"]) == 2


async def test_gone_and_other_refusals_are_final(world: World, fake: ScriptedTransport) -> None:
    fake.answers = [410, 403, None, 429]
    await queue(world, world.a, 4)
    await world.c.jobs.run_pending()
    left = await waiting(world)
    # 410 and 403 end their jobs; a network failure and 429 are retried.
    assert len(left) == 2 and all(j.state == "queued" and j.attempts == 1 for j in left)
    sent = [orjson.loads(s.body or b"") for s in fake.sent if s.method == "POST"]
    assert [a["id"] for a in sent] == [f"https://x/{i}" for i in range(4)]
    assert sent[0]["type"] == "Like" and fake.sent[0].key_id == f"http://{world.a.web_domain}/actor#main-key"


async def test_a_failing_host_is_marked_unavailable_and_retried_slowly(world: World,
                                                                        fake: ScriptedTransport) -> None:
    fake.answers = [None] * UNAVAILABLE_AFTER
    await queue(world, world.a, UNAVAILABLE_AFTER)
    await world.c.jobs.run_pending()
    row = await host_row(world, world.a)
    assert row.failure_count == UNAVAILABLE_AFTER and row.unavailable_since is not None
    # A new delivery to it is not attempted now, nor dropped: it waits hours.
    sent_before = len(fake.sent)
    await queue(world, world.a, 1)
    await world.c.jobs.run_pending()
    assert len(fake.sent) == sent_before
    jobs_left = await waiting(world)
    assert len(jobs_left) == UNAVAILABLE_AFTER + 1
    newest = jobs_left[-1]
    assert newest.state == "queued" and aware(newest.run_at) > utcnow() + timedelta(hours=2)
    assert "unavailable" in (newest.last_error or "")
    # Tenant B's deliveries to the same host are not affected by A's record.
    await queue(world, world.b, 1)
    await world.c.jobs.run_pending()
    assert len(fake.sent) == sent_before + 1 and await host_row(world, world.b) is None
    # After the probe interval one delivery goes out; its success makes the host available again.
    async with world.c.db.write() as conn:
        await conn.execute(instances.update().where(instances.c.tenant_id == world.a.id).values(
            last_failure_at=utcnow() - timedelta(minutes=11)))
        await conn.execute(jobs.update().where(jobs.c.id == newest.id).values(run_at=utcnow()))
    delivery._states.clear()
    await world.c.jobs.run_pending()
    row = await host_row(world, world.a)
    assert row.failure_count == 0 and row.unavailable_since is None
    assert len(fake.sent) == sent_before + 2


async def test_refused_address_is_final(world: World, fake: ScriptedTransport,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from steward.activitypub.transport import HttpTransport

    monkeypatch.setattr(world.c, "transport", HttpTransport(allow_private=False))
    await queue(world, world.a, 1, inbox="http://127.0.0.1:9/inbox")
    await world.c.jobs.run_pending()
    assert await waiting(world) == []
    assert await host_row(world, world.a, "127.0.0.1:9") is None
    await world.c.transport.close()
