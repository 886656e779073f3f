from __future__ import annotations

from typing import Any

from tests.schema import assert_matches
from tests.world import Person, World


async def _file(reporter: Person, target: Person, **extra: Any) -> dict:
    status = (await target.post("/api/v1/statuses", data={"status": "rude words"})).json()
    r = await reporter.post("/api/v1/reports", data={"account_id": target.account_id, "status_ids[]": status["id"],
                                                     "comment": "api crimes", **extra})
    assert r.status_code == 200, r.text
    return r.json()


async def test_report_workflow(world: World) -> None:
    report = await _file(world.local_bob, world.local_alice)
    ann = world.admin_ann
    r = await ann.get("/api/v1/admin/reports")
    assert r.status_code == 200 and [x["id"] for x in r.json()] == [report["id"]]
    assert_matches("AdminReport", r.json(), many=True)
    shown = (await ann.get(f"/api/v1/admin/reports/{report['id']}")).json()
    assert shown["account"]["username"] == "bob" and shown["target_account"]["username"] == "alice"
    assert [s["content"] for s in shown["statuses"]] == ["<p>rude words</p>"] or len(shown["statuses"]) == 1
    r = await ann.post(f"/api/v1/admin/reports/{report['id']}/assign_to_self")
    assert r.json()["assigned_account"]["id"] == ann.account_id
    r = await ann.post(f"/api/v1/admin/reports/{report['id']}/unassign")
    assert r.json()["assigned_account"] is None
    r = await ann.post(f"/api/v1/admin/reports/{report['id']}/resolve")
    body = r.json()
    assert body["action_taken"] is True and body["action_taken_by_account"]["id"] == ann.account_id
    assert_matches("AdminReport", body)
    assert (await ann.get("/api/v1/admin/reports")).json() == []
    assert [x["id"] for x in (await ann.get("/api/v1/admin/reports", params={"resolved": "true"})).json()] \
        == [report["id"]]
    both = await ann.get("/api/v1/admin/reports", params={"resolved": "true", "unresolved": "true"})
    assert [x["id"] for x in both.json()] == [report["id"]]
    r = await ann.post(f"/api/v1/admin/reports/{report['id']}/reopen")
    assert r.json()["action_taken"] is False
    r = await ann.get("/api/v1/admin/reports", params={"target_account_id": world.local_bob.account_id})
    assert r.json() == []
    r = await ann.get("/api/v1/admin/reports", params={"account_id": world.local_bob.account_id})
    assert len(r.json()) == 1
    r = await ann.put(f"/api/v1/admin/reports/{report['id']}", data={"category": "spam"})
    assert r.status_code == 200 and r.json()["category"] == "spam"


async def test_action_with_report_resolves_open_reports(world: World) -> None:
    first = await _file(world.local_bob, world.local_alice)
    second = await _file(world.admin_ann, world.local_alice, category="legal")
    r = await world.admin_ann.post(f"/api/v1/admin/accounts/{world.local_alice.account_id}/action",
                                   data={"type": "silence", "report_id": second["id"]})
    assert r.status_code == 200
    for rid in (first["id"], second["id"]):
        assert (await world.admin_ann.get(f"/api/v1/admin/reports/{rid}")).json()["action_taken"] is True
    # A report about someone else cannot justify this action.
    other = await _file(world.local_alice, world.local_bob)
    r = await world.admin_ann.post(f"/api/v1/admin/accounts/{world.local_alice.account_id}/action",
                                   data={"type": "none", "report_id": other["id"]})
    assert r.status_code == 422


async def test_bad_input_and_permissions(world: World) -> None:
    report = await _file(world.local_bob, world.local_alice)
    ann = world.admin_ann
    assert (await ann.get("/api/v1/admin/reports/424242")).status_code == 404
    assert (await ann.post("/api/v1/admin/reports/424242/resolve")).status_code == 404
    r = await ann.put(f"/api/v1/admin/reports/{report['id']}", data={"category": "gossip"})
    assert r.status_code == 422 and "error" in r.json()
    r = await ann.put(f"/api/v1/admin/reports/{report['id']}", data={"rule_ids[]": "987654"})
    assert r.status_code == 422
    assert (await ann.get("/api/v1/admin/reports", params={"account_id": "x"})).status_code == 422
    assert (await world.local_alice.get("/api/v1/admin/reports")).status_code == 403
    assert (await world.local_alice.post(f"/api/v1/admin/reports/{report['id']}/resolve")).status_code == 403
    # A moderator handles reports but not federation.
    mod = await world.person(world.a, "molly", role="moderator", scopes="read write admin:read admin:write")
    assert (await mod.post(f"/api/v1/admin/reports/{report['id']}/resolve")).status_code == 200
    r = await mod.post("/api/v1/admin/domain_blocks", data={"domain": "bad.example"})
    assert r.status_code == 403


async def test_tenant_isolation(world: World) -> None:
    report = await _file(world.local_bob, world.local_alice)
    mike = world.mod_mike
    assert (await mike.get("/api/v1/admin/reports")).json() == []
    assert (await mike.get(f"/api/v1/admin/reports/{report['id']}")).status_code == 404
    for step in ("resolve", "assign_to_self"):
        assert (await mike.post(f"/api/v1/admin/reports/{report['id']}/{step}")).status_code == 404
    on_a = world.client(world.a, mike.token)
    assert (await on_a.get(f"/api/v1/admin/reports/{report['id']}")).status_code == 401
    assert (await on_a.post(f"/api/v1/admin/reports/{report['id']}/resolve")).status_code == 401
    shown = (await world.admin_ann.get(f"/api/v1/admin/reports/{report['id']}")).json()
    assert shown["action_taken"] is False and shown["assigned_account"] is None
