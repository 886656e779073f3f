"""Statuses: posting, editing and deleting, with their counters and side effects
(`status.distribute`, `status.edited`, `status.removed` jobs written in the same
transaction)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.db.tables import (
    accounts,
    idempotency_keys,
    media_attachments,
    mentions,
    polls,
    status_edits,
    status_pins,
    statuses,
)
from steward.jobs.queue import enqueue
from steward.model.entities import Account, Status, Tenant, User, from_row
from steward.social.accounts import touch_counts
from steward.social.polls import PollDraft, insert_poll, poll_from_params
from steward.social.quotes import check_policy_param, effective_policy, quotable, quote_inline
from steward.social.status_render import counted_length, render_text, set_status_tags
from steward.social.status_visibility import VISIBILITIES, get_visible

if TYPE_CHECKING:
    from steward.container import Container
    from steward.web.params import Params

LANGUAGE_RE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})?$")
MAX_SPOILER = 1500
IDEMPOTENCY_TTL = timedelta(hours=1)


@dataclass
class StatusDraft:
    text: str = ""
    spoiler_text: str = ""
    sensitive: bool | None = None
    language: str | None = None
    visibility: str | None = None
    in_reply_to_id: int | None = None
    media_ids: list[int] | None = None
    poll: PollDraft | None = None
    poll_sent: bool = False
    idempotency_key: str | None = None
    application_id: int | None = None
    quoted_status_id: int | None = None
    quote_policy: str | None = None
    scheduled_at: datetime | None = None
    # Edits may change their media's description and focus: (id, description, focus).
    media_attributes: list[tuple[int, str | None, dict[str, float] | None]] | None = None


def _media_attributes(params: Params) -> list[tuple[int, str | None, dict[str, float] | None]]:
    out: list[tuple[int, str | None, dict[str, float] | None]] = []
    for item in params.list("media_attributes")[:16]:
        if not isinstance(item, dict):
            raise ApiError(422, "Validation failed: media_attributes must be a list of objects")
        sub = type(params)(item)
        media_id = sub.id("id")
        if media_id is None:
            raise ApiError(422, "Validation failed: media_attributes need an id")
        focus = None
        raw_focus = sub.str("focus", max_len=64)
        if raw_focus:
            try:
                x, y = (float(v) for v in raw_focus.split(","))
            except ValueError:
                raise ApiError(422, "Validation failed: focus must be two numbers, x,y") from None
            if not (-1 <= x <= 1 and -1 <= y <= 1):
                raise ApiError(422, "Validation failed: focus must be between -1.0 and 1.0")
            focus = {"x": x, "y": y}
        out.append((media_id, sub.str("description", max_len=1500), focus))
    return out


def draft_from_params(tenant: Tenant, params: Params, *, idempotency_key: str | None = None,
                      application_id: int | None = None) -> StatusDraft:
    visibility = params.str("visibility", max_len=16)
    if visibility is not None and visibility not in VISIBILITIES:
        raise ApiError(422, "Validation failed: Visibility is not a valid visibility",
                       {"visibility": [{"error": "ERR_INCLUSION", "description": "is not included in the list"}]})
    language = params.str("language", max_len=16) or None
    if language is not None and not LANGUAGE_RE.match(language):
        raise ApiError(422, "Validation failed: Language is not a valid language code")
    if idempotency_key is not None and len(idempotency_key) > 128:
        raise ApiError(422, "Validation failed: Idempotency-Key is too long")
    return StatusDraft(
        text=params.str("status", "") or "",
        spoiler_text=params.str("spoiler_text", "", max_len=MAX_SPOILER) or "",
        sensitive=params.bool("sensitive"),
        language=language,
        visibility=visibility,
        in_reply_to_id=params.id("in_reply_to_id"),
        media_ids=params.id_list("media_ids", max_items=16) if "media_ids" in params else None,
        poll=poll_from_params(tenant, params),
        poll_sent="poll" in params,
        idempotency_key=idempotency_key or None,
        application_id=application_id,
        quoted_status_id=params.id("quoted_status_id") or params.id("quote_id"),
        quote_policy=check_policy_param(params.str("quote_approval_policy", max_len=16)),
        scheduled_at=schedule_time(params.str("scheduled_at", max_len=64) or None),
        media_attributes=_media_attributes(params) if "media_attributes" in params else None,
    )


def schedule_time(value: str | None) -> datetime | None:
    """`scheduled_at` as Mastodon reads it: a time already past means "post now"."""
    at = parse_timestamp(value)
    return at if at is not None and at > utcnow() else None


def parse_timestamp(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ApiError(422, "Validation failed: scheduled_at is not a valid timestamp") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def check_body(tenant: Tenant, draft: StatusDraft, has_media: bool) -> None:
    limit = int(tenant.setting("max_toot_chars", 500))
    if counted_length(draft.text) + len(draft.spoiler_text) > limit:
        raise ApiError(422, f"Validation failed: Text character limit of {limit} exceeded",
                       {"text": [{"error": "ERR_TOO_LONG", "description": f"character limit of {limit} exceeded"}]})
    if not draft.text.strip() and not has_media:
        raise ApiError(422, "Validation failed: Text can't be blank",
                       {"text": [{"error": "ERR_BLANK", "description": "can't be blank"}]})


def status_urls(base: str, username: str, status_id: int) -> tuple[str, str]:
    return f"{base}/users/{username}/statuses/{status_id}", f"{base}/@{username}/{status_id}"


async def insert_or_skip(conn: AsyncConnection, table: Any, values: dict[str, Any]) -> bool:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    result = await conn.execute(insert(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


async def usable_media(conn: AsyncConnection, tenant: Tenant, me: Account, ids: list[int],
                        current_status_id: int | None = None) -> list[int]:
    """The author's own attachments that are free to use (unattached, attached to a
    status the author deleted, or already on the status being edited), in order."""
    if not ids:
        return []
    limit = int(tenant.setting("max_media_attachments", 4))
    if len(ids) > limit:
        raise ApiError(422, f"Validation failed: You can attach at most {limit} files")
    deleted = select(statuses.c.id).where(statuses.c.tenant_id == tenant.id, statuses.c.account_id == me.id,
                                          statuses.c.deleted_at.is_not(None))
    free: list[Any] = [media_attachments.c.status_id.is_(None), media_attachments.c.status_id.in_(deleted)]
    if current_status_id is not None:
        free.append(media_attachments.c.status_id == current_status_id)
    rows = (await conn.execute(select(media_attachments.c.id, media_attachments.c.file_path,
                                      media_attachments.c.remote_url).where(
        media_attachments.c.tenant_id == tenant.id, media_attachments.c.account_id == me.id,
        media_attachments.c.id.in_(ids), or_(*free)))).all()
    found = {r.id for r in rows}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ApiError(422, f"Validation failed: media not found or already used: {', '.join(missing)}")
    # Video and audio get their file after the upload is answered (API v2).
    if any(r.file_path is None and r.remote_url is None for r in rows):
        raise ApiError(422, "Validation failed: Cannot attach files that have not finished processing. "
                            "Try again in a moment!")
    return list(dict.fromkeys(ids))


async def _attach_media(conn: AsyncConnection, tenant_id: int, status_id: int, media_ids: list[int]) -> None:
    if not media_ids:
        return
    await conn.execute(update(media_attachments).where(
        media_attachments.c.tenant_id == tenant_id, media_attachments.c.id.in_(media_ids)
    ).values(status_id=status_id, position=case({m: i for i, m in enumerate(media_ids)},
                                                value=media_attachments.c.id, else_=0)))


async def _set_mentions(conn: AsyncConnection, tenant_id: int, status_id: int, author_id: int,
                        account_ids: list[int], *, new_status: bool = False) -> list[int]:
    """Make the status's mention rows match `account_ids`; returns the newly mentioned."""
    wanted = [a for a in dict.fromkeys(account_ids) if a != author_id]
    if new_status and not wanted:
        return []
    existing: set[int] = set() if new_status else {r.account_id for r in (await conn.execute(
        select(mentions.c.account_id).where(mentions.c.tenant_id == tenant_id,
                                            mentions.c.status_id == status_id))).all()}
    gone = existing - set(wanted)
    if gone:
        await conn.execute(mentions.delete().where(mentions.c.tenant_id == tenant_id,
                                                   mentions.c.status_id == status_id,
                                                   mentions.c.account_id.in_(gone)))
    new = [a for a in wanted if a not in existing]
    if new:
        await conn.execute(mentions.insert(), [
            {"tenant_id": tenant_id, "id": new_id(), "status_id": status_id, "account_id": a, "silent": False}
            for a in new
        ])
    return new


