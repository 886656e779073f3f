"""Who may see a status. Batched: one round trip decides for a whole list.

- public and unlisted: anyone, anonymous included;
- private: the author, the author's followers and the accounts it mentions;
- direct: the author and the accounts it mentions;
- never when the author blocks the viewer or the author is suspended;
- a boost is visible when both the boost and its original are."""

from __future__ import annotations

from sqlalchemy import literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.errors import not_found
from steward.db.tables import accounts, blocks, follows, mentions, statuses
from steward.model.entities import Status, from_row

PUBLIC = frozenset({"public", "unlisted"})
VISIBILITIES = ("public", "unlisted", "private", "direct")


async def _decide(conn: AsyncConnection, tenant_id: int, viewer_id: int | None,
                  items: list[Status]) -> set[int]:
    """Ids among `items` (boosts judged on their own row only) the viewer may see."""
    if not items:
        return set()
    authors = list({s.account_id for s in items})
    zero = literal(0)
    parts = [select(literal("s").label("k"), accounts.c.id.label("ref"), zero.label("extra")).where(
        accounts.c.tenant_id == tenant_id, accounts.c.id.in_(authors), accounts.c.suspended_at.is_not(None))]
    restricted = [s for s in items if s.visibility not in PUBLIC and s.account_id != viewer_id]
    if viewer_id is not None:
        parts.append(select(literal("b"), blocks.c.account_id, zero).where(
            blocks.c.tenant_id == tenant_id, blocks.c.account_id.in_(authors),
            blocks.c.target_account_id == viewer_id))
        if restricted:
            private_authors = list({s.account_id for s in restricted if s.visibility == "private"})
            if private_authors:
                parts.append(select(literal("f"), follows.c.target_account_id, zero).where(
                    follows.c.tenant_id == tenant_id, follows.c.account_id == viewer_id,
                    follows.c.target_account_id.in_(private_authors)))
            parts.append(select(literal("m"), mentions.c.status_id, zero).where(
                mentions.c.tenant_id == tenant_id, mentions.c.account_id == viewer_id,
                mentions.c.status_id.in_([s.id for s in restricted])))
    found: dict[str, set[int]] = {"s": set(), "b": set(), "f": set(), "m": set()}
    for k, ref, _ in (await conn.execute(union_all(*parts))).all():
        found[k].add(ref)
    visible = set()
    for s in items:
        if s.account_id in found["s"] or s.account_id in found["b"]:
            continue
        if (s.visibility in PUBLIC or s.account_id == viewer_id or s.id in found["m"]
                or (s.visibility == "private" and s.account_id in found["f"])):
            visible.add(s.id)
    return visible


async def filter_visible(conn: AsyncConnection, tenant_id: int, viewer_id: int | None,
                         items: list[Status]) -> list[Status]:
    """The statuses of `items` the viewer may see, in order (deleted ones never)."""
    live = [s for s in items if s.deleted_at is None]
    originals: dict[int, Status] = {}
    wanted = {s.reblog_of_id for s in live if s.reblog_of_id}
    if wanted:
        rows = (await conn.execute(select(statuses).where(
            statuses.c.tenant_id == tenant_id, statuses.c.id.in_(list(wanted)), statuses.c.deleted_at.is_(None))
        )).all()
        originals = {r.id: from_row(Status, r) for r in rows}
    ok = await _decide(conn, tenant_id, viewer_id, live + list(originals.values()))
    return [s for s in live if s.id in ok and (s.reblog_of_id is None or s.reblog_of_id in ok)]


async def get_visible(conn: AsyncConnection, tenant_id: int, viewer_id: int | None, status_id: int) -> Status:
    """The status, or 404 when it does not exist here or the viewer may not see it."""
    row = (await conn.execute(select(statuses).where(
        statuses.c.tenant_id == tenant_id, statuses.c.id == status_id, statuses.c.deleted_at.is_(None))
    )).first()
    if row is None:
        raise not_found()
    status = from_row(Status, row)
    if not await filter_visible(conn, tenant_id, viewer_id, [status]):
        raise not_found()
    return status
