"""What remote servers tell us about relationships and actors: Accept/Reject
of our Follow, Block/Undo Block, actor Update and Delete, featured Add/Remove;
with the forged and mismatched cases changing nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from steward.activitypub.keys import generate_key_pair
from steward.activitypub.transport import TransportError
from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import accounts, follow_requests, follows, status_pins, statuses
from tests.federation.peer_relationships import Fediverse, uri_of
from tests.world import World


@pytest.fixture
def fedi(world: World, monkeypatch: pytest.MonkeyPatch) -> Fediverse:
    f = Fediverse(world)
    monkeypatch.setattr(world.c, "transport", f.transport)
    return f


async def _requested(world: World, fedi: Fediverse) -> tuple[str, dict[str, object]]:
    rob = await fedi.resolve(world.local_alice)
    await world.local_alice.post(f"/api/v1/accounts/{rob['id']}/follow")
    await world.run_jobs()
    [(_, follow)] = fedi.take()
    return str(rob["id"]), follow


async def test_accept_by_follow_id(world: World, fedi: Fediverse) -> None:
    rob_id, follow = await _requested(world, fedi)
    await fedi.send(fedi.activity("Accept", follow["id"]))
    rel = await fedi.relationship(world.local_alice, rob_id)
    assert rel["following"] is True and rel["requested"] is False
    async with world.c.db.read() as conn:
        uri = (await conn.execute(select(follows.c.uri).where(follows.c.tenant_id == world.a.id))).scalar()
    assert uri == follow["id"]  # kept, so a later Undo names the same Follow
    me = (await world.local_alice.get("/api/v1/accounts/verify_credentials")).json()
    assert me["following_count"] == 1


async def test_accept_by_actor_and_object(world: World, fedi: Fediverse) -> None:
    rob_id, follow = await _requested(world, fedi)
    # Some servers answer with a Follow of their own making: matched by (follower, accepter).
    other = {"id": "https://remote.example/other-id", "type": "Follow", "actor": follow["actor"],
             "object": uri_of("rob")}
    await fedi.send(fedi.activity("Accept", other))
    assert (await fedi.relationship(world.local_alice, rob_id))["following"] is True


async def test_accept_of_nothing_we_sent_or_by_someone_else(world: World, fedi: Fediverse) -> None:
    rob_id, follow = await _requested(world, fedi)
    await fedi.resolve(world.local_alice, "eve@remote.example")
    # eve accepting alice's Follow of rob.
    await fedi.send(fedi.activity("Accept", follow, "eve"))
    await fedi.send(fedi.activity("Accept", follow["id"], "eve"))
    # rob accepting a Follow nobody sent.
    await fedi.send(fedi.activity("Accept", "https://remote.example/never-sent"))
    await fedi.send(fedi.activity("Accept", {"type": "Follow", "actor": fedi.local(world.local_bob),
                                             "object": uri_of("rob")}))
    rel = await fedi.relationship(world.local_alice, rob_id)
    assert rel["following"] is False and rel["requested"] is True
    bob_rel = await fedi.relationship(world.local_bob, rob_id)
    assert bob_rel["following"] is False and bob_rel["requested"] is False


async def test_reject_of_request_and_of_follow(world: World, fedi: Fediverse) -> None:
    rob_id, follow = await _requested(world, fedi)
    await fedi.send(fedi.activity("Reject", follow))
    rel = await fedi.relationship(world.local_alice, rob_id)
    assert rel["following"] is False and rel["requested"] is False
    # Rob accepts bob's follow, later removes bob as a follower.
    await world.local_bob.post(f"/api/v1/accounts/{rob_id}/follow")
    await world.run_jobs()
    [(_, bob_follow)] = fedi.take()
    await fedi.send(fedi.activity("Accept", bob_follow))
    assert (await fedi.relationship(world.local_bob, rob_id))["following"] is True
    await fedi.send(fedi.activity("Reject", bob_follow["id"]))
    assert (await fedi.relationship(world.local_bob, rob_id))["following"] is False
    assert fedi.posts() == []  # nothing is answered to a Reject


async def test_block_and_undo_block(world: World, fedi: Fediverse) -> None:
    rob_id = await fedi.followed_by_local(world.local_alice)
    await fedi.follows_local(world.local_alice)
    block = fedi.activity("Block", fedi.local(world.local_alice))
    await fedi.send(block)
    rel = await fedi.relationship(world.local_alice, rob_id)
    assert rel["blocked_by"] is True and rel["following"] is False and rel["followed_by"] is False
    assert rel["blocking"] is False
    # Mastodon refuses a follow of someone who blocks you.
    assert (await world.local_alice.post(f"/api/v1/accounts/{rob_id}/follow")).status_code == 403
    # A Block from another actor undone by rob changes nothing; rob's Undo lifts it.
    await fedi.send(fedi.activity("Undo", {**block, "actor": uri_of("eve")}, "rob"))
    assert (await fedi.relationship(world.local_alice, rob_id))["blocked_by"] is True
    await fedi.send(fedi.activity("Undo", block))
    assert (await fedi.relationship(world.local_alice, rob_id))["blocked_by"] is False
    # Undo by bare id works too.
    block2 = fedi.activity("Block", fedi.local(world.local_alice))
    await fedi.send(block2)
    await fedi.send(fedi.activity("Undo", block2["id"]))
    assert (await fedi.relationship(world.local_alice, rob_id))["blocked_by"] is False


async def test_update_of_actor(world: World, fedi: Fediverse) -> None:
    rob_id = (await fedi.resolve(world.local_alice))["id"]
    carol_rob_id = (await fedi.resolve(world.local_carol))["id"]
    await fedi.resolve(world.local_alice, "eve@remote.example")
    changed = {**fedi.actor("rob"), "name": "Robert", "summary": "<p>new bio</p><script>x</script>",
               "manuallyApprovesFollowers": True}
    # Eve sending an Update of rob's actor is ignored.
    await fedi.send(fedi.activity("Update", {**changed, "name": "Hacked"}, "eve"))
    assert (await world.local_alice.get(f"/api/v1/accounts/{rob_id}")).json()["display_name"] == "Rob"
    await fedi.send(fedi.activity("Update", changed))
    shown = (await world.local_alice.get(f"/api/v1/accounts/{rob_id}")).json()
    assert shown["display_name"] == "Robert" and shown["locked"] is True and "<script>" not in shown["note"]
    # Tenant B's copy of rob is its own: an Update delivered to A leaves it as it was.
    assert (await world.local_carol.get(f"/api/v1/accounts/{carol_rob_id}")).json()["display_name"] == "Rob"


async def _remote_status(world: World, tenant_id: int, account_id: int, uri: str) -> int:
    status_id = new_id()
    async with world.c.db.write() as conn:
        await conn.execute(statuses.insert().values(
            tenant_id=tenant_id, id=status_id, account_id=account_id, uri=uri, url=uri, text="",
            content="<p>hi</p>", visibility="public", local=False, created_at=utcnow()))
    return status_id


async def _follows_of(world: World, account_id: int) -> int:
    async with world.c.db.read() as conn:
        return len((await conn.execute(select(follows.c.id).where(
            follows.c.tenant_id == world.a.id,
            (follows.c.account_id == account_id) | (follows.c.target_account_id == account_id)))).all())


async def test_delete_of_actor(world: World, fedi: Fediverse) -> None:
    rob_id = await fedi.followed_by_local(world.local_alice)
    await fedi.follows_local(world.local_bob)
    status_id = await _remote_status(world, world.a.id, int(rob_id), f"{uri_of('rob')}/statuses/1")
    # Someone else cannot delete rob.
    await fedi.resolve(world.local_alice, "eve@remote.example")
    await fedi.send(fedi.activity("Delete", uri_of("rob"), "eve"))
    assert (await fedi.relationship(world.local_alice, rob_id))["following"] is True
    await fedi.send(fedi.activity("Delete", uri_of("rob")))
    assert await _follows_of(world, int(rob_id)) == 0
    shown = (await world.local_alice.get(f"/api/v1/accounts/{rob_id}")).json()
    assert shown["suspended"] is True
    assert (await world.local_alice.get(f"/api/v1/statuses/{status_id}")).status_code == 404
    notes = (await world.local_bob.get("/api/v1/notifications")).json()
    assert [n for n in notes if n["account"]["id"] == rob_id] == []


async def test_unverifiable_self_delete_needs_the_server_to_confirm(world: World, fedi: Fediverse) -> None:
    rob_id = await fedi.followed_by_local(world.local_alice)
    wrong_key, _ = generate_key_pair()
    delete = fedi.activity("Delete", uri_of("rob"))
    # The actor is still served: the unsigned-looking Delete is not believed.
    assert await fedi.deliver(delete, private=wrong_key) == 202
    await world.run_jobs()
    assert (await fedi.relationship(world.local_alice, rob_id))["following"] is True
    # Gone from its server (410): now it is.
    del fedi.transport.documents[uri_of("rob")]

    async def gone(url: str, signer: object = None) -> dict[str, object]:
        raise TransportError(f"GET {url} answered 410", 410)

    fedi.transport.fetch_json = gone  # type: ignore[method-assign]
    assert await fedi.deliver({**delete, "id": delete["id"] + "-again"}, private=wrong_key) == 202
    await world.run_jobs()
    assert await _follows_of(world, int(rob_id)) == 0
    # Other wrongly signed activities are still refused.
    assert await fedi.deliver(fedi.activity("Block", fedi.local(world.local_alice)), private=wrong_key) == 401


async def test_featured_add_and_remove(world: World, fedi: Fediverse) -> None:
    rob_id = int((await fedi.resolve(world.local_alice))["id"])
    uri = f"{uri_of('rob')}/statuses/7"
    status_id = await _remote_status(world, world.a.id, rob_id, uri)
    featured = f"{uri_of('rob')}/collections/featured"
    # Into someone else's collection, or of an unknown status: ignored.
    await fedi.send(fedi.activity("Add", uri, target=f"{uri_of('eve')}/collections/featured"))
    await fedi.send(fedi.activity("Add", f"{uri_of('rob')}/statuses/unknown", target=featured))

    async def pinned() -> list[int]:
        async with world.c.db.read() as conn:
            return list((await conn.execute(select(status_pins.c.status_id).where(
                status_pins.c.tenant_id == world.a.id, status_pins.c.account_id == rob_id))).scalars())

    assert await pinned() == []
    await fedi.send(fedi.activity("Add", uri, target=featured))
    assert await pinned() == [status_id]
    r = await world.local_alice.get(f"/api/v1/accounts/{rob_id}/statuses", params={"pinned": "true"})
    assert [s["id"] for s in r.json()] == [str(status_id)]
    await fedi.send(fedi.activity("Remove", uri, target=featured))
    assert await pinned() == []


async def test_requests_in_tenant_b_untouched(world: World, fedi: Fediverse) -> None:
    """An Accept delivered to tenant A does not accept tenant B's request."""
    await _requested(world, fedi)
    carol_rob = await fedi.resolve(world.local_carol)
    await world.local_carol.post(f"/api/v1/accounts/{carol_rob['id']}/follow")
    await world.run_jobs()
    [(_, carol_follow)] = fedi.take()
    await fedi.send(fedi.activity("Accept", carol_follow))  # delivered to tenant A
    assert (await fedi.relationship(world.local_carol, str(carol_rob["id"])))["requested"] is True
    async with world.c.db.read() as conn:
        pending = (await conn.execute(select(follow_requests.c.id).where(
            follow_requests.c.tenant_id == world.b.id))).all()
        stored = (await conn.execute(select(accounts.c.id).where(accounts.c.tenant_id == world.b.id,
                                                                 accounts.c.domain != ""))).all()
    assert len(pending) == 1 and len(stored) == 1