async def load_status(conn: AsyncConnection, tenant_id: int, status_id: int) -> Status:
    row = (await conn.execute(select(statuses).where(statuses.c.tenant_id == tenant_id,
                                                     statuses.c.id == status_id))).first()
    if row is None:
        raise not_found()
    return from_row(Status, row)


async def create_status(c: Container, tenant: Tenant, me: Account, user: User | None,
                        draft: StatusDraft) -> Status:
    settings = user.settings if user else {}
    visibility = draft.visibility or settings.get("default_privacy") or "public"
    if visibility not in VISIBILITIES:
        visibility = "public"
    base = c.base_url(tenant)
    status_id = new_id()
    now = utcnow()
    async with c.db.write() as conn:
        if draft.idempotency_key:
            # Keys last an hour, as in Mastodon: an old key posts anew.
            await conn.execute(idempotency_keys.delete().where(
                idempotency_keys.c.tenant_id == tenant.id, idempotency_keys.c.account_id == me.id,
                idempotency_keys.c.key == draft.idempotency_key,
                idempotency_keys.c.created_at < now - IDEMPOTENCY_TTL))
            claimed = await insert_or_skip(conn, idempotency_keys, {
                "tenant_id": tenant.id, "account_id": me.id, "key": draft.idempotency_key,
                "status_id": status_id, "created_at": now})
            if not claimed:
                earlier = (await conn.execute(select(idempotency_keys.c.status_id).where(
                    idempotency_keys.c.tenant_id == tenant.id, idempotency_keys.c.account_id == me.id,
                    idempotency_keys.c.key == draft.idempotency_key))).scalar_one()
                return await load_status(conn, tenant.id, earlier)
        media_ids = await usable_media(conn, tenant, me, draft.media_ids or [])
        check_body(tenant, draft, bool(media_ids))
        parent = None
        if draft.in_reply_to_id is not None:
            parent = await get_visible(conn, tenant.id, me.id, draft.in_reply_to_id)
            if parent.reblog_of_id is not None:
                raise not_found()
        quoted = await quotable(conn, tenant.id, me, draft.quoted_status_id) if draft.quoted_status_id else None
        if quoted is not None and quoted.visibility == "private" and visibility in {"public", "unlisted"}:
            visibility = "private"  # a followers-only post is only quoted to followers
        rendered = await render_text(conn, tenant, base, draft.text)
        content = rendered.content
        if quoted is not None:
            content = quote_inline(quoted.url or quoted.uri) + content
        uri, url = status_urls(base, me.username, status_id)
        poll_id = await insert_poll(conn, tenant.id, me.id, status_id, draft.poll) if draft.poll else None
        row: dict[str, Any] = {
            "tenant_id": tenant.id, "id": status_id, "account_id": me.id, "uri": uri, "url": url,
            "text": draft.text, "content": content, "spoiler_text": draft.spoiler_text,
            "sensitive": bool(draft.sensitive if draft.sensitive is not None
                              else (settings.get("default_sensitive", False) and bool(media_ids)))
            or bool(draft.spoiler_text),
            "visibility": visibility,
            "language": draft.language or settings.get("default_language") or None,
            "in_reply_to_id": parent.id if parent else None,
            "in_reply_to_account_id": parent.account_id if parent else None,
            "conversation_id": (parent.conversation_id or parent.id) if parent else status_id,
            "application_id": draft.application_id, "poll_id": poll_id, "local": True,
            "quote_of_id": quoted.id if quoted else None, "quote_state": "accepted" if quoted else None,
            "quote_policy": effective_policy(visibility, draft.quote_policy
                                             or settings.get("default_quote_policy")),
            "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "quotes_count": 0,
            "created_at": now,
        }
        await conn.execute(statuses.insert().values(**row))
        await _attach_media(conn, tenant.id, status_id, media_ids)
        await _set_mentions(conn, tenant.id, status_id, me.id, rendered.mention_ids, new_status=True)
        await set_status_tags(conn, tenant.id, status_id, rendered.tag_names, new_status=True)
        if parent is not None:
            await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant.id,
                                                      statuses.c.id == parent.id)
                               .values(replies_count=statuses.c.replies_count + 1))
        await conn.execute(update(accounts).where(accounts.c.tenant_id == tenant.id, accounts.c.id == me.id)
                           .values(statuses_count=accounts.c.statuses_count + 1, last_status_at=now))
        await enqueue(conn, "status.distribute", {"tenant_id": tenant.id, "status_id": status_id},
                      tenant_id=tenant.id)
        if quoted is not None:
            await _quoted(conn, tenant.id, me, quoted, status_id)
    c.jobs.wake()
    return from_row(Status, row)


