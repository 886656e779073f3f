from __future__ import annotations

from steward.social.notifications import NewNotification
from steward.social.notifications import notify as notify_svc
from tests.web.test_timelines_helpers import (
    aid,
    block,
    delete_status,
    favourite,
    follow,
    mute,
    notify,
    post,
    reblog,
)
from tests.world import World


async def _notes(person, **params) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    r = await person.get("/api/v1/notifications", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_mention_follow_favourite_reblog_and_status(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    await follow(world, ann, alice, notify=True)  # the follow service queues the "follow" notification
    sid = await post(world, bob, "hi @alice")
    own = await post(world, alice, "alice writes")
    await favourite(world, bob, own)
    await reblog(world, bob, own)
    notes = await _notes(alice)
    kinds = [n["type"] for n in notes]
    assert kinds == ["reblog", "favourite", "mention", "follow"]
    mention = notes[2]
    assert mention["status"]["id"] == str(sid) and mention["account"]["id"] == bob.account_id
    assert set(mention) >= {"id", "type", "created_at", "account", "status", "group_key"}
    assert "status" not in notes[3]
    # Ann subscribed to alice's posts.
    assert [n["type"] for n in await _notes(ann)] == ["status"]
    assert [n["type"] for n in await _notes(alice, **{"types[]": ["mention", "follow"]})] == ["mention", "follow"]
    assert [n["type"] for n in await _notes(alice, **{"exclude_types[]": "favourite"})] == [
        "reblog", "mention", "follow"]
    assert [n["type"] for n in await _notes(alice, account_id=ann.account_id)] == ["follow"]
    # Undoing the boost removes its notification.
    r = await bob.post(f"/api/v1/statuses/{own}/unreblog")
    assert r.status_code == 200, r.text
    await world.run_jobs()
    assert [n["type"] for n in await _notes(alice)] == ["favourite", "mention", "follow"]
    await reblog(world, bob, own)
    # A job that runs twice notifies once.
    await notify(world, alice, bob, "favourite", own)
    assert len(await _notes(alice)) == 4


async def test_blocks_and_mutes_silence_notifications(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    await block(world, alice, bob)
    await post(world, bob, "@alice are you there")
    await mute(world, alice, ann)
    await notify(world, alice, ann, "follow")
    assert await _notes(alice) == []
    await mute(world, bob, ann, hide_notifications=False)
    await notify(world, bob, ann, "follow")
    assert [n["type"] for n in await _notes(bob)] == ["follow"]


async def test_show_dismiss_clear_unread_and_deleted_statuses(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    s1 = await post(world, bob, "@alice one")
    await post(world, bob, "@alice two")
    await notify(world, alice, bob, "follow")
    notes = await _notes(alice)
    assert len(notes) == 3
    r = await alice.get("/api/v1/notifications/unread_count")
    assert r.json() == {"count": 3}
    r = await alice.post("/api/v1/markers", data={"notifications[last_read_id]": notes[1]["id"]})
    assert r.status_code == 200
    assert (await alice.get("/api/v1/notifications/unread_count")).json() == {"count": 1}
    r = await alice.get(f"/api/v1/notifications/{notes[0]['id']}")
    assert r.status_code == 200 and r.json()["type"] == "follow"
    r = await alice.post(f"/api/v1/notifications/{notes[0]['id']}/dismiss")
    assert r.status_code == 200 and r.json() == {}
    assert (await alice.get(f"/api/v1/notifications/{notes[0]['id']}")).status_code == 404
    await delete_status(world, bob, s1)
    assert [n["status"]["id"] for n in await _notes(alice)] == [notes[1]["status"]["id"]]
    assert (await alice.post("/api/v1/notifications/clear")).status_code == 200
    assert await _notes(alice) == []


async def test_paging(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    for i in range(4):
        await post(world, bob, f"@alice number {i}")
    everything = [int(n["id"]) for n in await _notes(alice)]
    r = await alice.get("/api/v1/notifications", params={"limit": 2})
    assert [int(n["id"]) for n in r.json()] == everything[:2]
    assert f"max_id={everything[1]}" in r.headers["link"]
    r = await alice.get("/api/v1/notifications", params={"min_id": everything[3], "limit": 2})
    assert [int(n["id"]) for n in r.json()] == everything[1:3]


async def test_grouped_notifications(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    own = await post(world, alice, "like me")
    await notify(world, alice, bob, "favourite", own)
    await notify(world, alice, ann, "favourite", own)
    await post(world, bob, "@alice hello")
    r = await alice.get("/api/v2/notifications")
    assert r.status_code == 200, r.text
    body = r.json()
    groups = body["notification_groups"]
    assert [g["type"] for g in groups] == ["mention", "favourite"]
    fav = groups[1]
    assert fav["notifications_count"] == 2 and set(fav["sample_account_ids"]) == {bob.account_id, ann.account_id}
    assert fav["status_id"] == str(own) and fav["group_key"].startswith("favourite-")
    assert {a["id"] for a in body["accounts"]} == {bob.account_id, ann.account_id}
    assert str(own) in {s["id"] for s in body["statuses"]}
    assert (await alice.get("/api/v1/notifications/unread_count")).json() == {"count": 3}
    assert (await alice.get("/api/v2/notifications/unread_count")).json() == {"count": 2}
    r = await alice.get(f"/api/v2/notifications/{fav['group_key']}")
    assert r.status_code == 200, r.text
    assert r.json()["notification_groups"][0]["notifications_count"] == 2
    r = await alice.get(f"/api/v2/notifications/{fav['group_key']}/accounts")
    assert r.status_code == 200 and {a["id"] for a in r.json()} == {bob.account_id, ann.account_id}
    mention_key = groups[0]["group_key"]
    r = await alice.get(f"/api/v2/notifications/{mention_key}")
    assert r.status_code == 200 and r.json()["notification_groups"][0]["type"] == "mention"
    assert (await bob.get(f"/api/v2/notifications/{mention_key}")).status_code == 404
    assert (await alice.get("/api/v2/notifications/favourite-1-2")).status_code == 404
    r = await alice.post(f"/api/v2/notifications/{fav['group_key']}/dismiss")
    assert r.status_code == 200
    assert [g["type"] for g in (await alice.get("/api/v2/notifications")).json()["notification_groups"]] == [
        "mention"]


async def test_policy_and_requests(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    r = await alice.get("/api/v2/notifications/policy")
    assert r.status_code == 200
    assert r.json()["for_not_following"] == "accept" and r.json()["summary"]["pending_requests_count"] == 0
    r = await alice.patch("/api/v2/notifications/policy", json={"for_not_following": "filter"})
    assert r.status_code == 200 and r.json()["for_not_following"] == "filter"
    await follow(world, alice, ann)
    held = await post(world, bob, "@alice you do not follow me")
    await post(world, ann, "@alice you follow me")
    assert [n["account"]["id"] for n in await _notes(alice)] == [ann.account_id]
    everything = await _notes(alice, include_filtered="true")
    assert [n["account"]["id"] for n in everything] == [ann.account_id, bob.account_id]
    policy = (await alice.get("/api/v2/notifications/policy")).json()
    assert policy["summary"] == {"pending_requests_count": 1, "pending_notifications_count": 1}
    assert (await alice.get("/api/v1/notifications/policy")).json()["filter_not_following"] is True
    r = await alice.get("/api/v1/notifications/requests")
    assert r.status_code == 200
    [request] = r.json()
    assert request["id"] == bob.account_id and request["notifications_count"] == "1"
    assert request["account"]["id"] == bob.account_id and request["last_status"]["id"] == str(held)
    assert (await alice.get(f"/api/v1/notifications/requests/{bob.account_id}")).json()["id"] == bob.account_id
    assert (await bob.post(f"/api/v1/notifications/requests/{bob.account_id}/accept")).status_code == 404
    r = await alice.post(f"/api/v1/notifications/requests/{bob.account_id}/accept")
    assert r.status_code == 200
    assert {n["account"]["id"] for n in await _notes(alice)} == {ann.account_id, bob.account_id}
    assert (await alice.get("/api/v1/notifications/requests")).json() == []
    # Once accepted, bob gets through.
    await post(world, bob, "@alice again")
    assert len(await _notes(alice, account_id=bob.account_id)) == 2
    # Dismissing deletes what was held; "drop" never keeps anything.
    carl = await world.person(world.a, "carl")
    await post(world, carl, "@alice hello from carl")
    assert (await alice.get("/api/v1/notifications/requests")).json()[0]["id"] == carl.account_id
    r = await alice.post("/api/v1/notifications/requests/dismiss", data={"id[]": carl.account_id})
    assert r.status_code == 200
    assert (await alice.get("/api/v1/notifications/requests")).json() == []
    assert await _notes(alice, account_id=carl.account_id, include_filtered="true") == []
    await alice.patch("/api/v2/notifications/policy", json={"for_not_following": "drop"})
    await post(world, carl, "@alice dropped")
    assert await _notes(alice, account_id=carl.account_id, include_filtered="true") == []
    r = await alice.put("/api/v1/notifications/policy", data={"filter_not_following": "false"})
    assert r.status_code == 200 and r.json()["filter_not_following"] is False
    await post(world, carl, "@alice accepted now")
    assert len(await _notes(alice, account_id=carl.account_id)) == 1
    r = await alice.patch("/api/v2/notifications/policy", json={"for_new_accounts": "sometimes"})
    assert r.status_code == 422 and "error" in r.json()
    assert (await alice.post("/api/v1/notifications/requests/123/accept")).status_code == 404
    assert (await alice.post("/api/v1/notifications/requests/dismiss", data={"id[]": "123"})).json() == {}
    r = await alice.post("/api/v1/notifications/requests/accept", data={"id[]": "bogus"})
    assert r.status_code == 422


async def test_bad_input(world: World) -> None:
    alice = world.local_alice
    r = await alice.get("/api/v1/notifications", params={"types[]": "nonsense"})
    assert r.status_code == 422 and "error" in r.json()
    r = await alice.get("/api/v1/notifications", params={"account_id": "abc"})
    assert r.status_code == 422
    r = await alice.get("/api/v1/notifications/abc")
    assert r.status_code == 404 and "error" in r.json()
    r = await alice.post("/api/v1/notifications/123456/dismiss")
    assert r.status_code == 404 and "error" in r.json()
    r = await alice.post("/api/v2/notifications/ungrouped-xyz/dismiss")
    assert r.status_code == 404
    r = await world.anon_a.get("/api/v1/notifications")
    assert r.status_code == 401
    reader = await world.person(world.a, "reader", scopes="read")
    r = await reader.post("/api/v1/notifications/clear")
    assert r.status_code == 403 and "error" in r.json()
    r = await alice.post("/api/v1/markers", data={"notifications[last_read_id]": "zzz"})
    assert r.status_code == 422


async def test_tenant_isolation(world: World) -> None:
    alice, bob, carol = world.local_alice, world.local_bob, world.local_carol
    await post(world, bob, "@alice for tenant a")
    note = (await _notes(alice))[0]
    await post(world, carol, "@alice carol has no alice on tenant b")
    assert [n["type"] for n in await _notes(alice)] == ["mention"]
    assert await _notes(carol) == []
    r = await carol.get(f"/api/v1/notifications/{note['id']}")
    assert r.status_code == 404
    r = await carol.post(f"/api/v1/notifications/{note['id']}/dismiss")
    assert r.status_code == 404
    r = await world.client(world.a, carol.token).get(f"/api/v1/notifications/{note['id']}")
    assert r.status_code == 401
    # A notify job naming tenant b's id with tenant a's accounts creates nothing.
    made = await notify_svc(world.c, world.b.id, [NewNotification(aid(alice), aid(bob), "follow")])
    assert made == []
    assert (await alice.get(f"/api/v1/notifications/{note['id']}")).status_code == 200


async def test_follow_request_notification_lasts_as_long_as_the_request(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    r = await alice.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    assert r.status_code == 200, r.text
    await follow(world, bob, alice)
    await follow(world, ann, alice)
    notes = await _notes(alice, **{"types[]": "follow_request"})
    assert {n["account"]["id"] for n in notes} == {bob.account_id, ann.account_id}
    r = await alice.post(f"/api/v1/follow_requests/{bob.account_id}/authorize")
    assert r.status_code == 200, r.text
    r = await alice.post(f"/api/v1/follow_requests/{ann.account_id}/reject")
    assert r.status_code == 200, r.text
    await world.run_jobs()
    assert await _notes(alice, **{"types[]": "follow_request"}) == []


async def test_grouped_limit_counts_groups(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    first = await post(world, alice, "one")
    second = await post(world, alice, "two")
    for sid in (first, second):
        await favourite(world, bob, sid)
        await favourite(world, ann, sid)
    await post(world, bob, "@alice newest")
    r = await alice.get("/api/v2/notifications", params={"limit": 2})
    groups = r.json()["notification_groups"]
    assert [g["type"] for g in groups] == ["mention", "favourite"]
    assert groups[1]["notifications_count"] == 2 and groups[1]["status_id"] == str(second)
    nxt = r.headers["link"].split(";")[0].strip("<>")
    r = await alice.get(nxt.split(world.a.web_domain, 1)[1])
    groups = r.json()["notification_groups"]
    assert [(g["type"], g["status_id"], g["notifications_count"]) for g in groups] == [
        ("favourite", str(first), 2)]
