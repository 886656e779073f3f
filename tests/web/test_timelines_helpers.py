"""Helpers shared by the timeline, notification and streaming tests: posting,
boosting, favouriting, deleting and relationships through the client API, then
running the queued jobs (fan-out, notifications) as the worker would."""

from __future__ import annotations

from steward.jobs.queue import enqueue
from tests.world import Person, World


def aid(person: Person) -> int:
    return int(person.account_id)


async def post(world: World, person: Person, text: str, *, visibility: str = "public",
               in_reply_to_id: int | None = None, run: bool = True) -> int:
    """Post as `person` through the API; runs the queued jobs unless `run` is false."""
    data: dict[str, str] = {"status": text, "visibility": visibility}
    if in_reply_to_id is not None:
        data["in_reply_to_id"] = str(in_reply_to_id)
    r = await person.post("/api/v1/statuses", data=data)
    assert r.status_code == 200, r.text
    sid = int(r.json()["id"])
    if run:
        await world.run_jobs()
    return sid


async def reblog(world: World, person: Person, original_id: int) -> int:
    r = await person.post(f"/api/v1/statuses/{original_id}/reblog")
    assert r.status_code == 200, r.text
    await world.run_jobs()
    return int(r.json()["id"])


async def favourite(world: World, person: Person, status_id: int) -> None:
    r = await person.post(f"/api/v1/statuses/{status_id}/favourite")
    assert r.status_code == 200, r.text
    await world.run_jobs()


async def delete_status(world: World, person: Person, sid: int) -> None:
    r = await person.delete(f"/api/v1/statuses/{sid}")
    assert r.status_code == 200, r.text
    await world.run_jobs()


async def _act(world: World, who: Person, target: Person, action: str, **data: object) -> None:
    r = await who.post(f"/api/v1/accounts/{target.account_id}/{action}", json=data)
    assert r.status_code == 200, r.text
    await world.run_jobs()


async def follow(world: World, who: Person, target: Person, *, notify: bool = False,
                 show_reblogs: bool = True) -> None:
    await _act(world, who, target, "follow", notify=notify, reblogs=show_reblogs)


async def block(world: World, who: Person, target: Person) -> None:
    await _act(world, who, target, "block")


async def mute(world: World, who: Person, target: Person, *, hide_notifications: bool = True) -> None:
    await _act(world, who, target, "mute", notifications=hide_notifications)


async def notify(world: World, recipient: Person, sender: Person, kind: str, status_id: int | None = None) -> None:
    """Queue a `notify` job the way the favourite and follow services do."""
    tid = recipient.tenant.id
    payload: dict[str, object] = {"tenant_id": tid, "account_id": aid(recipient), "from_account_id": aid(sender),
                                  "type": kind}
    if status_id is not None:
        payload["status_id"] = status_id
    async with world.c.db.write() as conn:
        await enqueue(conn, "notify", payload, tenant_id=tid)
    await world.run_jobs()


def ids(response_json: list[dict]) -> list[int]:  # type: ignore[type-arg]
    return [int(s["id"]) for s in response_json]
