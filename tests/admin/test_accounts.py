from __future__ import annotations

from sqlalchemy import select

from steward.db.tables import account_warnings, admin_action_logs, statements_of_reasons
from tests.schema import assert_matches
from tests.world import World


async def test_list_and_show_accounts(world: World) -> None:
    r = await world.admin_ann.get("/api/v1/admin/accounts")
    assert r.status_code == 200, r.text
    assert {a["username"] for a in r.json()} == {"alice", "bob", "ann"}
    assert_matches("AdminAccount", r.json(), many=True)
    r = await world.admin_ann.get("/api/v2/admin/accounts", params={"permissions": "staff", "origin": "local"})
    assert [a["username"] for a in r.json()] == ["ann"]
    assert r.json()[0]["role"]["name"] == "Admin"
    r = await world.admin_ann.get("/api/v2/admin/accounts", params={"origin": "remote"})
    assert r.json() == []
    r = await world.admin_ann.get("/api/v2/admin/accounts", params={"username": "al"})
    assert [a["username"] for a in r.json()] == ["alice"]
    r = await world.admin_ann.get("/api/v2/admin/accounts", params={"role_ids[]": "2"})
    assert [a["username"] for a in r.json()] == ["ann"]
    r = await world.admin_ann.get(f"/api/v1/admin/accounts/{world.local_alice.account_id}")
    assert r.status_code == 200
    body = r.json()
    assert_matches("AdminAccount", body)
    assert body["email"] == f"alice@{world.a.domain}" and body["account"]["username"] == "alice"
    assert body["role"]["permissions"] == str(0x10000)


async def test_bad_input(world: World) -> None:
    for params in ({"origin": "global"}, {"status": "sick"}, {"permissions": "stave"}):
        r = await world.admin_ann.get("/api/v2/admin/accounts", params=params)
        assert r.status_code == 400 and "error" in r.json()
    assert (await world.admin_ann.get("/api/v1/admin/accounts/123456")).status_code == 404
    assert (await world.admin_ann.get("/api/v1/admin/accounts/nope")).status_code == 404
    r = await world.admin_ann.post(f"/api/v1/admin/accounts/{world.local_alice.account_id}/action",
                                   data={"type": "obliterate"})
    assert r.status_code == 422 and "error" in r.json()
    r = await world.admin_ann.post("/api/v1/admin/accounts/99999/action", data={"type": "silence"})
    assert r.status_code == 404
    r = await world.admin_ann.post(f"/api/v1/admin/accounts/{world.local_alice.account_id}/action",
                                   data={"type": "silence", "report_id": "99999"})
    assert r.status_code == 404
    # Only suspended accounts can have their data deleted.
    r = await world.admin_ann.delete(f"/api/v1/admin/accounts/{world.local_alice.account_id}")
    assert r.status_code == 403


async def test_permissions(world: World) -> None:
    r = await world.local_alice.get("/api/v1/admin/accounts")
    assert r.status_code == 403 and "error" in r.json()
    # An admin token without admin scopes.
    plain = await world.person(world.a, "zed", role="admin")
    r = await plain.get("/api/v1/admin/accounts")
    assert r.status_code == 403 and "error" in r.json()
    # A read-only admin scope cannot act.
    reader = await world.person(world.a, "rita", role="admin", scopes="read admin:read")
    assert (await reader.get("/api/v1/admin/accounts")).status_code == 200
    r = await reader.post(f"/api/v1/admin/accounts/{world.local_alice.account_id}/action", data={"type": "silence"})
    assert r.status_code == 403
    # A moderator cannot act on an admin.
    mod = await world.person(world.a, "molly", role="moderator", scopes="read write admin:read admin:write")
    r = await mod.post(f"/api/v1/admin/accounts/{world.admin_ann.account_id}/action", data={"type": "silence"})
    assert r.status_code == 403
    r = await mod.post(f"/api/v1/admin/accounts/{world.local_alice.account_id}/action", data={"type": "silence"})
    assert r.status_code == 200


