"""Moderating posts: delete statuses or mark them sensitive, with a strike the
author sees, audit rows, a valid statement of reasons, and an appeal that
restores them."""

from __future__ import annotations

from sqlalchemy import select

from steward.db.tables import admin_action_logs
from steward.moderation.statements import export_statements
from tests.admin.test_statements import dsa_errors
from tests.world import World

ACTIONS = "/api/v1/admin/steward/status_actions"


async def _post(world: World, text: str, **extra: str) -> str:
    r = await world.local_alice.post("/api/v1/statuses", data={"status": text, **extra})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


async def _report(world: World, status_ids: list[str]) -> str:
    r = await world.local_bob.post("/api/v1/reports", json={
        "account_id": world.local_alice.account_id, "status_ids": status_ids, "comment": "spam", "category": "spam"})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


async def test_delete_statuses_from_a_report_and_restore_on_appeal(world: World) -> None:
    bad, other, kept = await _post(world, "buy pills"), await _post(world, "buy more pills"), await _post(world, "hi")
    report = await _report(world, [bad, other])
    r = await world.admin_ann.post(ACTIONS, json={"type": "delete_statuses", "report_id": report,
                                                  "text": "Spam is not allowed"})
    assert r.status_code == 200, r.text
    await world.run_jobs()
    for gone in (bad, other):
        assert (await world.local_bob.get(f"/api/v1/statuses/{gone}")).status_code == 404
    assert (await world.local_bob.get(f"/api/v1/statuses/{kept}")).status_code == 200
    assert (await world.admin_ann.get(f"/api/v1/admin/reports/{report}")).json()["action_taken"] is True
    # The author sees the strike (and is notified), appeals, and the approval restores the posts.
    strikes = (await world.local_alice.get("/api/v1/steward/strikes")).json()
    assert strikes[0]["action"] == "delete_statuses" and sorted(strikes[0]["status_ids"]) == sorted([bad, other])
    kinds = [n["type"] for n in (await world.local_alice.get("/api/v1/notifications")).json()]
    assert "moderation_warning" in kinds
    r = await world.local_alice.post(f"/api/v1/steward/strikes/{strikes[0]['id']}/appeal", data={"text": "Not spam"})
    assert r.status_code == 200, r.text
    appeal = (await world.admin_ann.get("/api/v1/admin/steward/appeals")).json()[0]
    assert (await world.admin_ann.post(f"/api/v1/admin/steward/appeals/{appeal['id']}/approve")).status_code == 200
    await world.run_jobs()
    assert (await world.local_bob.get(f"/api/v1/statuses/{bad}")).status_code == 200
    assert (await world.local_alice.get("/api/v1/accounts/verify_credentials")).json()["statuses_count"] == 3
    async with world.c.db.read() as conn:
        logged = (await conn.execute(select(admin_action_logs.c.action, admin_action_logs.c.target_type).where(
            admin_action_logs.c.tenant_id == world.a.id))).all()
        exported = await export_statements(conn, world.a.id)
    assert [r.action for r in logged if r.target_type == "Status"].count("destroy") == 2
    assert [r.action for r in logged if r.target_type == "Status"].count("restore") == 2
    assert len(exported) == 1 and dsa_errors(exported[0]) == []
    assert exported[0]["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]


async def test_mark_sensitive_and_lift_on_appeal(world: World) -> None:
    status = await _post(world, "graphic")
    r = await world.admin_ann.post(ACTIONS, json={"type": "mark_statuses_as_sensitive", "status_ids": [status]})
    assert r.status_code == 200, r.text
    assert (await world.local_bob.get(f"/api/v1/statuses/{status}")).json()["sensitive"] is True
    strike = (await world.local_alice.get("/api/v1/steward/strikes")).json()[0]
    await world.local_alice.post(f"/api/v1/steward/strikes/{strike['id']}/appeal", data={"text": "It is fine"})
    appeal = (await world.admin_ann.get("/api/v1/admin/steward/appeals")).json()[0]
    await world.admin_ann.post(f"/api/v1/admin/steward/appeals/{appeal['id']}/approve")
    assert (await world.local_bob.get(f"/api/v1/statuses/{status}")).json()["sensitive"] is False
    async with world.c.db.read() as conn:
        exported = await export_statements(conn, world.a.id)
    assert dsa_errors(exported[0]) == [] and exported[0]["decision_visibility"] == [
        "DECISION_VISIBILITY_CONTENT_LABELLED"]


async def test_bad_status_actions_change_nothing(world: World) -> None:
    mine = await _post(world, "one")
    bobs = (await world.local_bob.post("/api/v1/statuses", data={"status": "two"})).json()["id"]
    report = await _report(world, [mine])
    ann = world.admin_ann
    cases = [
        ({"type": "explode", "status_ids": [mine]}, 422),
        ({"status_ids": [mine]}, 422),
        ({"type": "delete_statuses"}, 422),
        ({"type": "delete_statuses", "status_ids": ["nope"]}, 422),
        ({"type": "delete_statuses", "status_ids": ["424242"]}, 404),
        ({"type": "delete_statuses", "status_ids": [mine, bobs]}, 422),  # two authors
        ({"type": "delete_statuses", "status_ids": [bobs], "report_id": report}, 422),  # not in the report
        ({"type": "delete_statuses", "report_id": "424242"}, 404),
    ]
    for body, status in cases:
        r = await ann.post(ACTIONS, json=body)
        assert r.status_code == status, (body, r.text)
        assert "error" in r.json()
    # A plain user may not; the admin cannot be acted on by a moderator of lower rank.
    assert (await world.local_bob.post(ACTIONS, json={"type": "delete_statuses",
                                                      "status_ids": [mine]})).status_code == 403
    assert (await world.local_bob.get(f"/api/v1/statuses/{mine}")).status_code == 200
    assert (await world.local_alice.get("/api/v1/steward/strikes")).json() == []


async def test_status_actions_stay_in_their_tenant(world: World) -> None:
    mine = await _post(world, "tenant A post")
    report = await _report(world, [mine])
    mike = world.mod_mike
    assert (await mike.post(ACTIONS, json={"type": "delete_statuses", "status_ids": [mine]})).status_code == 404
    assert (await mike.post(ACTIONS, json={"type": "delete_statuses", "report_id": report})).status_code == 404
    assert (await world.local_bob.get(f"/api/v1/statuses/{mine}")).status_code == 200
