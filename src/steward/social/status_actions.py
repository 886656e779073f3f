"""What an account does to a status: favourite, boost, bookmark, pin, mute the
conversation; and the lists those make (favourites, bookmarks, favourited by,
boosted by)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError, forbidden
from steward.core.ids import new_id
from steward.core.pagination import Page, apply_page
from steward.db.tables import accounts, bookmarks, favourites, status_mutes, status_pins, statuses
from steward.jobs.queue import enqueue
from steward.model.entities import Account, Status, Tenant, from_row
from steward.social.accounts import touch_counts
from steward.social.federate import federate
from steward.social.status_visibility import filter_visible, get_visible
from steward.social.statuses import insert_or_skip, load_status, status_urls, undo_reblog

if TYPE_CHECKING:
    from steward.container import Container

MAX_PINS = 5


def in_order(rows: list[Any], page: Page) -> list[Any]:
    return list(reversed(rows)) if page.min_id is not None else rows


async def _target(conn: AsyncConnection, tenant_id: int, me: Account, status_id: int) -> Status:
    """The visible status acted on; a boost stands for its original."""
    status = await get_visible(conn, tenant_id, me.id, status_id)
    if status.reblog_of_id is not None:
        status = await get_visible(conn, tenant_id, me.id, status.reblog_of_id)
    return status


async def _bump(conn: AsyncConnection, tenant_id: int, status_id: int, column: str, delta: int) -> None:
    col = statuses.c[column]
    query = update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == status_id)
    if delta < 0:
        query = query.where(col > 0)
    await conn.execute(query.values({col: col + delta}))


async def favourite(c: Container, tenant: Tenant, me: Account, status_id: int) -> Status:
    async with c.db.write() as conn:
        status = await _target(conn, tenant.id, me, status_id)
        favourite_id = new_id()
        added = await insert_or_skip(conn, favourites, {
            "tenant_id": tenant.id, "id": favourite_id, "account_id": me.id, "status_id": status.id,
            "created_at": utcnow()})
        if added:
            await _bump(conn, tenant.id, status.id, "favourites_count", 1)
            author_domain = (await conn.execute(select(accounts.c.domain).where(
                accounts.c.tenant_id == tenant.id, accounts.c.id == status.account_id))).scalar()
            if author_domain == "" and status.account_id != me.id:
                await enqueue(conn, "notify", {"tenant_id": tenant.id, "account_id": status.account_id,
                                               "from_account_id": me.id, "type": "favourite",
                                               "status_id": status.id}, tenant_id=tenant.id)
            elif author_domain:
                await federate(conn, tenant.id, "status.favourited", account_id=me.id, status_id=status.id,
                               favourite_id=favourite_id)
        status = await load_status(conn, tenant.id, status.id)
    if added:
        c.jobs.wake()
    return status


async def unfavourite(c: Container, tenant: Tenant, me: Account, status_id: int) -> Status:
    async with c.db.write() as conn:
        status = await _target(conn, tenant.id, me, status_id)
        removed = (await conn.execute(favourites.delete().where(
            favourites.c.tenant_id == tenant.id, favourites.c.account_id == me.id,
            favourites.c.status_id == status.id).returning(favourites.c.id))).all()
        if removed:
            await _bump(conn, tenant.id, status.id, "favourites_count", -1)
            author_domain = (await conn.execute(select(accounts.c.domain).where(
                accounts.c.tenant_id == tenant.id, accounts.c.id == status.account_id))).scalar()
            if author_domain:
                await federate(conn, tenant.id, "status.unfavourited", account_id=me.id, status_id=status.id,
                               favourite_id=removed[0].id)
        status = await load_status(conn, tenant.id, status.id)
    if removed:
        c.jobs.wake()
    return status


async def reblog(c: Container, tenant: Tenant, me: Account, status_id: int, visibility: str | None) -> Status:
    """Boost a status; returns the boost (an existing one when already boosted)."""
    if visibility not in (None, "", "public", "unlisted", "private"):
        raise ApiError(422, "Validation failed: Visibility is not a valid boost visibility")
    async with c.db.write() as conn:
        original = await _target(conn, tenant.id, me, status_id)
        # As in Mastodon: direct posts never, followers-only posts only by their author.
        if original.visibility == "direct" or (original.visibility == "private" and original.account_id != me.id):
            raise forbidden("This status cannot be boosted")
        if conn.dialect.name == "postgresql":
            # Two boosts of one status by one account at once would both find none existing.
            await conn.execute(select(statuses.c.id).where(statuses.c.tenant_id == tenant.id,
                                                           statuses.c.id == original.id).with_for_update())
        existing = (await conn.execute(select(statuses).where(
            statuses.c.tenant_id == tenant.id, statuses.c.account_id == me.id,
            statuses.c.reblog_of_id == original.id, statuses.c.deleted_at.is_(None)))).first()
        if existing is not None:
            return from_row(Status, existing)
        chosen = "private" if original.visibility == "private" else (visibility or "public")
        boost_id = new_id()
        now = utcnow()
        uri, _ = status_urls(c.base_url(tenant), me.username, boost_id)
        row: dict[str, Any] = {
            "tenant_id": tenant.id, "id": boost_id, "account_id": me.id, "uri": f"{uri}/activity",
            "url": original.url, "text": "", "content": "", "spoiler_text": "", "sensitive": False,
            "visibility": chosen, "reblog_of_id": original.id, "conversation_id": original.conversation_id,
            "local": True, "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "quotes_count": 0,
            "created_at": now,
        }
        await conn.execute(statuses.insert().values(**row))
        await _bump(conn, tenant.id, original.id, "reblogs_count", 1)
        await touch_counts(conn, tenant.id, me.id, statuses_count=1)
        await conn.execute(update(accounts).where(accounts.c.tenant_id == tenant.id, accounts.c.id == me.id)
                           .values(last_status_at=now))
        await enqueue(conn, "status.distribute", {"tenant_id": tenant.id, "status_id": boost_id},
                      tenant_id=tenant.id)
        await federate(conn, tenant.id, "status.reblogged", status_id=boost_id)
    c.jobs.wake()
    return from_row(Status, row)


async def unreblog(c: Container, tenant: Tenant, me: Account, status_id: int) -> Status:
    """Undo my boost; returns the original."""
    async with c.db.write() as conn:
        original = await _target(conn, tenant.id, me, status_id)
        removed = await undo_reblog(conn, tenant.id, me, original.id)
        original = await load_status(conn, tenant.id, original.id)
    if removed:
        c.jobs.wake()
    return original


async def bookmark(c: Container, tenant: Tenant, me: Account, status_id: int, on: bool) -> Status:
    async with c.db.write() as conn:
        status = await _target(conn, tenant.id, me, status_id)
        if on:
            await insert_or_skip(conn, bookmarks, {"tenant_id": tenant.id, "id": new_id(), "account_id": me.id,
                                                    "status_id": status.id, "created_at": utcnow()})
        else:
            await conn.execute(bookmarks.delete().where(bookmarks.c.tenant_id == tenant.id,
                                                        bookmarks.c.account_id == me.id,
                                                        bookmarks.c.status_id == status.id))
    return status


async def pin(c: Container, tenant: Tenant, me: Account, status_id: int, on: bool) -> Status:
    async with c.db.write() as conn:
        status = await get_visible(conn, tenant.id, me.id, status_id)
        if status.account_id != me.id or status.reblog_of_id is not None:
            raise ApiError(422, "Validation failed: You can only pin your own posts")
        if not on:
            await conn.execute(status_pins.delete().where(status_pins.c.tenant_id == tenant.id,
                                                          status_pins.c.account_id == me.id,
                                                          status_pins.c.status_id == status.id))
            return status
        if status.visibility not in {"public", "unlisted"}:
            raise ApiError(422, "Validation failed: Only public and unlisted posts can be pinned")
        count = (await conn.execute(select(func.count()).select_from(status_pins).where(
            status_pins.c.tenant_id == tenant.id, status_pins.c.account_id == me.id,
            status_pins.c.status_id != status.id))).scalar() or 0
        if count >= MAX_PINS:
            raise ApiError(422, f"Validation failed: You can pin at most {MAX_PINS} posts")
        await insert_or_skip(conn, status_pins, {"tenant_id": tenant.id, "id": new_id(), "account_id": me.id,
                                                  "status_id": status.id, "created_at": utcnow()})
    return status


async def mute_conversation(c: Container, tenant: Tenant, me: Account, status_id: int, on: bool) -> Status:
    async with c.db.write() as conn:
        status = await _target(conn, tenant.id, me, status_id)
        conversation = status.conversation_id or status.id
        if on:
            await insert_or_skip(conn, status_mutes, {"tenant_id": tenant.id, "id": new_id(),
                                                       "account_id": me.id, "conversation_id": conversation,
                                                       "created_at": utcnow()})
        else:
            await conn.execute(status_mutes.delete().where(status_mutes.c.tenant_id == tenant.id,
                                                           status_mutes.c.account_id == me.id,
                                                           status_mutes.c.conversation_id == conversation))
    return status


async def accounts_who(conn: AsyncConnection, tenant_id: int, viewer_id: int | None, status_id: int, what: str,
                       page: Page) -> tuple[list[Account], list[int]]:
    """Accounts that favourited (`what="favourited"`) or boosted the status, with
    the pagination keys (favourite ids, boost ids)."""
    status = await get_visible(conn, tenant_id, viewer_id, status_id)
    if what == "favourited":
        key = favourites.c.id
        query = select(key.label("key"), accounts).join(accounts, (accounts.c.tenant_id == favourites.c.tenant_id)
                                                        & (accounts.c.id == favourites.c.account_id)).where(
            favourites.c.tenant_id == tenant_id, favourites.c.status_id == status.id)
    else:
        key = statuses.c.id
        query = select(key.label("key"), accounts).join(accounts, (accounts.c.tenant_id == statuses.c.tenant_id)
                                                        & (accounts.c.id == statuses.c.account_id)).where(
            statuses.c.tenant_id == tenant_id, statuses.c.reblog_of_id == status.id,
            statuses.c.deleted_at.is_(None), statuses.c.visibility.in_(["public", "unlisted"]))
    rows = in_order((await conn.execute(apply_page(query.where(accounts.c.suspended_at.is_(None)), key, page)))
                    .all(), page)
    return [from_row(Account, r) for r in rows], [r.key for r in rows]


async def saved_statuses(conn: AsyncConnection, tenant_id: int, me: Account, which: str,
                         page: Page) -> tuple[list[Status], list[int]]:
    """My favourites or bookmarks, newest first, with the pagination keys (the
    favourite/bookmark row ids)."""
    table = favourites if which == "favourites" else bookmarks
    query = select(table.c.id.label("key"), statuses).join(
        statuses, (statuses.c.tenant_id == table.c.tenant_id) & (statuses.c.id == table.c.status_id)
    ).where(table.c.tenant_id == tenant_id, table.c.account_id == me.id, statuses.c.deleted_at.is_(None))
    rows = in_order((await conn.execute(apply_page(query, table.c.id, page))).all(), page)
    found = await filter_visible(conn, tenant_id, me.id, [from_row(Status, r) for r in rows])
    return found, [r.key for r in rows]