async def _with_quote(conn: AsyncConnection, status: Status, content: str) -> str:
    if status.quote_of_id is None:
        return content
    quoted = (await conn.execute(select(statuses.c.url, statuses.c.uri).where(
        statuses.c.tenant_id == status.tenant_id, statuses.c.id == status.quote_of_id))).first()
    return quote_inline(quoted.url or quoted.uri) + content if quoted else content


async def _quoted(conn: AsyncConnection, tenant_id: int, me: Account, quoted: Status, status_id: int) -> None:
    await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == quoted.id)
                       .values(quotes_count=statuses.c.quotes_count + 1))
    if quoted.account_id != me.id:
        local = (await conn.execute(select(accounts.c.domain).where(
            accounts.c.tenant_id == tenant_id, accounts.c.id == quoted.account_id))).scalar() == ""
        if local:
            await enqueue(conn, "notify", {"tenant_id": tenant_id, "account_id": quoted.account_id,
                                           "from_account_id": me.id, "type": "quote", "status_id": status_id},
                          tenant_id=tenant_id)


async def _describe_media(conn: AsyncConnection, tenant_id: int, account_id: int, media_id: int,
                          description: str | None, focus: dict[str, float] | None) -> None:
    row = (await conn.execute(select(media_attachments.c.meta).where(
        media_attachments.c.tenant_id == tenant_id, media_attachments.c.account_id == account_id,
        media_attachments.c.id == media_id))).first()
    if row is None:
        raise ApiError(422, "Validation failed: media_attributes name media that is not on this post")
    changes: dict[str, Any] = {}
    if description is not None:
        changes["description"] = description
    if focus is not None:
        changes["meta"] = {**(row.meta or {}), "focus": focus}
    if changes:
        await conn.execute(update(media_attachments).where(
            media_attachments.c.tenant_id == tenant_id, media_attachments.c.id == media_id).values(**changes))


