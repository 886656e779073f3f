"""Reading statuses: a thread's context and an account's statuses, filtered for
the viewer."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import exists, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import not_found
from steward.core.pagination import Page, apply_page
from steward.db.tables import (
    accounts,
    blocks,
    follows,
    media_attachments,
    mentions,
    mutes,
    status_pins,
    status_tags,
    statuses,
    tags,
)
from steward.model.entities import Status, from_row
from steward.social.status_actions import in_order
from steward.social.status_visibility import filter_visible, get_visible

MAX_ANCESTORS = 40
MAX_DEPTH = 256
MAX_DESCENDANTS = 4096
MAX_DESCENDANTS_ANONYMOUS = 60


async def context(conn: AsyncConnection, tenant_id: int, viewer_id: int | None,
                  status_id: int) -> tuple[list[Status], list[Status]]:
    """Ancestors (root first) and descendants (depth-first, oldest branch first)."""
    status = await get_visible(conn, tenant_id, viewer_id, status_id)
    ancestors: list[Status] = []
    if status.in_reply_to_id is not None:
        up = select(statuses.c.id, statuses.c.in_reply_to_id, literal(1).label("depth")).where(
            statuses.c.tenant_id == tenant_id, statuses.c.id == status.in_reply_to_id).cte("up", recursive=True)
        up = up.union_all(select(statuses.c.id, statuses.c.in_reply_to_id, up.c.depth + 1).where(
            statuses.c.tenant_id == tenant_id, statuses.c.id == up.c.in_reply_to_id, up.c.depth < MAX_ANCESTORS))
        rows = (await conn.execute(select(statuses, up.c.depth).join(up, statuses.c.id == up.c.id).where(
            statuses.c.tenant_id == tenant_id).order_by(up.c.depth.desc()))).all()
        ancestors = await filter_visible(conn, tenant_id, viewer_id, [from_row(Status, r) for r in rows])
    down = select(statuses.c.id, literal(1).label("depth")).where(
        statuses.c.tenant_id == tenant_id, statuses.c.in_reply_to_id == status.id).cte("down", recursive=True)
    down = down.union_all(select(statuses.c.id, down.c.depth + 1).where(
        statuses.c.tenant_id == tenant_id, statuses.c.in_reply_to_id == down.c.id, down.c.depth < MAX_DEPTH))
    limit = MAX_DESCENDANTS if viewer_id is not None else MAX_DESCENDANTS_ANONYMOUS
    rows = (await conn.execute(select(statuses).where(
        statuses.c.tenant_id == tenant_id, statuses.c.id.in_(select(down.c.id)), statuses.c.deleted_at.is_(None)
    ).order_by(statuses.c.id).limit(limit))).all()
    visible = await filter_visible(conn, tenant_id, viewer_id, [from_row(Status, r) for r in rows])
    if viewer_id is not None:
        hidden = await _shunned(conn, tenant_id, viewer_id, {s.account_id for s in ancestors + visible})
        ancestors = [s for s in ancestors if s.account_id not in hidden]
        visible = [s for s in visible if s.account_id not in hidden]
    return ancestors, _depth_first(status.id, visible)


async def _shunned(conn: AsyncConnection, tenant_id: int, viewer_id: int, authors: set[int]) -> set[int]:
    """Authors the viewer blocks or mutes: their replies stay out of threads."""
    authors.discard(viewer_id)
    if not authors:
        return set()
    now = utcnow()
    query = union_all(
        select(blocks.c.target_account_id).where(blocks.c.tenant_id == tenant_id, blocks.c.account_id == viewer_id,
                                                 blocks.c.target_account_id.in_(authors)),
        select(mutes.c.target_account_id).where(mutes.c.tenant_id == tenant_id, mutes.c.account_id == viewer_id,
                                                mutes.c.target_account_id.in_(authors),
                                                or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > now)),
    )
    return {r[0] for r in (await conn.execute(query)).all()}


def _depth_first(root: int, found: list[Status]) -> list[Status]:
    children: dict[int, list[Status]] = defaultdict(list)
    for s in found:
        if s.in_reply_to_id is not None:
            children[s.in_reply_to_id].append(s)
    out: list[Status] = []
    stack = list(reversed(children.get(root, [])))
    while stack:
        s = stack.pop()
        out.append(s)
        stack.extend(reversed(children.get(s.id, [])))
    return out


async def account_statuses(conn: AsyncConnection, tenant_id: int, viewer_id: int | None, account_id: int,
                           page: Page, *, only_media: bool = False, exclude_replies: bool = False,
                           exclude_reblogs: bool = False, pinned: bool = False, tagged: str | None = None,
                           exclude_direct: bool = False) -> list[Status]:
    account = (await conn.execute(select(accounts.c.id, accounts.c.suspended_at).where(
        accounts.c.tenant_id == tenant_id, accounts.c.id == account_id))).first()
    if account is None:
        raise not_found()
    if account.suspended_at is not None:
        return []
    if viewer_id == account_id:
        visibilities = ["public", "unlisted", "private"] if exclude_direct else ["public", "unlisted", "private",
                                                                                 "direct"]
    else:
        if viewer_id is not None:
            blocked = (await conn.execute(select(blocks.c.id).where(
                blocks.c.tenant_id == tenant_id, blocks.c.account_id == account_id,
                blocks.c.target_account_id == viewer_id))).first()
            if blocked is not None:
                return []
        following = viewer_id is not None and (await conn.execute(select(follows.c.id).where(
            follows.c.tenant_id == tenant_id, follows.c.account_id == viewer_id,
            follows.c.target_account_id == account_id))).first() is not None
        visibilities = ["public", "unlisted", "private"] if following else ["public", "unlisted"]
    allowed: Any = statuses.c.visibility.in_(visibilities)
    if viewer_id is not None and viewer_id != account_id:
        # As in Mastodon: plus whatever of theirs mentions the viewer.
        mentioned: Any = exists().where(mentions.c.tenant_id == tenant_id, mentions.c.status_id == statuses.c.id,
                                   mentions.c.account_id == viewer_id)
        if exclude_direct:
            mentioned = mentioned & (statuses.c.visibility != "direct")
        allowed = or_(allowed, mentioned)
    query = select(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.account_id == account_id,
                                   statuses.c.deleted_at.is_(None), allowed)
    if pinned:
        query = query.join(status_pins, (status_pins.c.tenant_id == statuses.c.tenant_id)
                           & (status_pins.c.status_id == statuses.c.id)
                           & (status_pins.c.account_id == account_id))
    if tagged:
        query = query.where(exists().where(
            status_tags.c.tenant_id == tenant_id, status_tags.c.status_id == statuses.c.id,
            status_tags.c.tag_id == select(tags.c.id).where(tags.c.tenant_id == tenant_id,
                                                            tags.c.name == tagged.lower().lstrip("#"))
            .scalar_subquery()))
    if only_media:
        query = query.where(exists().where(media_attachments.c.tenant_id == tenant_id,
                                           media_attachments.c.status_id == statuses.c.id))
    if exclude_replies:
        query = query.where(or_(statuses.c.in_reply_to_id.is_(None),
                                statuses.c.in_reply_to_account_id == account_id))
    if exclude_reblogs:
        query = query.where(statuses.c.reblog_of_id.is_(None))
    rows = in_order((await conn.execute(apply_page(query, statuses.c.id, page))).all(), page)
    return await filter_visible(conn, tenant_id, viewer_id, [from_row(Status, r) for r in rows])