async def test_actions_record_strike_audit_and_statement(world: World) -> None:
    alice = world.local_alice.account_id
    url = f"/api/v1/admin/accounts/{alice}"
    r = await world.admin_ann.post(f"{url}/action", data={"type": "silence", "text": "calm down"})
    assert r.status_code == 200 and r.json() == {}
    assert (await world.admin_ann.get(url)).json()["silenced"] is True
    acct = (await world.local_bob.get(f"/api/v1/accounts/{alice}")).json()
    assert acct["limited"] is True
    assert (await world.admin_ann.post(f"{url}/unsilence")).json()["silenced"] is False
    r = await world.admin_ann.post(f"{url}/action", json={"type": "sensitive"})
    assert (await world.admin_ann.get(url)).json()["sensitized"] is True
    assert (await world.admin_ann.post(f"{url}/unsensitive")).json()["sensitized"] is False
    # Disable: the user's token stops working at once; enable brings it back.
    assert (await world.local_alice.get("/api/v1/accounts/verify_credentials")).status_code == 200
    await world.admin_ann.post(f"{url}/action", data={"type": "disable"})
    assert (await world.admin_ann.get(url)).json()["disabled"] is True
    assert (await world.local_alice.get("/api/v1/accounts/verify_credentials")).status_code == 401
    assert (await world.admin_ann.post(f"{url}/enable")).json()["disabled"] is False
    assert (await world.local_alice.get("/api/v1/accounts/verify_credentials")).status_code == 200
    # Suspend hides the account and locks its token.
    await world.admin_ann.post(f"{url}/action", data={"type": "suspend"})
    assert (await world.admin_ann.get(url)).json()["suspended"] is True
    assert (await world.local_bob.get(f"/api/v1/accounts/{alice}")).status_code == 404
    assert (await world.local_alice.get("/api/v1/accounts/verify_credentials")).status_code == 401
    r = await world.admin_ann.get("/api/v1/admin/accounts", params={"suspended": "true"})
    assert [a["id"] for a in r.json()] == [alice]
    assert (await world.admin_ann.post(f"{url}/unsuspend")).json()["suspended"] is False
    async with world.c.db.read() as conn:
        strikes = (await conn.execute(select(account_warnings).where(
            account_warnings.c.tenant_id == world.a.id, account_warnings.c.target_account_id == int(alice))
            .order_by(account_warnings.c.id))).all()
        logs = (await conn.execute(select(admin_action_logs.c.action).where(
            admin_action_logs.c.tenant_id == world.a.id).order_by(admin_action_logs.c.id))).scalars().all()
        statements = (await conn.execute(select(statements_of_reasons).where(
            statements_of_reasons.c.tenant_id == world.a.id))).all()
    assert [s.action for s in strikes] == ["silence", "sensitive", "disable", "suspend"]
    assert strikes[0].text == "calm down" and strikes[0].account_id == int(world.admin_ann.account_id)
    assert logs == ["silence", "unsilence", "sensitive", "unsensitive", "disable", "enable", "suspend", "unsuspend"]
    assert len(statements) == 4 and all(s.automated_decision == "AUTOMATED_DECISION_NOT_AUTOMATED"
                                        for s in statements)
    assert all("alice" not in s.decision_facts for s in statements)


async def test_delete_suspended_account_data(world: World) -> None:
    alice = world.local_alice.account_id
    await world.local_alice.post("/api/v1/statuses", data={"status": "hello"})
    await world.admin_ann.post(f"/api/v1/admin/accounts/{alice}/action", data={"type": "suspend"})
    r = await world.admin_ann.delete(f"/api/v1/admin/accounts/{alice}")
    assert r.status_code == 200, r.text
    assert r.json()["suspended"] is True and r.json()["account"]["statuses_count"] == 0
    # Deleted data cannot be brought back by unsuspending.
    assert (await world.admin_ann.post(f"/api/v1/admin/accounts/{alice}/unsuspend")).status_code == 403


