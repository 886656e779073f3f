"""Report notes, batch steps on reports, warning presets, and the outcome the
reporter is told; with bad input and tenant isolation."""

from __future__ import annotations

from steward.moderation.audit import list_actions
from tests.world import Person, World


async def _report(reporter: Person, target: Person) -> str:
    r = await reporter.post("/api/v1/reports", data={"account_id": target.account_id, "comment": "bad"})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


async def test_notes_add_list_delete(world: World) -> None:
    report_id = await _report(world.local_bob, world.local_alice)
    ann = world.admin_ann
    r = await ann.post(f"/api/v1/admin/steward/reports/{report_id}/notes", data={"content": "Looked at it"})
    assert r.status_code == 200, r.text
    note = r.json()
    assert note["content"] == "Looked at it" and note["account"]["id"] == ann.account_id
    listed = (await ann.get(f"/api/v1/admin/steward/reports/{report_id}/notes")).json()
    assert [n["id"] for n in listed] == [note["id"]]
    # Another moderator of the tenant cannot delete it; the author can.
    mod = await world.person(world.a, "molly", role="moderator", scopes="read write admin:read admin:write")
    assert (await mod.delete(f"/api/v1/admin/steward/reports/{report_id}/notes/{note['id']}")).status_code == 403
    assert (await ann.delete(f"/api/v1/admin/steward/reports/{report_id}/notes/{note['id']}")).status_code == 200
    assert (await ann.get(f"/api/v1/admin/steward/reports/{report_id}/notes")).json() == []
    async with world.c.db.read() as conn:
        logged = [(a["action"], a["target_type"]) for a in await list_actions(conn, world.a.id)]
    assert ("create", "ReportNote") in logged and ("destroy", "ReportNote") in logged


async def test_notes_bad_input_and_isolation(world: World) -> None:
    report_id = await _report(world.local_bob, world.local_alice)
    ann = world.admin_ann
    assert (await ann.post(f"/api/v1/admin/steward/reports/{report_id}/notes", data={"content": ""})).status_code \
        == 422
    assert (await ann.post(f"/api/v1/admin/steward/reports/{report_id}/notes",
                           data={"content": "x" * 501})).status_code == 422
    assert (await ann.post("/api/v1/admin/steward/reports/42/notes", data={"content": "x"})).status_code == 404
    note = (await ann.post(f"/api/v1/admin/steward/reports/{report_id}/notes", data={"content": "ok"})).json()
    mike = world.mod_mike
    assert (await mike.get(f"/api/v1/admin/steward/reports/{report_id}/notes")).status_code == 404
    assert (await mike.post(f"/api/v1/admin/steward/reports/{report_id}/notes",
                            data={"content": "mine"})).status_code == 404
    assert (await mike.delete(f"/api/v1/admin/steward/reports/{report_id}/notes/{note['id']}")).status_code == 404
    assert (await world.local_alice.get(f"/api/v1/admin/steward/reports/{report_id}/notes")).status_code == 403
    assert len((await ann.get(f"/api/v1/admin/steward/reports/{report_id}/notes")).json()) == 1


async def test_batch_steps(world: World) -> None:
    first = await _report(world.local_bob, world.local_alice)
    second = await _report(world.local_alice, world.local_bob)
    ann = world.admin_ann
    r = await ann.post("/api/v1/admin/steward/reports/batch", data={"ids[]": [first, second], "action": "resolve"})
    assert r.status_code == 200, r.text
    assert all(x["action_taken"] for x in r.json())
    assert (await ann.get("/api/v1/admin/reports")).json() == []
    # All or nothing: an unknown id, an unknown action or another tenant's report changes nothing.
    assert (await ann.post("/api/v1/admin/steward/reports/batch",
                           data={"ids[]": [first, "99"], "action": "reopen"})).status_code == 404
    assert (await ann.post("/api/v1/admin/steward/reports/batch",
                           data={"ids[]": [first], "action": "explode"})).status_code == 422
    assert (await world.mod_mike.post("/api/v1/admin/steward/reports/batch",
                                      data={"ids[]": [first], "action": "reopen"})).status_code == 404
    assert (await ann.get("/api/v1/admin/reports")).json() == []