async def _poll_options(conn: AsyncConnection, tenant_id: int, poll_id: int | None) -> list[str] | None:
    if poll_id is None:
        return None
    value = (await conn.execute(select(polls.c.options).where(polls.c.tenant_id == tenant_id,
                                                              polls.c.id == poll_id))).scalar()
    return list(value) if value is not None else None


async def _media_ids_of(conn: AsyncConnection, tenant_id: int, status_id: int) -> list[int]:
    rows = (await conn.execute(select(media_attachments.c.id).where(
        media_attachments.c.tenant_id == tenant_id, media_attachments.c.status_id == status_id
    ).order_by(media_attachments.c.position, media_attachments.c.id))).all()
    return [r.id for r in rows]


async def _snapshot(conn: AsyncConnection, status: Status, at: Any) -> None:
    await conn.execute(status_edits.insert().values(
        tenant_id=status.tenant_id, id=new_id(), status_id=status.id, account_id=status.account_id,
        text=status.text, content=status.content, spoiler_text=status.spoiler_text, sensitive=status.sensitive,
        media_ids=[str(i) for i in await _media_ids_of(conn, status.tenant_id, status.id)],
        poll_options=await _poll_options(conn, status.tenant_id, status.poll_id), created_at=at,
    ))


async def edit_status(c: Container, tenant: Tenant, me: Account, status_id: int, draft: StatusDraft) -> Status:
    base = c.base_url(tenant)
    now = utcnow()
    async with c.db.write() as conn:
        status = await load_status(conn, tenant.id, status_id)
        if status.deleted_at is not None or status.account_id != me.id or status.reblog_of_id is not None:
            raise not_found()
        current_media = await _media_ids_of(conn, tenant.id, status.id)
        media_ids = (current_media if draft.media_ids is None
                     else await usable_media(conn, tenant, me, draft.media_ids, status.id))
        has_poll_after = draft.poll is not None or (not draft.poll_sent and status.poll_id is not None)
        check = StatusDraft(text=draft.text, spoiler_text=draft.spoiler_text,
                            poll=draft.poll or (PollDraft([], 0) if has_poll_after else None))
        check_body(tenant, check, bool(media_ids))
        edited_before = (await conn.execute(select(status_edits.c.id).where(
            status_edits.c.tenant_id == tenant.id, status_edits.c.status_id == status.id).limit(1))).first()
        if edited_before is None:
            await _snapshot(conn, status, status.created_at)
        rendered = await render_text(conn, tenant, base, draft.text)
        if draft.media_ids is not None:
            dropped = [m for m in current_media if m not in media_ids]
            if dropped:
                await conn.execute(update(media_attachments).where(
                    media_attachments.c.tenant_id == tenant.id, media_attachments.c.id.in_(dropped)
                ).values(status_id=None))
            await _attach_media(conn, tenant.id, status.id, media_ids)
        for media_id, description, focus in draft.media_attributes or []:
            await _describe_media(conn, tenant.id, me.id, media_id if media_id in media_ids else 0, description,
                                  focus)
        poll_id = status.poll_id
        if draft.poll is not None:
            old = await _poll_options(conn, tenant.id, status.poll_id)
            if old != draft.poll.options or status.poll_id is None:
                poll_id = await insert_poll(conn, tenant.id, me.id, status.id, draft.poll)
        elif draft.poll_sent:
            poll_id = None
        changes: dict[str, Any] = {
            "text": draft.text, "content": await _with_quote(conn, status, rendered.content),
            "spoiler_text": draft.spoiler_text,
            "sensitive": (status.sensitive if draft.sensitive is None else draft.sensitive)
            or bool(draft.spoiler_text),
            "language": draft.language or status.language, "edited_at": now, "poll_id": poll_id,
            "quote_policy": effective_policy(status.visibility, draft.quote_policy or status.quote_policy),
        }
        await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant.id, statuses.c.id == status.id)
                           .values(**changes))
        await _set_mentions(conn, tenant.id, status.id, me.id, rendered.mention_ids)
        await set_status_tags(conn, tenant.id, status.id, rendered.tag_names)
        updated = await load_status(conn, tenant.id, status.id)
        await _snapshot(conn, updated, now)
        await enqueue(conn, "status.edited", {"tenant_id": tenant.id, "status_id": status.id}, tenant_id=tenant.id)
    c.jobs.wake()
    return updated


