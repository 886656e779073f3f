"""What local accounts' relationship changes send, compared with the shapes
Mastodon sends (app/serializers/activitypub/{follow,undo_follow,block,
undo_block,reject_follow,update,delete_actor,move}_serializer.rb)."""

from __future__ import annotations

import pytest

from tests.federation.peer_relationships import PUBLIC, REMOTE, Fediverse, uri_of
from tests.world import World


@pytest.fixture
def fedi(world: World, monkeypatch: pytest.MonkeyPatch) -> Fediverse:
    f = Fediverse(world)
    monkeypatch.setattr(world.c, "transport", f.transport)
    return f


ROB_INBOX = f"{uri_of('rob')}/inbox"


async def test_follow_and_undo_of_a_request(world: World, fedi: Fediverse) -> None:
    alice = fedi.local(world.local_alice)
    rob = await fedi.resolve(world.local_alice)
    fedi.transport.sent.clear()
    await world.local_alice.post(f"/api/v1/accounts/{rob['id']}/follow")
    await world.run_jobs()
    [(inbox, follow)] = fedi.take()
    assert inbox == ROB_INBOX
    assert set(follow) == {"@context", "id", "type", "actor", "object"}
    assert follow["type"] == "Follow" and follow["actor"] == alice and follow["object"] == uri_of("rob")
    assert follow["id"].startswith(alice + "#follows/")
    # Following again changes nothing on the wire.
    await world.local_alice.post(f"/api/v1/accounts/{rob['id']}/follow")
    await world.run_jobs()
    assert fedi.posts() == []
    # Withdrawing the request sends the Undo of that same Follow.
    r = await world.local_alice.post(f"/api/v1/accounts/{rob['id']}/unfollow")
    assert r.json()["requested"] is False
    await world.run_jobs()
    [post] = [s for s in fedi.transport.sent if s.method == "POST" and (s.key_id or "").startswith(alice)]
    assert post.key_id == f"{alice}#main-key"
    [(inbox, undo)] = fedi.take()
    assert undo["type"] == "Undo" and undo["actor"] == alice and undo["object"]["id"] == follow["id"]
    assert undo["object"]["type"] == "Follow" and undo["object"]["object"] == uri_of("rob")
    assert undo["id"].startswith(alice + "#follows/") and undo["id"].endswith("/undo")


async def test_accepted_follow_then_unfollow(world: World, fedi: Fediverse) -> None:
    rob_id = await fedi.followed_by_local(world.local_alice)
    rel = await fedi.relationship(world.local_alice, rob_id)
    assert rel["following"] is True and rel["requested"] is False
    await world.local_alice.post(f"/api/v1/accounts/{rob_id}/unfollow")
    await world.run_jobs()
    [(_, undo)] = fedi.take()
    assert undo["type"] == "Undo" and undo["object"]["type"] == "Follow"
    assert (await fedi.relationship(world.local_alice, rob_id))["following"] is False


async def test_block_ends_follows_both_ways_and_unblock(world: World, fedi: Fediverse) -> None:
    alice = fedi.local(world.local_alice)
    rob_id = await fedi.followed_by_local(world.local_alice)
    rob_follow = await fedi.follows_local(world.local_alice)
    assert (await fedi.relationship(world.local_alice, rob_id))["followed_by"] is True
    r = await world.local_alice.post(f"/api/v1/accounts/{rob_id}/block")
    assert r.json()["blocking"] is True and r.json()["following"] is False and r.json()["followed_by"] is False
    await world.run_jobs()
    sent = fedi.take()
    kinds = {a["type"]: a for _, a in sent}
    assert sorted(kinds) == ["Block", "Reject", "Undo"] and {i for i, _ in sent} == {ROB_INBOX}
    block = kinds["Block"]
    assert set(block) == {"@context", "id", "type", "actor", "object"}
    assert block["actor"] == alice and block["object"] == uri_of("rob") and block["id"].startswith(alice)
    assert kinds["Reject"]["object"]["id"] == rob_follow["id"] and kinds["Reject"]["object"]["object"] == alice
    assert kinds["Undo"]["object"]["type"] == "Follow"
    # Blocking again sends nothing more.
    await world.local_alice.post(f"/api/v1/accounts/{rob_id}/block")
    await world.run_jobs()
    assert fedi.posts() == []
    await world.local_alice.post(f"/api/v1/accounts/{rob_id}/unblock")
    await world.run_jobs()
    [(_, undo)] = fedi.take()
    assert undo["type"] == "Undo" and undo["object"] == {**{k: block[k] for k in ("id", "type", "actor", "object")}}
    assert undo["id"].endswith("/undo")


async def test_remove_from_followers_rejects_their_follow(world: World, fedi: Fediverse) -> None:
    alice = fedi.local(world.local_alice)
    follow = await fedi.follows_local(world.local_alice)
    rob_id = str(await fedi.account_id(world.a, uri_of("rob")))
    r = await world.local_alice.post(f"/api/v1/accounts/{rob_id}/remove_from_followers")
    assert r.status_code == 200 and r.json()["followed_by"] is False
    await world.run_jobs()
    [(inbox, reject)] = fedi.take()
    assert inbox == ROB_INBOX and reject["type"] == "Reject" and reject["actor"] == alice
    assert reject["object"] == {"id": follow["id"], "type": "Follow", "actor": uri_of("rob"), "object": alice}
    # Not a follower any more: nothing else to send.
    await world.local_alice.post(f"/api/v1/accounts/{rob_id}/remove_from_followers")
    await world.run_jobs()
    assert fedi.posts() == []


