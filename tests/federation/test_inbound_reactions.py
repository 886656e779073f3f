"""Inbound Like and Announce (and their Undo): favourites and boosts by remote
accounts as a Mastodon client sees them; a boosted remote status is fetched
from its own server, never taken from a third party's copy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from steward.db.tables import favourites, statuses
from tests.federation.peer_notes import EVIL, REMOTE, Peer, actor_uri
from tests.federation.test_inbound_notes import count_statuses, home, no_stuck_jobs, stored
from tests.schema import assert_matches
from tests.world import World


@pytest.fixture
async def peer(world: World, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Peer]:
    p = Peer(world)
    monkeypatch.setattr(world.c, "transport", p.transport)
    yield p
    await p.forget_jobs()


async def post(person: Any, text: str = "hello", **extra: Any) -> dict[str, Any]:
    r = await person.post("/api/v1/statuses", data={"status": text, **extra})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_like_and_undo(world: World, peer: Peer) -> None:
    mine = await post(world.local_alice)
    like = peer.activity("Like", mine["uri"])
    await peer.send(like)
    shown = (await world.local_alice.get(f"/api/v1/statuses/{mine['id']}")).json()
    assert shown["favourites_count"] == 1
    notes = (await world.local_alice.get("/api/v1/notifications")).json()
    assert [(n["type"], n["account"]["acct"], n["status"]["id"]) for n in notes] == [
        ("favourite", "rob@remote.example", mine["id"])]
    assert_matches("Notification", notes[0])
    who = (await world.local_alice.get(f"/api/v1/statuses/{mine['id']}/favourited_by")).json()
    assert [a["acct"] for a in who] == ["rob@remote.example"]
    # A second Like (another id) of the same status counts once.
    await peer.send(peer.activity("Like", mine["uri"]))
    assert (await world.local_alice.get(f"/api/v1/statuses/{mine['id']}")).json()["favourites_count"] == 1
    # eve cannot undo rob's Like.
    await peer.send(peer.activity("Undo", {**like, "actor": actor_uri("eve")}, author="eve"))
    assert (await world.local_alice.get(f"/api/v1/statuses/{mine['id']}")).json()["favourites_count"] == 1
    await peer.send(peer.activity("Undo", like))
    assert (await world.local_alice.get(f"/api/v1/statuses/{mine['id']}")).json()["favourites_count"] == 0
    await no_stuck_jobs(world)


async def test_undo_like_by_bare_id(world: World, peer: Peer) -> None:
    mine = await post(world.local_alice)
    like = peer.activity("Like", mine["uri"])
    await peer.send(like)
    await peer.send(peer.activity("Undo", like["id"]))
    assert (await world.local_alice.get(f"/api/v1/statuses/{mine['id']}")).json()["favourites_count"] == 0


async def test_like_of_what_the_actor_may_not_see(world: World, peer: Peer) -> None:
    secret = await post(world.local_alice, "@bob just us", visibility="direct")
    await peer.send(peer.activity("Like", secret["uri"]))
    await peer.send(peer.activity("Like", f"{REMOTE}/users/eve/statuses/1"))
    await peer.send(peer.activity("Like", {"weird": True}))
    async with world.c.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(favourites).where(
            favourites.c.tenant_id == world.a.id))).scalar() == 0
    await no_stuck_jobs(world)


async def test_announce_of_our_status_and_undo(world: World, peer: Peer) -> None:
    mine = await post(world.local_alice)
    announce = peer.activity("Announce", mine["uri"], to=["https://www.w3.org/ns/activitystreams#Public"],
                             cc=[f"{actor_uri('rob')}/followers"], published="2026-11-29T10:00:00Z")
    await peer.send(announce)
    assert (await world.local_alice.get(f"/api/v1/statuses/{mine['id']}")).json()["reblogs_count"] == 1
    notes = (await world.local_alice.get("/api/v1/notifications")).json()
    assert [(n["type"], n["account"]["acct"]) for n in notes] == [("reblog", "rob@remote.example")]
    assert_matches("Notification", notes[0])
    who = (await world.local_alice.get(f"/api/v1/statuses/{mine['id']}/reblogged_by")).json()
    assert [a["acct"] for a in who] == ["rob@remote.example"]
    # Replayed under another activity id: still one boost.
    await peer.send({**announce, "id": announce["id"] + "-again"})
    assert (await world.local_alice.get(f"/api/v1/statuses/{mine['id']}")).json()["reblogs_count"] == 1
    await peer.send(peer.activity("Undo", announce))
    assert (await world.local_alice.get(f"/api/v1/statuses/{mine['id']}")).json()["reblogs_count"] == 0
    assert (await world.local_alice.get("/api/v1/notifications")).json() == []
    await no_stuck_jobs(world)


async def test_announce_of_unknown_status_is_fetched_from_its_origin(world: World, peer: Peer) -> None:
    await peer.follow_rob(world.local_alice)
    original = peer.note("eve", content="<p>the real one</p>")
    peer.serve(original)
    # rob embeds a doctored copy: the stored status is what eve's server serves.
    announce = peer.activity("Announce", {**original, "content": "<p>doctored</p>"},
                             to=["https://www.w3.org/ns/activitystreams#Public"])
    await peer.send(announce)
    timeline = await home(world.local_alice)
    assert len(timeline) == 1
    boost = timeline[0]
    assert_matches("Status", boost)
    assert boost["account"]["acct"] == "rob@remote.example" and boost["uri"] == announce["id"]
    assert boost["reblog"]["uri"] == original["id"] and boost["reblog"]["content"] == "<p>the real one</p>"
    assert boost["reblog"]["account"]["acct"] == "eve@remote.example"
    # The original was fetched signed by the tenant's instance actor.
    fetches = [s for s in peer.transport.sent if s.method == "GET" and s.url == original["id"]]
    assert fetches and fetches[0].key_id == f"http://{world.a.web_domain}/actor#main-key"


async def test_forged_announces_store_nothing(world: World, peer: Peer) -> None:
    from steward.federation.fetch import ensure_actor
    from steward.social.relationships import create_follow

    mallory = await ensure_actor(world.c, world.a, actor_uri("mallory", EVIL))
    assert mallory is not None
    async with world.c.db.write() as conn:
        await create_follow(conn, world.a.id, int(world.local_alice.account_id), mallory.id, show_reblogs=True,
                            notify=False, languages=None)
    fake = peer.note("eve", content="<p>eve never said this</p>")
    # 1. The object's server does not have it.
    await peer.send(peer.activity("Announce", fake, author="mallory", server=EVIL))
    # 2. Its server answers with another object.
    other = peer.note("eve", content="<p>something else</p>")
    peer.transport.documents[fake["id"]] = other
    await peer.send(peer.activity("Announce", fake["id"], author="mallory", server=EVIL))
    # 3. The object's id is on the announcer's server but the document there names another server.
    peer.transport.documents[f"{EVIL}/notes/1"] = {**fake, "id": f"{REMOTE}/users/eve/statuses/77"}
    await peer.send(peer.activity("Announce", f"{EVIL}/notes/1", author="mallory", server=EVIL))
    assert await count_statuses(world) == 0
    assert await home(world.local_alice) == []
    await no_stuck_jobs(world)


async def test_announce_from_someone_nobody_follows_is_ignored(world: World, peer: Peer) -> None:
    original = peer.note("eve")
    peer.serve(original)
    await peer.send(peer.activity("Announce", original["id"]))
    assert await count_statuses(world) == 0
    assert [s for s in peer.transport.sent if s.url == original["id"]] == []


async def test_followers_only_and_direct_are_not_boosted(world: World, peer: Peer) -> None:
    private = await post(world.local_alice, "followers only", visibility="private")
    await peer.send(peer.activity("Announce", private["uri"]))
    assert (await world.local_alice.get(f"/api/v1/statuses/{private['id']}")).json()["reblogs_count"] == 0
    assert (await world.local_alice.get("/api/v1/notifications")).json() == []


async def test_deleting_the_original_removes_remote_boosts(world: World, peer: Peer) -> None:
    await peer.follow_rob(world.local_bob)
    mine = await post(world.local_alice)
    await peer.send(peer.activity("Announce", mine["uri"]))
    assert [s["reblog"]["id"] for s in await home(world.local_bob) if s["reblog"]] == [mine["id"]]
    assert (await world.local_alice.delete(f"/api/v1/statuses/{mine['id']}")).status_code == 200
    await world.run_jobs()
    assert [s for s in await home(world.local_bob) if s["reblog"]] == []


async def test_tenant_isolation(world: World, peer: Peer) -> None:
    mine = await post(world.local_alice)
    # Sent to b's inbox: b does not have alice's status, and a's is untouched.
    await peer.send(peer.activity("Like", mine["uri"]), tenant=world.b)
    await peer.send(peer.activity("Announce", mine["uri"]), tenant=world.b)
    shown = (await world.local_alice.get(f"/api/v1/statuses/{mine['id']}")).json()
    assert shown["favourites_count"] == 0 and shown["reblogs_count"] == 0
    assert (await world.local_alice.get("/api/v1/notifications")).json() == []
    async with world.c.db.read() as conn:
        b_rows = (await conn.execute(select(func.count()).select_from(statuses).where(
            statuses.c.tenant_id == world.b.id, statuses.c.local.is_(False)))).scalar()
    assert b_rows == 0
    assert await stored(world, mine["uri"], world.b) is None
