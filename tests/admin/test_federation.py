from __future__ import annotations

import hashlib

from sqlalchemy import select

from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import accounts
from tests.schema import assert_matches
from tests.world import World


async def _remote(world: World, username: str, domain: str) -> int:
    account_id = new_id()
    now = utcnow()
    async with world.c.db.write() as conn:
        await conn.execute(accounts.insert().values(
            tenant_id=world.a.id, id=account_id, username=username, username_lower=username, domain=domain,
            uri=f"https://{domain}/users/{username}", created_at=now, updated_at=now))
    return account_id


async def test_domain_block_crud_applies_to_known_accounts(world: World) -> None:
    ann = world.admin_ann
    remote = await _remote(world, "troll", "sub.chitter.xyz")
    r = await ann.post("/api/v1/admin/domain_blocks", data={"domain": "Chitter.XYZ", "severity": "suspend",
                                                            "public_comment": "sicko behaviour"})
    assert r.status_code == 200, r.text
    block = r.json()
    assert_matches("AdminDomainBlock", block)
    assert block["domain"] == "chitter.xyz" and block["digest"] == hashlib.sha256(b"chitter.xyz").hexdigest()
    assert block["severity"] == "suspend" and block["public_comment"] == "sicko behaviour"
    shown = (await ann.get(f"/api/v1/admin/domain_blocks/{block['id']}")).json()
    assert shown == block
    async with world.c.db.read() as conn:
        row = (await conn.execute(select(accounts).where(accounts.c.tenant_id == world.a.id,
                                                         accounts.c.id == remote))).one()
    assert row.suspended_at is not None
    r = await ann.put(f"/api/v1/admin/domain_blocks/{block['id']}",
                      data={"severity": "silence", "private_comment": "jk ilu <3"})
    assert r.json()["severity"] == "silence" and r.json()["public_comment"] == "sicko behaviour"
    assert r.json()["private_comment"] == "jk ilu <3"
    remote_admin = (await ann.get(f"/api/v1/admin/accounts/{remote}")).json()
    assert remote_admin["suspended"] is False and remote_admin["silenced"] is True
    listed = (await ann.get("/api/v1/admin/domain_blocks")).json()
    assert [b["id"] for b in listed] == [block["id"]]
    assert (await ann.delete(f"/api/v1/admin/domain_blocks/{block['id']}")).json() == {}
    assert (await ann.get("/api/v1/admin/domain_blocks")).json() == []
    assert (await ann.get(f"/api/v1/admin/accounts/{remote}")).json()["silenced"] is False


async def test_domain_block_bad_input(world: World) -> None:
    ann = world.admin_ann
    for domain in ("https://chitter.xyz", "chitter.xyz/path", "no spaces.com", "", "localhost", "a..b"):
        r = await ann.post("/api/v1/admin/domain_blocks", data={"domain": domain})
        assert r.status_code == 422 and "error" in r.json(), domain
    r = await ann.post("/api/v1/admin/domain_blocks", data={"domain": "ok.example", "severity": "nuke"})
    assert r.status_code == 422
    assert (await ann.post("/api/v1/admin/domain_blocks", data={"domain": "ok.example"})).status_code == 200
    r = await ann.post("/api/v1/admin/domain_blocks", data={"domain": "ok.example"})
    assert r.status_code == 422 and "error" in r.json()
    r = await ann.post("/api/v1/admin/domain_blocks", data={"domain": "x.example", "reject_media": "maybe"})
    assert r.status_code == 422
    assert (await ann.get("/api/v1/admin/domain_blocks/777")).status_code == 404
    assert (await ann.put("/api/v1/admin/domain_blocks/777", data={"severity": "noop"})).status_code == 404
    assert (await ann.delete("/api/v1/admin/domain_blocks/777")).status_code == 404


async def test_domain_allows(world: World) -> None:
    ann = world.admin_ann
    r = await ann.post("/api/v1/admin/domain_allows", data={"domain": "friends.example"})
    assert r.status_code == 200
    allow = r.json()
    assert_matches("AdminDomainAllow", allow)
    again = await ann.post("/api/v1/admin/domain_allows", data={"domain": "friends.example"})
    assert again.json()["id"] == allow["id"]
    assert (await ann.get(f"/api/v1/admin/domain_allows/{allow['id']}")).json() == allow
    assert [a["id"] for a in (await ann.get("/api/v1/admin/domain_allows")).json()] == [allow["id"]]
    assert (await ann.post("/api/v1/admin/domain_allows", data={"domain": "http://x"})).status_code == 422
    assert (await ann.delete(f"/api/v1/admin/domain_allows/{allow['id']}")).status_code == 200
    assert (await ann.get(f"/api/v1/admin/domain_allows/{allow['id']}")).status_code == 404


async def test_permissions_and_isolation(world: World) -> None:
    block = (await world.admin_ann.post("/api/v1/admin/domain_blocks", data={"domain": "bad.example"})).json()
    assert (await world.local_alice.get("/api/v1/admin/domain_blocks")).status_code == 403
    # Mastodon's moderator role does not manage federation.
    assert (await world.mod_mike.get("/api/v1/admin/domain_blocks")).status_code == 403
    # An admin of tenant b sees only b's blocks, and none of a's, by id or by host.
    b_admin = await world.person(world.b, "bea", role="admin", scopes="read write admin:read admin:write")
    assert (await b_admin.get("/api/v1/admin/domain_blocks")).json() == []
    assert (await b_admin.get(f"/api/v1/admin/domain_blocks/{block['id']}")).status_code == 404
    assert (await b_admin.delete(f"/api/v1/admin/domain_blocks/{block['id']}")).status_code == 404
    # b may block the same domain independently.
    assert (await b_admin.post("/api/v1/admin/domain_blocks", data={"domain": "bad.example"})).status_code == 200
    on_a = world.client(world.a, b_admin.token)
    assert (await on_a.get("/api/v1/admin/domain_blocks")).status_code == 401
    assert (await on_a.delete(f"/api/v1/admin/domain_blocks/{block['id']}")).status_code == 401
    assert len((await world.admin_ann.get("/api/v1/admin/domain_blocks")).json()) == 1
