"""What a local actor's AS2 collections and a status's AS2 views read: outbox
pages, followers/following pages, pinned statuses, featured tags, a boost's
original and a status's public replies. The routes in web/activitypub turn
these into documents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.activitypub import convert
from steward.activitypub.convert import NoteParts
from steward.db.tables import accounts, featured_tags, follows, status_pins, statuses, tags
from steward.federation.objects import PUBLISHED, load_note_parts
from steward.model.entities import Account, Status, Tenant, from_row


async def originals_of(conn: AsyncConnection, tenant_id: int, boosts: list[Status]) -> dict[int, Any]:
    """For boosts of published statuses: original id -> row(uri, author_uri)."""
    ids = [s.reblog_of_id for s in boosts if s.reblog_of_id]
    if not ids:
        return {}
    rows = (await conn.execute(
        select(statuses.c.id, statuses.c.uri, accounts.c.uri.label("author_uri")).join(
            accounts, (accounts.c.tenant_id == statuses.c.tenant_id) & (accounts.c.id == statuses.c.account_id))
        .where(statuses.c.tenant_id == tenant_id, statuses.c.deleted_at.is_(None),
               statuses.c.visibility.in_(PUBLISHED), statuses.c.id.in_(ids)))).all()
    return {r.id: r for r in rows}


async def outbox_items(conn: AsyncConnection, tenant: Tenant, base: str, account: Account, max_id: int | None,
                       limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the outbox as Create/Announce activities, newest first, and the
    id to continue below (None on the last page)."""
    query = select(statuses).where(
        statuses.c.tenant_id == tenant.id, statuses.c.account_id == account.id,
        statuses.c.deleted_at.is_(None), statuses.c.visibility.in_(PUBLISHED))
    if max_id is not None:
        query = query.where(statuses.c.id < max_id)
    page = [from_row(Status, r) for r in (await conn.execute(query.order_by(statuses.c.id.desc()).limit(limit))).all()]
    parts = await load_note_parts(conn, tenant, base, page)
    originals = await originals_of(conn, tenant.id, page)
    items: list[dict[str, Any]] = []
    for s in page:
        if s.reblog_of_id is None and s.id in parts:
            items.append(convert.status_to_create(base, tenant, parts[s.id]))
        elif s.reblog_of_id in originals:
            o = originals[s.reblog_of_id]
            items.append(convert.status_to_announce(base, account, s, o.uri, o.author_uri))
    return items, page[-1].id if len(page) == limit else None


async def relation_uris(conn: AsyncConnection, tenant_id: int, base: str, account_id: int, name: str,
                        offset: int, limit: int) -> list[str]:
    """Actor URIs of an account's followers or following (name), newest first."""
    mine, other = ("target_account_id", "account_id") if name == "followers" else ("account_id", "target_account_id")
    rows = (await conn.execute(
        select(accounts.c.uri, accounts.c.username).join(
            follows, (follows.c.tenant_id == accounts.c.tenant_id) & (follows.c[other] == accounts.c.id))
        .where(follows.c.tenant_id == tenant_id, follows.c[mine] == account_id, accounts.c.suspended_at.is_(None))
        .order_by(follows.c.id.desc()).offset(offset).limit(limit))).all()
    return [r.uri or f"{base}/users/{r.username}" for r in rows]


async def pinned_parts(conn: AsyncConnection, tenant: Tenant, base: str, account_id: int) -> list[NoteParts]:
    pinned = [from_row(Status, r) for r in (await conn.execute(
        select(statuses).join(status_pins, (status_pins.c.tenant_id == statuses.c.tenant_id)
                              & (status_pins.c.status_id == statuses.c.id))
        .where(status_pins.c.tenant_id == tenant.id, status_pins.c.account_id == account_id,
               statuses.c.account_id == account_id, statuses.c.deleted_at.is_(None),
               statuses.c.visibility.in_(PUBLISHED)).order_by(status_pins.c.id.desc()))).all()]
    parts = await load_note_parts(conn, tenant, base, pinned)
    return [parts[s.id] for s in pinned if s.id in parts]


async def featured_tag_names(conn: AsyncConnection, tenant_id: int, account_id: int) -> list[str]:
    return list((await conn.execute(select(tags.c.name).join(
        featured_tags, (featured_tags.c.tenant_id == tags.c.tenant_id) & (featured_tags.c.tag_id == tags.c.id))
        .where(featured_tags.c.tenant_id == tenant_id, featured_tags.c.account_id == account_id)
        .order_by(tags.c.name))).scalars())


async def public_reply_uris(conn: AsyncConnection, tenant_id: int, status_id: int, limit: int) -> list[str]:
    return list((await conn.execute(select(statuses.c.uri).where(
        statuses.c.tenant_id == tenant_id, statuses.c.in_reply_to_id == status_id,
        statuses.c.deleted_at.is_(None), statuses.c.visibility.in_(PUBLISHED))
        .order_by(statuses.c.id).limit(limit))).scalars())
