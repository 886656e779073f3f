"""Followers/following pages, familiar followers, domain blocks, suggestions,
and the always-empty profile collections."""

from __future__ import annotations

import re

from sqlalchemy import select

from steward.db.tables import accounts
from steward.social.accounts import touch_counts
from steward.social.relationships import create_follow
from tests.schema import assert_matches
from tests.world import World


def _links(header: str) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header)}


async def test_followers_pagination_with_link_header(world: World) -> None:
    bob = world.local_bob
    fans = [await world.person(world.a, f"fan{i}") for i in range(5)]
    for fan in fans:
        assert (await fan.post(f"/api/v1/accounts/{bob.account_id}/follow")).json()["following"]
    r = await world.anon_a.get(f"/api/v1/accounts/{bob.account_id}/followers", params={"limit": 2})
    assert r.status_code == 200
    assert_matches("Account", r.json(), many=True)
    newest_first = [f.account_id for f in reversed(fans)]
    assert [a["id"] for a in r.json()] == newest_first[:2]
    links = _links(r.headers["link"])
    assert "max_id=" in links["next"] and "limit=2" in links["next"] and "min_id=" in links["prev"]
    path = links["next"].split(world.a.web_domain, 1)[1]
    r = await world.anon_a.get(path)
    assert [a["id"] for a in r.json()] == newest_first[2:4]
    r = await world.anon_a.get(_links(r.headers["link"])["next"].split(world.a.web_domain, 1)[1])
    assert [a["id"] for a in r.json()] == newest_first[4:]
    # min_id pages forward from the oldest: the two just newer, still newest first.
    r = await world.anon_a.get(_links(r.headers["link"])["prev"].split(world.a.web_domain, 1)[1])
    assert [a["id"] for a in r.json()] == newest_first[2:4]

    r = await world.local_alice.get(f"/api/v1/accounts/{fans[0].account_id}/following")
    assert [a["id"] for a in r.json()] == [bob.account_id]
    r = await world.anon_a.get(f"/api/v1/accounts/{bob.account_id}/followers", params={"limit": "x"})
    assert r.status_code == 422 and "error" in r.json()
    assert (await world.anon_a.get("/api/v1/accounts/123/followers")).status_code == 404


