"""Strikes the user sees (moderation_warning notifications, /api/v1/steward/strikes
with the statement of reasons), appeals once, and moderators' decisions."""

from __future__ import annotations

import asyncio

from steward.moderation.audit import list_actions
from tests.schema import assert_matches
from tests.world import World


async def _strike(world: World, kind: str = "silence", text: str = "Please stop.") -> str:
    r = await world.mod_mike.post(f"/api/v1/admin/accounts/{world.local_carol.account_id}/action",
                                  data={"type": kind, "text": text})
    assert r.status_code == 200, r.text
    await world.run_jobs()
    strikes = (await world.local_carol.get("/api/v1/steward/strikes")).json()
    return str(strikes[0]["id"])


async def test_strike_is_notified_and_visible_with_its_statement(world: World) -> None:
    strike_id = await _strike(world, "silence", "Spam links")
    notes = (await world.local_carol.get("/api/v1/notifications")).json()
    warned = [n for n in notes if n["type"] == "moderation_warning"]
    assert len(warned) == 1
    warning = warned[0]["moderation_warning"]
    assert warning["id"] == strike_id and warning["action"] == "silence" and warning["text"] == "Spam links"
    assert warning["appeal"] is None and warning["target_account"]["id"] == world.local_carol.account_id
    assert_matches("Notification", warned[0])
    grouped = (await world.local_carol.get("/api/v2/notifications")).json()["notification_groups"]
    assert_matches("NotificationGroup", grouped, many=True)
    assert [g["moderation_warning"]["id"] for g in grouped if g["type"] == "moderation_warning"] == [strike_id]
    shown = (await world.local_carol.get(f"/api/v1/steward/strikes/{strike_id}")).json()
    statement = shown["statement_of_reasons"]
    assert statement["decision_provision"] == "DECISION_PROVISION_PARTIAL_SUSPENSION"
    assert statement["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    # A second strike soon after gets its own notification.
    await _strike(world, "none", "Formal warning")
    notes = (await world.local_carol.get("/api/v1/notifications")).json()
    assert len([n for n in notes if n["type"] == "moderation_warning"]) == 2


async def test_appeal_once_and_approve_reverses(world: World) -> None:
    strike_id = await _strike(world, "silence")
    carol, mike = world.local_carol, world.mod_mike
    r = await carol.post(f"/api/v1/steward/strikes/{strike_id}/appeal", data={"text": "It was a mistake"})
    assert r.status_code == 200, r.text
    assert r.json()["appeal"] == {"text": "It was a mistake", "state": "pending"}
    assert_matches("AccountWarning", {k: v for k, v in r.json().items()
                                      if k not in {"overruled_at", "statement_of_reasons"}})
    again = await carol.post(f"/api/v1/steward/strikes/{strike_id}/appeal", data={"text": "Really"})
    assert again.status_code == 422 and "already" in again.json()["error"]
    pending = (await mike.get("/api/v1/admin/steward/appeals")).json()
    assert [a["strike_id"] for a in pending] == [strike_id] and pending[0]["action"] == "silence"
    r = await mike.post(f"/api/v1/admin/steward/appeals/{pending[0]['id']}/approve")
    assert r.status_code == 200 and r.json()["state"] == "approved"
    shown = (await mike.get(f"/api/v1/admin/accounts/{carol.account_id}")).json()
    assert shown["silenced"] is False
    strike = (await carol.get(f"/api/v1/steward/strikes/{strike_id}")).json()
    assert strike["appeal"]["state"] == "approved" and strike["overruled_at"] is not None
    # Decided once: a second decision is refused.
    r = await mike.post(f"/api/v1/admin/steward/appeals/{pending[0]['id']}/reject")
    assert r.status_code == 422
    async with world.c.db.read() as conn:
        actions = [(a["action"], a["target_type"]) for a in await list_actions(conn, world.b.id)]
    assert ("approve", "Appeal") in actions and ("unsilence", "Account") in actions


async def test_reject_keeps_the_action(world: World) -> None:
    strike_id = await _strike(world, "suspend")
    carol, mike = world.local_carol, world.mod_mike
    # A suspended user still reads and appeals their strikes (their token keeps working for that).
    r = await carol.post(f"/api/v1/steward/strikes/{strike_id}/appeal", data={"text": "Please"})
    assert r.status_code == 200, r.text
    appeal_id = (await mike.get("/api/v1/admin/steward/appeals")).json()[0]["id"]
    r = await mike.post(f"/api/v1/admin/steward/appeals/{appeal_id}/reject")
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    assert (await mike.get(f"/api/v1/admin/accounts/{carol.account_id}")).json()["suspended"] is True
    assert (await mike.get("/api/v1/admin/steward/appeals")).json() == []
    decided = (await mike.get("/api/v1/admin/steward/appeals", params={"state": "rejected"})).json()
    assert [a["id"] for a in decided] == [appeal_id]
    async with world.c.db.read() as conn:
        assert ("reject", "Appeal") in [(a["action"], a["target_type"]) for a in await list_actions(conn, world.b.id)]


async def test_bad_input(world: World) -> None:
    strike_id = await _strike(world)
    carol = world.local_carol
    assert (await carol.post(f"/api/v1/steward/strikes/{strike_id}/appeal", data={"text": " "})).status_code == 422
    assert (await carol.post(f"/api/v1/steward/strikes/{strike_id}/appeal",
                             data={"text": "x" * 2001})).status_code == 422
    assert (await carol.post("/api/v1/steward/strikes/123/appeal", data={"text": "hi"})).status_code == 404
    assert (await carol.get("/api/v1/steward/strikes/nope")).status_code == 404
    r = await world.mod_mike.get("/api/v1/admin/steward/appeals", params={"state": "weird"})
    assert r.status_code == 422
    assert (await world.mod_mike.post("/api/v1/admin/steward/appeals/999/approve")).status_code == 404


async def test_someone_else_cannot_appeal_or_decide(world: World) -> None:
    strike_id = await _strike(world)
    # Another user of the same tenant: not their strike.
    other = await world.person(world.b, "dora")
    assert (await other.post(f"/api/v1/steward/strikes/{strike_id}/appeal", data={"text": "hi"})).status_code == 404
    assert (await other.get(f"/api/v1/steward/strikes/{strike_id}")).status_code == 404
    # A plain user cannot list or decide appeals.
    await world.local_carol.post(f"/api/v1/steward/strikes/{strike_id}/appeal", data={"text": "hi"})
    appeal_id = (await world.mod_mike.get("/api/v1/admin/steward/appeals")).json()[0]["id"]
    assert (await other.get("/api/v1/admin/steward/appeals")).status_code == 403
    assert (await other.post(f"/api/v1/admin/steward/appeals/{appeal_id}/approve")).status_code == 403


async def test_tenant_isolation(world: World) -> None:
    strike_id = await _strike(world)
    await world.local_carol.post(f"/api/v1/steward/strikes/{strike_id}/appeal", data={"text": "hi"})
    appeal_id = (await world.mod_mike.get("/api/v1/admin/steward/appeals")).json()[0]["id"]
    ann = world.admin_ann  # admin of tenant A
    assert (await ann.get("/api/v1/admin/steward/appeals")).json() == []
    assert (await ann.post(f"/api/v1/admin/steward/appeals/{appeal_id}/approve")).status_code == 404
    assert (await ann.post(f"/api/v1/admin/steward/appeals/{appeal_id}/reject")).status_code == 404
    assert (await world.local_alice.get(f"/api/v1/steward/strikes/{strike_id}")).status_code == 404
    # The appeal is still pending on B.
    assert [a["id"] for a in (await world.mod_mike.get("/api/v1/admin/steward/appeals")).json()] == [appeal_id]


async def test_a_disabled_user_appeals_and_nothing_else(world: World) -> None:
    strike_id = await _strike(world, "disable")
    carol = world.local_carol
    assert (await carol.get("/api/v1/accounts/verify_credentials")).status_code == 401
    assert (await carol.get("/api/v1/notifications")).status_code == 401
    assert (await carol.get(f"/api/v1/steward/strikes/{strike_id}")).status_code == 200
    r = await carol.post(f"/api/v1/steward/strikes/{strike_id}/appeal", data={"text": "Please let me back"})
    assert r.status_code == 200, r.text
    appeal_id = (await world.mod_mike.get("/api/v1/admin/steward/appeals")).json()[0]["id"]
    await world.mod_mike.post(f"/api/v1/admin/steward/appeals/{appeal_id}/approve")
    assert (await carol.get("/api/v1/accounts/verify_credentials")).status_code == 200


async def test_two_appeals_at_once_keep_one(world: World) -> None:
    strike_id = await _strike(world)
    carol = world.local_carol
    answers = await asyncio.gather(*(carol.post(f"/api/v1/steward/strikes/{strike_id}/appeal",
                                                data={"text": f"take {n}"}) for n in range(3)))
    assert sorted(r.status_code for r in answers) == [200, 422, 422]
    assert len((await world.mod_mike.get("/api/v1/admin/steward/appeals")).json()) == 1