async def test_approve_and_reject(world: World) -> None:
    from sqlalchemy import update

    from steward.db.tables import users
    pending = await world.person(world.a, "penny")
    other = await world.person(world.a, "percy")
    async with world.c.db.write() as conn:
        await conn.execute(update(users).where(users.c.tenant_id == world.a.id,
                                               users.c.account_id.in_([int(pending.account_id),
                                                                       int(other.account_id)])).values(approved=False))
    world.c.auth_cache.clear()
    r = await world.admin_ann.get("/api/v2/admin/accounts", params={"status": "pending"})
    assert {a["username"] for a in r.json()} == {"penny", "percy"}
    assert (await pending.get("/api/v1/accounts/verify_credentials")).status_code == 401
    r = await world.admin_ann.post(f"/api/v1/admin/accounts/{pending.account_id}/approve")
    assert r.status_code == 200 and r.json()["approved"] is True
    assert (await pending.get("/api/v1/accounts/verify_credentials")).status_code == 200
    # Approving twice is not allowed.
    assert (await world.admin_ann.post(f"/api/v1/admin/accounts/{pending.account_id}/approve")).status_code == 403
    r = await world.admin_ann.post(f"/api/v1/admin/accounts/{other.account_id}/reject")
    assert r.status_code == 200 and r.json()["username"] == "percy"
    assert (await world.admin_ann.get(f"/api/v1/admin/accounts/{other.account_id}")).status_code == 404


async def test_tenant_isolation(world: World) -> None:
    alice = world.local_alice.account_id
    # b's moderator sees only b's accounts on b's host...
    r = await world.mod_mike.get("/api/v1/admin/accounts")
    assert r.status_code == 200 and {a["username"] for a in r.json()} == {"carol", "mike"}
    # ...cannot reach a's accounts through b's host...
    assert (await world.mod_mike.get(f"/api/v1/admin/accounts/{alice}")).status_code == 404
    r = await world.mod_mike.post(f"/api/v1/admin/accounts/{alice}/action", data={"type": "suspend"})
    assert r.status_code == 404
    # ...and b's token means nothing on a's host.
    on_a = world.client(world.a, world.mod_mike.token)
    assert (await on_a.get("/api/v1/admin/accounts")).status_code == 401
    assert (await on_a.post(f"/api/v1/admin/accounts/{alice}/action", data={"type": "suspend"})).status_code == 401
    assert (await world.admin_ann.get(f"/api/v1/admin/accounts/{alice}")).json()["suspended"] is False


async def test_strikes_render_as_account_warnings(world: World) -> None:
    from steward.moderation.admin_accounts import strikes_of
    from steward.social.accounts import get_account
    from steward.web.admin_api.common import warning_to_api

    status = (await world.local_alice.post("/api/v1/statuses", data={"status": "meh"})).json()
    report = (await world.local_bob.post("/api/v1/reports", data={"account_id": world.local_alice.account_id,
                                                                   "status_ids[]": status["id"]})).json()
    await world.admin_ann.post(f"/api/v1/admin/accounts/{world.local_alice.account_id}/action",
                               data={"type": "none", "text": "Please keep it civil", "report_id": report["id"]})
    async with world.c.db.read() as conn:
        strikes = await strikes_of(conn, world.a.id, int(world.local_alice.account_id))
        target = await get_account(conn, world.a.id, int(world.local_alice.account_id))
        # Strikes are the tenant's own: b sees none for the same id.
        assert await strikes_of(conn, world.b.id, int(world.local_alice.account_id)) == []
    rendered = [warning_to_api(world.c.base_url(world.a), world.a, s, target) for s in strikes]
    assert_matches("AccountWarning", rendered, many=True)
    assert rendered[0]["action"] == "none" and rendered[0]["status_ids"] == [status["id"]]
    # A warning resolves only the report it answers.
    assert (await world.admin_ann.get(f"/api/v1/admin/reports/{report['id']}")).json()["action_taken"] is True


async def test_pagination(world: World) -> None:
    first = await world.admin_ann.get("/api/v1/admin/accounts", params={"limit": "2"})
    assert len(first.json()) == 2 and 'rel="next"' in first.headers["link"]
    next_max = first.json()[-1]["id"]
    rest = await world.admin_ann.get("/api/v1/admin/accounts", params={"limit": "2", "max_id": next_max})
    assert [a["username"] for a in rest.json()] == ["alice"]
    newer = await world.admin_ann.get("/api/v2/admin/accounts", params={"min_id": rest.json()[0]["id"]})
    assert [a["id"] for a in newer.json()] == [a["id"] for a in first.json()]