async def test_local_relationships_send_nothing(world: World, fedi: Fediverse) -> None:
    bob = world.local_bob.account_id
    for action in ("follow", "unfollow", "block", "unblock", "remove_from_followers"):
        assert (await world.local_alice.post(f"/api/v1/accounts/{bob}/{action}")).status_code == 200
    await world.run_jobs()
    assert fedi.posts() == []


async def test_profile_update_goes_to_followers(world: World, fedi: Fediverse) -> None:
    alice = fedi.local(world.local_alice)
    await fedi.follows_local(world.local_alice, "rob")
    await fedi.follows_local(world.local_alice, "eve")
    r = await world.local_alice.patch("/api/v1/accounts/update_credentials", data={
        "display_name": "Alice A.", "locked": "true"})
    assert r.status_code == 200
    await world.run_jobs()
    [(inbox, update)] = fedi.take()  # one delivery per shared inbox
    assert inbox == f"{REMOTE}/inbox"
    assert update["type"] == "Update" and update["actor"] == alice and update["to"] == [PUBLIC]
    assert update["id"].startswith(f"{alice}#updates/")
    obj = update["object"]
    assert "@context" not in obj and obj["id"] == alice and obj["type"] == "Person"
    assert obj["name"] == "Alice A." and obj["manuallyApprovesFollowers"] is True
    assert obj["publicKey"]["owner"] == alice
    # A setting the actor does not show sends nothing.
    await world.local_alice.patch("/api/v1/accounts/update_credentials", data={"show_media": "false"})
    await world.run_jobs()
    assert fedi.posts() == []


async def test_tenant_b_sends_nothing_for_tenant_a(world: World, fedi: Fediverse) -> None:
    await fedi.follows_local(world.local_alice)
    await world.local_carol.patch("/api/v1/accounts/update_credentials", data={"display_name": "Carol"})
    await world.run_jobs()
    assert fedi.posts() == []  # carol has no remote followers; alice's follower hears nothing from B


async def test_delete_of_a_local_actor(world: World, fedi: Fediverse) -> None:
    """The `account.deleted` event (for whatever deletes a local account) sends
    Mastodon's Delete of the actor to followers and to accounts followed."""
    from steward.social.federate import federate

    alice = fedi.local(world.local_alice)
    await fedi.followed_by_local(world.local_alice, "eve")
    fedi.add_actor("ann", "https://other.example")
    await fedi.resolve(world.local_alice, "ann@other.example")
    ann_id = await fedi.account_id(world.a, "https://other.example/users/ann")
    await world.local_alice.post(f"/api/v1/accounts/{ann_id}/follow")
    await world.run_jobs()
    fedi.transport.sent.clear()
    async with world.c.db.write() as conn:
        await federate(conn, world.a.id, "account.deleted", account_id=int(world.local_alice.account_id))
    await world.run_jobs()
    sent = fedi.take()
    assert sorted(i for i, _ in sent) == ["https://other.example/inbox", f"{REMOTE}/inbox"]
    for _, delete in sent:
        assert {k: delete[k] for k in ("id", "type", "actor", "object", "to")} == {
            "id": f"{alice}#delete", "type": "Delete", "actor": alice, "object": alice, "to": [PUBLIC]}


async def test_domain_block_rejects_followers_there(world: World, fedi: Fediverse) -> None:
    alice = fedi.local(world.local_alice)
    follow = await fedi.follows_local(world.local_alice)
    await fedi.followed_by_local(world.local_alice, "eve")
    r = await world.local_alice.post("/api/v1/domain_blocks", data={"domain": "remote.example"})
    assert r.status_code == 200
    await world.run_jobs()
    [(inbox, reject)] = fedi.take()
    assert inbox == ROB_INBOX and reject["type"] == "Reject" and reject["actor"] == alice
    assert reject["object"]["id"] == follow["id"]


async def test_suspension_and_erasure_reach_followers(world: World, fedi: Fediverse) -> None:
    alice_id = world.local_alice.account_id
    alice = fedi.local(world.local_alice)
    await fedi.follows_local(world.local_alice)
    r = await world.admin_ann.post(f"/api/v1/admin/accounts/{alice_id}/action", data={"type": "suspend"})
    assert r.status_code == 200, r.text
    await world.run_jobs()
    [(inbox, update)] = fedi.take()
    assert inbox == f"{REMOTE}/inbox" and update["type"] == "Update" and update["object"]["suspended"] is True
    r = await world.admin_ann.delete(f"/api/v1/admin/accounts/{alice_id}")
    assert r.status_code == 200, r.text
    await world.run_jobs()
    [(inbox, delete)] = fedi.take()
    assert inbox == f"{REMOTE}/inbox" and delete["type"] == "Delete" and delete["object"] == alice
