"""Follow, block, mute, endorse, note; relationships; follow requests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from steward.db.tables import follows, home_feed, jobs
from tests.schema import assert_matches
from tests.world import Person, World


async def _me(p: Person) -> dict[str, Any]:
    return (await p.get("/api/v1/accounts/verify_credentials")).json()


async def _notify_jobs(world: World, tenant_id: int) -> list[dict[str, Any]]:
    async with world.c.db.read() as conn:
        rows = (await conn.execute(select(jobs.c.payload).where(jobs.c.tenant_id == tenant_id,
                                                                jobs.c.kind == "notify"))).all()
    return [r.payload for r in rows]


async def test_follow_unfollow_counts_and_notification(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    assert r.status_code == 200, r.text
    rel = r.json()
    assert_matches("Relationship", rel)
    assert rel["id"] == bob.account_id and rel["following"] and rel["showing_reblogs"] and not rel["requested"]
    assert not rel["notifying"] and rel["languages"] is None
    assert (await _me(alice))["following_count"] == 1 and (await _me(bob))["followers_count"] == 1
    payloads = await _notify_jobs(world, world.a.id)
    assert {"tenant_id": world.a.id, "account_id": int(bob.account_id), "from_account_id": int(alice.account_id),
            "type": "follow"} in payloads

    # Following again is idempotent and changes only the options given.
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/follow",
                         json={"reblogs": False, "notify": True, "languages": ["de", "en"]})
    rel = r.json()
    assert rel["following"] and not rel["showing_reblogs"] and rel["notifying"] and rel["languages"] == ["de", "en"]
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/follow", data={"notify": "false"})
    rel = r.json()
    assert not rel["showing_reblogs"] and not rel["notifying"] and rel["languages"] == ["de", "en"]
    assert (await _me(alice))["following_count"] == 1 and (await _me(bob))["followers_count"] == 1
    assert len([p for p in await _notify_jobs(world, world.a.id) if p["type"] == "follow"]) == 1

    # Bob sees alice as a follower.
    r = await bob.get("/api/v1/accounts/relationships", params={"id[]": alice.account_id})
    assert r.json()[0]["followed_by"] and not r.json()[0]["following"]

    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/unfollow")
    assert r.status_code == 200 and not r.json()["following"]
    assert (await _me(alice))["following_count"] == 0 and (await _me(bob))["followers_count"] == 0
    # Unfollowing twice changes nothing and never goes below zero.
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/unfollow")
    assert r.status_code == 200
    assert (await _me(bob))["followers_count"] == 0


async def test_cannot_follow_self_or_unknown(world: World) -> None:
    alice = world.local_alice
    r = await alice.post(f"/api/v1/accounts/{alice.account_id}/follow")
    assert r.status_code == 403 and "error" in r.json()
    for path in ("follow", "unfollow", "block", "mute", "pin", "note", "remove_from_followers"):
        r = await alice.post(f"/api/v1/accounts/999999/{path}")
        assert r.status_code == 404 and "error" in r.json(), path
        r = await alice.post(f"/api/v1/accounts/not-an-id/{path}")
        assert r.status_code == 404, path


async def test_locked_account_request_authorize_reject(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    r = await bob.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    assert r.status_code == 200 and r.json()["locked"]
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/follow", data={"reblogs": "false"})
    rel = r.json()
    assert rel["requested"] and not rel["following"] and not rel["showing_reblogs"]
    assert {"tenant_id": world.a.id, "account_id": int(bob.account_id), "from_account_id": int(alice.account_id),
            "type": "follow_request"} in await _notify_jobs(world, world.a.id)
    await ann.post(f"/api/v1/accounts/{bob.account_id}/follow")
    assert (await _me(bob))["followers_count"] == 0

    r = await bob.get("/api/v1/follow_requests")
    assert r.status_code == 200
    assert [a["id"] for a in r.json()] == [ann.account_id, alice.account_id]
    assert_matches("Account", r.json(), many=True)
    r = await bob.get("/api/v1/accounts/relationships", params={"id[]": [alice.account_id]})
    assert r.json()[0]["requested_by"]

    r = await bob.post(f"/api/v1/follow_requests/{alice.account_id}/authorize")
    assert r.status_code == 200 and r.json()["followed_by"] and not r.json()["requested_by"]
    r = await alice.get("/api/v1/accounts/relationships", params={"id[]": [bob.account_id]})
    assert r.json()[0]["following"] and not r.json()[0]["requested"] and not r.json()[0]["showing_reblogs"]
    assert (await _me(bob))["followers_count"] == 1 and (await _me(alice))["following_count"] == 1

    r = await bob.post(f"/api/v1/follow_requests/{ann.account_id}/reject")
    assert r.status_code == 200 and not r.json()["followed_by"] and not r.json()["requested_by"]
    r = await ann.get("/api/v1/accounts/relationships", params={"id[]": [bob.account_id]})
    assert not r.json()[0]["following"] and not r.json()[0]["requested"]
    assert (await bob.get("/api/v1/follow_requests")).json() == []

    # No pending request: 404.
    r = await bob.post(f"/api/v1/follow_requests/{ann.account_id}/authorize")
    assert r.status_code == 404 and "error" in r.json()
    r = await bob.post("/api/v1/follow_requests/abc/reject")
    assert r.status_code == 404


async def test_unfollow_withdraws_a_pending_request(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    await bob.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    assert (await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")).json()["requested"]
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/unfollow")
    assert not r.json()["requested"]
    assert (await bob.get("/api/v1/follow_requests")).json() == []


async def test_block_removes_follows_and_prevents_following(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    await bob.post(f"/api/v1/accounts/{alice.account_id}/follow")
    async with world.c.db.write() as conn:
        await conn.execute(home_feed.insert().values(tenant_id=world.a.id, account_id=int(alice.account_id),
                                                     status_id=1, author_id=int(bob.account_id)))
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/block")
    assert r.status_code == 200
    rel = r.json()
    assert rel["blocking"] and not rel["following"] and not rel["followed_by"]
    assert (await _me(alice))["following_count"] == 0 and (await _me(alice))["followers_count"] == 0
    assert (await _me(bob))["following_count"] == 0 and (await _me(bob))["followers_count"] == 0
    async with world.c.db.read() as conn:
        left = (await conn.execute(select(follows.c.id).where(follows.c.tenant_id == world.a.id))).all()
        feed = (await conn.execute(select(home_feed).where(home_feed.c.tenant_id == world.a.id))).all()
    assert left == [] and feed == []

    # Neither side can follow now.
    r = await bob.post(f"/api/v1/accounts/{alice.account_id}/follow")
    assert r.status_code == 403 and "error" in r.json()
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    assert r.status_code == 403
    r = await bob.get("/api/v1/accounts/relationships", params={"id[]": alice.account_id})
    assert r.json()[0]["blocked_by"] and not r.json()[0]["blocking"]

    r = await alice.get("/api/v1/blocks")
    assert [a["id"] for a in r.json()] == [bob.account_id]
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/unblock")
    assert not r.json()["blocking"]
    assert (await alice.get("/api/v1/blocks")).json() == []
    r = await bob.post(f"/api/v1/accounts/{alice.account_id}/follow")
    assert r.json()["following"]


async def test_mute_with_duration(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/mute", data={"notifications": "false",
                                                                          "duration": "3600"})
    rel = r.json()
    assert rel["muting"] and not rel["muting_notifications"] and rel["muting_expires_at"]
    r = await alice.post(f"/api/v1/accounts/{ann.account_id}/mute")
    assert r.json()["muting"] and r.json()["muting_notifications"] and r.json()["muting_expires_at"] is None
    # Muting again replaces the options.
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/mute")
    assert r.json()["muting_notifications"] and r.json()["muting_expires_at"] is None
    r = await alice.get("/api/v1/mutes")
    assert {a["id"] for a in r.json()} == {bob.account_id, ann.account_id}
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/unmute")
    assert not r.json()["muting"]
    assert [a["id"] for a in (await alice.get("/api/v1/mutes")).json()] == [ann.account_id]
    # A mute that has run out no longer counts.
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/mute", data={"duration": "1"})
    from datetime import timedelta

    from sqlalchemy import update

    from steward.core.clock import utcnow
    from steward.db.tables import mutes
    async with world.c.db.write() as conn:
        await conn.execute(update(mutes).where(mutes.c.tenant_id == world.a.id,
                                               mutes.c.target_account_id == int(bob.account_id))
                           .values(expires_at=utcnow() - timedelta(seconds=5)))
    r = await alice.get("/api/v1/accounts/relationships", params={"id[]": bob.account_id})
    assert not r.json()[0]["muting"]
    assert [a["id"] for a in (await alice.get("/api/v1/mutes")).json()] == [ann.account_id]

    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/mute", data={"duration": "soon"})
    assert r.status_code == 422 and "error" in r.json()
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/mute", data={"notifications": "maybe"})
    assert r.status_code == 422
    r = await alice.post(f"/api/v1/accounts/{alice.account_id}/mute")
    assert r.status_code == 403


async def test_endorse_and_note(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/pin")
    assert r.status_code == 422 and "error" in r.json()
    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/pin")
    assert r.status_code == 200 and r.json()["endorsed"]
    assert [a["id"] for a in (await alice.get("/api/v1/endorsements")).json()] == [bob.account_id]
    r = await world.anon_a.get(f"/api/v1/accounts/{alice.account_id}/endorsements")
    assert [a["id"] for a in r.json()] == [bob.account_id]
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/unendorse")
    assert not r.json()["endorsed"]
    assert (await alice.get("/api/v1/endorsements")).json() == []

    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/note", data={"comment": "met at the conference"})
    assert r.json()["note"] == "met at the conference"
    r = await bob.get("/api/v1/accounts/relationships", params={"id[]": alice.account_id})
    assert r.json()[0]["note"] == ""
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/note", data={"comment": ""})
    assert r.json()["note"] == ""
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/note", data={"comment": "x" * 2001})
    assert r.status_code == 422


async def test_remove_from_followers(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    await bob.post(f"/api/v1/accounts/{alice.account_id}/follow")
    r = await alice.post(f"/api/v1/accounts/{bob.account_id}/remove_from_followers")
    assert r.status_code == 200 and not r.json()["followed_by"]
    assert (await _me(alice))["followers_count"] == 0 and (await _me(bob))["following_count"] == 0


async def test_relationships_batch(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    await alice.post(f"/api/v1/accounts/{ann.account_id}/block")
    r = await alice.get("/api/v1/accounts/relationships",
                        params=[("id[]", bob.account_id), ("id[]", ann.account_id), ("id[]", bob.account_id),
                                ("id[]", "424242")])
    assert r.status_code == 200
    body = r.json()
    assert_matches("Relationship", body, many=True)
    assert [x["id"] for x in body] == [bob.account_id, ann.account_id]
    assert body[0]["following"] and not body[0]["blocking"]
    assert body[1]["blocking"] and not body[1]["following"]
    # Mastodon.py sends a single id as id=...
    r = await alice.get("/api/v1/accounts/relationships", params={"id": bob.account_id})
    assert [x["id"] for x in r.json()] == [bob.account_id]
    assert (await alice.get("/api/v1/accounts/relationships")).json() == []
    r = await alice.get("/api/v1/accounts/relationships", params={"id[]": "bob"})
    assert r.status_code == 422 and "error" in r.json()


async def test_scopes(world: World) -> None:
    reader = await world.person(world.a, "reader", scopes="read")
    r = await reader.post(f"/api/v1/accounts/{world.local_bob.account_id}/follow")
    assert r.status_code == 403 and "error" in r.json()
    r = await reader.post(f"/api/v1/accounts/{world.local_bob.account_id}/block")
    assert r.status_code == 403
    r = await reader.post(f"/api/v1/follow_requests/{world.local_bob.account_id}/authorize")
    assert r.status_code == 403
    assert (await reader.get("/api/v1/blocks")).status_code == 200
    follower = await world.person(world.a, "follower", scopes="follow")
    r = await follower.post(f"/api/v1/accounts/{world.local_bob.account_id}/follow")
    assert r.status_code == 200
    assert (await follower.get("/api/v1/mutes")).status_code == 200
    assert (await follower.get("/api/v1/lists")).status_code == 403
    r = await world.anon_a.post(f"/api/v1/accounts/{world.local_bob.account_id}/follow")
    assert r.status_code == 401


async def test_tenant_isolation(world: World) -> None:
    alice, carol = world.local_alice, world.local_carol
    # Carol's tenant does not know alice's id.
    r = await carol.post(f"/api/v1/accounts/{alice.account_id}/follow")
    assert r.status_code == 404
    for path in ("block", "mute", "note", "unfollow"):
        assert (await carol.post(f"/api/v1/accounts/{alice.account_id}/{path}")).status_code == 404
    r = await carol.get("/api/v1/accounts/relationships", params={"id[]": alice.account_id})
    assert r.json() == []
    assert (await carol.get(f"/api/v1/accounts/{alice.account_id}/followers")).status_code == 404
    # Carol's token is not valid on tenant a's host.
    carol_on_a = world.client(world.a, carol.token)
    r = await carol_on_a.post(f"/api/v1/accounts/{alice.account_id}/follow")
    assert r.status_code == 401
    assert (await _me(alice))["followers_count"] == 0
    # Alice's follows are invisible from tenant b.
    await alice.post(f"/api/v1/accounts/{world.local_bob.account_id}/follow")
    r = await world.anon_b.get(f"/api/v1/accounts/{alice.account_id}/following")
    assert r.status_code == 404
    assert (await carol.post(f"/api/v1/follow_requests/{alice.account_id}/authorize")).status_code == 404


async def test_follow_notifications_are_delivered(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    await ann.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    await alice.post(f"/api/v1/accounts/{ann.account_id}/follow")
    await world.run_jobs()
    r = await bob.get("/api/v1/notifications")
    assert [(n["type"], n["account"]["id"]) for n in r.json()] == [("follow", alice.account_id)]
    r = await ann.get("/api/v1/notifications")
    assert [(n["type"], n["account"]["id"]) for n in r.json()] == [("follow_request", alice.account_id)]
    # Answering the request takes its notification away, as in Mastodon.
    await ann.post(f"/api/v1/follow_requests/{alice.account_id}/authorize")
    assert (await ann.get("/api/v1/notifications")).json() == []
    dave = await world.person(world.a, "dave")
    await dave.post(f"/api/v1/accounts/{ann.account_id}/follow")
    await world.run_jobs()
    assert len((await ann.get("/api/v1/notifications")).json()) == 1
    await dave.post(f"/api/v1/accounts/{ann.account_id}/unfollow")
    assert (await ann.get("/api/v1/notifications")).json() == []


async def test_following_brings_recent_posts_into_home(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann

    async def post(p: Person, **data: str) -> str:
        r = await p.post("/api/v1/statuses", data=data)
        assert r.status_code == 200, r.text
        return str(r.json()["id"])

    public = await post(bob, status="public post")
    private = await post(bob, status="followers only", visibility="private")
    await post(bob, status="@ann a secret", visibility="direct")
    by_ann = await post(ann, status="ann speaks")
    await post(bob, status="@ann replying", in_reply_to_id=by_ann)
    boost = (await bob.post(f"/api/v1/statuses/{by_ann}/reblog")).json()["id"]
    await world.run_jobs()

    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow", data={"reblogs": "false"})
    home = [s["id"] for s in (await alice.get("/api/v1/timelines/home")).json()]
    assert home == [private, public]
    await alice.post(f"/api/v1/accounts/{bob.account_id}/unfollow")
    assert (await alice.get("/api/v1/timelines/home")).json() == []
    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    home = [s["id"] for s in (await alice.get("/api/v1/timelines/home")).json()]
    assert home == [boost, private, public]


async def test_authorize_all_requests_helper(world: World) -> None:
    from steward.social.relationships import authorize_all_requests

    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    await bob.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    await ann.post(f"/api/v1/accounts/{bob.account_id}/follow")
    async with world.c.db.write() as conn:
        assert await authorize_all_requests(conn, world.a.id, int(bob.account_id)) == 2
    assert (await bob.get("/api/v1/follow_requests")).json() == []
    assert (await _me(bob))["followers_count"] == 2
    r = await bob.get("/api/v1/accounts/relationships", params=[("id[]", alice.account_id), ("id[]", ann.account_id)])
    assert all(x["followed_by"] for x in r.json())


async def test_concurrent_follows_count_once(world: World) -> None:
    import asyncio

    alice, bob = world.local_alice, world.local_bob
    results = await asyncio.gather(*(alice.post(f"/api/v1/accounts/{bob.account_id}/follow") for _ in range(5)),
                                   *(alice.post(f"/api/v1/accounts/{bob.account_id}/note", data={"comment": str(i)})
                                     for i in range(5)))
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    assert (await _me(bob))["followers_count"] == 1 and (await _me(alice))["following_count"] == 1
    assert len([p for p in await _notify_jobs(world, world.a.id) if p["type"] == "follow"]) == 1
