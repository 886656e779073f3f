"""Moderators' notes on a report: added, listed and deleted by staff of the
report's tenant; every change is written to the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError, not_found, unprocessable
from steward.core.ids import new_id
from steward.db.tables import report_notes
from steward.model.entities import User
from steward.moderation.audit import log_action
from steward.moderation.reports import get_report
from steward.moderation.roles import Permission, has_permission

MAX_NOTE = 500  # Mastodon's limit for a report note


async def list_notes(conn: AsyncConnection, tenant_id: int, report_id: int) -> list[dict[str, Any]]:
    await get_report(conn, tenant_id, report_id)
    rows = (await conn.execute(select(report_notes).where(
        report_notes.c.tenant_id == tenant_id, report_notes.c.report_id == report_id)
        .order_by(report_notes.c.id))).all()
    return [dict(r._mapping) for r in rows]


async def add_note(conn: AsyncConnection, tenant_id: int, actor_id: int, report_id: int,
                   content: str) -> dict[str, Any]:
    content = (content or "").strip()
    if not content:
        raise unprocessable("Content can't be blank", "content", "ERR_BLANK")
    if len(content) > MAX_NOTE:
        raise unprocessable(f"Content is too long (maximum is {MAX_NOTE} characters)", "content", "ERR_TOO_LONG")
    await get_report(conn, tenant_id, report_id)
    row: dict[str, Any] = {"tenant_id": tenant_id, "id": new_id(), "report_id": report_id, "account_id": actor_id,
           "content": content, "created_at": utcnow()}
    await conn.execute(report_notes.insert().values(**row))
    await log_action(conn, tenant_id, actor_id, "create", "ReportNote", row["id"], report_id=report_id)
    return row


async def delete_note(conn: AsyncConnection, tenant_id: int, actor_id: int, actor_user: User,
                      report_id: int, note_id: int) -> None:
    """A moderator deletes their own note; an administrator anyone's."""
    row = (await conn.execute(select(report_notes).where(
        report_notes.c.tenant_id == tenant_id, report_notes.c.report_id == report_id,
        report_notes.c.id == note_id))).first()
    if row is None:
        raise not_found()
    if row.account_id != actor_id and not has_permission(actor_user, Permission.ADMINISTRATOR):
        raise ApiError(403, "Only the author of a note can delete it")
    await conn.execute(delete(report_notes).where(report_notes.c.tenant_id == tenant_id,
                                                  report_notes.c.id == note_id))
    await log_action(conn, tenant_id, actor_id, "destroy", "ReportNote", note_id, report_id=report_id)
