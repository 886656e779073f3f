from __future__ import annotations

from tests.web.test_timelines_helpers import delete_status, post
from tests.world import World


async def test_direct_messages_form_conversations(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    first = await post(world, alice, "@bob just between us", visibility="direct")
    r = await bob.get("/api/v1/conversations")
    assert r.status_code == 200, r.text
    convs = r.json()
    assert len(convs) == 1
    conv = convs[0]
    assert set(conv) >= {"id", "unread", "accounts", "last_status"}
    assert conv["unread"] is True and [a["id"] for a in conv["accounts"]] == [alice.account_id]
    assert conv["last_status"]["id"] == str(first)
    mine = (await alice.get("/api/v1/conversations")).json()
    assert mine[0]["unread"] is False and [a["id"] for a in mine[0]["accounts"]] == [bob.account_id]
    assert (await ann.get("/api/v1/conversations")).json() == []
    # A reply continues the same conversation.
    reply = await post(world, bob, "@alice agreed", visibility="direct", in_reply_to_id=first)
    convs = (await alice.get("/api/v1/conversations")).json()
    assert len(convs) == 1 and convs[0]["last_status"]["id"] == str(reply) and convs[0]["unread"] is True
    r = await alice.post(f"/api/v1/conversations/{convs[0]['id']}/read")
    assert r.status_code == 200 and r.json()["unread"] is False
    # Deleting the last message points the conversation at the one before.
    await delete_status(world, bob, reply)
    convs = (await alice.get("/api/v1/conversations")).json()
    assert convs[0]["last_status"]["id"] == str(first)
    # Public posts never make conversations.
    await post(world, alice, "@bob in public")
    assert len((await bob.get("/api/v1/conversations")).json()) == 1
    r = await bob.delete(f"/api/v1/conversations/{conv['id']}")
    assert r.status_code == 200
    assert (await bob.get("/api/v1/conversations")).json() == []
    assert len((await alice.get("/api/v1/conversations")).json()) == 1


async def test_paging(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    await post(world, alice, "@bob one", visibility="direct")
    second = await post(world, alice, "@ann two", visibility="direct")
    r = await alice.get("/api/v1/conversations", params={"limit": 1})
    assert [c["last_status"]["id"] for c in r.json()] == [str(second)]
    assert f"max_id={second}" in r.headers["link"]
    r = await alice.get("/api/v1/conversations", params={"max_id": second})
    assert [c["accounts"][0]["id"] for c in r.json()] == [bob.account_id]
    assert ann.account_id


async def test_bad_input_and_isolation(world: World) -> None:
    alice, carol = world.local_alice, world.local_carol
    await post(world, alice, "@bob private words", visibility="direct")
    conv = (await alice.get("/api/v1/conversations")).json()[0]
    r = await alice.delete("/api/v1/conversations/nope")
    assert r.status_code == 404 and "error" in r.json()
    r = await alice.post("/api/v1/conversations/123456789/read")
    assert r.status_code == 404 and "error" in r.json()
    r = await world.anon_a.get("/api/v1/conversations")
    assert r.status_code == 401
    reader = await world.person(world.a, "reader", scopes="read")
    r = await reader.delete(f"/api/v1/conversations/{conv['id']}")
    assert r.status_code == 403
    # Another tenant's user can neither see nor touch it, on either host.
    assert (await carol.get("/api/v1/conversations")).json() == []
    r = await carol.post(f"/api/v1/conversations/{conv['id']}/read")
    assert r.status_code == 404
    r = await carol.delete(f"/api/v1/conversations/{conv['id']}")
    assert r.status_code == 404
    r = await world.client(world.a, carol.token).delete(f"/api/v1/conversations/{conv['id']}")
    assert r.status_code == 401
    assert len((await alice.get("/api/v1/conversations")).json()) == 1
    # Bob (same tenant, a participant) has his own row; alice's id is not his.
    r = await world.local_bob.delete(f"/api/v1/conversations/{conv['id']}")
    assert r.status_code == 404
