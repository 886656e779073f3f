"""Resolving remote accounts and URLs: WebFinger with Mastodon's round trip,
lookup and search wiring, bad input, tenant isolation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from steward.db.tables import accounts
from tests.federation.peer_relationships import EVIL, REMOTE, Fediverse, actor_doc, jrd, uri_of, webfinger_url
from tests.world import World


@pytest.fixture
def fedi(world: World, monkeypatch: pytest.MonkeyPatch) -> Fediverse:
    f = Fediverse(world)
    monkeypatch.setattr(world.c, "transport", f.transport)
    return f


async def remote_count(world: World, tenant_id: int) -> int:
    async with world.c.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(accounts).where(
            accounts.c.tenant_id == tenant_id, accounts.c.domain != ""))).scalar() or 0)


async def test_lookup_resolves_through_webfinger(world: World, fedi: Fediverse) -> None:
    rob = await fedi.resolve(world.local_alice, "@rob@remote.example")
    assert rob["acct"] == "rob@remote.example" and rob["uri"] == uri_of("rob") and rob["display_name"] == "Rob"
    assert rob["url"] == f"{REMOTE}/@rob"
    wf = [s for s in fedi.transport.sent if "webfinger" in s.url]
    assert wf and wf[0].url == webfinger_url("rob", "remote.example")
    # The actor was fetched signed by the tenant's instance actor.
    fetch = next(s for s in fedi.transport.sent if s.url == uri_of("rob"))
    assert fetch.key_id == f"http://{world.a.web_domain}/actor#main-key"
    # Stored now: the second lookup does not go out again, and the account page works.
    fedi.transport.sent.clear()
    again = await fedi.resolve(world.local_alice, "rob@remote.example")
    assert again["id"] == rob["id"] and fedi.transport.sent == []
    assert (await world.local_alice.get(f"/api/v1/accounts/{rob['id']}")).json()["acct"] == "rob@remote.example"
    # Anonymous lookups see what is stored but never resolve.
    assert (await world.anon_a.get("/api/v1/accounts/lookup", params={"acct": "rob@remote.example"})
            ).status_code == 200
    r = await world.anon_a.get("/api/v1/accounts/lookup", params={"acct": "eve@remote.example"})
    assert r.status_code == 404 and fedi.transport.sent == []


async def test_tenant_isolation(world: World, fedi: Fediverse) -> None:
    rob = await fedi.resolve(world.local_alice)
    assert await remote_count(world, world.b.id) == 0
    assert (await world.local_carol.get(f"/api/v1/accounts/{rob['id']}")).status_code == 404
    r = await world.local_carol.get("/api/v2/search", params={"q": "rob@remote.example", "type": "accounts"})
    assert r.json()["accounts"] == []
    # Tenant B resolving the same handle gets its own row.
    carol_rob = await fedi.resolve(world.local_carol)
    assert carol_rob["id"] != rob["id"] and await remote_count(world, world.b.id) == 1


async def test_split_domain_handle(world: World, fedi: Fediverse) -> None:
    server = "https://social.example.gov"
    doc = actor_doc("press", server)
    fedi.transport.documents[doc["id"]] = doc
    fedi.transport.files[webfinger_url("press", "example.gov")] = jrd("acct:press@example.gov", doc["id"])
    fedi.transport.files[webfinger_url("press", "social.example.gov")] = jrd("acct:press@example.gov", doc["id"])
    press = await fedi.resolve(world.local_alice, "press@example.gov")
    assert press["acct"] == "press@example.gov" and press["uri"] == doc["id"]
    # The web domain's handle is known there as the handle domain's: not the same account under two names.
    r = await world.local_alice.get("/api/v1/accounts/lookup", params={"acct": "press@social.example.gov"})
    assert r.status_code == 404


async def test_webfinger_pointing_at_another_servers_actor(world: World, fedi: Fediverse) -> None:
    # evil.example claims mallory is rob: rob's own server says rob is rob@remote.example.
    fedi.transport.files[webfinger_url("mallory", "evil.example")] = jrd("acct:mallory@evil.example", uri_of("rob"))
    r = await world.local_alice.get("/api/v1/accounts/lookup", params={"acct": "mallory@evil.example"})
    assert r.status_code == 404 and r.json() == {"error": "Record not found"}
    assert await remote_count(world, world.a.id) == 0
    # A subject redirect that does not loop back is refused too.
    fedi.transport.files[webfinger_url("eve", "remote.example")] = jrd("acct:eve@evil.example", uri_of("eve"))
    fedi.transport.files[webfinger_url("eve", "evil.example")] = jrd("acct:eve@evil.example",
                                                                     uri_of("mallory", EVIL))
    r = await world.local_alice.get("/api/v1/accounts/lookup", params={"acct": "eve@remote.example"})
    assert r.status_code == 404 and await remote_count(world, world.a.id) == 0


async def test_actor_document_on_another_origin(world: World, fedi: Fediverse) -> None:
    forged = actor_doc("rob")  # rob's document, served by evil.example under its own URL
    fedi.transport.documents[uri_of("mallory", EVIL)] = forged
    r = await world.local_alice.get("/api/v1/accounts/lookup", params={"acct": "mallory@evil.example"})
    assert r.status_code == 404 and await remote_count(world, world.a.id) == 0
    # Search by that URL finds nothing either.
    r = await world.local_alice.get("/api/v2/search", params={"q": uri_of("mallory", EVIL), "resolve": "true"})
    assert r.status_code == 200 and r.json()["accounts"] == [] and await remote_count(world, world.a.id) == 0


async def test_unusable_answers(world: World, fedi: Fediverse) -> None:
    fedi.transport.files[webfinger_url("bad", "remote.example")] = ("application/jrd+json", b"not json")
    fedi.transport.files[webfinger_url("nolink", "remote.example")] = (
        "application/jrd+json", b'{"subject": "acct:nolink@remote.example", "links": []}')
    for acct in ("bad@remote.example", "nolink@remote.example", "nobody@remote.example", "x@@y", "@",
                 "a b@remote.example"):
        r = await world.local_alice.get("/api/v1/accounts/lookup", params={"acct": acct})
        assert r.status_code == 404, (acct, r.text)
    assert await remote_count(world, world.a.id) == 0


async def test_search_resolves_handles_and_urls(world: World, fedi: Fediverse) -> None:
    r = await world.local_alice.get("/api/v2/search", params={"q": "@rob@remote.example", "resolve": "true"})
    assert r.status_code == 200 and [a["acct"] for a in r.json()["accounts"]] == ["rob@remote.example"]
    # Without resolve an unknown remote handle is not looked up.
    fedi.transport.sent.clear()
    r = await world.local_alice.get("/api/v2/search", params={"q": "eve@remote.example", "type": "accounts"})
    assert r.json()["accounts"] == [] and fedi.transport.sent == []
    # An actor URL.
    r = await world.local_alice.get("/api/v2/search", params={"q": uri_of("eve"), "resolve": "true"})
    assert [a["acct"] for a in r.json()["accounts"]] == ["eve@remote.example"]
    # The account search endpoint resolves too.
    fedi.add_actor("zoe")
    r = await world.local_alice.get("/api/v1/accounts/search", params={"q": "zoe@remote.example", "resolve": "true"})
    assert [a["acct"] for a in r.json()] == ["zoe@remote.example"]
    # Anonymous resolving stays refused.
    r = await world.anon_a.get("/api/v2/search", params={"q": "@rob@remote.example", "resolve": "true"})
    assert r.status_code == 401
    # A local URL still resolves locally.
    r = await world.local_alice.get("/api/v2/search", params={
        "q": f"http://{world.a.web_domain}/@bob", "resolve": "true"})
    assert [a["username"] for a in r.json()["accounts"]] == ["bob"]


async def test_follow_a_resolved_account(world: World, fedi: Fediverse) -> None:
    rob = await fedi.resolve(world.local_alice)
    r = await world.local_alice.post(f"/api/v1/accounts/{rob['id']}/follow")
    assert r.status_code == 200 and r.json()["requested"] is True and r.json()["following"] is False
    await world.run_jobs()
    sent = fedi.posts()
    assert [(inbox, a["type"]) for inbox, a in sent] == [(f"{uri_of('rob')}/inbox", "Follow")]