async def test_presets_crud_and_use(world: World) -> None:
    ann = world.admin_ann
    r = await ann.post("/api/v1/admin/steward/warning_presets", data={"title": "Spam", "text": "No spam here."})
    assert r.status_code == 200, r.text
    preset = r.json()
    r = await ann.put(f"/api/v1/admin/steward/warning_presets/{preset['id']}", data={"text": "No spam, please."})
    assert r.json()["text"] == "No spam, please." and r.json()["title"] == "Spam"
    assert [p["id"] for p in (await ann.get("/api/v1/admin/steward/warning_presets")).json()] == [preset["id"]]
    r = await ann.post(f"/api/v1/admin/accounts/{world.local_bob.account_id}/action",
                       data={"type": "none", "warning_preset_id": preset["id"], "text": "Second time."})
    assert r.status_code == 200
    await world.run_jobs()
    strikes = (await world.local_bob.get("/api/v1/steward/strikes")).json()
    assert strikes[0]["text"] == "No spam, please.\n\nSecond time."
    # A preset of another tenant or a missing one cannot be used.
    r = await world.mod_mike.post(f"/api/v1/admin/accounts/{world.local_carol.account_id}/action",
                                  data={"type": "none", "warning_preset_id": preset["id"]})
    assert r.status_code == 404
    assert (await ann.delete(f"/api/v1/admin/steward/warning_presets/{preset['id']}")).status_code == 200
    assert (await ann.get("/api/v1/admin/steward/warning_presets")).json() == []


async def test_presets_bad_input_and_permissions(world: World) -> None:
    ann = world.admin_ann
    assert (await ann.post("/api/v1/admin/steward/warning_presets", data={"title": "x"})).status_code == 422
    assert (await ann.post("/api/v1/admin/steward/warning_presets",
                           data={"text": "x", "title": "t" * 201})).status_code == 422
    assert (await ann.put("/api/v1/admin/steward/warning_presets/5", data={"text": "x"})).status_code == 404
    preset = (await ann.post("/api/v1/admin/steward/warning_presets", data={"text": "Be kind"})).json()
    mike = world.mod_mike  # a moderator of B: sees only B's presets, changes none
    assert (await mike.get("/api/v1/admin/steward/warning_presets")).json() == []
    assert (await mike.get(f"/api/v1/admin/steward/warning_presets/{preset['id']}")).status_code == 404
    assert (await mike.put(f"/api/v1/admin/steward/warning_presets/{preset['id']}",
                           data={"text": "x"})).status_code == 403
    assert (await world.local_alice.get("/api/v1/admin/steward/warning_presets")).status_code == 403


async def test_reporter_sees_the_outcome(world: World) -> None:
    report_id = await _report(world.local_bob, world.local_alice)
    other = await _report(world.local_bob, world.admin_ann)
    mine = {r["id"]: r["outcome"] for r in (await world.local_bob.get("/api/v1/steward/reports")).json()}
    assert mine == {report_id: "pending", other: "pending"}
    await world.admin_ann.post(f"/api/v1/admin/accounts/{world.local_alice.account_id}/action",
                               data={"type": "silence", "report_id": report_id})
    await world.admin_ann.post(f"/api/v1/admin/reports/{other}/resolve")
    mine = {r["id"]: r["outcome"] for r in (await world.local_bob.get("/api/v1/steward/reports")).json()}
    assert mine == {report_id: "action_taken", other: "no_action"}
    # Nobody else sees bob's reports.
    assert (await world.local_alice.get("/api/v1/steward/reports")).json() == []


async def test_staff_are_notified_of_each_report(world: World) -> None:
    first = await _report(world.local_bob, world.local_alice)
    second = await _report(world.local_bob, world.local_alice)
    await world.run_jobs()
    told = (await world.admin_ann.get("/api/v1/notifications", params={"types[]": "admin.report"})).json()
    assert sorted(n["report"]["id"] for n in told) == sorted([first, second])
    assert all(n["account"]["id"] == world.local_bob.account_id for n in told)
    # Users and the staff of another tenant hear nothing.
    assert (await world.local_alice.get("/api/v1/notifications")).json() == []
    assert (await world.mod_mike.get("/api/v1/notifications")).json() == []
    # The reporter, when staff, is not told of their own report.
    await _report(world.admin_ann, world.local_bob)
    await world.run_jobs()
    assert len((await world.admin_ann.get("/api/v1/notifications", params={"types[]": "admin.report"})).json()) == 2