async def _remove(conn: AsyncConnection, tenant_id: int, status: Status, now: Any) -> None:
    """Soft-delete one status row and undo what it counted."""
    await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == status.id)
                       .values(deleted_at=now))
    await touch_counts(conn, tenant_id, status.account_id, statuses_count=-1)
    counter = None
    if status.reblog_of_id is not None:
        counter, target = statuses.c.reblogs_count, status.reblog_of_id
    elif status.in_reply_to_id is not None:
        counter, target = statuses.c.replies_count, status.in_reply_to_id
    if counter is not None:
        await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == target,
                                                  counter > 0).values({counter: counter - 1}))
    if status.quote_of_id is not None and status.quote_state == "accepted":
        await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id,
                                                  statuses.c.id == status.quote_of_id, statuses.c.quotes_count > 0)
                           .values(quotes_count=statuses.c.quotes_count - 1))
    await conn.execute(status_pins.delete().where(status_pins.c.tenant_id == tenant_id,
                                                  status_pins.c.status_id == status.id))
    await enqueue(conn, "status.removed", {"tenant_id": tenant_id, "status_id": status.id,
                                           "account_id": status.account_id}, tenant_id=tenant_id)


async def _remove_boosts(conn: AsyncConnection, tenant_id: int, status_id: int, now: Any) -> None:
    """Every boost of a deleted status goes with it, in a few statements however many there are."""
    boosts = (await conn.execute(select(statuses.c.id, statuses.c.account_id).where(
        statuses.c.tenant_id == tenant_id, statuses.c.reblog_of_id == status_id,
        statuses.c.deleted_at.is_(None)))).all()
    if not boosts:
        return
    await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id,
                                              statuses.c.id.in_([b.id for b in boosts])).values(deleted_at=now))
    per_account: dict[int, int] = {}
    for b in boosts:
        per_account[b.account_id] = per_account.get(b.account_id, 0) + 1
    for count in set(per_account.values()):
        await conn.execute(update(accounts).where(
            accounts.c.tenant_id == tenant_id, accounts.c.id.in_([a for a, n in per_account.items() if n == count]),
            accounts.c.statuses_count >= count).values(statuses_count=accounts.c.statuses_count - count))
    await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id == status_id)
                       .values(reblogs_count=0))
    for b in boosts:
        await enqueue(conn, "status.removed", {"tenant_id": tenant_id, "status_id": b.id,
                                               "account_id": b.account_id}, tenant_id=tenant_id)


