"""Fan-out on write: the job handlers that put a new status into home feeds,
notify the people it concerns, keep direct conversations up to date and tell
the streams. Each handler is idempotent: a job that runs twice changes nothing
the second time (feed rows are inserted only when missing, notifications are
checked for before they are created)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, exists, literal, not_, or_, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.db.tables import (
    accounts,
    blocks,
    follows,
    home_feed,
    mentions,
    mutes,
    notifications,
    status_tags,
    statuses,
    tag_follows,
    tags,
    user_domain_blocks,
    users,
)
from steward.model.entities import Status, from_row
from steward.social import timelines
from steward.social.notifications import NewNotification, create_notifications, notification_events
from steward.social.streaming import BROADCAST, event

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

    from steward.container import Container


async def _load(conn: AsyncConnection, tid: int, status_id: int) -> Status | None:
    row = (await conn.execute(select(statuses).where(statuses.c.tenant_id == tid, statuses.c.id == status_id))).first()
    return from_row(Status, row) if row is not None else None


def _rejects(tid: int, recipient: Any, author_ids: list[int], author_domain: str) -> ColumnElement[bool]:
    """True when `recipient` blocks or mutes one of the authors, or blocks the domain."""
    now = utcnow()
    clauses = [
        exists().where(blocks.c.tenant_id == tid, blocks.c.account_id == recipient,
                       blocks.c.target_account_id.in_(author_ids)),
        exists().where(mutes.c.tenant_id == tid, mutes.c.account_id == recipient,
                       mutes.c.target_account_id.in_(author_ids),
                       or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > now)),
    ]
    if author_domain:
        clauses.append(exists().where(user_domain_blocks.c.tenant_id == tid,
                                      user_domain_blocks.c.account_id == recipient,
                                      user_domain_blocks.c.domain == author_domain))
    return or_(*clauses)


def _recipients_query(status: Status, original: Status | None, author_domain: str) -> Any:
    """A SELECT of the local account ids whose home feed gets `status`."""
    tid, sid, author = status.tenant_id, status.id, status.account_id
    has_user = exists().where(users.c.tenant_id == tid, users.c.account_id == follows.c.account_id)
    parts: list[Any] = [select(literal(author).label("account_id")).where(
        exists().where(users.c.tenant_id == tid, users.c.account_id == author))]
    if status.visibility != "direct":
        f = follows.c
        followers = select(f.account_id.label("account_id")).where(f.tenant_id == tid, f.target_account_id == author,
                                                                   has_user)
        if original is not None:
            followers = followers.where(f.show_reblogs.is_(True))
        reply_to = status.in_reply_to_account_id
        if reply_to is not None and reply_to != author:
            # Mastodon's home feed: a reply reaches only those who follow both sides.
            also = follows.alias("also_follows")
            followers = followers.where(or_(f.account_id == reply_to, exists().where(
                also.c.tenant_id == tid, also.c.account_id == f.account_id, also.c.target_account_id == reply_to)))
        parts.append(followers)
    if status.visibility in {"private", "direct"} and original is None:
        m = mentions.c
        parts.append(select(m.account_id.label("account_id")).where(
            m.tenant_id == tid, m.status_id == sid,
            exists().where(users.c.tenant_id == tid, users.c.account_id == m.account_id)))
    if status.visibility == "public" and original is None:
        # Followed hashtags bring public posts into the home feed (Mastodon 4).
        t = tag_follows.c
        parts.append(select(t.account_id.label("account_id")).where(
            t.tenant_id == tid,
            t.tag_id.in_(select(status_tags.c.tag_id).where(status_tags.c.tenant_id == tid,
                                                            status_tags.c.status_id == sid)),
            exists().where(users.c.tenant_id == tid, users.c.account_id == t.account_id)))
    recipients = union(*parts).subquery()
    authors = [author] + ([original.account_id] if original is not None else [])
    r = recipients.c.account_id
    return select(literal(tid), r, literal(sid), literal(author)).where(
        not_(_rejects(tid, r, authors, author_domain)),
        not_(exists().where(home_feed.c.tenant_id == tid, home_feed.c.account_id == r,
                            home_feed.c.status_id == sid)),
    )


async def _author_domain(conn: AsyncConnection, tid: int, account_id: int) -> str:
    return (await conn.execute(select(accounts.c.domain).where(
        accounts.c.tenant_id == tid, accounts.c.id == account_id))).scalar() or ""


async def _tag_names(conn: AsyncConnection, tid: int, status_id: int) -> list[str]:
    rows = await conn.execute(select(tags.c.name).join(
        status_tags, (status_tags.c.tenant_id == tags.c.tenant_id) & (status_tags.c.tag_id == tags.c.id))
        .where(status_tags.c.tenant_id == tid, status_tags.c.status_id == status_id))
    return [r.name.lower() for r in rows]


def _public_events(status: Status, tag_names: list[str], name: str, author_id: int) -> list[dict[str, Any]]:
    """Public and hashtag stream events for a public, non-boost status (replies
    to others stay off the public streams, as on Mastodon's public timeline)."""
    if status.visibility != "public" or status.reblog_of_id is not None:
        return []
    tid, sid = status.tenant_id, status.id
    out: list[dict[str, Any]] = []
    for tag in tag_names:
        out.append(event(tid, f"hashtag:{tag}", name, ref=sid))
        if status.local:
            out.append(event(tid, f"hashtag:local:{tag}", name, ref=sid))
    reply_to_other = status.in_reply_to_account_id not in (None, author_id)
    if not reply_to_other:
        out.append(event(tid, "public", name, ref=sid))
        out.append(event(tid, "public:local" if status.local else "public:remote", name, ref=sid))
    return out


async def distribute(c: Container, payload: dict[str, Any]) -> None:
    tid, sid = int(payload["tenant_id"]), int(payload["status_id"])
    async with c.db.write() as conn:
        status = await _load(conn, tid, sid)
        if status is None or status.deleted_at is not None:
            return
        original = await _load(conn, tid, status.reblog_of_id) if status.reblog_of_id else None
        if status.reblog_of_id and (original is None or original.deleted_at is not None):
            return
        domain = await _author_domain(conn, tid, status.account_id)
        insert_rows = _recipients_query(status, original, domain)
        await conn.execute(home_feed.insert().from_select(
            ["tenant_id", "account_id", "status_id", "author_id"], insert_rows))
        wanted = await _wanted_notifications(conn, status, original)
        created = await create_notifications(conn, tid, wanted)
        conversation_events = []
        if status.visibility == "direct" and original is None:
            conversation_events = await timelines.record_direct_status(conn, status)
        tag_names = await _tag_names(conn, tid, sid) if original is None else []
    events = [event(tid, "home", "update", ref=sid, author_id=status.account_id)]
    events += _public_events(status, tag_names, "update", status.account_id)
    events += notification_events(tid, created)
    events += conversation_events
    await c.hub.emit(c.db, events)


async def _wanted_notifications(conn: AsyncConnection, status: Status,
                                original: Status | None) -> list[NewNotification]:
    tid, sid, author = status.tenant_id, status.id, status.account_id
    if original is not None:
        return [NewNotification(original.account_id, author, "reblog", original.id)]
    out = [NewNotification(r.account_id, author, "mention", sid) for r in await conn.execute(
        select(mentions.c.account_id).where(mentions.c.tenant_id == tid, mentions.c.status_id == sid,
                                            mentions.c.silent.is_(False)))]
    replying_to_other = status.in_reply_to_account_id not in (None, author)
    if status.visibility != "direct" and not replying_to_other:
        subscribers = select(follows.c.account_id).where(
            follows.c.tenant_id == tid, follows.c.target_account_id == author, follows.c.notify.is_(True))
        out += [NewNotification(r.account_id, author, "status", sid) for r in await conn.execute(subscribers)]
    return out


async def removed(c: Container, payload: dict[str, Any]) -> None:
    tid, sid = int(payload["tenant_id"]), int(payload["status_id"])
    async with c.db.write() as conn:
        await conn.execute(delete(home_feed).where(home_feed.c.tenant_id == tid, home_feed.c.status_id == sid))
        await conn.execute(delete(notifications).where(notifications.c.tenant_id == tid,
                                                       notifications.c.status_id == sid))
        gone = await _load(conn, tid, sid)
        if gone is not None and gone.reblog_of_id is not None:
            # An undone boost takes its "reblog" notification with it.
            await conn.execute(delete(notifications).where(
                notifications.c.tenant_id == tid, notifications.c.type == "reblog",
                notifications.c.status_id == gone.reblog_of_id, notifications.c.from_account_id == gone.account_id))
        await timelines.forget_direct_status(conn, tid, sid)
    await c.hub.emit(c.db, [event(tid, BROADCAST, "delete", payload=str(sid))])


async def edited(c: Container, payload: dict[str, Any]) -> None:
    tid, sid = int(payload["tenant_id"]), int(payload["status_id"])
    async with c.db.write() as conn:
        status = await _load(conn, tid, sid)
        if status is None or status.deleted_at is not None:
            return
        boosters = select(statuses.c.account_id).where(
            statuses.c.tenant_id == tid, statuses.c.reblog_of_id == sid, statuses.c.deleted_at.is_(None))
        wanted = [NewNotification(r.account_id, status.account_id, "update", sid)
                  for r in await conn.execute(boosters)]
        created = await create_notifications(conn, tid, wanted)
        tag_names = await _tag_names(conn, tid, sid)
    events = [event(tid, "home", "status.update", ref=sid, author_id=status.account_id)]
    events += _public_events(status, tag_names, "status.update", status.account_id)
    events += notification_events(tid, created)
    await c.hub.emit(c.db, events)

