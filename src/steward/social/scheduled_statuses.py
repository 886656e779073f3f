"""Scheduled statuses: a post stored with its parameters and published by the
`status.publish_scheduled` job when its time comes."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import aware, utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.core.pagination import Page
from steward.db.tables import accounts, scheduled_statuses
from steward.jobs.queue import enqueue
from steward.model.entities import Account, Tenant, User, from_row
from steward.social.accounts import get_user_for_account
from steward.social.polls import PollDraft
from steward.social.status_drafts import StatusDraft, check_body
from steward.social.status_visibility import get_visible
from steward.social.statuses import create_status, usable_media

if TYPE_CHECKING:
    from datetime import datetime

    from steward.container import Container

log = logging.getLogger("steward.statuses")

MIN_LEAD = timedelta(minutes=5)
MAX_SCHEDULED = 300
JOB = "status.publish_scheduled"


def _check_time(at: datetime) -> None:
    if at < utcnow() + MIN_LEAD:
        raise ApiError(422, "Validation failed: Scheduled at must be at least 5 minutes in the future",
                       {"scheduled_at": [{"error": "ERR_INVALID", "description": "must be at least 5 minutes in "
                                                                                "the future"}]})


def _params(draft: StatusDraft, visibility: str) -> dict[str, Any]:
    poll = draft.poll
    return {
        "text": draft.text, "spoiler_text": draft.spoiler_text, "sensitive": draft.sensitive,
        "language": draft.language, "visibility": visibility, "in_reply_to_id": draft.in_reply_to_id,
        "poll": None if poll is None else {"options": poll.options, "expires_in": poll.expires_in,
                                           "multiple": poll.multiple, "hide_totals": poll.hide_totals},
        "idempotency": draft.idempotency_key, "application_id": draft.application_id,
    }


async def schedule(c: Container, tenant: Tenant, me: Account, user: User | None, draft: StatusDraft) -> Any:
    """Validate the post now, store it, and queue its publication; returns the row."""
    assert draft.scheduled_at is not None
    _check_time(draft.scheduled_at)
    settings = user.settings if user else {}
    visibility = draft.visibility or settings.get("default_privacy") or "public"
    now = utcnow()
    async with c.db.write() as conn:
        count = (await conn.execute(select(func.count()).select_from(scheduled_statuses).where(
            scheduled_statuses.c.tenant_id == tenant.id, scheduled_statuses.c.account_id == me.id))).scalar() or 0
        if count >= MAX_SCHEDULED:
            raise ApiError(422, f"Validation failed: You can schedule at most {MAX_SCHEDULED} posts")
        media_ids = await usable_media(conn, tenant, me, draft.media_ids or [])
        check_body(tenant, draft, bool(media_ids))
        if draft.in_reply_to_id is not None:
            await get_visible(conn, tenant.id, me.id, draft.in_reply_to_id)
        scheduled_id = new_id()
        row = {"tenant_id": tenant.id, "id": scheduled_id, "account_id": me.id, "scheduled_at": draft.scheduled_at,
               "params": _params(draft, visibility), "media_ids": [str(m) for m in media_ids],
               "application_id": draft.application_id, "created_at": now}
        await conn.execute(scheduled_statuses.insert().values(**row))
        await _queue(conn, tenant.id, scheduled_id, draft.scheduled_at)
    return from_row_dict(row)


async def _queue(conn: AsyncConnection, tenant_id: int, scheduled_id: int, at: datetime) -> None:
    delay = max((at - utcnow()).total_seconds(), 0.0)
    await enqueue(conn, JOB, {"tenant_id": tenant_id, "scheduled_status_id": scheduled_id}, tenant_id=tenant_id,
                  delay=delay)


def from_row_dict(row: Any) -> Any:
    mapping = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    mapping["scheduled_at"] = aware(mapping["scheduled_at"])
    return mapping


async def list_scheduled(conn: AsyncConnection, tenant_id: int, me: Account, page: Page) -> list[Any]:
    from steward.social.status_actions import apply_page, in_order

    query = select(scheduled_statuses).where(scheduled_statuses.c.tenant_id == tenant_id,
                                             scheduled_statuses.c.account_id == me.id)
    rows = (await conn.execute(apply_page(query, scheduled_statuses.c.id, page))).all()
    return [from_row_dict(r) for r in in_order(rows, page)]


async def get_scheduled(conn: AsyncConnection, tenant_id: int, me: Account, scheduled_id: int) -> Any:
    row = (await conn.execute(select(scheduled_statuses).where(
        scheduled_statuses.c.tenant_id == tenant_id, scheduled_statuses.c.account_id == me.id,
        scheduled_statuses.c.id == scheduled_id))).first()
    if row is None:
        raise not_found()
    return from_row_dict(row)


async def reschedule(c: Container, tenant: Tenant, me: Account, scheduled_id: int, at: datetime | None) -> Any:
    if at is None:
        raise ApiError(422, "Validation failed: scheduled_at can't be blank")
    _check_time(at)
    async with c.db.write() as conn:
        row = await get_scheduled(conn, tenant.id, me, scheduled_id)
        await conn.execute(update(scheduled_statuses).where(
            scheduled_statuses.c.tenant_id == tenant.id, scheduled_statuses.c.id == scheduled_id
        ).values(scheduled_at=at))
        await _queue(conn, tenant.id, scheduled_id, at)
    row["scheduled_at"] = at
    return row


async def cancel(c: Container, tenant: Tenant, me: Account, scheduled_id: int) -> None:
    async with c.db.write() as conn:
        await get_scheduled(conn, tenant.id, me, scheduled_id)
        await conn.execute(scheduled_statuses.delete().where(
            scheduled_statuses.c.tenant_id == tenant.id, scheduled_statuses.c.id == scheduled_id))


async def publish(c: Container, payload: dict[str, Any]) -> None:
    """The job: post the scheduled status when its (latest) time has come."""
    tenant_id, scheduled_id = int(payload["tenant_id"]), int(payload["scheduled_status_id"])
    async with c.db.read() as conn:
        row = (await conn.execute(select(scheduled_statuses).where(
            scheduled_statuses.c.tenant_id == tenant_id, scheduled_statuses.c.id == scheduled_id))).first()
        if row is None:
            return  # cancelled, or already published
        if aware(row.scheduled_at) > utcnow() + timedelta(seconds=1):  # type: ignore[operator]
            return  # rescheduled later; that change queued its own job
        account_row = (await conn.execute(select(accounts).where(accounts.c.tenant_id == tenant_id,
                                                                 accounts.c.id == row.account_id))).first()
        user = await get_user_for_account(conn, tenant_id, row.account_id)
    tenant = await c.tenants.get(tenant_id)
    if tenant is not None and account_row is not None and account_row.suspended_at is None:
        p = row.params
        poll = p.get("poll")
        draft = StatusDraft(
            text=p.get("text") or "", spoiler_text=p.get("spoiler_text") or "", sensitive=p.get("sensitive"),
            language=p.get("language"), visibility=p.get("visibility"), in_reply_to_id=p.get("in_reply_to_id"),
            media_ids=[int(m) for m in row.media_ids or []],
            poll=PollDraft(poll["options"], int(poll["expires_in"]), bool(poll.get("multiple")),
                           bool(poll.get("hide_totals"))) if poll else None,
            # A retried job must not post twice.
            idempotency_key=f"scheduled:{scheduled_id}", application_id=row.application_id)
        try:
            await create_status(c, tenant, from_row(Account, account_row), user, draft)
        except ApiError as err:
            # What was valid when scheduled may not be now (the parent was deleted, say).
            log.warning("scheduled status %s of tenant %s dropped: %s", scheduled_id, tenant_id, err.message)
    async with c.db.write() as conn:
        await conn.execute(scheduled_statuses.delete().where(
            scheduled_statuses.c.tenant_id == tenant_id, scheduled_statuses.c.id == scheduled_id))
