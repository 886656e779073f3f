"""Helpers shared by the timeline, notification and streaming tests: posting
(through POST /api/v1/statuses when that route exists, else by writing the rows
the statuses service writes and queueing the same `status.distribute` job),
boosts, favourites and relationships through the client API."""

from __future__ import annotations

import re

from sqlalchemy import select

from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import accounts, mentions, status_tags, statuses, tags
from steward.jobs.queue import enqueue
from steward.web.routes import all_routes
from tests.world import Person, World

HAS_STATUS_API = any(getattr(r, "path", "") == "/api/v1/statuses" for r in all_routes())


def aid(person: Person) -> int:
    return int(person.account_id)


async def post(world: World, person: Person, text: str, *, visibility: str = "public",
               in_reply_to_id: int | None = None, run: bool = True) -> int:
    """Post as `person`; `@name` mentions local accounts and `#tag` tags, as the
    real composer would. Runs the queued jobs unless `run` is false."""
    if HAS_STATUS_API:
        data: dict[str, str] = {"status": text, "visibility": visibility}
        if in_reply_to_id is not None:
            data["in_reply_to_id"] = str(in_reply_to_id)
        r = await person.post("/api/v1/statuses", data=data)
        assert r.status_code == 200, r.text
        sid = int(r.json()["id"])
    else:
        sid = await _insert(world, person, text, visibility, in_reply_to_id)
    if run:
        await world.run_jobs()
    return sid


async def _insert(world: World, person: Person, text: str, visibility: str, in_reply_to_id: int | None) -> int:
    tid = person.tenant.id
    sid = new_id()
    now = utcnow()
    async with world.c.db.write() as conn:
        parent = None
        if in_reply_to_id is not None:
            parent = (await conn.execute(select(statuses).where(statuses.c.tenant_id == tid,
                                                                statuses.c.id == in_reply_to_id))).first()
        await conn.execute(statuses.insert().values(
            tenant_id=tid, id=sid, account_id=aid(person), uri=f"https://{person.tenant.domain}/s/{sid}",
            url=f"https://{person.tenant.domain}/@{person.username}/{sid}", text=text, content=f"<p>{text}</p>",
            visibility=visibility, in_reply_to_id=parent.id if parent else None,
            in_reply_to_account_id=parent.account_id if parent else None,
            conversation_id=(parent.conversation_id or parent.id) if parent else sid, local=True, created_at=now))
        for name in re.findall(r"@(\w+)", text):
            target = (await conn.execute(select(accounts.c.id).where(
                accounts.c.tenant_id == tid, accounts.c.username_lower == name.lower(),
                accounts.c.domain == ""))).scalar()
            if target is not None:
                await conn.execute(mentions.insert().values(tenant_id=tid, id=new_id(), status_id=sid,
                                                            account_id=target, silent=False))
        for name in {n.lower() for n in re.findall(r"#(\w+)", text)}:
            tag_id = (await conn.execute(select(tags.c.id).where(tags.c.tenant_id == tid,
                                                                 tags.c.name == name))).scalar()
            if tag_id is None:
                tag_id = new_id()
                await conn.execute(tags.insert().values(tenant_id=tid, id=tag_id, name=name, display_name=name,
                                                        created_at=now))
            await conn.execute(status_tags.insert().values(tenant_id=tid, status_id=sid, tag_id=tag_id))
        await enqueue(conn, "status.distribute", {"tenant_id": tid, "status_id": sid}, tenant_id=tid)
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
