"""Statuses of remote accounts, stored per tenant as Mastodon stores what other
servers send it: the status row with its mentions, hashtags, media (referenced
by their remote URL, not cached), custom emoji and poll, and then the same
fan-out jobs a local status gets (`status.distribute`, `status.edited`,
`status.removed`), so home feeds, notifications, streaming and conversations
work alike. Boosts and favourites by remote accounts live here too.

Federation resolves everything to ids first (`RemoteDraft`); these functions
take a connection inside the caller's write transaction and never fetch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import aware, utcnow
from steward.core.ids import new_id
from steward.db.tables import (
    accounts,
    custom_emojis,
    favourites,
    media_attachments,
    mentions,
    polls,
    status_pins,
    statuses,
)
from steward.jobs.queue import enqueue
from steward.model.entities import Account, Poll, Status, from_row
from steward.social.accounts import touch_counts
from steward.social.polls import insert_remote_poll, refresh_remote_poll
from steward.social.status_edits import has_versions, record_version
from steward.social.status_render import set_status_tags
from steward.social.statuses import insert_or_skip, set_mentions


@dataclass(slots=True)
class RemotePoll:
    options: list[str]
    tallies: list[int]
    multiple: bool
    voters_count: int | None
    expires_at: datetime | None


@dataclass(slots=True)
class RemoteDraft:
    """A remote status with its references resolved to this tenant's ids.
    `content` is sanitised HTML; media items are dicts with url, type,
    description, blurhash and meta."""

    uri: str
    url: str | None
    content: str
    spoiler_text: str
    sensitive: bool
    visibility: str
    language: str | None
    created_at: datetime
    parent: Status | None = None
    mention_ids: list[int] = field(default_factory=list)
    silent_mention_ids: list[int] = field(default_factory=list)
    tag_names: list[str] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    emojis: list[tuple[str, str]] = field(default_factory=list)
    poll: RemotePoll | None = None
    edited_at: datetime | None = None


def _host(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return parts.netloc.lower() or None


async def by_uri(conn: AsyncConnection, tenant_id: int, uri: str, *, with_deleted: bool = False,
                 by_url: bool = True) -> Status | None:
    """The stored status (local or remote) whose `uri` is `uri`, or (`by_url`)
    whose `url` is, when that status's id is on the same server as the URL
    (a server cannot claim another's URL for its own object)."""
    row = (await conn.execute(select(statuses).where(statuses.c.tenant_id == tenant_id,
                                                     statuses.c.uri == uri))).first()
    if row is None and by_url:
        candidates = (await conn.execute(select(statuses).where(
            statuses.c.tenant_id == tenant_id, statuses.c.url == uri, statuses.c.reblog_of_id.is_(None)
        ).limit(4))).all()
        row = next((r for r in candidates if _host(r.uri) == _host(uri)), None)
    if row is None:
        return None
    found = from_row(Status, row)
    return found if with_deleted or found.deleted_at is None else None


async def _store_emojis(conn: AsyncConnection, tenant_id: int, domain: str, emojis: list[tuple[str, str]]) -> None:
    for shortcode, url in emojis:
        added = await insert_or_skip(conn, custom_emojis, {
            "tenant_id": tenant_id, "id": new_id(), "shortcode": shortcode[:128], "domain": domain,
            "remote_url": url, "visible_in_picker": False, "disabled": False, "created_at": utcnow()})
        if not added:
            await conn.execute(update(custom_emojis).where(
                custom_emojis.c.tenant_id == tenant_id, custom_emojis.c.shortcode == shortcode[:128],
                custom_emojis.c.domain == domain, custom_emojis.c.image_path.is_(None)).values(remote_url=url))


async def _insert_media(conn: AsyncConnection, tenant_id: int, author_id: int, status_id: int,
                        media: list[dict[str, Any]]) -> None:
    if not media:
        return
    now = utcnow()
    await conn.execute(media_attachments.insert(), [
        {"tenant_id": tenant_id, "id": new_id(), "account_id": author_id, "status_id": status_id,
         "type": m["type"], "file_path": None, "preview_path": None, "remote_url": m["url"],
         "description": m.get("description"), "blurhash": m.get("blurhash"), "meta": m.get("meta") or {},
         "position": i, "created_at": now} for i, m in enumerate(media)])


async def _mentions(conn: AsyncConnection, tenant_id: int, status_id: int, author_id: int, draft: RemoteDraft,
                    *, new_status: bool) -> None:
    await set_mentions(conn, tenant_id, status_id, author_id, draft.mention_ids + draft.silent_mention_ids,
                       new_status=new_status)
    silent = [a for a in draft.silent_mention_ids if a not in draft.mention_ids]
    if silent:
        # Addressed without a Mention tag: they may see it, but it notifies nobody.
        await conn.execute(update(mentions).where(mentions.c.tenant_id == tenant_id,
                                                  mentions.c.status_id == status_id,
                                                  mentions.c.account_id.in_(silent)).values(silent=True))


async def store_remote_status(conn: AsyncConnection, tenant_id: int, author: Account,
                              draft: RemoteDraft) -> tuple[int, bool]:
    """Insert the status unless this tenant has it already; returns (status id,
    whether it was inserted now). Queues its fan-out in the same transaction."""
    existing = await by_uri(conn, tenant_id, draft.uri, with_deleted=True)
    if existing is not None:
        return existing.id, False
    status_id = new_id(min(draft.created_at, utcnow()))
    parent = draft.parent
    row: dict[str, Any] = {
        "tenant_id": tenant_id, "id": status_id, "account_id": author.id, "uri": draft.uri, "url": draft.url,
        "text": draft.content, "content": draft.content, "spoiler_text": draft.spoiler_text,
        "sensitive": draft.sensitive or bool(draft.spoiler_text), "visibility": draft.visibility,
        "language": draft.language, "in_reply_to_id": parent.id if parent else None,
        "in_reply_to_account_id": parent.account_id if parent else None,
        "conversation_id": (parent.conversation_id or parent.id) if parent else status_id,
        "local": False, "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "quotes_count": 0,
        "created_at": draft.created_at, "edited_at": draft.edited_at,
    }
    if not await insert_or_skip(conn, statuses, row):
        raced = await by_uri(conn, tenant_id, draft.uri, with_deleted=True)
        return (raced.id if raced else status_id), False
    if draft.poll is not None:
        poll_id = await insert_remote_poll(conn, tenant_id, author.id, status_id, options=draft.poll.options,
                                           tallies=draft.poll.tallies, multiple=draft.poll.multiple,
                                           voters_count=draft.poll.voters_count, expires_at=draft.poll.expires_at)
        await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == status_id)
                           .values(poll_id=poll_id))
    await _insert_media(conn, tenant_id, author.id, status_id, draft.media)
    await _mentions(conn, tenant_id, status_id, author.id, draft, new_status=True)
    await set_status_tags(conn, tenant_id, status_id, draft.tag_names, new_status=True)
    await _store_emojis(conn, tenant_id, author.domain, draft.emojis)
    if parent is not None:
        await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == parent.id)
                           .values(replies_count=statuses.c.replies_count + 1))
    await conn.execute(update(accounts).where(accounts.c.tenant_id == tenant_id, accounts.c.id == author.id)
                       .values(statuses_count=accounts.c.statuses_count + 1, last_status_at=utcnow()))
    await enqueue(conn, "status.distribute", {"tenant_id": tenant_id, "status_id": status_id}, tenant_id=tenant_id)
    return status_id, True


