"""Favourites, boosts, bookmarks, pins, conversation mutes, their lists, and an
account's statuses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from steward.db.tables import jobs
from tests.schema import assert_matches
from tests.web.test_statuses import add_media, follow, post
from tests.world import World


async def _status(person: Any, status_id: str) -> dict[str, Any]:
    r = await person.get(f"/api/v1/statuses/{status_id}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_favourite_round_trip(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    s = await post(alice, "like me")
    r = await bob.post(f"/api/v1/statuses/{s['id']}/favourite")
    assert r.status_code == 200 and r.json()["favourited"] is True and r.json()["favourites_count"] == 1
    assert_matches("Status", r.json())
    again = await bob.post(f"/api/v1/statuses/{s['id']}/favourite")
    assert again.json()["favourites_count"] == 1
    async with world.c.db.read() as conn:
        notes = [row.payload for row in (await conn.execute(select(jobs.c.payload).where(jobs.c.kind == "notify")))
                 if row.payload.get("status_id") == int(s["id"])]
    assert notes == [{"tenant_id": world.a.id, "account_id": int(alice.account_id),
                      "from_account_id": int(bob.account_id), "type": "favourite", "status_id": int(s["id"])}]
    who = await world.anon_a.get(f"/api/v1/statuses/{s['id']}/favourited_by")
    assert [a["id"] for a in who.json()] == [bob.account_id]
    favs = await bob.get("/api/v1/favourites")
    assert [x["id"] for x in favs.json()] == [s["id"]] and 'rel="next"' in favs.headers["link"]
    assert_matches("Status", favs.json(), many=True)
    r = await bob.post(f"/api/v1/statuses/{s['id']}/unfavourite")
    assert r.json()["favourited"] is False and r.json()["favourites_count"] == 0
    assert (await bob.get("/api/v1/favourites")).json() == []
    # Tenant b can neither see nor favourite it.
    assert (await world.local_carol.post(f"/api/v1/statuses/{s['id']}/favourite")).status_code == 404
    assert (await world.local_carol.get(f"/api/v1/statuses/{s['id']}/favourited_by")).status_code == 404


async def test_reblog_round_trip(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    s = await post(alice, "boost me")
    r = await bob.post(f"/api/v1/statuses/{s['id']}/reblog", data={"visibility": "unlisted"})
    assert r.status_code == 200, r.text
    boost = r.json()
    assert_matches("Status", boost)
    assert boost["reblog"]["id"] == s["id"] and boost["account"]["id"] == bob.account_id
    assert boost["visibility"] == "unlisted" and boost["reblogged"] is True
    assert boost["reblog"]["reblogs_count"] == 1 and boost["reblog"]["reblogged"] is True
    assert (await bob.post(f"/api/v1/statuses/{s['id']}/reblog")).json()["id"] == boost["id"]
    # Boosting the boost boosts the original, which is already boosted.
    assert (await bob.post(f"/api/v1/statuses/{boost['id']}/reblog")).json()["id"] == boost["id"]
    async with world.c.db.read() as conn:
        kinds = [row.payload for row in (await conn.execute(
            select(jobs.c.payload).where(jobs.c.kind == "status.distribute")))]
    assert {"tenant_id": world.a.id, "status_id": int(boost["id"])} in kinds
    who = (await alice.get(f"/api/v1/statuses/{s['id']}/reblogged_by")).json()
    assert [a["id"] for a in who] == [bob.account_id]
    fetched = await _status(world.anon_a, boost["id"])
    assert fetched["reblog"]["id"] == s["id"] and "reblogged" not in fetched
    r = await bob.post(f"/api/v1/statuses/{s['id']}/unreblog")
    assert r.status_code == 200 and r.json()["id"] == s["id"] and r.json()["reblogged"] is False
    assert r.json()["reblogs_count"] == 0
    assert (await bob.get(f"/api/v1/statuses/{boost['id']}")).status_code == 404
    # Private: only the author may boost; direct: nobody.
    private = await post(alice, "followers", visibility="private")
    await follow(world, bob, alice)
    assert (await bob.post(f"/api/v1/statuses/{private['id']}/reblog")).status_code == 403
    own = await alice.post(f"/api/v1/statuses/{private['id']}/reblog", data={"visibility": "unlisted"})
    assert own.status_code == 200 and own.json()["visibility"] == "private"
    # Followers-only boosts are not listed.
    assert (await alice.get(f"/api/v1/statuses/{private['id']}/reblogged_by")).json() == []
    direct = await post(alice, "@bob psst", visibility="direct")
    assert (await bob.post(f"/api/v1/statuses/{direct['id']}/reblog")).status_code == 403
    bad = await bob.post(f"/api/v1/statuses/{s['id']}/reblog", data={"visibility": "direct"})
    assert bad.status_code == 422 and "error" in bad.json()
    # Deleting the original takes its boosts with it.
    again = (await bob.post(f"/api/v1/statuses/{s['id']}/reblog")).json()
    assert (await bob.get(f"/api/v1/accounts/{bob.account_id}")).json()["statuses_count"] == 1
    assert (await alice.delete(f"/api/v1/statuses/{s['id']}")).status_code == 200
    assert (await bob.get(f"/api/v1/statuses/{again['id']}")).status_code == 404
    assert (await bob.get(f"/api/v1/accounts/{bob.account_id}")).json()["statuses_count"] == 0
    assert (await world.local_carol.post(f"/api/v1/statuses/{private['id']}/reblog")).status_code == 404


async def test_bookmarks_and_mutes(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    first = await post(alice, "one")
    second = await post(alice, "two")
    for s in (first, second):
        r = await bob.post(f"/api/v1/statuses/{s['id']}/bookmark")
        assert r.status_code == 200 and r.json()["bookmarked"] is True
    page = await bob.get("/api/v1/bookmarks", params={"limit": 1})
    assert [x["id"] for x in page.json()] == [second["id"]]
    assert 'rel="next"' in page.headers["link"]
    next_url = page.headers["link"].split(";")[0].strip("<>")
    older = await bob.get(next_url)
    assert [x["id"] for x in older.json()] == [first["id"]]
    r = await bob.post(f"/api/v1/statuses/{first['id']}/unbookmark")
    assert r.json()["bookmarked"] is False
    assert [x["id"] for x in (await bob.get("/api/v1/bookmarks")).json()] == [second["id"]]
    assert (await world.local_carol.get("/api/v1/bookmarks")).json() == []
    r = await bob.post(f"/api/v1/statuses/{first['id']}/mute")
    assert r.json()["muted"] is True
    reply = await post(alice, "in the same thread", in_reply_to_id=first["id"])
    assert (await _status(bob, reply["id"]))["muted"] is True
    assert (await bob.post(f"/api/v1/statuses/{first['id']}/unmute")).json()["muted"] is False
    assert (await world.local_carol.post(f"/api/v1/statuses/{first['id']}/bookmark")).status_code == 404
    read_only = await world.person(world.a, "reader", scopes="read")
    assert (await read_only.post(f"/api/v1/statuses/{first['id']}/bookmark")).status_code == 403


async def test_pins(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    mine = [await post(alice, f"pin {i}") for i in range(6)]
    for s in mine[:5]:
        r = await alice.post(f"/api/v1/statuses/{s['id']}/pin")
        assert r.status_code == 200 and r.json()["pinned"] is True
    r = await alice.post(f"/api/v1/statuses/{mine[5]['id']}/pin")
    assert r.status_code == 422 and "error" in r.json()
    pinned = await world.anon_a.get(f"/api/v1/accounts/{alice.account_id}/statuses", params={"pinned": "true"})
    assert {x["id"] for x in pinned.json()} == {s["id"] for s in mine[:5]}
    assert (await alice.post(f"/api/v1/statuses/{mine[0]['id']}/unpin")).json()["pinned"] is False
    assert (await alice.post(f"/api/v1/statuses/{mine[5]['id']}/pin")).status_code == 200
    private = await post(alice, "p", visibility="private")
    assert (await alice.post(f"/api/v1/statuses/{private['id']}/pin")).status_code == 422
    assert (await bob.post(f"/api/v1/statuses/{mine[1]['id']}/pin")).status_code == 422
    assert (await world.local_carol.post(f"/api/v1/statuses/{mine[1]['id']}/pin")).status_code == 404


async def test_account_statuses_filters(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    plain = await post(alice, "plain #cats")
    media = await post(alice, "pic", media_ids=[await add_media(world, alice)])
    other = await post(bob, "bob's")
    reply_other = await post(alice, "reply to bob", in_reply_to_id=other["id"])
    self_reply = await post(alice, "thread", in_reply_to_id=plain["id"])
    boost = (await alice.post(f"/api/v1/statuses/{other['id']}/reblog")).json()
    private = await post(alice, "private", visibility="private")
    direct = await post(alice, "@ann direct", visibility="direct")
    url = f"/api/v1/accounts/{alice.account_id}/statuses"

    async def ids(person: Any, **params: Any) -> list[str]:
        r = await person.get(url, params=params)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()]

    public_all = [boost["id"], self_reply["id"], reply_other["id"], media["id"], plain["id"]]
    assert await ids(world.anon_a) == public_all
    assert await ids(alice) == [direct["id"], private["id"], *public_all]
    assert await ids(alice, exclude_direct="true") == [private["id"], *public_all]
    assert await ids(world.admin_ann) == [direct["id"], *public_all]  # ann is mentioned
    assert await ids(world.admin_ann, exclude_direct="true") == public_all
    await follow(world, bob, alice)
    assert await ids(bob) == [private["id"], *public_all]
    assert await ids(world.anon_a, only_media="true") == [media["id"]]
    assert await ids(world.anon_a, exclude_replies="true") == [boost["id"], self_reply["id"], media["id"],
                                                               plain["id"]]
    assert await ids(world.anon_a, exclude_reblogs="true") == public_all[1:]
    assert await ids(world.anon_a, tagged="Cats") == [plain["id"]]
    assert await ids(world.anon_a, limit=2) == public_all[:2]
    assert await ids(world.anon_a, max_id=media["id"]) == [plain["id"]]
    assert await ids(world.anon_a, since_id=media["id"]) == public_all[:3]
    assert await ids(world.anon_a, min_id=plain["id"], limit=2) == [reply_other["id"], media["id"]]
    r = await world.anon_a.get(url)
    assert_matches("Status", r.json(), many=True)
    assert "link" in r.headers
    # Unknown account, other tenant, bad params.
    assert (await world.anon_a.get("/api/v1/accounts/12345/statuses")).status_code == 404
    assert (await world.anon_b.get(url)).status_code == 404
    assert (await world.local_carol.get(url)).status_code == 404
    r = await world.anon_a.get(url, params={"only_media": "maybe"})
    assert r.status_code == 422 and "error" in r.json()


async def test_status_entity_matches_schema(world: World) -> None:
    alice = world.local_alice
    s = await post(alice, "@bob #tag https://example.com", media_ids=[await add_media(world, alice)])
    assert_matches("Status", s)
    assert_matches("Status", await _status(world.anon_a, s["id"]))
    ctx = (await alice.get(f"/api/v1/statuses/{s['id']}/context")).json()
    assert_matches("Context", ctx)
    history = (await alice.get(f"/api/v1/statuses/{s['id']}/history")).json()
    assert_matches("StatusEdit", history, many=True)
    assert_matches("StatusSource", (await alice.get(f"/api/v1/statuses/{s['id']}/source")).json())
    deleted = (await alice.delete(f"/api/v1/statuses/{s['id']}")).json()
    assert_matches("Status", deleted)


async def test_jobs_deliver_mentions_favourites_and_boosts(world: World) -> None:
    """The jobs a status queues run cleanly: notifications and home feeds follow."""
    alice, bob = world.local_alice, world.local_bob
    await follow(world, bob, alice)
    mention = await post(alice, "hi @bob")
    mine = await post(bob, "mine")
    await alice.post(f"/api/v1/statuses/{mine['id']}/favourite")
    boost = (await alice.post(f"/api/v1/statuses/{mine['id']}/reblog")).json()
    await world.run_jobs()
    notes = (await bob.get("/api/v1/notifications")).json()
    assert {(n["type"], n["status"]["id"]) for n in notes} == {
        ("mention", mention["id"]), ("favourite", mine["id"]), ("reblog", mine["id"])}
    home = [s["id"] for s in (await bob.get("/api/v1/timelines/home")).json()]
    assert mention["id"] in home and boost["id"] in home
    await alice.delete(f"/api/v1/statuses/{mention['id']}")
    await world.run_jobs()
    assert mention["id"] not in [s["id"] for s in (await bob.get("/api/v1/timelines/home")).json()]
    async with world.c.db.read() as conn:
        failed = (await conn.execute(select(jobs.c.kind, jobs.c.last_error).where(jobs.c.tenant_id == world.a.id))).all()
    assert failed == []


async def test_filters_apply_to_threads_and_account_statuses(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    root = await post(alice, "root post")
    warned = await post(alice, "talking about spoilers here", in_reply_to_id=root["id"])
    hidden = await post(alice, "secret spoilers here too")
    r = await bob.post("/api/v2/filters", json={"title": "no spoilers", "context": ["thread", "account"],
                                                "filter_action": "warn",
                                                "keywords_attributes": [{"keyword": "spoilers"}]})
    assert r.status_code == 200, r.text
    ctx = (await bob.get(f"/api/v1/statuses/{root['id']}/context")).json()
    assert ctx["descendants"][0]["id"] == warned["id"]
    assert ctx["descendants"][0]["filtered"][0]["keyword_matches"] == ["spoilers"]
    r = await bob.post("/api/v2/filters", json={"title": "hide", "context": ["account"], "filter_action": "hide",
                                                "keywords_attributes": [{"keyword": "secret"}]})
    assert r.status_code == 200, r.text
    listed = (await bob.get(f"/api/v1/accounts/{alice.account_id}/statuses")).json()
    assert hidden["id"] not in [s["id"] for s in listed] and warned["id"] in [s["id"] for s in listed]
    # Filters are the viewer's own: alice sees everything unfiltered.
    mine = (await alice.get(f"/api/v1/accounts/{alice.account_id}/statuses")).json()
    assert len(mine) == 3 and all(s["filtered"] == [] for s in mine)


async def test_concurrent_boosts_and_favourites_count_once(world: World) -> None:
    import asyncio

    alice, bob = world.local_alice, world.local_bob
    s = await post(alice, "popular")
    boosts = await asyncio.gather(*(bob.post(f"/api/v1/statuses/{s['id']}/reblog") for _ in range(4)))
    favs = await asyncio.gather(*(bob.post(f"/api/v1/statuses/{s['id']}/favourite") for _ in range(4)))
    assert all(r.status_code == 200 for r in [*boosts, *favs])
    assert len({r.json()["id"] for r in boosts}) == 1
    seen = (await alice.get(f"/api/v1/statuses/{s['id']}")).json()
    assert seen["reblogs_count"] == 1 and seen["favourites_count"] == 1
