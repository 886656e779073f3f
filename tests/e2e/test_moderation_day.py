"""Acceptance 2, a moderation day end to end, between two tenants of one
process that federate through the app itself (tests/e2e/appnet.py: every
activity is a signed HTTP request to the other tenant's real inbox, every
actor and object fetched by a signed GET), as two servers would:

alice (tenant A) follows carol (tenant B), carol's spam arrives on A, alice
reports it; A's admin limits carol's account there and forwards the report;
B receives the Flag as a report in its queue, B's moderator suspends carol;
carol (suspended) reads her strike and its statement of reasons and appeals;
the appeal is approved. Every step leaves its audit row, every restriction a
statement of reasons, and each tenant's export of the day's statements passes
the validator driven by statement-rules.json."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from steward.core.clock import utcnow
from steward.moderation.audit import list_actions
from steward.moderation.statements import export_statements
from tests.admin.test_statements import dsa_errors
from tests.e2e.appnet import AppNetwork
from tests.world import World


@pytest.fixture
async def net(world: World, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AppNetwork]:
    network = AppNetwork(world.app, {world.a.web_domain, world.b.web_domain})
    monkeypatch.setattr(world.c, "transport", network)
    yield network
    await network.close()


async def _audit(world: World, tenant_id: int) -> set[tuple[str, str]]:
    async with world.c.db.read() as conn:
        return {(a["action"], a["target_type"]) for a in await list_actions(conn, tenant_id, limit=1000)}


async def test_a_moderation_day(world: World, net: AppNetwork) -> None:
    started = utcnow() - timedelta(seconds=1)
    alice, ann, carol, mike = world.local_alice, world.admin_ann, world.local_carol, world.mod_mike

    # alice finds carol on B and follows her; B accepts over the network.
    found = (await alice.get("/api/v2/search", params={"q": f"@carol@{world.b.domain}", "resolve": "true"})).json()
    carol_on_a = found["accounts"][0]["id"]
    assert (await alice.post(f"/api/v1/accounts/{carol_on_a}/follow")).status_code == 200
    await world.run_jobs()
    assert net.posted("Follow") and net.posted("Accept")

    # carol's spam reaches A through its inbox.
    spam = (await carol.post("/api/v1/statuses", data={"status": "Cheap pills at example.com!"})).json()
    await world.run_jobs()
    home = (await alice.get("/api/v1/timelines/home")).json()
    spam_on_a = next(s for s in home if s["uri"] == spam["uri"])
    assert spam_on_a["account"]["id"] == carol_on_a

    # alice reports it; A's admin limits carol on A and forwards the report.
    report = (await alice.post("/api/v1/reports", data={
        "account_id": carol_on_a, "status_ids[]": spam_on_a["id"], "category": "spam",
        "comment": "Spam in my timeline"})).json()
    r = await ann.post(f"/api/v1/admin/accounts/{carol_on_a}/action", data={
        "type": "silence", "report_id": report["id"], "text": "Spam"})
    assert r.status_code == 200, r.text
    assert (await ann.post(f"/api/v1/admin/steward/reports/{report['id']}/forward")).status_code == 200
    await world.run_jobs()
    flags = net.posted("Flag")
    carol_uri = f"http://{world.b.web_domain}/users/carol"
    assert len(flags) == 1 and flags[0]["object"] == [carol_uri, spam["uri"]]
    assert flags[0]["actor"] == f"http://{world.a.web_domain}/actor" and "alice" not in str(flags[0])
    outcome = {x["id"]: x["outcome"] for x in (await alice.get("/api/v1/steward/reports")).json()}
    assert outcome[report["id"]] == "action_taken"

    # B's moderator finds the forwarded report in B's queue and suspends carol.
    queue = (await mike.get("/api/v1/admin/reports")).json()
    assert len(queue) == 1
    forwarded = queue[0]
    assert forwarded["target_account"]["id"] == carol.account_id
    assert forwarded["account"]["account"]["url"].startswith(f"http://{world.a.web_domain}/")
    assert forwarded["comment"] == "Spam in my timeline"
    assert [s["id"] for s in forwarded["statuses"]] == [spam["id"]]
    r = await mike.post(f"/api/v1/admin/accounts/{carol.account_id}/action", data={
        "type": "suspend", "report_id": forwarded["id"], "text": "Commercial spam"})
    assert r.status_code == 200, r.text
    await world.run_jobs()

    # carol, suspended, reads her strike with its statement of reasons, and appeals.
    strikes = (await carol.get("/api/v1/steward/strikes")).json()
    assert [(s["action"], s["text"]) for s in strikes] == [("suspend", "Commercial spam")]
    statement = strikes[0]["statement_of_reasons"]
    assert statement["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert dsa_errors({k: v for k, v in statement.items() if k != "id"}) == []
    r = await carol.post(f"/api/v1/steward/strikes/{strikes[0]['id']}/appeal", data={"text": "I was hacked"})
    assert r.status_code == 200, r.text

    # The appeal is decided: approved, carol is back.
    appeals = (await mike.get("/api/v1/admin/steward/appeals")).json()
    assert [a["text"] for a in appeals] == ["I was hacked"]
    assert (await mike.post(f"/api/v1/admin/steward/appeals/{appeals[0]['id']}/approve")).json()["state"] \
        == "approved"
    assert (await mike.get(f"/api/v1/admin/accounts/{carol.account_id}")).json()["suspended"] is False
    notes = (await carol.get("/api/v1/notifications", params={"types[]": "moderation_warning"})).json()
    assert [n["moderation_warning"]["appeal"]["state"] for n in notes] == ["approved"]

    # Every step is in the audit log of the tenant where it happened.
    assert {("silence", "Account"), ("resolve", "Report"), ("forward", "Report")} <= await _audit(world, world.a.id)
    assert {("suspend", "Account"), ("resolve", "Report"), ("approve", "Appeal"), ("unsuspend", "Account")} \
        <= await _audit(world, world.b.id)

    # Each restriction has its statement; the day's export passes the DSA rules and names nobody.
    until = utcnow() + timedelta(seconds=1)
    async with world.c.db.read() as conn:
        exported = {t.id: await export_statements(conn, t.id, started, until) for t in (world.a, world.b)}
    assert [s["decision_visibility"] for s in exported[world.a.id]] == [["DECISION_VISIBILITY_CONTENT_DEMOTED"]]
    assert [s["decision_account"] for s in exported[world.b.id]] == ["DECISION_ACCOUNT_SUSPENDED"]
    for item in [*exported[world.a.id], *exported[world.b.id]]:
        assert dsa_errors(item) == [], item
        assert item["source_type"] == "SOURCE_TYPE_OTHER_NOTIFICATION"
        text = str(item).lower()
        assert "carol" not in text and "alice" not in text and "hacked" not in text and "pills" not in text
