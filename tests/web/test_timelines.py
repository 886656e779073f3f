from __future__ import annotations

import re

from sqlalchemy import select

from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import home_feed, list_accounts, lists, media_attachments, statuses
from tests.web.test_timelines_helpers import aid, block, delete_status, follow, ids, mute, post, reblog
from tests.world import World


async def _home(person) -> list[int]:  # type: ignore[no-untyped-def]
    r = await person.get("/api/v1/timelines/home")
    assert r.status_code == 200, r.text
    return ids(r.json())


async def test_followers_get_posts_in_home(world: World) -> None:
    await follow(world, world.local_alice, world.local_bob)
    sid = await post(world, world.local_bob, "hello followers")
    assert sid in await _home(world.local_alice)
    assert sid in await _home(world.local_bob)  # the author's own feed
    assert sid not in await _home(world.admin_ann)  # not a follower
    body = (await world.local_alice.get("/api/v1/timelines/home")).json()[0]
    assert body["account"]["id"] == world.local_bob.account_id and body["content"]
    assert body["favourited"] is False and body["reblog"] is None
    # The job may run twice: nothing is duplicated.
    from steward.social import fanout
    await fanout.distribute(world.c, {"tenant_id": world.a.id, "status_id": sid})
    assert (await _home(world.local_alice)).count(sid) == 1


async def test_private_and_direct_reach_only_their_audience(world: World) -> None:
    await follow(world, world.local_alice, world.local_bob)
    private = await post(world, world.local_bob, "followers only, and @ann", visibility="private")
    direct = await post(world, world.local_bob, "psst @ann", visibility="direct")
    alice, ann = await _home(world.local_alice), await _home(world.admin_ann)
    assert private in alice and private in ann  # follower; mentioned
    assert direct not in alice and direct in ann
    assert direct in await _home(world.local_bob)
    r = await world.local_alice.get("/api/v1/timelines/direct")
    assert r.status_code == 200 and direct not in ids(r.json())
    r = await world.admin_ann.get("/api/v1/timelines/direct")
    assert ids(r.json()) == [direct]


