"""Lists: CRUD, members (only followed accounts), isolation, the timeline helper."""

from __future__ import annotations

from steward.social.lists import list_member_ids
from tests.schema import assert_matches
from tests.world import World


async def test_list_crud(world: World) -> None:
    alice = world.local_alice
    r = await alice.post("/api/v1/lists", data={"title": "Colleagues"})
    assert r.status_code == 200, r.text
    first = r.json()
    assert_matches("List", first)
    assert first["title"] == "Colleagues" and first["replies_policy"] == "list" and first["exclusive"] is False
    r = await alice.post("/api/v1/lists", json={"title": "Press", "replies_policy": "none", "exclusive": True})
    second = r.json()
    assert second["replies_policy"] == "none" and second["exclusive"] is True
    r = await alice.get("/api/v1/lists")
    assert [x["id"] for x in r.json()] == [first["id"], second["id"]]
    assert (await alice.get(f"/api/v1/lists/{first['id']}")).json() == first

    r = await alice.put(f"/api/v1/lists/{first['id']}", data={"title": "Team", "replies_policy": "followed"})
    assert r.json() == {**first, "title": "Team", "replies_policy": "followed"}
    r = await alice.put(f"/api/v1/lists/{first['id']}", json={"exclusive": True})
    assert r.json()["exclusive"] is True and r.json()["title"] == "Team"

    r = await alice.delete(f"/api/v1/lists/{first['id']}")
    assert r.status_code == 200 and r.json() == {}
    assert (await alice.get(f"/api/v1/lists/{first['id']}")).status_code == 404
    assert [x["id"] for x in (await alice.get("/api/v1/lists")).json()] == [second["id"]]


async def test_list_bad_input(world: World) -> None:
    alice = world.local_alice
    for body in ({}, {"title": "   "}, {"title": "x", "replies_policy": "everyone"}, {"title": "x" * 300},
                 {"title": "x", "exclusive": "perhaps"}, {"title": ["a", "b"]}):
        r = await alice.post("/api/v1/lists", json=body)
        assert r.status_code == 422 and "error" in r.json(), body
    lst = (await alice.post("/api/v1/lists", data={"title": "ok"})).json()
    r = await alice.put(f"/api/v1/lists/{lst['id']}", data={"replies_policy": "all"})
    assert r.status_code == 422
    for path in ("/api/v1/lists/424242", "/api/v1/lists/nope", "/api/v1/lists/424242/accounts"):
        r = await alice.get(path)
        assert r.status_code == 404 and "error" in r.json(), path
    r = await alice.post(f"/api/v1/lists/{lst['id']}/accounts", data={"account_ids[]": "abc"})
    assert r.status_code == 422
    r = await alice.post(f"/api/v1/lists/{lst['id']}/accounts", data={})
    assert r.status_code == 422
    reader = await world.person(world.a, "reader", scopes="read")
    assert (await reader.post("/api/v1/lists", data={"title": "x"})).status_code == 403
    assert (await reader.get("/api/v1/lists")).status_code == 200
    assert (await world.anon_a.get("/api/v1/lists")).status_code == 401


async def test_list_members_must_be_followed(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    lst = (await alice.post("/api/v1/lists", data={"title": "Friends"})).json()
    url = f"/api/v1/lists/{lst['id']}/accounts"
    r = await alice.post(url, data={"account_ids[]": [bob.account_id]})
    assert r.status_code == 422 and "error" in r.json()
    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    await alice.post(f"/api/v1/accounts/{ann.account_id}/follow")
    r = await alice.post(url, data={"account_ids[]": [bob.account_id, ann.account_id]})
    assert r.status_code == 200 and r.json() == {}
    r = await alice.get(url)
    assert_matches("Account", r.json(), many=True)
    assert {a["id"] for a in r.json()} == {bob.account_id, ann.account_id}
    r = await alice.get(url, params={"limit": 1})
    assert len(r.json()) == 1 and 'rel="next"' in r.headers["link"]
    assert len((await alice.get(url, params={"limit": 0})).json()) == 2
    # Adding again is a validation error, as in Mastodon; unknown accounts are 404.
    assert (await alice.post(url, data={"account_ids[]": [bob.account_id]})).status_code == 422
    assert (await alice.post(url, data={"account_ids[]": ["777777"]})).status_code == 404

    r = await alice.get(f"/api/v1/accounts/{bob.account_id}/lists")
    assert [x["id"] for x in r.json()] == [lst["id"]]
    async with world.c.db.read() as conn:
        ids = await list_member_ids(conn, world.a.id, int(lst["id"]), int(alice.account_id))
    assert set(ids) == {int(bob.account_id), int(ann.account_id)}

    r = await alice.delete(url, params={"account_ids[]": [ann.account_id]})
    assert r.status_code == 200
    assert [a["id"] for a in (await alice.get(url)).json()] == [bob.account_id]
    # Unfollowing takes the account off my lists.
    await alice.post(f"/api/v1/accounts/{bob.account_id}/unfollow")
    assert (await alice.get(url)).json() == []
    assert (await alice.get(f"/api/v1/accounts/{bob.account_id}/lists")).json() == []


async def test_lists_are_private_and_tenant_scoped(world: World) -> None:
    alice, bob, carol = world.local_alice, world.local_bob, world.local_carol
    lst = (await alice.post("/api/v1/lists", data={"title": "Mine"})).json()
    # Another person of the same tenant cannot see or change it.
    assert (await bob.get(f"/api/v1/lists/{lst['id']}")).status_code == 404
    assert (await bob.put(f"/api/v1/lists/{lst['id']}", data={"title": "x"})).status_code == 404
    assert (await bob.delete(f"/api/v1/lists/{lst['id']}")).status_code == 404
    assert (await bob.get(f"/api/v1/lists/{lst['id']}/accounts")).status_code == 404
    assert (await bob.get("/api/v1/lists")).json() == []
    # Nor anyone from tenant b, on either host.
    assert (await carol.get(f"/api/v1/lists/{lst['id']}")).status_code == 404
    carol_on_a = world.client(world.a, carol.token)
    assert (await carol_on_a.get(f"/api/v1/lists/{lst['id']}")).status_code == 401
    mine = (await carol.post("/api/v1/lists", data={"title": "Carol's"})).json()
    r = await carol.post(f"/api/v1/lists/{mine['id']}/accounts", data={"account_ids[]": [alice.account_id]})
    assert r.status_code == 404
    assert (await carol.get(f"/api/v1/accounts/{alice.account_id}/lists")).status_code == 404
    async with world.c.db.read() as conn:
        try:
            await list_member_ids(conn, world.b.id, int(lst["id"]), int(carol.account_id))
        except Exception as exc:  # noqa: BLE001 - any error type would do; it must be the 404
            assert getattr(exc, "status", None) == 404
        else:
            raise AssertionError("another tenant read the list")
    assert [x["title"] for x in (await alice.get("/api/v1/lists")).json()] == ["Mine"]


async def test_list_limit(world: World) -> None:
    from steward.social import lists as svc

    alice = world.local_alice
    original = svc.MAX_LISTS
    svc.MAX_LISTS = 2
    try:
        for title in ("a", "b"):
            assert (await alice.post("/api/v1/lists", data={"title": title})).status_code == 200
        r = await alice.post("/api/v1/lists", data={"title": "c"})
        assert r.status_code == 422 and "error" in r.json()
    finally:
        svc.MAX_LISTS = original
