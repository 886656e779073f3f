"""Custom staff roles: created by an admin, handed out, checked on every admin
route, kept in step when changed, confined to their tenant."""

from __future__ import annotations

from sqlalchemy import select

from steward.db.tables import admin_action_logs
from tests.world import World

ROLES = "/api/v1/admin/steward/roles"
SCOPES = "read write follow push admin:read admin:write"


async def _triage(world: World, **extra: object) -> dict:
    r = await world.admin_ann.post(ROLES, json={"name": "Triage", "permissions": ["manage_reports"],
                                                "position": 50, "color": "#336699", **extra})
    assert r.status_code == 200, r.text
    return r.json()


async def test_custom_role_grants_exactly_its_permissions(world: World) -> None:
    role = await _triage(world)
    assert role["name"] == "Triage" and role["position"] == 50 and role["color"] == "#336699"
    assert int(role["permissions"]) & 0x10  # manage_reports
    assert [x["id"] for x in (await world.admin_ann.get(ROLES)).json()] == [role["id"]]
    bob = await world.person(world.a, "rolf", scopes=SCOPES)
    assert (await bob.get("/api/v1/admin/reports")).status_code == 403
    r = await world.admin_ann.post(f"/api/v1/admin/accounts/{bob.account_id}/role", json={"role_id": role["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Triage"
    world.c.auth_cache.clear()
    me = (await bob.get("/api/v1/accounts/verify_credentials")).json()
    assert me["role"]["name"] == "Triage" and me["role"]["id"] == role["id"]
    assert (await bob.get("/api/v1/admin/reports")).status_code == 200
    assert (await bob.get("/api/v1/admin/accounts")).status_code == 403
    admin_view = (await world.admin_ann.get(f"/api/v1/admin/accounts/{bob.account_id}")).json()
    assert admin_view["role"]["name"] == "Triage"
    # Changing the role changes what its holders may do.
    r = await world.admin_ann.put(f"{ROLES}/{role['id']}", json={"permissions": ["manage_reports", "manage_users"]})
    assert r.status_code == 200, r.text
    world.c.auth_cache.clear()
    assert (await bob.get("/api/v1/admin/accounts")).status_code == 200
    # Deleting it makes its holders plain users again.
    assert (await world.admin_ann.delete(f"{ROLES}/{role['id']}")).status_code == 200
    world.c.auth_cache.clear()
    assert (await bob.get("/api/v1/admin/reports")).status_code == 403
    assert (await bob.get("/api/v1/accounts/verify_credentials")).json()["role"]["id"] == "-99"
    async with world.c.db.read() as conn:
        logged = (await conn.execute(select(admin_action_logs.c.action, admin_action_logs.c.target_type).where(
            admin_action_logs.c.tenant_id == world.a.id).order_by(admin_action_logs.c.id))).all()
    assert [(r.action, r.target_type) for r in logged] == [
        ("create", "UserRole"), ("change_role", "User"), ("update", "UserRole"), ("destroy", "UserRole")]


async def test_role_holders_cannot_reach_above_themselves(world: World) -> None:
    keeper = await _triage(world, name="Keeper", permissions=["manage_roles", "manage_reports"])
    bob = await world.person(world.a, "rolf", scopes=SCOPES)
    await world.admin_ann.post(f"/api/v1/admin/accounts/{bob.account_id}/role", json={"role_id": keeper["id"]})
    world.c.auth_cache.clear()
    # Below their own position and within their own permissions: allowed.
    low = await bob.post(ROLES, json={"name": "Helper", "permissions": ["manage_reports"], "position": 10})
    assert low.status_code == 200, low.text
    # At or above their position, or with a permission they lack: refused.
    assert (await bob.post(ROLES, json={"name": "Boss", "permissions": [], "position": 60})).status_code == 403
    assert (await bob.post(ROLES, json={"name": "Wide", "permissions": ["manage_users"],
                                        "position": 5})).status_code == 403
    assert (await bob.put(f"{ROLES}/{keeper['id']}", json={"position": 40})).status_code == 403
    # They may hand out the lower role, never admin, and never touch the admin.
    alice = world.local_alice.account_id
    assert (await bob.post(f"/api/v1/admin/accounts/{alice}/role",
                           json={"role_id": low.json()["id"]})).status_code == 200
    assert (await bob.post(f"/api/v1/admin/accounts/{alice}/role", json={"role_id": "admin"})).status_code == 403
    assert (await bob.post(f"/api/v1/admin/accounts/{world.admin_ann.account_id}/role",
                           json={"role_id": "user"})).status_code == 403
    assert (await bob.post(f"/api/v1/admin/accounts/{bob.account_id}/role",
                           json={"role_id": "user"})).status_code == 403
    # A moderator holds no manage_roles.
    mod = await world.person(world.a, "moderator_mo", role="moderator", scopes=SCOPES)
    assert (await mod.get(ROLES)).status_code == 403


async def test_bad_role_input_is_refused_and_changes_nothing(world: World) -> None:
    ann = world.admin_ann
    bad = [
        {"name": "X", "permissions": ["fly_planes"], "position": 1},
        {"name": "X", "permissions": ["manage_reports"], "position": 5000},
        {"name": "X", "permissions": ["manage_reports"], "position": "high"},
        {"name": "X", "permissions": {"a": 1}, "position": 1},
        {"name": "X", "permissions": "99999999999", "position": 1},
        {"name": "X", "color": "red", "position": 1},
        {"name": "", "position": 1},
        {"position": 1},
        {"name": "y" * 65, "position": 1},
        {"name": "Admin", "position": 1},
    ]
    for body in bad:
        r = await ann.post(ROLES, json=body)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert "error" in r.json()
    role = await _triage(world)
    assert (await ann.post(ROLES, json={"name": "triage", "position": 1})).status_code == 422  # taken
    assert (await ann.get(f"{ROLES}/999999")).status_code == 404
    assert (await ann.put(f"{ROLES}/nope", json={"name": "Z"})).status_code == 404
    assert (await ann.post(f"/api/v1/admin/accounts/{world.local_bob.account_id}/role",
                           json={"role_id": "emperor"})).status_code == 422
    assert (await ann.post(f"/api/v1/admin/accounts/{world.local_bob.account_id}/role",
                           json={"role_id": "424242"})).status_code == 404
    assert (await ann.post("/api/v1/admin/accounts/424242/role", json={"role_id": role["id"]})).status_code == 404
    assert [x["name"] for x in (await ann.get(ROLES)).json()] == ["Triage"]


async def test_roles_stay_in_their_tenant(world: World) -> None:
    role = await _triage(world)
    admin_b = await world.person(world.b, "bea", role="admin", scopes=SCOPES)
    assert (await admin_b.get(ROLES)).json() == []
    assert (await admin_b.get(f"{ROLES}/{role['id']}")).status_code == 404
    assert (await admin_b.put(f"{ROLES}/{role['id']}", json={"name": "Mine"})).status_code == 404
    assert (await admin_b.delete(f"{ROLES}/{role['id']}")).status_code == 404
    # Tenant A's role id means nothing for tenant B's users, and B's admin cannot reach A's users.
    assert (await admin_b.post(f"/api/v1/admin/accounts/{world.local_carol.account_id}/role",
                               json={"role_id": role["id"]})).status_code == 404
    assert (await admin_b.post(f"/api/v1/admin/accounts/{world.local_bob.account_id}/role",
                               json={"role_id": "moderator"})).status_code == 404
    assert (await world.mod_mike.get(ROLES)).status_code == 403
    assert (await world.admin_ann.get(f"{ROLES}/{role['id']}")).json()["name"] == "Triage"
