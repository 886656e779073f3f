"""Every entity of this area checked against Mastodon's OpenAPI description."""

from __future__ import annotations

from tests.schema import assert_matches
from tests.web.test_timelines_helpers import favourite, follow, post, reblog
from tests.world import World


async def test_entities_match_mastodon(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    await follow(world, alice, bob)
    await follow(world, ann, alice)
    own = await post(world, alice, "mine #shapes")
    await post(world, bob, "hey @alice", visibility="private")
    carl = await world.person(world.a, "carl")
    await favourite(world, carl, own)
    await favourite(world, bob, own)
    await favourite(world, ann, own)
    await reblog(world, bob, own)
    await post(world, alice, "@bob direct words", visibility="direct")

    home = (await alice.get("/api/v1/timelines/home")).json()
    assert len(home) == 4
    assert_matches("Status", home, many=True)
    assert_matches("Status", (await world.anon_a.get("/api/v1/timelines/public")).json(), many=True)
    assert_matches("Status", (await alice.get("/api/v1/timelines/tag/shapes")).json(), many=True)

    notes = (await alice.get("/api/v1/notifications")).json()
    assert {n["type"] for n in notes} == {"mention", "favourite", "reblog", "follow"}
    assert_matches("Notification", notes, many=True)
    grouped = (await alice.get("/api/v2/notifications")).json()
    assert_matches("GroupedNotificationsResults", grouped)
    partial = (await alice.get("/api/v2/notifications", params={"expand_accounts": "partial_avatars"})).json()
    assert_matches("GroupedNotificationsResults", partial)
    full_ids = {a["id"] for a in partial["accounts"]}
    partial_ids = {a["id"] for a in partial["partial_accounts"]}
    assert full_ids.isdisjoint(partial_ids) and carl.account_id in partial_ids
    assert full_ids | partial_ids == {a for g in partial["notification_groups"] for a in g["sample_account_ids"]}
    assert all(g["sample_account_ids"][0] in full_ids for g in partial["notification_groups"])
    assert (await alice.get("/api/v2/notifications", params={"expand_accounts": "some"})).status_code == 422
    assert_matches("NotificationPolicy", (await alice.get("/api/v2/notifications/policy")).json())
    assert_matches("V1NotificationPolicy", (await alice.get("/api/v1/notifications/policy")).json())

    markers = (await alice.post("/api/v1/markers", data={"home[last_read_id]": str(own)})).json()
    assert_matches("Marker", markers["home"])

    convs = (await bob.get("/api/v1/conversations")).json()
    assert len(convs) == 1
    assert_matches("Conversation", convs, many=True)


async def test_notification_request_matches_mastodon(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    await alice.patch("/api/v2/notifications/policy", json={"for_not_following": "filter"})
    await post(world, bob, "@alice held back")
    requests = (await alice.get("/api/v1/notifications/requests")).json()
    assert len(requests) == 1
    assert_matches("NotificationRequest", requests, many=True)
    assert_matches("NotificationPolicy", (await alice.get("/api/v2/notifications/policy")).json())


async def test_admin_report_notification_carries_the_report(world: World) -> None:
    from steward.jobs.queue import enqueue

    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    r = await bob.post("/api/v1/reports", json={"account_id": alice.account_id, "comment": "spam"})
    assert r.status_code == 200, r.text
    report_id = int(r.json()["id"])
    async with world.c.db.write() as conn:
        await enqueue(conn, "notify", {"tenant_id": world.a.id, "account_id": int(ann.account_id),
                                       "from_account_id": int(bob.account_id), "type": "admin.report",
                                       "report_id": report_id}, tenant_id=world.a.id)
    await world.run_jobs()
    notes = (await ann.get("/api/v1/notifications", params={"types[]": "admin.report"})).json()
    assert len(notes) == 1 and notes[0]["report"]["id"] == str(report_id)
    assert notes[0]["report"]["target_account"]["id"] == alice.account_id
    assert_matches("Notification", notes, many=True)
