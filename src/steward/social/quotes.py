"""Quote posts (Mastodon 4.5): who may quote what, revoking a quote, changing
a status's quote policy, and listing a status's quotes."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.errors import ApiError, forbidden, not_found
from steward.core.pagination import Page
from steward.db.tables import follows, statuses
from steward.jobs.queue import enqueue
from steward.model.entities import Account, Status, Tenant, from_row
from steward.social.status_visibility import filter_visible, get_visible

if TYPE_CHECKING:
    from steward.container import Container

POLICIES = ("public", "followers", "nobody")


def effective_policy(visibility: str, wanted: str | None) -> str:
    """Followers-only posts and private mentions can only ever be quoted by their author."""
    if visibility in {"private", "direct"}:
        return "nobody"
    return wanted if wanted in POLICIES else "public"


def check_policy_param(value: str | None) -> str | None:
    if value is not None and value not in POLICIES:
        raise ApiError(422, "Validation failed: quote_approval_policy must be public, followers or nobody")
    return value


def quote_inline(url: str) -> str:
    """The 'RE: link' paragraph Mastodon adds for clients that don't show quotes."""
    escaped = html.escape(url, quote=True)
    return f'<p class="quote-inline">RE: <a href="{escaped}">{html.escape(url)}</a></p>'


async def quotable(conn: AsyncConnection, tenant_id: int, me: Account, status_id: int) -> Status:
    """The status `me` wants to quote, if its policy lets them; else 404/422."""
    target = await get_visible(conn, tenant_id, me.id, status_id)
    if target.reblog_of_id is not None:
        target = await get_visible(conn, tenant_id, me.id, target.reblog_of_id)
    if target.visibility == "direct":
        raise ApiError(422, "Validation failed: private mentions cannot be quoted")
    if target.account_id == me.id:
        return target
    policy = effective_policy(target.visibility, target.quote_policy)
    if policy == "followers":
        following = (await conn.execute(select(follows.c.id).where(
            follows.c.tenant_id == tenant_id, follows.c.account_id == me.id,
            follows.c.target_account_id == target.account_id))).first()
        if following is not None:
            return target
    if policy == "public":
        return target
    raise ApiError(422, "Validation failed: you are not allowed to quote this post")


async def set_policy(c: Container, tenant: Tenant, me: Account, status_id: int, policy: str | None) -> Status:
    check_policy_param(policy)
    async with c.db.write() as conn:
        status = await get_visible(conn, tenant.id, me.id, status_id)
        if status.account_id != me.id or status.reblog_of_id is not None:
            raise not_found()
        status.quote_policy = effective_policy(status.visibility, policy or status.quote_policy)
        await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant.id, statuses.c.id == status.id)
                           .values(quote_policy=status.quote_policy))
    return status


async def revoke(c: Container, tenant: Tenant, me: Account, quoted_id: int, quoting_id: int) -> Status:
    """The quoted author detaches their status from a quote of it; returns the quote."""
    async with c.db.write() as conn:
        quoted = await get_visible(conn, tenant.id, me.id, quoted_id)
        if quoted.account_id != me.id:
            raise forbidden()
        row = (await conn.execute(select(statuses).where(
            statuses.c.tenant_id == tenant.id, statuses.c.id == quoting_id, statuses.c.quote_of_id == quoted.id,
            statuses.c.deleted_at.is_(None)))).first()
        if row is None:
            raise not_found()
        quoting = from_row(Status, row)
        if quoting.quote_state == "accepted":
            await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant.id,
                                                      statuses.c.id == quoting.id).values(quote_state="revoked"))
            await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant.id, statuses.c.id == quoted.id,
                                                      statuses.c.quotes_count > 0)
                               .values(quotes_count=statuses.c.quotes_count - 1))
            await enqueue(conn, "status.edited", {"tenant_id": tenant.id, "status_id": quoting.id},
                          tenant_id=tenant.id)
            quoting.quote_state = "revoked"
    c.jobs.wake()
    return quoting


async def quotes_of(conn: AsyncConnection, tenant_id: int, me: Account, status_id: int,
                    page: Page) -> list[Status]:
    """Accepted quotes of one of my statuses, newest first."""
    from steward.social.status_actions import apply_page, in_order

    status = await get_visible(conn, tenant_id, me.id, status_id)
    if status.account_id != me.id:
        raise forbidden("Only the author can list the quotes of a post")
    query = select(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.quote_of_id == status.id,
                                   statuses.c.quote_state == "accepted", statuses.c.deleted_at.is_(None))
    rows = in_order((await conn.execute(apply_page(query, statuses.c.id, page))).all(), page)
    return await filter_visible(conn, tenant_id, me.id, [from_row(Status, r) for r in rows])
