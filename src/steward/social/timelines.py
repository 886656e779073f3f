"""Timelines (home, public, hashtag, list, direct), markers and direct
conversations. Every timeline is one query returning whole status rows for a
page, ready for the batched presenter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, exists, not_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.core.pagination import Page, apply_page
from steward.db.tables import (
    account_conversations,
    accounts,
    blocks,
    home_feed,
    list_accounts,
    lists,
    markers,
    media_attachments,
    mentions,
    mutes,
    status_tags,
    statuses,
    tags,
    user_domain_blocks,
    users,
)
from steward.model.entities import Status, from_row
from steward.social.streaming import event

if TYPE_CHECKING:
    from sqlalchemy import BindParameter, ColumnElement, Select

S = statuses.c


async def _rows(conn: AsyncConnection, query: Select[Any], page: Page) -> list[Status]:
    rows = [from_row(Status, r) for r in (await conn.execute(query)).all()]
    if page.min_id is not None:
        rows.reverse()
    return rows


def _not_rejected(tid: int, viewer_id: int | None, author: Any) -> list[ColumnElement[bool]]:
    """Leave out authors the viewer blocks or mutes, and authors who block the viewer."""
    if viewer_id is None:
        return []
    now = utcnow()
    return [
        not_(exists().where(blocks.c.tenant_id == tid, blocks.c.account_id == viewer_id,
                            blocks.c.target_account_id == author)),
        not_(exists().where(blocks.c.tenant_id == tid, blocks.c.account_id == author,
                            blocks.c.target_account_id == viewer_id)),
        not_(exists().where(mutes.c.tenant_id == tid, mutes.c.account_id == viewer_id,
                            mutes.c.target_account_id == author,
                            or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > now))),
    ]


def _home_query(has_max: bool, has_since: bool, has_min: bool) -> Select[Any]:
    """The home page query with bound parameters, built once per paging shape:
    on the hottest path, building the expression tree costs more than running it.
    The page of ids comes from `home_feed` alone (a range scan of its primary
    key), then the statuses by primary key: a plan the planner cannot get wrong."""
    h = home_feed.c
    tid: BindParameter[int] = bindparam("tid")
    viewer: BindParameter[int] = bindparam("viewer")
    ids = (select(h.status_id)
           .where(h.tenant_id == tid, h.account_id == viewer,
                  not_(exists().where(blocks.c.tenant_id == tid, blocks.c.account_id == viewer,
                                      blocks.c.target_account_id == h.author_id)),
                  not_(exists().where(blocks.c.tenant_id == tid, blocks.c.account_id == h.author_id,
                                      blocks.c.target_account_id == viewer)),
                  not_(exists().where(mutes.c.tenant_id == tid, mutes.c.account_id == viewer,
                                      mutes.c.target_account_id == h.author_id,
                                      or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > bindparam("now")))),
                  # Members of the viewer's exclusive lists are read in those lists only.
                  not_(exists().where(lists.c.tenant_id == tid, lists.c.account_id == viewer,
                                      lists.c.exclusive.is_(True), list_accounts.c.tenant_id == tid,
                                      list_accounts.c.list_id == lists.c.id,
                                      list_accounts.c.account_id == h.author_id))))
    if has_max:
        ids = ids.where(h.status_id < bindparam("max_id"))
    if has_since:
        ids = ids.where(h.status_id > bindparam("since_id"))
    if has_min:
        ids = ids.where(h.status_id > bindparam("min_id"))
    order = h.status_id.asc() if has_min else h.status_id.desc()
    page = ids.order_by(order).limit(bindparam("limit")).subquery("page")
    return (select(statuses)
            .join(page, (S.tenant_id == tid) & (S.id == page.c.status_id))
            .where(S.deleted_at.is_(None))
            .order_by(page.c.status_id.asc() if has_min else page.c.status_id.desc()))


_HOME_QUERIES = {(a, b, c): _home_query(a, b, c) for a in (False, True) for b in (False, True) for c in (False, True)}


async def home(conn: AsyncConnection, tid: int, viewer_id: int, page: Page) -> list[Status]:
    query = _HOME_QUERIES[(page.max_id is not None, page.since_id is not None, page.min_id is not None)]
    params = {"tid": tid, "viewer": viewer_id, "now": utcnow(), "limit": page.limit, "max_id": page.max_id,
              "since_id": page.since_id, "min_id": page.min_id}
    rows = [from_row(Status, r) for r in (await conn.execute(query, params)).all()]
    if page.min_id is not None:
        rows.reverse()
    return rows


@dataclass(slots=True)
class PublicFilter:
    local: bool = False
    remote: bool = False
    only_media: bool = False


def _public_base(tid: int, viewer_id: int | None, f: PublicFilter) -> Select[Any]:
    query = (select(statuses)
             .join(accounts, (accounts.c.tenant_id == S.tenant_id) & (accounts.c.id == S.account_id))
             .where(S.tenant_id == tid, S.visibility == "public", S.deleted_at.is_(None),
                    S.reblog_of_id.is_(None), accounts.c.suspended_at.is_(None),
                    accounts.c.silenced_at.is_(None), *_not_rejected(tid, viewer_id, S.account_id)))
    if viewer_id is not None:
        query = query.where(not_(exists().where(
            user_domain_blocks.c.tenant_id == tid, user_domain_blocks.c.account_id == viewer_id,
            user_domain_blocks.c.domain == accounts.c.domain)))
    if f.local:
        query = query.where(S.local.is_(True))
    if f.remote:
        query = query.where(S.local.is_(False))
    if f.only_media:
        query = query.where(exists().where(media_attachments.c.tenant_id == tid,
                                           media_attachments.c.status_id == S.id))
    return query


async def public(conn: AsyncConnection, tid: int, viewer_id: int | None, f: PublicFilter,
                 page: Page) -> list[Status]:
    query = _public_base(tid, viewer_id, f).where(
        or_(S.in_reply_to_account_id.is_(None), S.in_reply_to_account_id == S.account_id))
    return await _rows(conn, apply_page(query, S.id, page), page)


def normalise_tag(name: str) -> str:
    name = name.strip().lstrip("#").lower()
    if not name or len(name) > 256 or not all(ch.isalnum() or ch == "_" for ch in name):
        raise ApiError(422, f"Validation failed: {name or 'tag'} is not a valid hashtag")
    return name


def normalise_tags(names: list[str]) -> list[str]:
    return [normalise_tag(n) for n in names]


def _tagged(tid: int, names: list[str]) -> ColumnElement[bool]:
    return exists().where(status_tags.c.tenant_id == tid, status_tags.c.status_id == S.id,
                          status_tags.c.tag_id.in_(select(tags.c.id).where(tags.c.tenant_id == tid,
                                                                           tags.c.name.in_(names))))


async def tag(conn: AsyncConnection, tid: int, viewer_id: int | None, names: list[str], all_of: list[str],
              none_of: list[str], f: PublicFilter, page: Page) -> list[Status]:
    query = _public_base(tid, viewer_id, f).where(_tagged(tid, names))
    for name in all_of:
        query = query.where(_tagged(tid, [name]))
    if none_of:
        query = query.where(not_(_tagged(tid, none_of)))
    return await _rows(conn, apply_page(query, S.id, page), page)


async def list_timeline(conn: AsyncConnection, tid: int, viewer_id: int, list_id: int,
                        page: Page) -> list[Status]:
    row = (await conn.execute(select(lists.c.replies_policy).where(
        lists.c.tenant_id == tid, lists.c.id == list_id, lists.c.account_id == viewer_id))).first()
    if row is None:
        raise not_found()
    h = home_feed.c
    members = select(list_accounts.c.account_id).where(list_accounts.c.tenant_id == tid,
                                                       list_accounts.c.list_id == list_id)
    query = (select(statuses)
             .join(home_feed, (h.tenant_id == S.tenant_id) & (h.status_id == S.id))
             .where(h.tenant_id == tid, h.account_id == viewer_id, h.author_id.in_(members),
                    S.deleted_at.is_(None), *_not_rejected(tid, viewer_id, h.author_id)))
    self_or_none = or_(S.in_reply_to_account_id.is_(None), S.in_reply_to_account_id == S.account_id)
    if row.replies_policy == "none":
        query = query.where(self_or_none)
    elif row.replies_policy == "list":
        query = query.where(or_(self_or_none, S.in_reply_to_account_id.in_(members),
                                S.in_reply_to_account_id == viewer_id))
    return await _rows(conn, apply_page(query, h.status_id, page), page)


def _direct_for(tid: int, account_id: int) -> ColumnElement[bool]:
    return or_(S.account_id == account_id, exists().where(
        mentions.c.tenant_id == tid, mentions.c.status_id == S.id, mentions.c.account_id == account_id))


async def direct(conn: AsyncConnection, tid: int, viewer_id: int, page: Page) -> list[Status]:
    query = select(statuses).where(S.tenant_id == tid, S.visibility == "direct", S.deleted_at.is_(None),
                                   _direct_for(tid, viewer_id), *_not_rejected(tid, viewer_id, S.account_id))
    return await _rows(conn, apply_page(query, S.id, page), page)


# -- markers ---------------------------------------------------------------------------------

MARKER_TIMELINES = ("home", "notifications")


def check_marker_timelines(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in MARKER_TIMELINES]
    if unknown:
        raise ApiError(422, f"Validation failed: timeline {unknown[0]!r} is not home or notifications")
    return names


async def get_markers(conn: AsyncConnection, tid: int, account_id: int, names: list[str]) -> dict[str, Any]:
    wanted = [n for n in names if n in MARKER_TIMELINES]
    if not wanted:
        return {}
    rows = await conn.execute(select(markers).where(markers.c.tenant_id == tid, markers.c.account_id == account_id,
                                                    markers.c.timeline.in_(wanted)))
    return {r.timeline: r for r in rows}


async def set_markers(conn: AsyncConnection, tid: int, account_id: int, positions: dict[str, int]) -> dict[str, Any]:
    now = utcnow()
    current = await get_markers(conn, tid, account_id, list(positions))
    for name, last_read in positions.items():
        if name not in current:
            try:
                async with conn.begin_nested():
                    await conn.execute(markers.insert().values(
                        tenant_id=tid, account_id=account_id, timeline=name, last_read_id=last_read, version=1,
                        updated_at=now))
                continue
            except IntegrityError:
                pass  # another request created it first: bump that one
        await conn.execute(update(markers).where(
            markers.c.tenant_id == tid, markers.c.account_id == account_id, markers.c.timeline == name)
            .values(last_read_id=last_read, version=markers.c.version + 1, updated_at=now))
    return await get_markers(conn, tid, account_id, list(positions))


# -- direct conversations ----------------------------------------------------------------------

AC = account_conversations.c


async def record_direct_status(conn: AsyncConnection, status: Status) -> list[dict[str, Any]]:
    """Each local participant's conversation row now ends with `status`; returns
    the streaming events for the `direct` streams."""
    tid, sid = status.tenant_id, status.id
    conversation = status.conversation_id or status.id
    mentioned = [r.account_id for r in await conn.execute(select(mentions.c.account_id).where(
        mentions.c.tenant_id == tid, mentions.c.status_id == sid))]
    everyone = sorted({status.account_id, *mentioned})
    local = {r.account_id for r in await conn.execute(select(users.c.account_id).where(
        users.c.tenant_id == tid, users.c.account_id.in_(everyone)))}
    now = utcnow()
    events = []
    for account_id in sorted(local):
        others = [a for a in everyone if a != account_id]
        row = (await conn.execute(select(account_conversations).where(
            AC.tenant_id == tid, AC.account_id == account_id, AC.conversation_id == conversation))).first()
        if row is None:
            row_id = new_id()
            await conn.execute(account_conversations.insert().values(
                tenant_id=tid, id=row_id, account_id=account_id, conversation_id=conversation,
                participant_ids=others, last_status_id=sid, unread=account_id != status.account_id, updated_at=now))
        else:
            row_id = row.id
            if row.last_status_id >= sid:
                continue
            participants = sorted(set(row.participant_ids or []) | set(others))
            await conn.execute(update(account_conversations).where(AC.tenant_id == tid, AC.id == row.id).values(
                participant_ids=participants, last_status_id=sid, unread=account_id != status.account_id,
                updated_at=now))
        events.append(event(tid, f"direct:{account_id}", "conversation", ref=row_id))
    return events


async def forget_direct_status(conn: AsyncConnection, tid: int, status_id: int) -> None:
    """A deleted status no longer ends a conversation: point at the previous one, or drop it."""
    rows = (await conn.execute(select(account_conversations).where(
        AC.tenant_id == tid, AC.last_status_id == status_id))).all()
    for row in rows:
        previous = (await conn.execute(
            select(S.id).where(S.tenant_id == tid, S.visibility == "direct", S.deleted_at.is_(None),
                               S.id != status_id,
                               or_(S.conversation_id == row.conversation_id, S.id == row.conversation_id),
                               _direct_for(tid, row.account_id))
            .order_by(S.id.desc()).limit(1))).scalar()
        if previous is None:
            await conn.execute(account_conversations.delete().where(AC.tenant_id == tid, AC.id == row.id))
        else:
            await conn.execute(update(account_conversations).where(AC.tenant_id == tid, AC.id == row.id)
                               .values(last_status_id=previous))


async def conversations(conn: AsyncConnection, tid: int, account_id: int, page: Page) -> list[Any]:
    query = select(account_conversations).where(AC.tenant_id == tid, AC.account_id == account_id)
    rows = list((await conn.execute(apply_page(query, AC.last_status_id, page))).all())
    if page.min_id is not None:
        rows.reverse()
    return rows


async def get_conversation(conn: AsyncConnection, tid: int, account_id: int, row_id: int) -> Any:
    row = (await conn.execute(select(account_conversations).where(
        AC.tenant_id == tid, AC.account_id == account_id, AC.id == row_id))).first()
    if row is None:
        raise not_found()
    return row


async def mark_conversation_read(conn: AsyncConnection, tid: int, account_id: int, row_id: int) -> Any:
    await get_conversation(conn, tid, account_id, row_id)
    await conn.execute(update(account_conversations).where(AC.tenant_id == tid, AC.id == row_id)
                       .values(unread=False))
    return await get_conversation(conn, tid, account_id, row_id)


async def remove_conversation(conn: AsyncConnection, tid: int, account_id: int, row_id: int) -> None:
    await get_conversation(conn, tid, account_id, row_id)
    await conn.execute(account_conversations.delete().where(AC.tenant_id == tid, AC.id == row_id))

