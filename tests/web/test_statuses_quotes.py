"""Quote posts (Mastodon 4.5): quoting, policies, revoking, listing."""

from __future__ import annotations

from sqlalchemy import select

from steward.db.tables import jobs
from tests.schema import assert_matches
from tests.web.test_statuses import follow, post
from tests.world import World


async def test_quote_round_trip(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    original = await post(alice, "quote me")
    quote = await post(bob, "look at this", quoted_status_id=original["id"])
    # The schema's Status.quote is oneOf(Quote, ShallowQuote), and every Quote also
    # matches ShallowQuote (only `state` is required), so check the parts apart.
    assert_matches("Status", {**quote, "quote": None})
    assert_matches("Quote", quote["quote"])
    assert quote["quote"]["state"] == "accepted" and quote["quote"]["quoted_status"]["id"] == original["id"]
    assert quote["content"].startswith('<p class="quote-inline">RE: <a href="') and "look at this" in quote["content"]
    seen = (await world.anon_a.get(f"/api/v1/statuses/{original['id']}")).json()
    assert seen["quotes_count"] == 1 and seen["quote_approval"]["current_user"] == "unknown"
    async with world.c.db.read() as conn:
        notes = [r.payload for r in (await conn.execute(select(jobs.c.payload).where(jobs.c.kind == "notify")))
                 if r.payload.get("type") == "quote"]
    assert notes == [{"tenant_id": world.a.id, "account_id": int(alice.account_id),
                      "from_account_id": int(bob.account_id), "type": "quote", "status_id": int(quote["id"])}]
    listed = await alice.get(f"/api/v1/statuses/{original['id']}/quotes")
    assert [s["id"] for s in listed.json()] == [quote["id"]]
    assert (await bob.get(f"/api/v1/statuses/{original['id']}/quotes")).status_code == 403
    # A quote of a quote shows the inner quote shallowly.
    nested = await post(alice, "and again", quoted_status_id=quote["id"])
    inner = nested["quote"]["quoted_status"]
    assert inner["quote"] == {"state": "accepted", "quoted_status_id": original["id"]}
    # The quoted author revokes: the quote stays, detached.
    r = await alice.post(f"/api/v1/statuses/{original['id']}/quotes/{quote['id']}/revoke")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == quote["id"] and r.json()["quote"] == {"state": "revoked", "quoted_status": None}
    assert (await alice.get(f"/api/v1/statuses/{original['id']}")).json()["quotes_count"] == 0
    assert (await bob.post(f"/api/v1/statuses/{original['id']}/quotes/{quote['id']}/revoke")).status_code == 403
    # Deleting the quoted post shows as deleted.
    again = await post(bob, "once more", quoted_status_id=original["id"])
    await alice.delete(f"/api/v1/statuses/{original['id']}")
    assert (await bob.get(f"/api/v1/statuses/{again['id']}")).json()["quote"]["state"] == "deleted"


async def test_quote_policies(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    open_post = await post(alice, "anyone", quote_approval_policy="public")
    assert open_post["quote_approval"] == {"automatic": ["public"], "manual": [], "current_user": "automatic"}
    assert (await bob.get(f"/api/v1/statuses/{open_post['id']}")).json()["quote_approval"]["current_user"] == \
        "automatic"
    r = await alice.put(f"/api/v1/statuses/{open_post['id']}/interaction_policy",
                        json={"quote_approval_policy": "followers"})
    assert r.status_code == 200 and r.json()["quote_approval"]["automatic"] == ["followers"]
    await follow(world, bob, alice)
    assert (await bob.get(f"/api/v1/statuses/{open_post['id']}")).json()["quote_approval"]["current_user"] == \
        "automatic"
    assert (await ann.get(f"/api/v1/statuses/{open_post['id']}")).json()["quote_approval"]["current_user"] == \
        "denied"
    r = await ann.post("/api/v1/statuses", json={"status": "x", "quoted_status_id": open_post["id"]})
    assert r.status_code == 422 and "error" in r.json()
    assert (await post(bob, "follower quote", quoted_status_id=open_post["id"]))["quote"]["state"] == "accepted"
    closed = await post(alice, "nobody", quote_approval_policy="nobody")
    r = await bob.post("/api/v1/statuses", json={"status": "x", "quoted_status_id": closed["id"]})
    assert r.status_code == 422
    assert (await post(alice, "self quote", quoted_status_id=closed["id"]))["quote"]["state"] == "accepted"
    # Followers-only posts: only their author quotes them, and only to followers.
    private = await post(alice, "followers", visibility="private")
    assert private["quote_approval"]["automatic"] == []
    assert (await bob.post("/api/v1/statuses", json={"status": "x", "quoted_status_id": private["id"]})
            ).status_code == 422
    own = await post(alice, "again", quoted_status_id=private["id"], visibility="public")
    assert own["visibility"] == "private"
    direct = await post(alice, "@bob hi", visibility="direct")
    assert (await alice.post("/api/v1/statuses", json={"status": "x", "quoted_status_id": direct["id"]})
            ).status_code == 422


async def test_quote_bad_input_and_isolation(world: World) -> None:
    alice, carol = world.local_alice, world.local_carol
    original = await post(alice, "mine")
    r = await alice.post("/api/v1/statuses", json={"status": "x", "quote_approval_policy": "everyone"})
    assert r.status_code == 422
    r = await alice.post("/api/v1/statuses", json={"status": "x", "quoted_status_id": "12345"})
    assert r.status_code == 404
    r = await carol.post("/api/v1/statuses", json={"status": "x", "quoted_status_id": original["id"]})
    assert r.status_code == 404
    assert (await carol.get(f"/api/v1/statuses/{original['id']}/quotes")).status_code == 404
    r = await carol.put(f"/api/v1/statuses/{original['id']}/interaction_policy",
                        json={"quote_approval_policy": "nobody"})
    assert r.status_code == 404
    r = await world.local_bob.put(f"/api/v1/statuses/{original['id']}/interaction_policy",
                                  json={"quote_approval_policy": "nobody"})
    assert r.status_code == 404
    r = await alice.put(f"/api/v1/statuses/{original['id']}/interaction_policy",
                        json={"quote_approval_policy": "sometimes"})
    assert r.status_code == 422
    r = await alice.post(f"/api/v1/statuses/{original['id']}/quotes/{original['id']}/revoke")
    assert r.status_code == 404
