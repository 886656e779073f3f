from __future__ import annotations

import hashlib

from steward.moderation.blocks import canonical_email, sign_up_verdict
from tests.schema import assert_matches
from tests.world import World


async def test_email_domain_blocks(world: World) -> None:
    ann = world.admin_ann
    r = await ann.post("/api/v1/admin/email_domain_blocks", data={"domain": "blockedexample.com"})
    assert r.status_code == 200, r.text
    block = r.json()
    assert_matches("AdminEmailDomainBlock", block)
    assert block["domain"] == "blockedexample.com" and len(block["history"]) == 7
    assert (await ann.get(f"/api/v1/admin/email_domain_blocks/{block['id']}")).json()["id"] == block["id"]
    assert [b["id"] for b in (await ann.get("/api/v1/admin/email_domain_blocks")).json()] == [block["id"]]
    r = await ann.post("/api/v1/admin/email_domain_blocks", data={"domain": "blockedexample.com"})
    assert r.status_code == 422 and "error" in r.json()
    assert (await ann.post("/api/v1/admin/email_domain_blocks", data={"domain": "@@"})).status_code == 422
    assert (await ann.post("/api/v1/admin/email_domain_blocks", data={})).status_code == 422
    async with world.c.db.read() as conn:
        assert await sign_up_verdict(conn, world.a.id, "x@mail.blockedexample.com", None) == "block"
        assert await sign_up_verdict(conn, world.a.id, "x@fine.example", None) is None
        assert await sign_up_verdict(conn, world.b.id, "x@blockedexample.com", None) is None
    assert (await ann.delete(f"/api/v1/admin/email_domain_blocks/{block['id']}")).status_code == 200
    assert (await ann.get("/api/v1/admin/email_domain_blocks")).json() == []
    assert (await ann.delete(f"/api/v1/admin/email_domain_blocks/{block['id']}")).status_code == 404


async def test_ip_blocks(world: World) -> None:
    ann = world.admin_ann
    r = await ann.post("/api/v1/admin/ip_blocks", data={"ip": "8.8.8.0/24", "severity": "no_access",
                                                        "comment": "ULTRA BANNED"})
    assert r.status_code == 200, r.text
    block = r.json()
    assert_matches("AdminIpBlock", block)
    assert block["ip"] == "8.8.8.0/24" and block["expires_at"] is None
    r = await ann.post("/api/v1/admin/ip_blocks", data={"ip": "2001:db8::1", "severity": "sign_up_requires_approval",
                                                        "expires_in": "3600"})
    assert r.json()["ip"] == "2001:db8::1/128" and r.json()["expires_at"] is not None
    r = await ann.put(f"/api/v1/admin/ip_blocks/{block['id']}", data={"comment": "Updated"})
    assert r.json()["comment"] == "Updated" and r.json()["severity"] == "no_access"
    async with world.c.db.read() as conn:
        assert await sign_up_verdict(conn, world.a.id, "x@ok.example", "8.8.8.8") == "block"
        assert await sign_up_verdict(conn, world.a.id, "x@ok.example", "2001:db8::1") == "approval"
        assert await sign_up_verdict(conn, world.a.id, "x@ok.example", "9.9.9.9") is None
    for bad in ({"ip": "8.8.8.300", "severity": "no_access"}, {"ip": "8.8.4.0/24", "severity": "ban"},
                {"ip": "8.8.4.0/24", "severity": "no_access", "expires_in": "soon"},
                {"ip": "8.8.8.0/24", "severity": "sign_up_block"}):
        r = await ann.post("/api/v1/admin/ip_blocks", data=bad)
        assert r.status_code == 422 and "error" in r.json(), bad
    assert (await ann.put(f"/api/v1/admin/ip_blocks/{block['id']}", data={"ip": "nope"})).status_code == 422
    assert len((await ann.get("/api/v1/admin/ip_blocks")).json()) == 2
    assert (await ann.delete(f"/api/v1/admin/ip_blocks/{block['id']}")).status_code == 200
    assert (await ann.get(f"/api/v1/admin/ip_blocks/{block['id']}")).status_code == 404


async def test_canonical_email_blocks(world: World) -> None:
    ann = world.admin_ann
    assert canonical_email("Te.St+other@EXAMPLE.com") == "test@example.com"
    r = await ann.post("/api/v1/admin/canonical_email_blocks", data={"email": "test@example.com"})
    assert r.status_code == 200, r.text
    block = r.json()
    assert_matches("AdminCanonicalEmailBlock", block)
    assert block["canonical_email_hash"] == hashlib.sha256(b"test@example.com").hexdigest()
    for variation in ("Test@example.com", "te.st@example.com", "test+other@EXAMPLE.com"):
        found = (await ann.post("/api/v1/admin/canonical_email_blocks/test", data={"email": variation})).json()
        assert [b["id"] for b in found] == [block["id"]]
    assert (await ann.post("/api/v1/admin/canonical_email_blocks/test", data={"email": "x@y.z"})).json() == []
    r = await ann.post("/api/v1/admin/canonical_email_blocks",
                       data={"canonical_email_hash": block["canonical_email_hash"]})
    assert r.status_code == 422
    for bad in ({}, {"canonical_email_hash": "abc"}, {"email": "no-at-sign"}):
        r = await ann.post("/api/v1/admin/canonical_email_blocks", data=bad)
        assert r.status_code == 422 and "error" in r.json()
    assert (await ann.post("/api/v1/admin/canonical_email_blocks/test", data={})).status_code == 422
    assert (await ann.get(f"/api/v1/admin/canonical_email_blocks/{block['id']}")).json() == block
    assert [b["id"] for b in (await ann.get("/api/v1/admin/canonical_email_blocks")).json()] == [block["id"]]
    assert (await ann.delete(f"/api/v1/admin/canonical_email_blocks/{block['id']}")).status_code == 200
    assert (await ann.get("/api/v1/admin/canonical_email_blocks")).json() == []


async def test_permissions_and_isolation(world: World) -> None:
    ip = (await world.admin_ann.post("/api/v1/admin/ip_blocks", data={"ip": "10.0.0.0/8",
                                                                       "severity": "sign_up_block"})).json()
    for path in ("/api/v1/admin/ip_blocks", "/api/v1/admin/email_domain_blocks",
                 "/api/v1/admin/canonical_email_blocks"):
        assert (await world.local_alice.get(path)).status_code == 403
        # Blocks are an admin matter (manage_blocks); Mastodon's moderator has no such permission.
        assert (await world.mod_mike.get(path)).status_code == 403
    b_admin = await world.person(world.b, "bea", role="admin", scopes="read write admin:read admin:write")
    assert (await b_admin.get("/api/v1/admin/ip_blocks")).json() == []
    assert (await b_admin.get(f"/api/v1/admin/ip_blocks/{ip['id']}")).status_code == 404
    assert (await b_admin.put(f"/api/v1/admin/ip_blocks/{ip['id']}", data={"comment": "x"})).status_code == 404
    on_a = world.client(world.a, b_admin.token)
    assert (await on_a.delete(f"/api/v1/admin/ip_blocks/{ip['id']}")).status_code == 401
    assert len((await world.admin_ann.get("/api/v1/admin/ip_blocks")).json()) == 1