async def link_parent(conn: AsyncConnection, tenant_id: int, status_id: int, parent: Status) -> bool:
    """Attach a stored reply to its parent once the parent has been fetched."""
    result = await conn.execute(update(statuses).where(
        statuses.c.tenant_id == tenant_id, statuses.c.id == status_id, statuses.c.in_reply_to_id.is_(None),
        statuses.c.local.is_(False)).values(
        in_reply_to_id=parent.id, in_reply_to_account_id=parent.account_id,
        conversation_id=parent.conversation_id or parent.id))
    if not result.rowcount:
        return False
    await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == parent.id)
                       .values(replies_count=statuses.c.replies_count + 1))
    return True


async def _poll_of(conn: AsyncConnection, tenant_id: int, poll_id: int | None) -> Poll | None:
    if poll_id is None:
        return None
    row = (await conn.execute(select(polls).where(polls.c.tenant_id == tenant_id, polls.c.id == poll_id))).first()
    return from_row(Poll, row) if row else None


async def _media_urls(conn: AsyncConnection, tenant_id: int, status_id: int) -> list[tuple[str | None, str | None]]:
    rows = (await conn.execute(select(media_attachments.c.remote_url, media_attachments.c.description).where(
        media_attachments.c.tenant_id == tenant_id, media_attachments.c.status_id == status_id
    ).order_by(media_attachments.c.position, media_attachments.c.id))).all()
    return [(r.remote_url, r.description) for r in rows]