async def delete_status(c: Container, tenant: Tenant, me: Account, status_id: int, *,
                        by_moderator: bool = False, delete_media: bool = False) -> Status:
    """Delete one of the author's statuses (any status of the tenant, for a
    moderator) and every boost of it. Media stays attached, so "delete and
    redraft" can reuse it, unless `delete_media` asks for it to go too."""
    now = utcnow()
    files: list[str] = []
    async with c.db.write() as conn:
        status = await load_status(conn, tenant.id, status_id)
        if status.deleted_at is not None or (status.account_id != me.id and not by_moderator):
            raise not_found()
        await _remove(conn, tenant.id, status, now)
        if delete_media:
            media_rows = (await conn.execute(select(media_attachments.c.file_path, media_attachments.c.preview_path)
                                             .where(media_attachments.c.tenant_id == tenant.id,
                                                    media_attachments.c.status_id == status.id))).all()
            files = [key for r in media_rows for key in (r.file_path, r.preview_path) if key]
            await conn.execute(media_attachments.delete().where(media_attachments.c.tenant_id == tenant.id,
                                                                media_attachments.c.status_id == status.id))
        await _remove_boosts(conn, tenant.id, status.id, now)
        status.deleted_at = now
    c.jobs.wake()
    for key in files:
        await c.media.delete(key)
    return status


async def undo_reblog(conn: AsyncConnection, tenant_id: int, me: Account, original_id: int) -> bool:
    """Remove my boost of `original_id`, if any."""
    row = (await conn.execute(select(statuses).where(
        statuses.c.tenant_id == tenant_id, statuses.c.account_id == me.id,
        statuses.c.reblog_of_id == original_id, statuses.c.deleted_at.is_(None)))).first()
    if row is None:
        return False
    await _remove(conn, tenant_id, from_row(Status, row), utcnow())
    return True


async def edit_history(conn: AsyncConnection, tenant_id: int, viewer_id: int | None,
                       status_id: int) -> tuple[Status, list[Any]]:
    """The status and its versions, oldest first (empty when never edited)."""
    status = await get_visible(conn, tenant_id, viewer_id, status_id)
    rows = (await conn.execute(select(status_edits).where(
        status_edits.c.tenant_id == tenant_id, status_edits.c.status_id == status.id
    ).order_by(status_edits.c.created_at, status_edits.c.id))).all()
    return status, list(rows)


async def source_of(conn: AsyncConnection, tenant_id: int, me: Account, status_id: int) -> Status:
    """As in Mastodon, whoever may see a status may see its source."""
    return await get_visible(conn, tenant_id, me.id, status_id)