async def test_mutes_blocks_reblogs_and_replies(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    await follow(world, alice, bob)
    await follow(world, ann, bob, show_reblogs=False)
    await follow(world, alice, ann)
    await follow(world, ann, alice)
    original = await post(world, alice, "original by alice")
    boost = await reblog(world, bob, original)
    assert boost in await _home(alice)  # alice follows bob (with boosts)
    assert boost not in await _home(ann)  # ann hides bob's boosts
    first = (await alice.get("/api/v1/timelines/home")).json()[0]
    assert first["reblog"]["id"] == str(original)
    # A reply reaches only those who follow both sides.
    carl = await world.person(world.a, "carl")
    await follow(world, carl, bob)
    mine = await post(world, ann, "ann speaks")
    reply = await post(world, bob, "@ann a reply", in_reply_to_id=mine)
    assert reply in await _home(alice)  # alice follows bob and ann
    assert reply not in await _home(carl)  # carl follows bob only
    own_thread = await post(world, bob, "bob continues his own thread", in_reply_to_id=reply)
    assert own_thread in await _home(carl)
    carol_free = await post(world, bob, "@alice reply to alice", in_reply_to_id=original)
    assert carol_free in await _home(alice)
    await mute(world, alice, bob)
    muted = await post(world, bob, "after the mute")
    assert muted not in await _home(alice)
    # Older posts of a muted author are hidden when reading, too.
    assert reply not in await _home(alice)
    await block(world, ann, alice)
    blocked = await post(world, alice, "after ann blocked alice")
    assert blocked not in await _home(ann)


async def test_paging_and_link_headers(world: World) -> None:
    posted = [await post(world, world.local_alice, f"post {i}", run=False) for i in range(5)]
    await world.run_jobs()
    s1, s2, s3, s4, s5 = posted
    r = await world.local_alice.get("/api/v1/timelines/home", params={"limit": 2})
    assert ids(r.json()) == [s5, s4]
    link = r.headers["link"]
    assert f"max_id={s4}" in link and f"min_id={s5}" in link and 'rel="next"' in link and 'rel="prev"' in link
    nxt = re.search(r"<([^>]+)>; rel=\"next\"", link).group(1)  # type: ignore[union-attr]
    r = await world.local_alice.get(nxt.split(world.a.web_domain, 1)[1])
    assert ids(r.json()) == [s3, s2]
    r = await world.local_alice.get("/api/v1/timelines/home", params={"min_id": s1, "limit": 2})
    assert ids(r.json()) == [s3, s2]  # the page just above min_id, newest first
    r = await world.local_alice.get("/api/v1/timelines/home", params={"since_id": s1, "limit": 2})
    assert ids(r.json()) == [s5, s4]  # the newest page, stopping at since_id
    r = await world.local_alice.get("/api/v1/timelines/home", params={"max_id": s4, "since_id": s1})
    assert ids(r.json()) == [s3, s2]
    r = await world.local_alice.get("/api/v1/timelines/home", params={"min_id": s5})
    assert r.json() == [] and "link" not in r.headers
    await delete_status(world, world.local_alice, s5)
    assert s5 not in await _home(world.local_alice)
    async with world.c.db.read() as conn:
        left = (await conn.execute(select(home_feed).where(home_feed.c.tenant_id == world.a.id,
                                                           home_feed.c.status_id == s5))).all()
    assert left == []


async def test_public_timeline(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    public = await post(world, alice, "public #news")
    unlisted = await post(world, alice, "quiet", visibility="unlisted")
    private = await post(world, alice, "secret", visibility="private")
    reply_to_other = await post(world, bob, "@alice reply", in_reply_to_id=public)
    r = await world.anon_a.get("/api/v1/timelines/public")
    assert r.status_code == 200
    got = ids(r.json())
    assert public in got and unlisted not in got and private not in got and reply_to_other not in got
    assert "favourited" not in r.json()[0]  # anonymous viewers get no flags
    r = await alice.get("/api/v1/timelines/public", params={"local": "true"})
    assert public in ids(r.json())
    r = await alice.get("/api/v1/timelines/public", params={"remote": "true"})
    assert ids(r.json()) == []
    r = await alice.get("/api/v1/timelines/public", params={"only_media": "true"})
    assert ids(r.json()) == []
    async with world.c.db.write() as conn:
        await conn.execute(media_attachments.insert().values(
            tenant_id=world.a.id, id=new_id(), account_id=aid(alice), status_id=public, type="image",
            file_path="x.png", meta={}, created_at=utcnow()))
    r = await alice.get("/api/v1/timelines/public", params={"only_media": "true"})
    assert ids(r.json()) == [public]
    await block(world, bob, alice)
    r = await bob.get("/api/v1/timelines/public")
    assert public not in ids(r.json())
    # A tenant may close its timelines to anonymous readers.
    await world.c.tenants.update_settings(world.b.id, {"timeline_preview": False})
    world.c.tenants.invalidate()
    r = await world.anon_b.get("/api/v1/timelines/public")
    assert r.status_code == 422 and "error" in r.json()
    assert (await world.local_carol.get("/api/v1/timelines/public")).status_code == 200


async def test_tag_timeline(world: World) -> None:
    alice = world.local_alice
    both = await post(world, alice, "#cats and #dogs")
    cats = await post(world, alice, "only #Cats")
    dogs = await post(world, alice, "only #dogs")
    await post(world, alice, "#cats privately", visibility="private")
    r = await world.anon_a.get("/api/v1/timelines/tag/cats")
    assert ids(r.json()) == [cats, both]
    r = await alice.get("/api/v1/timelines/tag/cats", params={"any[]": "dogs"})
    assert ids(r.json()) == [dogs, cats, both]
    r = await alice.get("/api/v1/timelines/tag/cats", params={"all[]": "dogs"})
    assert ids(r.json()) == [both]
    r = await alice.get("/api/v1/timelines/tag/cats", params={"none[]": "dogs"})
    assert ids(r.json()) == [cats]
    r = await alice.get("/api/v1/timelines/tag/%23CATS", params={"local": "true", "limit": 1})
    assert ids(r.json()) == [cats] and "link" in r.headers


async def test_list_timeline(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    await follow(world, alice, bob)
    await follow(world, alice, ann)
    list_id = new_id()
    async with world.c.db.write() as conn:
        await conn.execute(lists.insert().values(tenant_id=world.a.id, id=list_id, account_id=aid(alice),
                                                 title="friends", replies_policy="list", created_at=utcnow()))
        await conn.execute(list_accounts.insert().values(tenant_id=world.a.id, list_id=list_id,
                                                         account_id=aid(bob)))
    from_bob = await post(world, bob, "bob in the list")
    from_ann = await post(world, ann, "ann outside the list")
    r = await alice.get(f"/api/v1/timelines/list/{list_id}")
    assert r.status_code == 200 and ids(r.json()) == [from_bob]
    assert from_ann in await _home(alice)
    r = await bob.get(f"/api/v1/timelines/list/{list_id}")  # not bob's list
    assert r.status_code == 404 and "error" in r.json()
    # An exclusive list keeps its members out of the home timeline, not out of the list.
    assert from_bob in await _home(alice)
    r = await alice.put(f"/api/v1/lists/{list_id}", json={"title": "friends", "exclusive": True})
    assert r.status_code == 200, r.text
    assert from_bob not in await _home(alice) and from_ann in await _home(alice)
    assert ids((await alice.get(f"/api/v1/timelines/list/{list_id}")).json()) == [from_bob]


async def test_bad_input(world: World) -> None:
    alice = world.local_alice
    r = await world.anon_a.get("/api/v1/timelines/home")
    assert r.status_code == 401 and "error" in r.json()
    r = await alice.get("/api/v1/timelines/home", params={"limit": "lots"})
    assert r.status_code == 422 and "error" in r.json()
    r = await alice.get("/api/v1/timelines/home", params={"max_id": "not-an-id", "limit": 500})
    assert r.status_code == 200  # unreadable ids are ignored, the limit is clamped, as on Mastodon
    r = await alice.get("/api/v1/timelines/public", params={"local": "maybe"})
    assert r.status_code == 422 and "error" in r.json()
    r = await alice.get("/api/v1/timelines/tag/no%20spaces")
    assert r.status_code == 422 and "error" in r.json()
    r = await alice.get("/api/v1/timelines/tag/cats", params={"any[]": "bad tag!"})
    assert r.status_code == 422
    r = await alice.get("/api/v1/timelines/list/123456789")
    assert r.status_code == 404 and "error" in r.json()
    r = await alice.get("/api/v1/timelines/list/nope")
    assert r.status_code == 404
    writer = await world.person(world.a, "writer", scopes="write")
    r = await writer.get("/api/v1/timelines/home")
    assert r.status_code == 403 and "error" in r.json()


async def test_tenant_isolation(world: World) -> None:
    alice, carol = world.local_alice, world.local_carol
    secret = await post(world, alice, "tenant a only #shared")
    theirs = await post(world, carol, "tenant b only #shared")
    # Carol's token means nothing on tenant a's host.
    r = await world.client(world.a, carol.token).get("/api/v1/timelines/home")
    assert r.status_code == 401
    for path in ("/api/v1/timelines/public", "/api/v1/timelines/tag/shared", "/api/v1/timelines/home"):
        got = ids((await carol.get(path)).json())
        assert secret not in got
        got_a = ids((await alice.get(path)).json())
        assert theirs not in got_a
    assert theirs in ids((await carol.get("/api/v1/timelines/home")).json())
    # Even a feed row pointing at another tenant's status id shows nothing.
    async with world.c.db.write() as conn:
        await conn.execute(home_feed.insert().values(tenant_id=world.b.id, account_id=aid(carol), status_id=secret,
                                                     author_id=aid(alice)))
    assert secret not in ids((await carol.get("/api/v1/timelines/home")).json())
    async with world.c.db.read() as conn:
        row = (await conn.execute(select(statuses.c.tenant_id).where(statuses.c.id == secret))).scalar()
    assert row == world.a.id


async def test_content_filters_apply_to_timelines_and_notifications(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    await follow(world, alice, bob)
    r = await alice.post("/api/v2/filters", json={"title": "no spoilers", "context": ["home", "notifications"],
                                                  "filter_action": "hide",
                                                  "keywords_attributes": [{"keyword": "spoiler"}]})
    assert r.status_code == 200, r.text
    r = await alice.post("/api/v2/filters", json={"title": "careful", "context": ["home", "public"],
                                                  "filter_action": "warn",
                                                  "keywords_attributes": [{"keyword": "weather"}]})
    assert r.status_code == 200, r.text
    hidden = await post(world, bob, "big spoiler ahead @alice")
    warned = await post(world, bob, "the weather is odd")
    plain = await post(world, bob, "nothing special")
    r = await alice.get("/api/v1/timelines/home")
    got = {int(s["id"]): s for s in r.json()}
    assert hidden not in got and warned in got and plain in got
    assert got[warned]["filtered"][0]["filter"]["title"] == "careful"
    assert got[warned]["filtered"][0]["keyword_matches"] == ["weather"]
    assert got[plain]["filtered"] == []
    public = {int(s["id"]): s for s in (await alice.get("/api/v1/timelines/public")).json()}
    assert hidden in public and public[warned]["filtered"]  # "hide" is for home and notifications only
    notes = (await alice.get("/api/v1/notifications")).json()
    assert all(n.get("status", {}).get("id") != str(hidden) for n in notes)
    # Bob has no filters.
    assert hidden in ids((await bob.get("/api/v1/timelines/home")).json())


async def test_followed_hashtags_reach_home(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    r = await alice.post("/api/v1/tags/gardening/follow")
    assert r.status_code == 200, r.text
    tagged = await post(world, bob, "my #Gardening diary")
    untagged = await post(world, bob, "no tag")
    quiet = await post(world, bob, "#gardening quietly", visibility="unlisted")
    home = await _home(alice)
    assert tagged in home and untagged not in home and quiet not in home
    await mute(world, alice, bob)
    assert tagged not in await _home(alice)
