from __future__ import annotations

from sqlalchemy import update

from steward.core.clock import utcnow
from steward.db.tables import accounts
from steward.model.entities import Tenant
from tests.world import World


async def test_webfinger_acct_forms(world: World) -> None:
    domain, web = world.a.domain, world.a.web_domain
    for resource in (f"acct:alice@{domain}", f"alice@{domain}", f"acct:ALICE@{domain.upper()}",
                     f"http://{web}/@alice", f"http://{web}/users/alice", f"https://{web}/users/alice"):
        r = await world.anon_a.get("/.well-known/webfinger", params={"resource": resource})
        assert r.status_code == 200, (resource, r.text)
        assert r.headers["content-type"].startswith("application/jrd+json")
        assert r.headers["access-control-allow-origin"] == "*"
        jrd = r.json()
        assert jrd["subject"] == f"acct:alice@{domain}"
        self_link = next(link for link in jrd["links"] if link["rel"] == "self")
        assert self_link == {"rel": "self", "type": "application/activity+json", "href": f"http://{web}/users/alice"}
        profile = next(link for link in jrd["links"] if link["rel"] == "http://webfinger.net/rel/profile-page")
        assert profile["href"] == f"http://{web}/@alice"
        subscribe = next(link for link in jrd["links"] if link["rel"] == "http://ostatus.org/schema/1.0/subscribe")
        assert "{uri}" in subscribe["template"]
        assert f"http://{web}/users/alice" in jrd["aliases"]


async def test_webfinger_with_split_domains(world: World) -> None:
    from steward.core.ids import new_id
    from steward.social.accounts import create_local_account

    handle = f"split{new_id()}.test"
    tenant: Tenant = await world.c.tenants.create(handle, "Split", web_domain=f"social.{handle}")
    async with world.c.db.write() as conn:
        await create_local_account(conn, tenant, world.c.base_url(tenant), username="press",
                                   email=f"press@{handle}", password="correct horse battery")
    for host in (tenant.domain, tenant.web_domain):
        client = world.client(tenant)
        for resource in (f"acct:press@{tenant.domain}", f"acct:press@{tenant.web_domain}",
                         f"http://{tenant.web_domain}/@press"):
            r = await client.get("/.well-known/webfinger", params={"resource": resource}, headers={"host": host})
            assert r.status_code == 200, (host, resource, r.text)
            assert r.json()["subject"] == f"acct:press@{tenant.domain}"
            assert r.json()["links"][1]["href"] == f"http://{tenant.web_domain}/users/press"


def test_resource_urls_with_ports() -> None:
    from steward.web.public.wellknown import parse_resource

    tenant = Tenant(id=1, domain="localhost:8080", web_domain="localhost:8080", name="t")
    assert parse_resource(tenant, "http://localhost:8080/@alice") == "alice"
    assert parse_resource(tenant, "acct:alice@localhost:8080") == "alice"
    assert parse_resource(tenant, "http://localhost:9999/@alice") is None


async def test_webfinger_bad_and_unknown(world: World) -> None:
    get = world.anon_a.get
    r = await get("/.well-known/webfinger")
    assert r.status_code == 400 and "error" in r.json()
    for bad in ("", "acct:", "nobody", "acct:@", "acct:alice@", "acct:a b@x"):
        r = await get("/.well-known/webfinger", params={"resource": bad})
        assert r.status_code == 400 and "error" in r.json(), bad
    for unknown in (f"acct:nobody@{world.a.domain}", "acct:alice@elsewhere.example",
                    f"http://{world.a.web_domain}/@nobody", "https://elsewhere.example/@alice",
                    f"http://{world.a.web_domain}/notes/1"):
        r = await get("/.well-known/webfinger", params={"resource": unknown})
        assert r.status_code == 404 and "error" in r.json(), unknown


async def test_webfinger_is_per_tenant(world: World) -> None:
    # carol lives on b: a knows nothing of her, by either domain.
    r = await world.anon_a.get("/.well-known/webfinger", params={"resource": f"acct:carol@{world.a.domain}"})
    assert r.status_code == 404
    r = await world.anon_a.get("/.well-known/webfinger", params={"resource": f"acct:carol@{world.b.domain}"})
    assert r.status_code == 404
    r = await world.anon_b.get("/.well-known/webfinger", params={"resource": f"acct:alice@{world.a.domain}"})
    assert r.status_code == 404
    r = await world.anon_b.get("/.well-known/webfinger", params={"resource": f"acct:carol@{world.b.domain}"})
    assert r.status_code == 200


async def test_webfinger_suspended_account(world: World) -> None:
    async with world.c.db.write() as conn:
        await conn.execute(update(accounts).where(accounts.c.tenant_id == world.a.id,
                                                  accounts.c.id == int(world.local_bob.account_id))
                           .values(suspended_at=utcnow()))
    r = await world.anon_a.get("/.well-known/webfinger", params={"resource": f"acct:bob@{world.a.domain}"})
    assert r.status_code == 410 and "error" in r.json()


async def test_webfinger_instance_actor(world: World) -> None:
    web = world.a.web_domain
    r = await world.anon_a.get("/.well-known/webfinger", params={"resource": f"acct:{web}@{web}"})
    assert r.status_code == 200
    assert r.json()["links"][1]["href"] == f"http://{web}/actor"


async def test_host_meta(world: World) -> None:
    r = await world.anon_a.get("/.well-known/host-meta")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xrd+xml")
    assert f'template="http://{world.a.web_domain}/.well-known/webfinger?resource={{uri}}"' in r.text
    r = await world.anon_b.get("/.well-known/host-meta", params={"format": "json"})
    assert r.json()["links"][0]["template"] == f"http://{world.b.web_domain}/.well-known/webfinger?resource={{uri}}"


async def test_nodeinfo(world: World) -> None:
    r = await world.anon_a.get("/.well-known/nodeinfo")
    assert r.status_code == 200
    link = r.json()["links"][0]
    assert link["rel"] == "http://nodeinfo.diaspora.software/ns/schema/2.0"
    assert link["href"] == f"http://{world.a.web_domain}/nodeinfo/2.0"
    async with world.c.db.write() as conn:
        await conn.execute(update(accounts).where(accounts.c.tenant_id == world.a.id,
                                                  accounts.c.id == int(world.local_alice.account_id))
                           .values(last_status_at=utcnow()))
    r = await world.anon_a.get("/nodeinfo/2.0")
    assert r.status_code == 200 and "nodeinfo.diaspora.software/ns/schema/2.0" in r.headers["content-type"]
    info = r.json()
    assert info["version"] == "2.0" and info["software"]["name"] == "steward"
    assert info["protocols"] == ["activitypub"]
    assert info["usage"]["users"] == {"total": 3, "activeMonth": 1, "activeHalfyear": 1}
    assert info["usage"]["localPosts"] == 0
    assert info["openRegistrations"] is True
    assert info["metadata"]["nodeName"] == world.a.name
    await world.c.tenants.update_settings(world.b.id, {"registration_mode": "closed"})
    info_b = (await world.anon_b.get("/nodeinfo/2.0")).json()
    assert info_b["openRegistrations"] is False and info_b["usage"]["users"]["total"] == 2
