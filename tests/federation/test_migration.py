"""Account migration: aliases, moving a local account out (password, alias
check, Move to followers, local followers following the target), remote
accounts moving (Mastodon's alsoKnownAs rule), moving in to a local account,
and tenant isolation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from steward.db.tables import accounts, follows
from tests.federation.peer_relationships import REMOTE, Fediverse, uri_of
from tests.world import PASSWORD, World


@pytest.fixture
def fedi(world: World, monkeypatch: pytest.MonkeyPatch) -> Fediverse:
    f = Fediverse(world)
    monkeypatch.setattr(world.c, "transport", f.transport)
    return f


async def test_aliases(world: World, fedi: Fediverse) -> None:
    alice = fedi.local(world.local_alice)
    await fedi.follows_local(world.local_alice)
    r = await world.local_alice.post("/api/v1/steward/aliases", data={"acct": "rob@remote.example"})
    assert r.status_code == 200, r.text
    assert r.json() == [{"uri": uri_of("rob"), "acct": "rob@remote.example", "account_id": r.json()[0]["account_id"]}]
    actor = (await world.anon_a.get("/users/alice", headers={"Accept": "application/activity+json"})).json()
    assert actor["alsoKnownAs"] == [uri_of("rob")]
    await world.run_jobs()
    [(_, update)] = fedi.take()
    assert update["type"] == "Update" and update["object"]["alsoKnownAs"] == [uri_of("rob")]
    assert update["actor"] == alice
    # Bad input: unknown handle, oneself, missing acct.
    r = await world.local_alice.post("/api/v1/steward/aliases", data={"acct": "nobody@remote.example"})
    assert r.status_code == 422 and "error" in r.json()
    r = await world.local_alice.post("/api/v1/steward/aliases", data={"acct": "alice"})
    assert r.status_code == 422
    assert (await world.local_alice.post("/api/v1/steward/aliases", data={})).status_code == 422
    # Removing by handle.
    r = await world.local_alice.delete("/api/v1/steward/aliases", params={"acct": "rob@remote.example"})
    assert r.status_code == 200 and r.json() == []
    r = await world.local_alice.delete("/api/v1/steward/aliases", params={"acct": "rob@remote.example"})
    assert r.status_code == 404
    # Another tenant's aliases are its own.
    assert (await world.local_carol.get("/api/v1/steward/aliases")).json() == []


async def test_move_out(world: World, fedi: Fediverse) -> None:
    alice = fedi.local(world.local_alice)
    rob_follow = await fedi.follows_local(world.local_alice, "eve")
    assert rob_follow
    await world.local_bob.post(f"/api/v1/accounts/{world.local_alice.account_id}/follow")
    # Rob has not listed alice yet: refused, nothing changes.
    r = await world.local_alice.post("/api/v1/steward/migration", data={
        "acct": "rob@remote.example", "current_password": PASSWORD})
    assert r.status_code == 422 and "alias" in r.json()["error"]
    fedi.add_actor("rob", alsoKnownAs=[alice])
    r = await world.local_alice.post("/api/v1/steward/migration", data={
        "acct": "rob@remote.example", "current_password": "wrong"})
    assert r.status_code == 422 and "password" in r.json()["error"]
    me = (await world.local_alice.get("/api/v1/accounts/verify_credentials")).json()
    assert "moved" not in me
    await world.run_jobs()
    fedi.transport.sent.clear()
    r = await world.local_alice.post("/api/v1/steward/migration", data={
        "acct": "rob@remote.example", "current_password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["moved"]["acct"] == "rob@remote.example"
    shown = (await world.local_bob.get(f"/api/v1/accounts/{world.local_alice.account_id}")).json()
    assert shown["moved"]["uri"] == uri_of("rob")
    actor = (await world.anon_a.get("/users/alice", headers={"Accept": "application/activity+json"})).json()
    assert actor["movedTo"] == uri_of("rob")
    await world.run_jobs()
    sent = fedi.take()
    moves = [(i, a) for i, a in sent if a["type"] == "Move"]
    assert moves == [(f"{REMOTE}/inbox", moves[0][1])]
    move = moves[0][1]
    assert {k: move[k] for k in ("type", "actor", "object", "target")} == {
        "type": "Move", "actor": alice, "object": alice, "target": uri_of("rob")}
    assert move["id"].startswith(f"{alice}#moves/")
    # Bob (local follower) now asks to follow rob; his Follow went out, signed by bob.
    follows_sent = [(i, a) for i, a in sent if a["type"] == "Follow"]
    assert [(i, a["actor"], a["object"]) for i, a in follows_sent] == [
        (f"{uri_of('rob')}/inbox", fedi.local(world.local_bob), uri_of("rob"))]
    rob_id = shown["moved"]["id"]
    rel = await fedi.relationship(world.local_bob, rob_id)
    assert rel["requested"] is True
    assert (await fedi.relationship(world.local_bob, world.local_alice.account_id))["following"] is False
    # Moving again to the same place is refused; cancelling the redirect works.
    r = await world.local_alice.post("/api/v1/steward/migration", data={
        "acct": "rob@remote.example", "current_password": PASSWORD})
    assert r.status_code == 422
    r = await world.local_alice.delete("/api/v1/steward/migration")
    assert r.status_code == 200 and "moved" not in r.json()


async def test_remote_move_moves_local_followers(world: World, fedi: Fediverse) -> None:
    rob_id = await fedi.followed_by_local(world.local_bob)
    carol_rob = await fedi.followed_by_local(world.local_carol)
    fedi.add_actor("eve", alsoKnownAs=[uri_of("rob")])
    move = fedi.activity("Move", uri_of("rob"), target=uri_of("eve"))
    await fedi.send(move)
    sent = fedi.take()
    kinds = sorted((a["type"], i) for i, a in sent)
    assert kinds == [("Follow", f"{uri_of('eve')}/inbox"), ("Undo", f"{uri_of('rob')}/inbox")]
    assert (await fedi.relationship(world.local_bob, rob_id))["following"] is False
    rob = (await world.local_bob.get(f"/api/v1/accounts/{rob_id}")).json()
    assert rob["moved"]["acct"] == "eve@remote.example"
    found = (await world.local_bob.get("/api/v2/search", params={"q": "rob@remote.example"})).json()
    assert found["accounts"][0]["moved"]["acct"] == "eve@remote.example"
    eve_rel = await fedi.relationship(world.local_bob, rob["moved"]["id"])
    assert eve_rel["requested"] is True
    # Tenant B's follow of rob is untouched by a Move delivered to A.
    assert (await fedi.relationship(world.local_carol, carol_rob))["following"] is True
    assert "moved" not in (await world.local_carol.get(f"/api/v1/accounts/{carol_rob}")).json()


async def test_move_without_also_known_as_changes_nothing(world: World, fedi: Fediverse) -> None:
    rob_id = await fedi.followed_by_local(world.local_bob)
    await fedi.send(fedi.activity("Move", uri_of("rob"), target=uri_of("eve")))  # eve does not list rob
    await fedi.send(fedi.activity("Move", uri_of("eve"), target=uri_of("eve")))  # object is not the actor
    await fedi.send(fedi.activity("Move", uri_of("rob"), target="https://remote.example/users/ghost"))
    assert fedi.posts() == []
    assert (await fedi.relationship(world.local_bob, rob_id))["following"] is True
    assert "moved" not in (await world.local_bob.get(f"/api/v1/accounts/{rob_id}")).json()


async def test_move_in_to_a_local_account(world: World, fedi: Fediverse) -> None:
    alice = fedi.local(world.local_alice)
    rob_id = await fedi.followed_by_local(world.local_bob)
    fedi.add_actor("rob", alsoKnownAs=[])
    move = fedi.activity("Move", uri_of("rob"), target=alice)
    # Alice has not listed rob as an alias: nothing moves.
    await fedi.send(move)
    assert (await fedi.relationship(world.local_bob, rob_id))["following"] is True
    assert (await world.local_alice.post("/api/v1/steward/aliases", data={"acct": "rob@remote.example"})
            ).status_code == 200
    await world.run_jobs()
    fedi.transport.sent.clear()
    await fedi.send({**move, "id": move["id"] + "-again"})
    rel = await fedi.relationship(world.local_bob, world.local_alice.account_id)
    assert rel["following"] is True  # a local target: the follow moves straight away
    assert (await fedi.relationship(world.local_bob, rob_id))["following"] is False
    async with world.c.db.read() as conn:
        count = (await conn.execute(select(accounts.c.followers_count).where(
            accounts.c.tenant_id == world.a.id, accounts.c.id == int(world.local_alice.account_id)))).scalar()
        rows = (await conn.execute(select(follows.c.account_id).where(
            follows.c.tenant_id == world.a.id, follows.c.target_account_id == int(rob_id)))).all()
    assert count == 1 and rows == []
    assert [a["type"] for _, a in fedi.take()] == ["Undo"]  # bob's follow of rob is undone at rob's server