async def edit_remote_status(conn: AsyncConnection, tenant_id: int, status: Status, draft: RemoteDraft) -> bool:
    """Apply the author's Update. A change of text, warning, sensitivity, media
    or poll options is an edit kept in the history (with `update`
    notifications to those who boosted it); new poll counts alone are not.
    Returns whether it was an edit."""
    poll = await _poll_of(conn, tenant_id, status.poll_id)
    stored_edit = aware(status.edited_at)
    if stored_edit is not None and draft.edited_at is not None and draft.edited_at < stored_edit:
        return False  # an older version arriving late
    options_changed = (poll.options if poll else None) != (draft.poll.options if draft.poll else None)
    media_changed = await _media_urls(conn, tenant_id, status.id) != [(m["url"], m.get("description"))
                                                                       for m in draft.media]
    sensitive = draft.sensitive or bool(draft.spoiler_text)
    edited = (status.content != draft.content or status.spoiler_text != draft.spoiler_text
              or status.sensitive != sensitive or media_changed or options_changed)
    if not edited:
        if poll is not None and draft.poll is not None:
            await refresh_remote_poll(conn, tenant_id, poll.id, tallies=draft.poll.tallies,
                                      voters_count=draft.poll.voters_count, expires_at=draft.poll.expires_at)
        return False
    now = utcnow()
    if not await has_versions(conn, tenant_id, status.id):
        await record_version(conn, status, status.created_at)
    poll_id = status.poll_id
    if options_changed:
        poll_id = None
        if draft.poll is not None:
            poll_id = await insert_remote_poll(conn, tenant_id, status.account_id, status.id,
                                               options=draft.poll.options, tallies=draft.poll.tallies,
                                               multiple=draft.poll.multiple, voters_count=draft.poll.voters_count,
                                               expires_at=draft.poll.expires_at)
    elif poll is not None and draft.poll is not None:
        await refresh_remote_poll(conn, tenant_id, poll.id, tallies=draft.poll.tallies,
                                  voters_count=draft.poll.voters_count, expires_at=draft.poll.expires_at)
    if media_changed:
        await conn.execute(media_attachments.delete().where(media_attachments.c.tenant_id == tenant_id,
                                                            media_attachments.c.status_id == status.id))
        await _insert_media(conn, tenant_id, status.account_id, status.id, draft.media)
    await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == status.id).values(
        text=draft.content, content=draft.content, spoiler_text=draft.spoiler_text, sensitive=sensitive,
        language=draft.language or status.language, edited_at=draft.edited_at or now, poll_id=poll_id))
    await _mentions(conn, tenant_id, status.id, status.account_id, draft, new_status=False)
    await set_status_tags(conn, tenant_id, status.id, draft.tag_names)
    author_domain = (await conn.execute(select(accounts.c.domain).where(
        accounts.c.tenant_id == tenant_id, accounts.c.id == status.account_id))).scalar() or ""
    await _store_emojis(conn, tenant_id, author_domain, draft.emojis)
    row = (await conn.execute(select(statuses).where(statuses.c.tenant_id == tenant_id,
                                                     statuses.c.id == status.id))).one()
    await record_version(conn, from_row(Status, row), now)
    await enqueue(conn, "status.edited", {"tenant_id": tenant_id, "status_id": status.id}, tenant_id=tenant_id)
    return True


async def remove_remote_status(conn: AsyncConnection, tenant_id: int, status: Status) -> None:
    """The author deleted it (or undid a boost): soft-delete with its boosts,
    undo what it counted, and drop it from feeds and notifications (jobs)."""
    now = utcnow()
    doomed = [status] + [from_row(Status, r) for r in (await conn.execute(select(statuses).where(
        statuses.c.tenant_id == tenant_id, statuses.c.reblog_of_id == status.id,
        statuses.c.deleted_at.is_(None)))).all()]
    for item in doomed:
        await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == item.id)
                           .values(deleted_at=now))
        await touch_counts(conn, tenant_id, item.account_id, statuses_count=-1)
        await conn.execute(status_pins.delete().where(status_pins.c.tenant_id == tenant_id,
                                                      status_pins.c.status_id == item.id))
        await enqueue(conn, "status.removed", {"tenant_id": tenant_id, "status_id": item.id,
                                               "account_id": item.account_id}, tenant_id=tenant_id)
    target, column = ((status.reblog_of_id, statuses.c.reblogs_count) if status.reblog_of_id is not None
                      else (status.in_reply_to_id, statuses.c.replies_count))
    if target is not None:
        await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == target,
                                                  column > 0).values({column: column - 1}))