async def test_hidden_collections(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    await bob.patch("/api/v1/accounts/update_credentials", data={"hide_collections": "true"})
    assert (await world.anon_a.get(f"/api/v1/accounts/{bob.account_id}/followers")).json() == []
    assert (await alice.get(f"/api/v1/accounts/{bob.account_id}/followers")).json() == []
    r = await bob.get(f"/api/v1/accounts/{bob.account_id}/followers")
    assert [a["id"] for a in r.json()] == [alice.account_id]
    # Someone the owner blocks cannot list them either.
    await alice.post(f"/api/v1/accounts/{world.admin_ann.account_id}/follow")
    await alice.post(f"/api/v1/accounts/{world.local_bob.account_id}/block")
    assert (await bob.get(f"/api/v1/accounts/{alice.account_id}/following")).json() == []
    r = await world.admin_ann.get(f"/api/v1/accounts/{alice.account_id}/following")
    assert [a["id"] for a in r.json()] == [world.admin_ann.account_id]


async def test_familiar_followers(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    dave = await world.person(world.a, "dave")
    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    await alice.post(f"/api/v1/accounts/{ann.account_id}/follow")
    await bob.post(f"/api/v1/accounts/{dave.account_id}/follow")
    await ann.post(f"/api/v1/accounts/{dave.account_id}/follow")
    r = await alice.get("/api/v1/accounts/familiar_followers",
                        params=[("id[]", dave.account_id), ("id[]", bob.account_id)])
    assert r.status_code == 200
    body = r.json()
    assert_matches("FamiliarFollowers", body, many=True)
    assert body[0]["id"] == dave.account_id
    assert {a["id"] for a in body[0]["accounts"]} == {bob.account_id, ann.account_id}
    assert body[1] == {"id": bob.account_id, "accounts": []}
    r = await alice.get("/api/v1/accounts/familiar_followers", params={"id[]": "x"})
    assert r.status_code == 422
    # Mastodon.py sends these ids as a JSON body on the GET.
    r = await alice.client.request("GET", "/api/v1/accounts/familiar_followers",
                            json={"id": [dave.account_id, bob.account_id]})
    assert [x["id"] for x in r.json()] == [dave.account_id, bob.account_id]
    r = await alice.client.request("GET", "/api/v1/accounts/familiar_followers", content=b"{oops",
                                   headers={"content-type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()


async def test_user_domain_blocks(world: World) -> None:
    alice = world.local_alice
    r = await alice.post("/api/v1/domain_blocks", data={"domain": "Spam.Example"})
    assert r.status_code == 200 and r.json() == {}
    await alice.post("/api/v1/domain_blocks", json={"domain": "https://other.example/path"})
    await alice.post("/api/v1/domain_blocks", data={"domain": "spam.example"})
    r = await alice.get("/api/v1/domain_blocks")
    assert r.json() == ["other.example", "spam.example"]
    r = await alice.get("/api/v1/domain_blocks", params={"limit": 1})
    assert r.json() == ["other.example"] and 'rel="next"' in r.headers["link"]
    r = await alice.delete("/api/v1/domain_blocks", params={"domain": "other.example"})
    assert r.status_code == 200
    assert (await alice.get("/api/v1/domain_blocks")).json() == ["spam.example"]
    for bad in ("", "not a domain", "a..b"):
        r = await alice.post("/api/v1/domain_blocks", data={"domain": bad})
        assert r.status_code == 422 and "error" in r.json(), bad
    r = await alice.post("/api/v1/domain_blocks", data={"domain": world.a.domain})
    assert r.status_code == 422
    # Per user: bob blocks nothing, carol on tenant b sees her own (empty) list.
    assert (await world.local_bob.get("/api/v1/domain_blocks")).json() == []
    assert (await world.local_carol.get("/api/v1/domain_blocks")).json() == []


async def test_domain_block_shows_in_relationship_and_stops_follows(world: World) -> None:
    from steward.core.clock import utcnow
    from steward.core.ids import new_id

    alice = world.local_alice
    remote_id = new_id()
    async with world.c.db.write() as conn:
        now = utcnow()
        await conn.execute(accounts.insert().values(
            tenant_id=world.a.id, id=remote_id, username="eve", username_lower="eve", domain="spam.example",
            uri="https://spam.example/users/eve", created_at=now, updated_at=now, fields=[], also_known_as=[]))
    r = await alice.post(f"/api/v1/accounts/{remote_id}/follow")
    # Remote accounts are asked first; federation delivers the Follow.
    assert r.json()["requested"] and not r.json()["following"]
    async with world.c.db.write() as conn:  # eve follows alice (as an accepted remote Follow would)
        await create_follow(conn, world.a.id, remote_id, int(alice.account_id), show_reblogs=True, notify=False,
                             languages=None)
    r = await alice.get("/api/v1/accounts/relationships", params={"id[]": str(remote_id)})
    assert r.json()[0]["followed_by"] and r.json()[0]["requested"]
    assert (await alice.get("/api/v1/accounts/verify_credentials")).json()["followers_count"] == 1

    await alice.post("/api/v1/domain_blocks", data={"domain": "spam.example"})
    r = await alice.get("/api/v1/accounts/relationships", params={"id[]": str(remote_id)})
    rel = r.json()[0]
    assert rel["domain_blocking"] and not rel["followed_by"] and not rel["requested"]
    assert (await alice.get("/api/v1/accounts/verify_credentials")).json()["followers_count"] == 0
    r = await alice.post(f"/api/v1/accounts/{remote_id}/follow")
    assert r.status_code == 403


async def test_suggestions(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    async with world.c.db.write() as conn:
        await touch_counts(conn, world.a.id, int(ann.account_id), followers_count=5)
        await touch_counts(conn, world.a.id, int(bob.account_id), followers_count=2)
    r = await alice.get("/api/v1/suggestions")
    assert r.status_code == 200
    assert [a["id"] for a in r.json()] == [ann.account_id, bob.account_id]
    r = await alice.get("/api/v2/suggestions", params={"limit": 1})
    body = r.json()
    assert_matches("Suggestion", body, many=True)
    assert [s["account"]["id"] for s in body] == [ann.account_id]
    await alice.post(f"/api/v1/accounts/{ann.account_id}/follow")
    assert [a["id"] for a in (await alice.get("/api/v1/suggestions")).json()] == [bob.account_id]
    r = await alice.delete(f"/api/v1/suggestions/{bob.account_id}")
    assert r.status_code == 200 and r.json() == {}
    assert (await alice.get("/api/v1/suggestions")).json() == []
    # Dismissals are per person.
    assert bob.account_id in [a["id"] for a in (await ann.get("/api/v1/suggestions")).json()]
    assert (await alice.delete("/api/v1/suggestions/987654")).status_code == 404
    assert (await world.local_carol.delete(f"/api/v1/suggestions/{bob.account_id}")).status_code == 404
    r = await world.local_carol.get("/api/v1/suggestions")
    assert [a["id"] for a in r.json()] == [world.mod_mike.account_id]


async def test_empty_profile_collections(world: World) -> None:
    bob = world.local_bob
    assert (await world.anon_a.get(f"/api/v1/accounts/{bob.account_id}/featured_tags")).json() == []  # none yet
    assert (await world.local_alice.get(f"/api/v1/accounts/{bob.account_id}/identity_proofs")).json() == []
    assert (await world.anon_a.get("/api/v1/accounts/31337/featured_tags")).status_code == 404
    assert (await world.anon_b.get(f"/api/v1/accounts/{bob.account_id}/identity_proofs")).status_code == 404


async def test_suspended_accounts_are_out_of_reach(world: World) -> None:
    from sqlalchemy import update

    from steward.core.clock import utcnow

    alice, bob = world.local_alice, world.local_bob
    await bob.post(f"/api/v1/accounts/{alice.account_id}/follow")
    async with world.c.db.write() as conn:
        await conn.execute(update(accounts).where(accounts.c.tenant_id == world.a.id,
                                                  accounts.c.id == int(bob.account_id)).values(suspended_at=utcnow()))
    assert (await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")).status_code == 404
    assert (await alice.get("/api/v1/accounts/relationships", params={"id[]": bob.account_id})).json() == []
    r = await alice.get("/api/v1/accounts/relationships", params={"id[]": bob.account_id, "with_suspended": "true"})
    assert r.json()[0]["followed_by"]
    assert (await alice.get(f"/api/v1/accounts/{alice.account_id}/followers")).json() == []
    async with world.c.db.read() as conn:
        assert (await conn.execute(select(accounts.c.followers_count).where(
            accounts.c.tenant_id == world.a.id, accounts.c.id == int(alice.account_id)))).scalar() == 1
