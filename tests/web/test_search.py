"""Search (v2 and account search), hashtags (show, follow, followed tags)."""

from __future__ import annotations

from typing import Any

from tests.schema import assert_matches
from tests.world import Person, World


async def _post(p: Person, text: str, visibility: str = "public") -> dict[str, Any]:
    r = await p.post("/api/v1/statuses", data={"status": text, "visibility": visibility})
    assert r.status_code == 200, r.text
    return r.json()


async def test_account_search(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    await bob.patch("/api/v1/accounts/update_credentials", data={"display_name": "Robert Tables"})
    al = await world.person(world.a, "al")
    await world.person(world.a, "al_x")
    r = await alice.get("/api/v1/accounts/search", params={"q": "BO"})
    assert r.status_code == 200
    assert_matches("Account", r.json(), many=True)
    assert [a["id"] for a in r.json()] == [bob.account_id]
    # A word of the display name, and a handle with this server's domain.
    assert [a["id"] for a in (await alice.get("/api/v1/accounts/search", params={"q": "tab"})).json()] == [
        bob.account_id]
    r = await alice.get("/api/v1/accounts/search", params={"q": f"@bob@{world.a.domain}"})
    assert [a["id"] for a in r.json()] == [bob.account_id]
    # Exact handle first; `_` is a literal, not a wildcard.
    r = await bob.get("/api/v1/accounts/search", params={"q": "AL"})
    assert r.json()[0]["id"] == al.account_id
    assert {a["username"] for a in r.json()} == {"al", "alice", "al_x"}
    r = await bob.get("/api/v1/accounts/search", params={"q": "al_"})
    assert [a["username"] for a in r.json()] == ["al_x"]
    r = await bob.get("/api/v1/accounts/search", params={"q": "a", "limit": 1})
    assert len(r.json()) == 1
    # following=true keeps only accounts I follow.
    await bob.post(f"/api/v1/accounts/{alice.account_id}/follow")
    r = await bob.get("/api/v1/accounts/search", params={"q": "al", "following": "true"})
    assert [a["id"] for a in r.json()] == [alice.account_id]
    # Blocked either way: not found.
    await alice.post(f"/api/v1/accounts/{bob.account_id}/block")
    assert (await bob.get("/api/v1/accounts/search", params={"q": "alice"})).json() == []
    assert (await alice.get("/api/v1/accounts/search", params={"q": "bob"})).json() == []
    assert (await alice.get("/api/v1/accounts/search", params={"q": ""})).json() == []
    r = await alice.get("/api/v1/accounts/search", params={"q": "a", "limit": "many"})
    assert r.status_code == 422 and "error" in r.json()
    assert (await world.anon_a.get("/api/v1/accounts/search", params={"q": "a"})).status_code == 401


async def test_v2_search_accounts_hashtags_statuses(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    public = await _post(alice, "Gardening notes about #Tomatoes and compost")
    await _post(alice, "A private remark on compost", "private")
    await _post(bob, "Nothing relevant #tomatoseeds")
    r = await bob.get("/api/v2/search", params={"q": "compost"})
    assert r.status_code == 200
    body = r.json()
    assert_matches("Search", body)
    assert [s["id"] for s in body["statuses"]] == [public["id"]]
    # Alice finds her own private post as well, newest first.
    r = await alice.get("/api/v2/search", params={"q": "compost", "type": "statuses"})
    statuses = r.json()["statuses"]
    assert len(statuses) == 2 and statuses[1]["id"] == public["id"]
    assert r.json()["accounts"] == [] and r.json()["hashtags"] == []
    r = await alice.get("/api/v2/search", params={"q": "compost", "type": "statuses", "account_id": bob.account_id})
    assert r.json()["statuses"] == []

    r = await bob.get("/api/v2/search", params={"q": "#tomato", "type": "hashtags"})
    tags = r.json()["hashtags"]
    assert_matches("Tag", tags, many=True)
    assert [t["name"] for t in tags] == ["tomatoes", "tomatoseeds"]
    assert tags[0]["following"] is False and sum(int(d["uses"]) for d in tags[0]["history"]) == 1
    assert len(tags[0]["history"]) == 7

    r = await bob.get("/api/v2/search", params={"q": "ali", "type": "accounts"})
    assert [a["id"] for a in r.json()["accounts"]] == [alice.account_id]

    # An account that opted out of indexing: its public posts are found only by those it concerns.
    await alice.patch("/api/v1/accounts/update_credentials", data={"indexable": "false"})
    assert (await bob.get("/api/v2/search", params={"q": "compost"})).json()["statuses"] == []
    assert len((await alice.get("/api/v2/search", params={"q": "compost"})).json()["statuses"]) == 2
    # ...unless the searcher favourited it.
    await bob.post(f"/api/v1/statuses/{public['id']}/favourite")
    r = await bob.get("/api/v2/search", params={"q": "compost"})
    assert [s["id"] for s in r.json()["statuses"]] == [public["id"]]


async def test_v2_search_resolves_local_urls(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    status = await _post(alice, "Look at this")
    secret = await _post(alice, "For followers", "private")
    base = f"http://{world.a.web_domain}"
    for url in (f"{base}/@alice", f"{base}/users/alice"):
        r = await bob.get("/api/v2/search", params={"q": url, "resolve": "true"})
        assert [a["id"] for a in r.json()["accounts"]] == [alice.account_id], url
        assert r.json()["statuses"] == []
    for url in (f"{base}/@alice/{status['id']}", f"{base}/users/alice/statuses/{status['id']}"):
        r = await bob.get("/api/v2/search", params={"q": url, "resolve": "true"})
        assert [s["id"] for s in r.json()["statuses"]] == [status["id"]], url
    # Not visible to bob, wrong author, or another server: nothing.
    for url in (f"{base}/@alice/{secret['id']}", f"{base}/@bob/{status['id']}", "https://elsewhere.example/@alice"):
        r = await bob.get("/api/v2/search", params={"q": url, "resolve": "true"})
        assert r.json() == {"accounts": [], "statuses": [], "hashtags": []}, url
    r = await alice.get("/api/v2/search", params={"q": f"{base}/@alice/{secret['id']}", "resolve": "true"})
    assert [s["id"] for s in r.json()["statuses"]] == [secret["id"]]


async def test_v2_search_bad_input_and_anonymous(world: World) -> None:
    alice = world.local_alice
    await _post(alice, "An anonymous reader cannot find words")
    assert (await alice.get("/api/v2/search")).status_code == 400
    r = await alice.get("/api/v2/search", params={"q": " "})
    assert r.status_code == 400 and "error" in r.json()
    r = await alice.get("/api/v2/search", params={"q": "x", "type": "people"})
    assert r.status_code == 422 and "error" in r.json()
    r = await alice.get("/api/v2/search", params={"q": "x", "limit": "ten"})
    assert r.status_code == 422
    r = await alice.get("/api/v2/search", params={"q": "x", "account_id": "me"})
    assert r.status_code == 422
    r = await world.anon_a.get("/api/v2/search", params={"q": "alice", "offset": 5})
    assert r.status_code == 401 and "error" in r.json()
    r = await world.anon_a.get("/api/v2/search", params={"q": "alice", "resolve": "true"})
    assert r.status_code == 401
    r = await world.anon_a.get("/api/v2/search", params={"q": "anonymous"})
    assert r.status_code == 200 and r.json()["statuses"] == []
    r = await world.anon_a.get("/api/v2/search", params={"q": "alice"})
    assert [a["username"] for a in r.json()["accounts"]] == ["alice"]
    limited = await world.person(world.a, "limited", scopes="read:accounts")
    assert (await limited.get("/api/v2/search", params={"q": "a"})).status_code == 403
    assert (await limited.get("/api/v1/accounts/search", params={"q": "a"})).status_code == 200
    r = await alice.get("/api/v1/search", params={"q": "alice"})
    assert r.status_code == 410 and "error" in r.json()


async def test_search_tenant_isolation(world: World) -> None:
    alice, carol = world.local_alice, world.local_carol
    status = await _post(alice, "tenant secret words #onlyona")
    r = await carol.get("/api/v2/search", params={"q": "secret"})
    assert r.json() == {"accounts": [], "statuses": [], "hashtags": []}
    assert (await carol.get("/api/v2/search", params={"q": "alice"})).json()["accounts"] == []
    assert (await carol.get("/api/v2/search", params={"q": "onlyona"})).json()["hashtags"] == []
    assert (await carol.get("/api/v1/accounts/search", params={"q": "alice"})).json() == []
    r = await carol.get("/api/v2/search", params={"q": f"http://{world.a.web_domain}/@alice/{status['id']}",
                                                  "resolve": "true"})
    assert r.json()["statuses"] == [] and r.json()["accounts"] == []
    carol_on_a = world.client(world.a, carol.token)
    assert (await carol_on_a.get("/api/v2/search", params={"q": "secret"})).status_code == 401


async def test_hashtags_show_follow_unfollow(world: World) -> None:
    alice, carol = world.local_alice, world.local_carol
    await _post(world.local_bob, "Hello #Python")
    r = await alice.get("/api/v1/tags/python")
    assert r.status_code == 200
    tag = r.json()
    assert_matches("Tag", tag)
    assert tag["name"] == "python" and tag["following"] is False and tag["id"]
    assert tag["url"] == f"http://{world.a.web_domain}/tags/python"
    assert int(tag["history"][0]["uses"]) == 1 and int(tag["history"][0]["accounts"]) == 1
    # Anonymous: no `following`; a hashtag nobody used yet still has an answer.
    assert "following" not in (await world.anon_a.get("/api/v1/tags/Python")).json()
    fresh = (await world.anon_a.get("/api/v1/tags/neverused")).json()
    assert fresh["id"] == "" and fresh["name"] == "neverused"

    r = await alice.post("/api/v1/tags/Python/follow")
    assert r.status_code == 200 and r.json()["following"] is True and r.json()["id"] == tag["id"]
    r = await alice.post("/api/v1/tags/brandnew/follow")
    assert r.json()["following"] is True and r.json()["id"]
    await alice.post("/api/v1/tags/python/follow")
    r = await alice.get("/api/v1/followed_tags")
    assert [t["name"] for t in r.json()] == ["brandnew", "python"]
    assert all(t["following"] for t in r.json())
    r = await alice.get("/api/v1/followed_tags", params={"limit": 1})
    assert [t["name"] for t in r.json()] == ["brandnew"] and 'rel="next"' in r.headers["link"]
    r = await alice.post("/api/v1/tags/python/unfollow")
    assert r.json()["following"] is False
    assert [t["name"] for t in (await alice.get("/api/v1/followed_tags")).json()] == ["brandnew"]
    assert (await world.local_bob.get("/api/v1/tags/brandnew")).json()["following"] is False

    # Bad names are 404; scopes are checked; tenant b has its own hashtags.
    for bad in ("no-dash", "123", "%23python"):
        r = await alice.get(f"/api/v1/tags/{bad}")
        assert r.status_code == 404 and "error" in r.json(), bad
        assert (await alice.post(f"/api/v1/tags/{bad}/follow")).status_code == 404
    reader = await world.person(world.a, "reader", scopes="read")
    assert (await reader.post("/api/v1/tags/python/follow")).status_code == 403
    assert (await world.anon_a.post("/api/v1/tags/python/follow")).status_code == 401
    r = await carol.get("/api/v1/tags/brandnew")
    assert r.json()["id"] == "" and r.json()["following"] is False
    assert (await carol.get("/api/v1/followed_tags")).json() == []


async def test_featured_tags(world: World) -> None:
    alice, bob, carol = world.local_alice, world.local_bob, world.local_carol
    await _post(alice, "About #Gardening")
    await _post(alice, "More #gardening and #Compost")
    await _post(alice, "Only followers see #secretgarden", "private")
    r = await alice.get("/api/v1/featured_tags/suggestions")
    assert r.status_code == 200
    assert_matches("Tag", r.json(), many=True)
    assert [t["name"] for t in r.json()] == ["gardening", "compost"]

    r = await alice.post("/api/v1/featured_tags", data={"name": "#Gardening"})
    assert r.status_code == 200, r.text
    featured = r.json()
    assert_matches("FeaturedTag", featured)
    assert featured["name"] == "gardening" and featured["statuses_count"] == "2" and featured["last_status_at"]
    assert featured["url"] == f"http://{world.a.web_domain}/@alice/tagged/gardening"
    assert (await alice.post("/api/v1/featured_tags", data={"name": "gardening"})).status_code == 422
    assert (await alice.post("/api/v1/featured_tags", data={"name": "not a tag"})).status_code == 422
    assert (await alice.post("/api/v1/featured_tags", data={})).status_code == 422
    r = await alice.post("/api/v1/tags/secretgarden/feature")
    assert r.json()["featuring"] is True and r.json()["following"] is False
    r = await alice.post("/api/v1/tags/unused/feature")
    assert r.json()["featuring"] is True

    r = await bob.get(f"/api/v1/accounts/{alice.account_id}/featured_tags")
    body = r.json()
    assert_matches("FeaturedTag", body, many=True)
    # Counted from public posts only; most used first.
    assert [(t["name"], t["statuses_count"]) for t in body] == [("gardening", "2"), ("secretgarden", "0"),
                                                                 ("unused", "0")]
    assert [t["name"] for t in (await alice.get("/api/v1/featured_tags")).json()] == [t["name"] for t in body]
    assert [t["name"] for t in (await alice.get("/api/v1/featured_tags/suggestions")).json()] == ["compost"]
    assert (await bob.get("/api/v1/tags/gardening")).json()["featuring"] is False

    # Removing: by id (mine only), or by name.
    assert (await bob.delete(f"/api/v1/featured_tags/{featured['id']}")).status_code == 404
    assert (await carol.delete(f"/api/v1/featured_tags/{featured['id']}")).status_code == 404
    assert (await alice.delete(f"/api/v1/featured_tags/{featured['id']}")).json() == {}
    r = await alice.post("/api/v1/tags/unused/unfeature")
    assert r.json()["featuring"] is False
    assert [t["name"] for t in (await alice.get("/api/v1/featured_tags")).json()] == ["secretgarden"]
    assert (await alice.delete("/api/v1/featured_tags/123")).status_code == 404

    reader = await world.person(world.a, "reader", scopes="read")
    assert (await reader.post("/api/v1/featured_tags", data={"name": "x"})).status_code == 403
    assert (await carol.get(f"/api/v1/accounts/{alice.account_id}/featured_tags")).status_code == 404
    assert (await carol.get("/api/v1/featured_tags")).json() == []


async def test_featured_tag_limit(world: World) -> None:
    from steward.social import search as svc

    original = svc.MAX_FEATURED_TAGS
    svc.MAX_FEATURED_TAGS = 1
    try:
        assert (await world.local_alice.post("/api/v1/featured_tags", data={"name": "one"})).status_code == 200
        r = await world.local_alice.post("/api/v1/featured_tags", data={"name": "two"})
        assert r.status_code == 422 and "error" in r.json()
    finally:
        svc.MAX_FEATURED_TAGS = original


async def test_v2_search_query_shapes(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    await _post(alice, "Talking about #bobcats")
    # '#...' searches hashtags (and posts), not people; '...@...' is never a hashtag.
    r = (await bob.get("/api/v2/search", params={"q": "#bob"})).json()
    assert r["accounts"] == [] and [t["name"] for t in r["hashtags"]] == ["bobcats"]
    r = (await bob.get("/api/v2/search", params={"q": "bob"})).json()
    assert [a["username"] for a in r["accounts"]] == ["bob"] and [t["name"] for t in r["hashtags"]] == ["bobcats"]
    r = (await bob.get("/api/v2/search", params={"q": f"bob@{world.a.domain}"})).json()
    assert [a["username"] for a in r["accounts"]] == ["bob"] and r["hashtags"] == []
    # account_id narrows statuses only.
    r = (await bob.get("/api/v2/search", params={"q": "bobcats", "account_id": bob.account_id})).json()
    assert r["statuses"] == [] and [t["name"] for t in r["hashtags"]] == ["bobcats"]
    r = (await bob.get("/api/v2/search", params={"q": "bobcats", "account_id": alice.account_id})).json()
    assert len(r["statuses"]) == 1


async def test_status_search_operators(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    plain = await _post(alice, "weather report sunny")
    r = await alice.post("/api/v1/statuses", json={"status": "weather poll today", "language": "de",
                                                   "poll": {"options": ["rain", "sun"], "expires_in": 3600}})
    poll = r.json()
    reply = (await bob.post("/api/v1/statuses", data={"status": "weather reply here",
                                                      "in_reply_to_id": plain["id"]})).json()

    async def ids(q: str, who: Person = bob) -> list[str]:
        r = await who.get("/api/v2/search", params={"q": q, "type": "statuses"})
        assert r.status_code == 200, r.text
        return [s["id"] for s in r.json()["statuses"]]

    assert await ids("weather") == [reply["id"], poll["id"], plain["id"]]
    assert await ids("weather from:alice") == [poll["id"], plain["id"]]
    assert await ids(f"weather from:@alice@{world.a.domain}") == [poll["id"], plain["id"]]
    assert await ids("weather from:me") == [reply["id"]]
    assert await ids("from:nobody_here weather") == []
    assert await ids("weather is:reply") == [reply["id"]]
    assert await ids("weather -is:reply") == [poll["id"], plain["id"]]
    assert await ids("weather has:poll") == [poll["id"]]
    assert await ids("has:poll") == [poll["id"]]
    assert await ids("weather language:de") == [poll["id"]]
    assert await ids("weather before:2000-01-01") == []
    assert await ids("weather after:2000-01-01") == [reply["id"], poll["id"], plain["id"]]
    # in:library keeps what I wrote, was mentioned in, favourited or bookmarked.
    assert await ids("weather in:library") == [reply["id"]]
    await bob.post(f"/api/v1/statuses/{plain['id']}/bookmark")
    assert await ids("weather in:library") == [reply["id"], plain["id"]]
    # An unknown operator is just a word.
    assert await ids("weather colour:blue") == []