async def remote_boost(conn: AsyncConnection, tenant_id: int, booster: Account, original: Status, *, uri: str,
                       visibility: str, created_at: datetime) -> int | None:
    """A remote account's Announce of a stored status; None when it cannot be
    boosted (direct, or someone else's followers-only post) or is stored already."""
    if original.visibility == "direct" or (original.visibility == "private"
                                           and original.account_id != booster.id):
        return None
    if await by_uri(conn, tenant_id, uri, with_deleted=True) is not None:
        return None
    already = (await conn.execute(select(statuses.c.id).where(
        statuses.c.tenant_id == tenant_id, statuses.c.account_id == booster.id,
        statuses.c.reblog_of_id == original.id, statuses.c.deleted_at.is_(None)))).first()
    if already is not None:
        return None
    boost_id = new_id(min(created_at, utcnow()))
    added = await insert_or_skip(conn, statuses, {
        "tenant_id": tenant_id, "id": boost_id, "account_id": booster.id, "uri": uri, "url": original.url,
        "text": "", "content": "", "spoiler_text": "", "sensitive": False,
        "visibility": "private" if original.visibility == "private" else visibility,
        "reblog_of_id": original.id, "conversation_id": original.conversation_id, "local": False,
        "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "quotes_count": 0,
        "created_at": created_at})
    if not added:
        return None
    await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == original.id)
                       .values(reblogs_count=statuses.c.reblogs_count + 1))
    await touch_counts(conn, tenant_id, booster.id, statuses_count=1)
    await enqueue(conn, "status.distribute", {"tenant_id": tenant_id, "status_id": boost_id}, tenant_id=tenant_id)
    return boost_id


async def remote_unboost(conn: AsyncConnection, tenant_id: int, booster_id: int, uri: str) -> bool:
    """Undo of an Announce: the booster's boost stored under that activity id."""
    row = (await conn.execute(select(statuses).where(
        statuses.c.tenant_id == tenant_id, statuses.c.uri == uri, statuses.c.account_id == booster_id,
        statuses.c.reblog_of_id.is_not(None), statuses.c.deleted_at.is_(None)))).first()
    if row is None:
        return False
    await remove_remote_status(conn, tenant_id, from_row(Status, row))
    return True


async def remote_favourite(conn: AsyncConnection, tenant_id: int, account_id: int, status: Status,
                           uri: str | None) -> bool:
    """A remote account's Like; a `favourite` notification when the author is ours."""
    added = await insert_or_skip(conn, favourites, {"tenant_id": tenant_id, "id": new_id(), "account_id": account_id,
                                                    "status_id": status.id, "uri": uri, "created_at": utcnow()})
    if not added:
        return False
    await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == status.id)
                       .values(favourites_count=statuses.c.favourites_count + 1))
    if status.local:
        await enqueue(conn, "notify", {"tenant_id": tenant_id, "account_id": status.account_id,
                                       "from_account_id": account_id, "type": "favourite",
                                       "status_id": status.id}, tenant_id=tenant_id)
    return True


async def remote_unfavourite(conn: AsyncConnection, tenant_id: int, account_id: int, *, uri: str | None = None,
                             status_id: int | None = None) -> bool:
    """Undo of a Like, named by the Like's id or by the liked status."""
    match = favourites.c.uri == uri if uri is not None else favourites.c.status_id == status_id
    gone = (await conn.execute(favourites.delete().where(
        favourites.c.tenant_id == tenant_id, favourites.c.account_id == account_id, match)
        .returning(favourites.c.status_id))).all()
    for row in gone:
        await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == row.status_id,
                                                  statuses.c.favourites_count > 0)
                           .values(favourites_count=statuses.c.favourites_count - 1))
    return bool(gone)
