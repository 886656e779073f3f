"""Federation policy: domain blocks and limited federation mode, inbound
(inbox POSTs, queued activities) and outbound (deliveries, fetches), per tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from steward.activitypub.transport import FakeTransport
from steward.db.tables import accounts, follows, jobs
from steward.federation import policy
from steward.federation.delivery import deliver as deliver_job
from steward.federation.fetch import FetchError, ensure_actor, fetch_object
from tests.federation.peer_policy import Peer
from tests.world import World

EVIL = Peer("evil.example")
EVIL_SUB = Peer("sub.evil.example", "sam")
LOUD = Peer("loud.example")
FRIEND = Peer("friend.example")
OTHER = Peer("other.example")


@pytest.fixture
def fake(world: World, monkeypatch: pytest.MonkeyPatch) -> FakeTransport:
    transport = FakeTransport({p.uri: p.actor() for p in (EVIL, EVIL_SUB, LOUD, FRIEND, OTHER)})
    monkeypatch.setattr(world.c, "transport", transport)
    return transport


@pytest.fixture(autouse=True)
async def _no_leftover_jobs(world: World) -> AsyncIterator[None]:
    """Jobs these tests queue and leave are removed: another test's run_jobs()
    would otherwise run them through its own transport."""
    yield
    async with world.c.db.write() as conn:
        await conn.execute(jobs.delete().where(jobs.c.tenant_id.in_([world.a.id, world.b.id])))


async def block(world: World, domain: str, **fields: Any) -> dict[str, Any]:
    r = await world.admin_ann.post("/api/v1/admin/domain_blocks", data={"domain": domain, **fields})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def inbox_jobs(world: World, tenant_id: int) -> int:
    async with world.c.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(jobs).where(
            jobs.c.kind == "ap.inbox", jobs.c.tenant_id == tenant_id))).scalar() or 0)


async def remote_account(world: World, tenant_id: int, uri: str) -> Any:
    async with world.c.db.read() as conn:
        return (await conn.execute(select(accounts).where(accounts.c.tenant_id == tenant_id,
                                                          accounts.c.uri == uri))).first()


async def test_suspended_domain_is_refused_before_any_fetch(world: World, fake: FakeTransport) -> None:
    await block(world, "evil.example", severity="suspend")
    for peer in (EVIL, EVIL_SUB):  # the block covers subdomains
        r = await peer.deliver(world, world.a, peer.follow(world.a))
        assert r.status_code == 403 and "not allowed" in r.json()["error"], r.text
    assert fake.sent == []  # no key fetch, nothing at all went to the blocked domain
    assert await inbox_jobs(world, world.a.id) == 0
    assert await remote_account(world, world.a.id, EVIL.uri) is None
    # Tenant isolation: a's block means nothing to b.
    r = await EVIL.deliver(world, world.b, EVIL.follow(world.b, "carol"))
    assert r.status_code == 202, r.text
    assert await inbox_jobs(world, world.b.id) == 1


async def test_lifting_a_block_takes_effect_at_once(world: World, fake: FakeTransport) -> None:
    # The policy snapshot is loaded (and cached) before the block, and must not outlive it.
    assert (await EVIL.deliver(world, world.a, EVIL.follow(world.a))).status_code == 202
    blocked = await block(world, "evil.example", severity="suspend")
    assert (await EVIL.deliver(world, world.a, EVIL.follow(world.a))).status_code == 403
    assert (await world.admin_ann.delete(f"/api/v1/admin/domain_blocks/{blocked['id']}")).status_code == 200
    assert (await EVIL.deliver(world, world.a, EVIL.follow(world.a))).status_code == 202


async def test_activity_queued_before_the_block_is_dropped(world: World, fake: FakeTransport) -> None:
    assert (await EVIL.deliver(world, world.a, EVIL.follow(world.a))).status_code == 202
    await block(world, "evil.example", severity="suspend")
    fake.sent.clear()
    await world.run_jobs()
    async with world.c.db.read() as conn:
        followed = (await conn.execute(select(func.count()).select_from(follows).where(
            follows.c.tenant_id == world.a.id))).scalar()
    assert followed == 0
    # No Accept went out either (other tests' leftover jobs may run here too: look at a's only).
    assert [s.url for s in fake.sent if world.a.web_domain in (s.key_id or "")] == []


async def test_no_delivery_or_fetch_to_a_suspended_domain(world: World, fake: FakeTransport) -> None:
    await block(world, "evil.example", severity="suspend")
    payload = {"tenant_id": world.a.id, "account_id": int(world.local_alice.account_id),
               "inbox": "https://sub.evil.example/inbox", "activity": {"type": "Accept"}}
    await deliver_job(world.c, payload)
    with pytest.raises(FetchError, match="blocked"):
        await fetch_object(world.c, world.a, EVIL.uri)
    assert await ensure_actor(world.c, world.a, EVIL_SUB.uri) is None
    assert fake.sent == []
    # The same calls for tenant b do go out.
    await deliver_job(world.c, {**payload, "tenant_id": world.b.id, "account_id": None})
    assert (await fetch_object(world.c, world.b, EVIL.uri))["id"] == EVIL.uri
    assert [s.method for s in fake.sent] == ["POST", "GET"]


async def test_limited_federation_mode(world: World, fake: FakeTransport) -> None:
    tenant = await world.c.tenants.update_settings(world.a.id, {"limited_federation": True})
    assert (await world.anon_a.get("/api/v2/instance")).json()["configuration"]["limited_federation"] is True
    assert (await world.anon_b.get("/api/v2/instance")).json()["configuration"]["limited_federation"] is False
    assert (await world.admin_ann.post("/api/v1/admin/domain_allows",
                                       data={"domain": "friend.example"})).status_code == 200
    assert (await FRIEND.deliver(world, world.a, FRIEND.follow(world.a))).status_code == 202
    for stranger in (OTHER, Peer("sub.friend.example")):  # an allow names exactly one domain, as Mastodon's
        assert (await stranger.deliver(world, world.a, stranger.follow(world.a))).status_code == 403
    fake.sent.clear()
    base = {"tenant_id": world.a.id, "account_id": None, "activity": {"type": "Accept"}}
    await deliver_job(world.c, {**base, "inbox": "https://other.example/inbox"})
    await deliver_job(world.c, {**base, "inbox": "https://friend.example/inbox"})
    with pytest.raises(FetchError):
        await fetch_object(world.c, tenant, OTHER.uri)
    assert [s.url for s in fake.sent] == ["https://friend.example/inbox"]
    # Tenant b stays open.
    assert (await OTHER.deliver(world, world.b, OTHER.follow(world.b, "carol"))).status_code == 202
    # A block still wins over an allow.
    await block(world, "friend.example", severity="suspend")
    assert (await FRIEND.deliver(world, world.a, FRIEND.follow(world.a))).status_code == 403


async def test_silenced_domain_accounts_are_limited(world: World, fake: FakeTransport) -> None:
    await block(world, "loud.example", severity="silence")
    assert (await LOUD.deliver(world, world.a, LOUD.follow(world.a))).status_code == 202  # silence still federates
    await world.run_jobs()
    row = await remote_account(world, world.a.id, LOUD.uri)
    assert row is not None and row.silenced_at is not None and row.suspended_at is None
    shown = (await world.local_alice.get(f"/api/v1/accounts/{row.id}")).json()
    assert shown["limited"] is True
    # The same actor seen by tenant b is not limited there.
    assert (await LOUD.deliver(world, world.b, LOUD.follow(world.b, "carol"))).status_code == 202
    await world.run_jobs()
    row_b = await remote_account(world, world.b.id, LOUD.uri)
    assert row_b is not None and row_b.silenced_at is None


async def test_reject_media_drops_remote_avatars(world: World, fake: FakeTransport) -> None:
    await block(world, "loud.example", severity="noop", reject_media="true")
    assert (await LOUD.deliver(world, world.a, LOUD.follow(world.a))).status_code == 202
    await world.run_jobs()
    row = await remote_account(world, world.a.id, LOUD.uri)
    assert row is not None and row.avatar_remote_url is None and row.header_remote_url is None
    assert row.silenced_at is None
    assert await policy.rejects_media(world.c, world.a, "https://loud.example/media/1.png")
    assert not await policy.rejects_media(world.c, world.b, "https://loud.example/media/1.png")
    # Another domain's avatar is kept.
    assert (await FRIEND.deliver(world, world.a, FRIEND.follow(world.a))).status_code == 202
    await world.run_jobs()
    friend = await remote_account(world, world.a.id, FRIEND.uri)
    assert friend is not None and friend.avatar_remote_url == "https://friend.example/avatar.png"


async def test_rejects_reports(world: World, fake: FakeTransport) -> None:
    await block(world, "loud.example", severity="noop", reject_reports="true")
    await block(world, "evil.example", severity="suspend")
    await block(world, "quiet.example", severity="silence")
    async with world.c.db.read() as conn:
        for probe in (conn, world.c):
            assert await policy.rejects_reports(probe, world.a.id, "loud.example")
            assert await policy.rejects_reports(probe, world.a.id, "a.loud.example:8443")
            assert await policy.rejects_reports(probe, world.a.id, "evil.example")
            assert not await policy.rejects_reports(probe, world.a.id, "quiet.example")
            assert not await policy.rejects_reports(probe, world.a.id, "friend.example")
            assert not await policy.rejects_reports(probe, world.b.id, "loud.example")


def test_rules_match_parents_and_ignore_ports() -> None:
    from datetime import UTC, datetime

    rule = policy.Rule("example.com", "suspend", False, False, datetime.now(UTC))
    snap = policy.Snapshot({"example.com": rule}, frozenset({"ok.example"}), False, 0, 0.0)
    for host in ("example.com", "a.example.com", "b.a.example.com"):
        assert snap.rule_for(host) is rule and snap.refuses(host)
    for host in ("notexample.com", "example.com.evil", "com"):
        assert snap.rule_for(host) is None and not snap.refuses(host)
    assert policy.host_of("https://A.Example.COM:8443/users/x") == "a.example.com"
    assert policy.host_of("example.com:3000") == "example.com"
    assert policy.host_of("") == "" and policy.host_of("https://[::1") == ""
    limited = policy.Snapshot({}, frozenset({"ok.example"}), True, 0, 0.0)
    assert not limited.refuses("ok.example") and limited.refuses("sub.ok.example")


async def test_refused_inbox_answers_in_mastodon_error_shape(world: World, fake: FakeTransport) -> None:
    await block(world, "evil.example", severity="suspend")
    r = await EVIL.deliver(world, world.a, body=orjson.dumps(EVIL.follow(world.a)), path="/users/alice/inbox")
    assert r.status_code == 403 and set(r.json()) == {"error"}


async def test_no_webfinger_to_a_suspended_domain(world: World, fake: FakeTransport) -> None:
    from steward.federation.resolve import ResolveError, resolve_account

    await block(world, "evil.example", severity="suspend")
    with pytest.raises(ResolveError, match="blocked"):
        await resolve_account(world.c, world.a, "rob@sub.evil.example")
    r = await world.local_alice.get("/api/v2/search", params={"q": "@rob@evil.example", "resolve": "true"})
    assert r.status_code == 200 and r.json()["accounts"] == []
    assert fake.sent == []
    # Tenant b asks (and gets a 404 from the fake server, which is fine: it asked).
    with pytest.raises(ResolveError):
        await resolve_account(world.c, world.b, "rob@evil.example")
    assert any("evil.example" in s.url for s in fake.sent)
