"""Editing statuses: versions kept in `status_edits` (the original becomes the
first version on the first edit), the edit history and the source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.db.tables import media_attachments, polls, status_edits, statuses
from steward.jobs.queue import enqueue
from steward.model.entities import Account, MediaAttachment, Status, Tenant, from_row
from steward.social.federate import federate
from steward.social.polls import PollDraft, insert_poll
from steward.social.quotes import effective_policy
from steward.social.status_drafts import MediaEdit, StatusDraft, check_body
from steward.social.status_render import render_text, set_status_tags
from steward.social.status_visibility import get_visible
from steward.social.statuses import attach_media, load_status, set_mentions, usable_media, with_quote_link

if TYPE_CHECKING:
    from steward.container import Container


async def _new_previews(c: Container, tenant: Tenant, me: Account,
                        edits: list[MediaEdit]) -> dict[int, dict[str, Any]]:
    """Process and store the new thumbnails first (outside the transaction):
    media id -> the column changes that point at them."""
    from steward.social.media import read_upload, store_thumbnail

    wanted = [e for e in edits if e.thumbnail is not None]
    if not wanted:
        return {}
    async with c.db.read() as conn:
        rows = (await conn.execute(select(media_attachments).where(
            media_attachments.c.tenant_id == tenant.id, media_attachments.c.account_id == me.id,
            media_attachments.c.id.in_([e.id for e in wanted])))).all()
    own = {r.id: from_row(MediaAttachment, r) for r in rows}
    out: dict[int, dict[str, Any]] = {}
    try:
        for edit in wanted:
            media = own.get(edit.id)
            if media is None:
                raise ApiError(422, "Validation failed: media_attributes name media that is not on this post")
            thumb = edit.thumbnail
            assert thumb is not None
            data = thumb if isinstance(thumb, bytes) else await read_upload(thumb)
            out[edit.id] = await store_thumbnail(c, tenant.id, media, data)
    except BaseException:
        for changes in out.values():
            await c.media.delete(changes["preview_path"])
        raise
    return out


async def _describe_media(conn: AsyncConnection, tenant_id: int, account_id: int, media_id: int, edit: MediaEdit,
                          preview: dict[str, Any] | None) -> str | None:
    """Apply one media edit; returns the preview file it replaced, if any."""
    row = (await conn.execute(select(media_attachments.c.meta, media_attachments.c.preview_path).where(
        media_attachments.c.tenant_id == tenant_id, media_attachments.c.account_id == account_id,
        media_attachments.c.id == media_id))).first()
    if row is None:
        raise ApiError(422, "Validation failed: media_attributes name media that is not on this post")
    changes: dict[str, Any] = {}
    meta = dict(row.meta or {})
    if edit.description is not None:
        changes["description"] = edit.description
    if edit.focus is not None:
        meta["focus"] = edit.focus
        changes["meta"] = meta
    if preview is not None:
        meta["small"] = preview["meta"].get("small")
        changes.update(meta=meta, preview_path=preview["preview_path"], blurhash=preview["blurhash"])
    if changes:
        await conn.execute(update(media_attachments).where(
            media_attachments.c.tenant_id == tenant_id, media_attachments.c.id == media_id).values(**changes))
    return row.preview_path if preview is not None else None


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
    previews = await _new_previews(c, tenant, me, draft.media_attributes or [])
    try:
        status, replaced = await _edit(c, tenant, me, status_id, draft, previews)
    except BaseException:
        for preview in previews.values():
            await c.media.delete(preview["preview_path"])
        raise
    for key in replaced:
        await c.media.delete(key)
    return status


async def _edit(c: Container, tenant: Tenant, me: Account, status_id: int, draft: StatusDraft,
                previews: dict[int, dict[str, Any]]) -> tuple[Status, list[str]]:
    base = c.base_url(tenant)
    now = utcnow()
    replaced: list[str] = []
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
            await attach_media(conn, tenant.id, status.id, media_ids)
        for edit in draft.media_attributes or []:
            old_preview = await _describe_media(conn, tenant.id, me.id, edit.id if edit.id in media_ids else 0,
                                                edit, previews.get(edit.id))
            if old_preview:
                replaced.append(old_preview)
        poll_id = status.poll_id
        if draft.poll is not None:
            old = await _poll_options(conn, tenant.id, status.poll_id)
            if old != draft.poll.options or status.poll_id is None:
                poll_id = await insert_poll(conn, tenant.id, me.id, status.id, draft.poll)
        elif draft.poll_sent:
            poll_id = None
        changes: dict[str, Any] = {
            "text": draft.text, "content": await with_quote_link(conn, status, rendered.content),
            "spoiler_text": draft.spoiler_text,
            "sensitive": (status.sensitive if draft.sensitive is None else draft.sensitive)
            or bool(draft.spoiler_text),
            "language": draft.language or status.language, "edited_at": now, "poll_id": poll_id,
            "quote_policy": effective_policy(status.visibility, draft.quote_policy or status.quote_policy),
        }
        await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant.id, statuses.c.id == status.id)
                           .values(**changes))
        await set_mentions(conn, tenant.id, status.id, me.id, rendered.mention_ids)
        await set_status_tags(conn, tenant.id, status.id, rendered.tag_names)
        updated = await load_status(conn, tenant.id, status.id)
        await _snapshot(conn, updated, now)
        await enqueue(conn, "status.edited", {"tenant_id": tenant.id, "status_id": status.id}, tenant_id=tenant.id)
        await federate(conn, tenant.id, "status.edited", status_id=status.id)
    c.jobs.wake()
    return updated, replaced


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


async def record_version(conn: AsyncConnection, status: Status, at: Any) -> None:
    """Keep `status` as it is now as one version of its history (remote edits:
    the version before the first edit, then each new one)."""
    await _snapshot(conn, status, at)


async def has_versions(conn: AsyncConnection, tenant_id: int, status_id: int) -> bool:
    return (await conn.execute(select(status_edits.c.id).where(
        status_edits.c.tenant_id == tenant_id, status_edits.c.status_id == status_id).limit(1))).first() is not None
