"""Report forwarding: a Flag out (filed with forward=true, or forwarded later
by a moderator) and a Flag in (a report in the tenant's queue)."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select

from steward.activitypub.transport import FakeTransport
from steward.db.tables import reports
from steward.moderation.audit import list_actions
from tests.federation.peer_flags import (
    ACTOR,
    HOST,
    deliver,
    flag,
    instance_actor,
    local_uri,
    remote_account,
    remote_post,
)
from tests.world import World


@pytest.fixture
def fake(world: World, monkeypatch: pytest.MonkeyPatch) -> FakeTransport:
    transport = FakeTransport({ACTOR: instance_actor()})
    monkeypatch.setattr(world.c, "transport", transport)
    return transport


def flags_sent(fake: FakeTransport) -> list[tuple[str, dict, str | None]]:
    """The Flags sent to this test's remote server (a job another test left behind
    may pass through the fake transport too)."""
    sent = [(s.url, orjson.loads(s.body or b""), s.key_id) for s in fake.sent
            if s.method == "POST" and f"//{HOST}/" in s.url]
    return [x for x in sent if x[1].get("type") == "Flag"]


async def test_report_filed_with_forward_sends_a_flag(world: World, fake: FakeTransport) -> None:
    troll_id, troll_uri = await remote_account(world, world.a)
    post_id = await remote_post(world, world.a, troll_id, troll_uri)
    r = await world.local_alice.post("/api/v1/reports", data={
        "account_id": str(troll_id), "status_ids[]": str(post_id), "comment": "abusive", "forward": "true"})
    assert r.status_code == 200, r.text
    assert r.json()["forwarded"] is True
    await world.run_jobs()
    sent = flags_sent(fake)
    assert len(sent) == 1
    url, activity, key_id = sent[0]
    base = f"http://{world.a.web_domain}"
    assert url == f"{troll_uri}/inbox" and key_id == f"{base}/actor#main-key"
    assert activity["type"] == "Flag" and activity["actor"] == f"{base}/actor"
    assert activity["object"] == [troll_uri, f"{troll_uri}/statuses/1"] and activity["content"] == "abusive"
    # The reporter is never named.
    assert "alice" not in orjson.dumps(activity).decode()


async def test_no_forward_by_default_and_never_for_local_accounts(world: World, fake: FakeTransport) -> None:
    troll_id, _ = await remote_account(world, world.a)
    r = await world.local_alice.post("/api/v1/reports", data={"account_id": str(troll_id), "comment": "x"})
    assert r.json()["forwarded"] is False
    r = await world.local_alice.post("/api/v1/reports", data={"account_id": world.local_bob.account_id,
                                                              "forward": "true"})
    assert r.status_code == 200 and r.json()["forwarded"] is False
    await world.run_jobs()
    assert flags_sent(fake) == []
    # A moderator cannot forward a report about a local account either.
    r = await world.admin_ann.post(f"/api/v1/admin/steward/reports/{r.json()['id']}/forward")
    assert r.status_code == 422


async def test_moderator_forwards_later_once(world: World, fake: FakeTransport) -> None:
    troll_id, troll_uri = await remote_account(world, world.a)
    report = (await world.local_alice.post("/api/v1/reports", data={"account_id": str(troll_id),
                                                                    "comment": "later"})).json()
    r = await world.admin_ann.post(f"/api/v1/admin/steward/reports/{report['id']}/forward")
    assert r.status_code == 200 and r.json()["forwarded"] is True
    assert (await world.admin_ann.post(f"/api/v1/admin/steward/reports/{report['id']}/forward")).status_code == 422
    await world.run_jobs()
    assert [a["object"] for _, a, _ in flags_sent(fake)] == [[troll_uri]]
    async with world.c.db.read() as conn:
        logged = await list_actions(conn, world.a.id, target_type="Report", target_id=int(report["id"]))
    assert [a["action"] for a in logged] == ["forward"]
    # Isolation: tenant B's moderator cannot forward A's report, a user cannot at all.
    assert (await world.mod_mike.post(f"/api/v1/admin/steward/reports/{report['id']}/forward")).status_code == 404
    assert (await world.local_bob.post(f"/api/v1/admin/steward/reports/{report['id']}/forward")).status_code == 403


async def test_inbound_flag_files_a_report(world: World, fake: FakeTransport) -> None:
    status = (await world.local_alice.post("/api/v1/statuses", data={"status": "my post"})).json()
    alice_uri = await local_uri(world, world.a, "alice")
    carol_uri = await local_uri(world, world.b, "carol")  # another tenant's account
    objects = [alice_uri, status["uri"], carol_uri, f"https://{HOST}/users/nobody"]
    assert (await deliver(world, world.a, flag(1, objects, "spam"))).status_code == 202
    await world.run_jobs()
    async with world.c.db.read() as conn:
        rows_a = (await conn.execute(select(reports).where(reports.c.tenant_id == world.a.id))).all()
        rows_b = (await conn.execute(select(reports).where(reports.c.tenant_id == world.b.id))).all()
    assert rows_b == []
    assert len(rows_a) == 1
    report = rows_a[0]
    assert report.target_account_id == int(world.local_alice.account_id)
    assert [int(i) for i in report.status_ids] == [int(status["id"])]
    assert report.comment == "spam" and report.uri == f"{ACTOR}#reports/1"
    # A's staff are told, with Mastodon's admin.report notification.
    told = (await world.admin_ann.get("/api/v1/notifications", params={"types[]": "admin.report"})).json()
    assert [n["report"]["id"] for n in told] == [str(report.id)]
    assert (await world.local_bob.get("/api/v1/notifications")).json() == []
    shown = (await world.admin_ann.get(f"/api/v1/admin/reports/{report.id}")).json()
    assert shown["account"]["account"]["acct"] == f"{HOST}@{HOST}"
    assert shown["target_account"]["username"] == "alice" and len(shown["statuses"]) == 1


async def test_flag_naming_only_another_tenant_files_nothing(world: World, fake: FakeTransport) -> None:
    carol_uri = await local_uri(world, world.b, "carol")
    assert (await deliver(world, world.a, flag(2, [carol_uri]))).status_code == 202
    await world.run_jobs()
    async with world.c.db.read() as conn:
        found = (await conn.execute(select(reports.c.id).where(reports.c.tenant_id.in_([world.a.id, world.b.id]))))
        assert found.all() == []


async def test_reject_reports_drops_flags(world: World, fake: FakeTransport) -> None:
    r = await world.admin_ann.post("/api/v1/admin/domain_blocks", data={
        "domain": HOST, "severity": "noop", "reject_reports": "true"})
    assert r.status_code == 200, r.text
    alice_uri = await local_uri(world, world.a, "alice")
    assert (await deliver(world, world.a, flag(3, [alice_uri]))).status_code == 202
    await world.run_jobs()
    async with world.c.db.read() as conn:
        assert (await conn.execute(select(reports.c.id).where(reports.c.tenant_id == world.a.id))).all() == []
