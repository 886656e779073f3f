"""Scheduled statuses: stored, listed, rescheduled, cancelled, published by a job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from steward.core.clock import iso, utcnow
from steward.db.tables import jobs, scheduled_statuses
from steward.social.scheduled_statuses import publish
from tests.schema import assert_matches
from tests.web.test_statuses import add_media
from tests.world import World


async def _due_now(world: World) -> None:
    async with world.c.db.write() as conn:
        await conn.execute(update(jobs).where(jobs.c.kind == "status.publish_scheduled",
                                              jobs.c.tenant_id == world.a.id).values(run_at=utcnow()))


async def test_schedule_list_reschedule_and_publish(world: World) -> None:
    alice = world.local_alice
    when = iso(utcnow() + timedelta(hours=1))
    media = await add_media(world, alice)
    r = await alice.post("/api/v1/statuses", json={"status": "later #news", "scheduled_at": when,
                                                   "visibility": "unlisted", "media_ids": [media]})
    assert r.status_code == 200, r.text
    item = r.json()
    assert_matches("ScheduledStatus", item)
    assert item["scheduled_at"] == when and item["params"]["text"] == "later #news"
    assert item["params"]["visibility"] == "unlisted" and item["media_attachments"][0]["id"] == media
    listed = (await alice.get("/api/v1/scheduled_statuses")).json()
    assert [x["id"] for x in listed] == [item["id"]]
    assert (await alice.get(f"/api/v1/accounts/{alice.account_id}/statuses")).json() == []
    later = iso(utcnow() + timedelta(hours=2))
    r = await alice.put(f"/api/v1/scheduled_statuses/{item['id']}", json={"scheduled_at": later})
    assert r.status_code == 200 and r.json()["scheduled_at"] == later
    # Jobs that run early (or for a superseded time) leave the post alone.
    await _due_now(world)
    await world.run_jobs()
    assert (await alice.get(f"/api/v1/scheduled_statuses/{item['id']}")).status_code == 200
    async with world.c.db.write() as conn:
        await conn.execute(update(scheduled_statuses).where(scheduled_statuses.c.tenant_id == world.a.id)
                           .values(scheduled_at=utcnow()))
    payload = {"tenant_id": world.a.id, "scheduled_status_id": int(item["id"])}
    await publish(world.c, payload)
    await publish(world.c, payload)  # a retried job posts nothing twice
    await world.run_jobs()
    assert (await alice.get(f"/api/v1/scheduled_statuses/{item['id']}")).status_code == 404
    posted = (await alice.get(f"/api/v1/accounts/{alice.account_id}/statuses")).json()
    assert len(posted) == 1 and posted[0]["visibility"] == "unlisted"
    assert posted[0]["media_attachments"][0]["id"] == media and posted[0]["tags"][0]["name"] == "news"


async def test_cancel_and_bad_input(world: World) -> None:
    alice = world.local_alice
    soon = iso(utcnow() + timedelta(minutes=1))
    r = await alice.post("/api/v1/statuses", json={"status": "x", "scheduled_at": soon})
    assert r.status_code == 422 and "error" in r.json()
    r = await alice.post("/api/v1/statuses", json={"status": "x", "scheduled_at": "tomorrow-ish"})
    assert r.status_code == 422
    # A time already past posts at once, as Mastodon does.
    r = await alice.post("/api/v1/statuses", json={"status": "now", "scheduled_at": "2001-01-01T00:00:00Z"})
    assert r.status_code == 200 and r.json()["content"] == "<p>now</p>"
    r = await alice.post("/api/v1/statuses", json={"status": "x" * 501,
                                                   "scheduled_at": iso(utcnow() + timedelta(hours=1))})
    assert r.status_code == 422
    item = (await alice.post("/api/v1/statuses", json={"status": "x",
                                                       "scheduled_at": iso(utcnow() + timedelta(hours=1))})).json()
    # Other people, other tenants: not found.
    assert (await world.local_bob.get(f"/api/v1/scheduled_statuses/{item['id']}")).status_code == 404
    assert (await world.local_carol.get(f"/api/v1/scheduled_statuses/{item['id']}")).status_code == 404
    assert (await world.local_carol.delete(f"/api/v1/scheduled_statuses/{item['id']}")).status_code == 404
    assert (await world.local_bob.get("/api/v1/scheduled_statuses")).json() == []
    r = await alice.put(f"/api/v1/scheduled_statuses/{item['id']}", json={"scheduled_at": soon})
    assert r.status_code == 422
    assert (await alice.delete(f"/api/v1/scheduled_statuses/{item['id']}")).status_code == 200
    assert (await alice.get("/api/v1/scheduled_statuses")).json() == []
    await _due_now(world)
    await world.run_jobs()
    posted = (await alice.get(f"/api/v1/accounts/{alice.account_id}/statuses")).json()
    assert [p["content"] for p in posted] == ["<p>now</p>"]
