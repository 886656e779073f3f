"""Polls: created with a status, read, voted on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from steward.core.clock import utcnow
from steward.db.tables import polls
from tests.schema import assert_matches
from tests.web.test_statuses import add_media, post
from tests.world import World


async def test_single_choice_poll(world: World) -> None:
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    s = await post(alice, "Which?", poll={"options": ["tea", "coffee"], "expires_in": 3600})
    poll = s["poll"]
    assert_matches("Poll", poll)
    assert [o["title"] for o in poll["options"]] == ["tea", "coffee"] and poll["multiple"] is False
    assert poll["expired"] is False and poll["votes_count"] == 0 and poll["voted"] is True  # the author's own
    r = await bob.post(f"/api/v1/polls/{poll['id']}/votes", data={"choices[]": "1"})
    assert r.status_code == 200, r.text
    voted = r.json()
    assert voted["voted"] is True and voted["own_votes"] == [1] and voted["votes_count"] == 1
    assert [o["votes_count"] for o in voted["options"]] == [0, 1]
    again = await bob.post(f"/api/v1/polls/{poll['id']}/votes", data={"choices[]": "0"})
    assert again.status_code == 422 and "error" in again.json()
    two = await ann.post(f"/api/v1/polls/{poll['id']}/votes", json={"choices": ["0", "1"]})
    assert two.status_code == 422
    seen = (await ann.get(f"/api/v1/polls/{poll['id']}")).json()
    assert seen["voted"] is False and seen["own_votes"] == [] and seen["votes_count"] == 1
    anon = (await world.anon_a.get(f"/api/v1/polls/{poll['id']}")).json()
    assert "voted" not in anon and anon["options"][1]["votes_count"] == 1
    status = (await bob.get(f"/api/v1/statuses/{s['id']}")).json()
    assert status["poll"]["own_votes"] == [1]


async def test_multiple_choice_hidden_totals_and_expiry(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    s = await post(alice, "Pick any", poll={"options": ["a", "b", "c"], "expires_in": 300, "multiple": True,
                                            "hide_totals": True})
    pid = s["poll"]["id"]
    r = await bob.post(f"/api/v1/polls/{pid}/votes", json={"choices": [0, 2]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["own_votes"] == [0, 2] and body["votes_count"] == 2 and body["voters_count"] == 1
    assert all(o["votes_count"] is None for o in body["options"])  # hidden until it ends
    # Further votes on a multiple-choice poll add other options, never the same one twice.
    assert (await bob.post(f"/api/v1/polls/{pid}/votes", json={"choices": [2]})).status_code == 422
    r = await bob.post(f"/api/v1/polls/{pid}/votes", json={"choices": [1]})
    assert r.status_code == 200 and r.json()["own_votes"] == [0, 2, 1]
    assert r.json()["votes_count"] == 3 and r.json()["voters_count"] == 1
    status = (await bob.get(f"/api/v1/statuses/{s['id']}")).json()
    assert status["poll"]["own_votes"] == [0, 2, 1]
    assert [o["votes_count"] for o in (await alice.get(f"/api/v1/polls/{pid}")).json()["options"]] == [1, 1, 1]
    async with world.c.db.write() as conn:
        await conn.execute(update(polls).where(polls.c.tenant_id == world.a.id, polls.c.id == int(pid))
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
    ended = (await bob.get(f"/api/v1/polls/{pid}")).json()
    assert ended["expired"] is True and [o["votes_count"] for o in ended["options"]] == [1, 1, 1]
    late = await world.admin_ann.post(f"/api/v1/polls/{pid}/votes", json={"choices": [1]})
    assert late.status_code == 422 and "ended" in late.json()["error"]


async def test_poll_bad_input_and_isolation(world: World) -> None:
    alice, bob, carol = world.local_alice, world.local_bob, world.local_carol
    s = await post(alice, "Q", poll={"options": ["x", "y"], "expires_in": 600})
    pid = s["poll"]["id"]
    for choices in ([], ["5"], ["-1"], ["a"], [0, 0]):
        r = await bob.post(f"/api/v1/polls/{pid}/votes", json={"choices": choices})
        assert r.status_code == 422 and "error" in r.json(), choices
    r = await bob.post(f"/api/v1/polls/{pid}/votes", json={"choices": {"nested": "object"}})
    assert r.status_code == 422
    assert (await bob.get("/api/v1/polls/12345")).status_code == 404
    assert (await bob.post("/api/v1/polls/12345/votes", json={"choices": [0]})).status_code == 404
    assert (await carol.get(f"/api/v1/polls/{pid}")).status_code == 404
    assert (await carol.post(f"/api/v1/polls/{pid}/votes", json={"choices": [0]})).status_code == 404
    assert (await world.anon_b.get(f"/api/v1/polls/{pid}")).status_code == 404
    assert (await world.anon_a.post(f"/api/v1/polls/{pid}/votes", json={"choices": [0]})).status_code == 401
    # A poll on a followers-only status is as hidden as the status.
    private = await post(alice, "Secret Q", visibility="private", poll={"options": ["x", "y"], "expires_in": 600})
    assert (await bob.get(f"/api/v1/polls/{private['poll']['id']}")).status_code == 404
    assert (await bob.post(f"/api/v1/polls/{private['poll']['id']}/votes", json={"choices": [0]})).status_code == 404
    # Too many options; a poll without text.
    r = await alice.post("/api/v1/statuses", json={"status": "x", "poll": {"options": ["a", "b", "c", "d", "e"],
                                                                           "expires_in": 600}})
    assert r.status_code == 422
    r = await alice.post("/api/v1/statuses", json={"status": "", "poll": {"options": ["a", "b"], "expires_in": 600}})
    assert r.status_code == 422 and "error" in r.json()
    # Media and a poll together are fine (Mastodon allows it too).
    r = await alice.post("/api/v1/statuses", json={"status": "x", "media_ids": [await add_media(world, alice)],
                                                   "poll": {"options": ["a", "b"], "expires_in": 600}})
    assert r.status_code == 200 and r.json()["poll"] and r.json()["media_attachments"]


async def test_edit_replaces_poll(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    s = await post(alice, "Q", poll={"options": ["x", "y"], "expires_in": 600})
    await bob.post(f"/api/v1/polls/{s['poll']['id']}/votes", json={"choices": [0]})
    same = await alice.put(f"/api/v1/statuses/{s['id']}", json={"status": "Q!"})
    assert same.json()["poll"]["id"] == s["poll"]["id"] and same.json()["poll"]["votes_count"] == 1
    changed = await alice.put(f"/api/v1/statuses/{s['id']}",
                              json={"status": "Q?", "poll": {"options": ["x", "z"], "expires_in": 600}})
    assert changed.status_code == 200, changed.text
    poll = changed.json()["poll"]
    assert poll["id"] != s["poll"]["id"] and poll["votes_count"] == 0
    assert [o["title"] for o in poll["options"]] == ["x", "z"]
    history = (await alice.get(f"/api/v1/statuses/{s['id']}/history")).json()
    assert history[0]["poll"] == {"options": [{"title": "x"}, {"title": "y"}]}
    assert history[-1]["poll"] == {"options": [{"title": "x"}, {"title": "z"}]}


async def test_form_encoded_poll_and_media(world: World) -> None:
    """Clients such as Tusky send Rails-style form fields rather than JSON."""
    alice = world.local_alice
    media = await add_media(world, alice)
    r = await alice.post("/api/v1/statuses", data={
        "status": "form", "poll[options][]": ["one", "two", "three"], "poll[expires_in]": "900",
        "poll[multiple]": "true", "media_ids[]": [media], "visibility": "unlisted", "sensitive": "1"})
    assert r.status_code == 200, r.text
    s = r.json()
    assert [o["title"] for o in s["poll"]["options"]] == ["one", "two", "three"] and s["poll"]["multiple"] is True
    assert s["media_attachments"][0]["id"] == media and s["sensitive"] is True and s["visibility"] == "unlisted"
    r = await world.local_bob.post(f"/api/v1/polls/{s['poll']['id']}/votes", data={"choices[]": ["0", "2"]})
    assert r.status_code == 200 and r.json()["own_votes"] == [0, 2]


async def test_voters_are_notified_when_a_poll_ends(world: World) -> None:
    from steward.db.tables import jobs

    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    s = await post(alice, "Q", poll={"options": ["x", "y"], "expires_in": 300})
    await bob.post(f"/api/v1/polls/{s['poll']['id']}/votes", json={"choices": [1]})
    await world.run_jobs()
    assert (await bob.get("/api/v1/notifications", params={"types[]": "poll"})).json() == []
    async with world.c.db.write() as conn:
        await conn.execute(update(polls).where(polls.c.tenant_id == world.a.id, polls.c.id == int(s["poll"]["id"]))
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        await conn.execute(update(jobs).where(jobs.c.kind == "poll.ended", jobs.c.tenant_id == world.a.id)
                           .values(run_at=utcnow()))
    await world.run_jobs()
    notes = (await bob.get("/api/v1/notifications", params={"types[]": "poll"})).json()
    assert [(n["type"], n["status"]["id"]) for n in notes] == [("poll", s["id"])]
    assert notes[0]["status"]["poll"]["expired"] is True
    assert (await ann.get("/api/v1/notifications", params={"types[]": "poll"})).json() == []
