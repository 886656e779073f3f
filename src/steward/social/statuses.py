"""Statuses: posting and deleting, with their counters and side effects
(`status.distribute`, `status.removed` jobs written in the same transaction).
Drafts are read in `status_drafts`, edits live in `status_edits`."""

from __future__ import annotations

from datetime import timedelta
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
    status_pins,
    statuses,
)
from steward.jobs.queue import enqueue
from steward.model.entities import Account, Status, Tenant, User, from_row
from steward.social.accounts import touch_counts
from steward.social.federate import federate
from steward.social.polls import insert_poll
from steward.social.quotes import effective_policy, quotable, quote_inline
from steward.social.status_drafts import StatusDraft, check_body
from steward.social.status_render import render_text, set_status_tags
from steward.social.status_visibility import VISIBILITIES, get_visible

if TYPE_CHECKING:
    from steward.container import Container

IDEMPOTENCY_TTL = timedelta(hours=1)


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


async def attach_media(conn: AsyncConnection, tenant_id: int, status_id: int, media_ids: list[int]) -> None:
    if not media_ids:
        return
    await conn.execute(update(media_attachments).where(
        media_attachments.c.tenant_id == tenant_id, media_attachments.c.id.in_(media_ids)
    ).values(status_id=status_id, position=case({m: i for i, m in enumerate(media_ids)},
                                                value=media_attachments.c.id, else_=0)))


async def set_mentions(conn: AsyncConnection, tenant_id: int, status_id: int, author_id: int,
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
            or bool(draft.spoiler_text)
            # A moderator's "mark sensitive" covers every later post with media.
            or (me.sensitized_at is not None and bool(media_ids)),
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
        await attach_media(conn, tenant.id, status_id, media_ids)
        await set_mentions(conn, tenant.id, status_id, me.id, rendered.mention_ids, new_status=True)
        await set_status_tags(conn, tenant.id, status_id, rendered.tag_names, new_status=True)
        if parent is not None:
            await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant.id,
                                                      statuses.c.id == parent.id)
                               .values(replies_count=statuses.c.replies_count + 1))
        await conn.execute(update(accounts).where(accounts.c.tenant_id == tenant.id, accounts.c.id == me.id)
                           .values(statuses_count=accounts.c.statuses_count + 1, last_status_at=now))
        await enqueue(conn, "status.distribute", {"tenant_id": tenant.id, "status_id": status_id},
                      tenant_id=tenant.id)
        await federate(conn, tenant.id, "status.created", status_id=status_id)
        if quoted is not None:
            await _quoted(conn, tenant.id, me, quoted, status_id)
    c.jobs.wake()
    return from_row(Status, row)


async def with_quote_link(conn: AsyncConnection, status: Status, content: str) -> str:
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
        await federate(conn, tenant.id, "status.deleted", status_id=status.id)
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
    await federate(conn, tenant_id, "status.unreblogged", status_id=row.id)
    return True


async def remove_statuses(conn: AsyncConnection, tenant_id: int, items: list[Status]) -> None:
    """A moderator's removal, inside the caller's transaction: each status and
    its boosts go as if deleted by their author (a local author's deletion is
    federated). Soft deletes, so an approved appeal can restore them."""
    now = utcnow()
    for status in items:
        if status.deleted_at is not None:
            continue
        await _remove(conn, tenant_id, status, now)
        if status.local:
            await federate(conn, tenant_id, "status.deleted", status_id=status.id)
        await _remove_boosts(conn, tenant_id, status.id, now)


async def restore_statuses(conn: AsyncConnection, tenant_id: int, account_id: int, status_ids: list[int]) -> int:
    """Undo a moderator's removal of some of an account's statuses (an appeal
    was approved): they count again and go back into timelines. Boosts removed
    with them stay removed. Returns how many came back."""
    back = (await conn.execute(select(statuses.c.id).where(
        statuses.c.tenant_id == tenant_id, statuses.c.account_id == account_id, statuses.c.id.in_(status_ids),
        statuses.c.deleted_at.is_not(None)))).scalars().all()
    if not back:
        return 0
    await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id.in_(back))
                       .values(deleted_at=None))
    await touch_counts(conn, tenant_id, account_id, statuses_count=len(back))
    for status_id in back:
        await enqueue(conn, "status.distribute", {"tenant_id": tenant_id, "status_id": status_id},
                      tenant_id=tenant_id)
    return len(back)


async def set_sensitive(conn: AsyncConnection, tenant_id: int, account_id: int, status_ids: list[int],
                        sensitive: bool) -> list[int]:
    """A moderator marks (or unmarks) an account's statuses as sensitive; a
    local author's change is federated as an edit. Returns the ids changed."""
    changed = list((await conn.execute(select(statuses.c.id).where(
        statuses.c.tenant_id == tenant_id, statuses.c.account_id == account_id, statuses.c.id.in_(status_ids),
        statuses.c.deleted_at.is_(None), statuses.c.sensitive.is_not(sensitive)))).scalars())
    if not changed:
        return []
    await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id.in_(changed))
                       .values(sensitive=sensitive))
    local = (await conn.execute(select(accounts.c.domain).where(
        accounts.c.tenant_id == tenant_id, accounts.c.id == account_id))).scalar() == ""
    for status_id in changed:
        await enqueue(conn, "status.edited", {"tenant_id": tenant_id, "status_id": status_id}, tenant_id=tenant_id)
        if local:
            await federate(conn, tenant_id, "status.edited", status_id=status_id)
    return changed
