"""Moderating posts rather than accounts: delete some of an account's statuses
or mark them sensitive (Mastodon's `delete_statuses` and
`mark_statuses_as_sensitive` strikes). Like an account action, each decision
writes a strike the author sees (with a moderation_warning notification), an
audit row per status, and a statement of reasons; an approved appeal restores
the statuses or lifts the mark (`reverse`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.errors import ApiError, not_found, unprocessable
from steward.db.tables import reports, statuses
from steward.jobs.queue import enqueue
from steward.model.entities import Account, Status, User, from_row
from steward.moderation.admin_accounts import (
    _check_rank,
    _content_date,
    _rule_texts,
    _strike,
    get_with_user,
    settle_reports,
)
from steward.moderation.audit import log_action
from steward.moderation.presets import action_text
from steward.moderation.statements import record_statement
from steward.social.statuses import remove_statuses, restore_statuses, set_sensitive

STATUS_ACTIONS = ("delete_statuses", "mark_statuses_as_sensitive")
MAX_STATUSES = 100


async def _report(conn: AsyncConnection, tenant_id: int, report_id: int) -> dict[str, Any]:
    row = (await conn.execute(select(reports).where(reports.c.tenant_id == tenant_id,
                                                    reports.c.id == report_id))).first()
    if row is None:
        raise not_found()
    return dict(row._mapping)


async def _statuses(conn: AsyncConnection, tenant_id: int, ids: list[int]) -> list[Status]:
    rows = (await conn.execute(select(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id.in_(ids),
                                                      statuses.c.deleted_at.is_(None),
                                                      statuses.c.reblog_of_id.is_(None)))).all()
    return [from_row(Status, r) for r in rows]


async def moderate_statuses(conn: AsyncConnection, tenant_id: int, actor: Account, actor_user: User, *,
                            action: str, status_ids: list[int], report_id: int | None, text: str,
                            warning_preset_id: int | None = None) -> int:
    """Act on statuses of one account (with a report: statuses it names, all
    of them when none are given). Returns the strike's id."""
    if action not in STATUS_ACTIONS:
        raise ApiError(422, "Validation failed: Type is not included in the list",
                       {"type": [{"error": "ERR_INCLUSION", "description": "is not included in the list"}]})
    report = await _report(conn, tenant_id, report_id) if report_id is not None else None
    if report is not None:
        named = [int(i) for i in report["status_ids"]]
        if not status_ids:
            status_ids = named
        if set(status_ids) - set(named):
            raise unprocessable("The report does not name these statuses", "status_ids")
    status_ids = list(dict.fromkeys(status_ids))
    if not status_ids:
        raise unprocessable("Name at least one status", "status_ids")
    if len(status_ids) > MAX_STATUSES:
        raise unprocessable(f"At most {MAX_STATUSES} statuses at once", "status_ids")
    found = await _statuses(conn, tenant_id, status_ids)
    if len(found) != len(status_ids):
        raise not_found()
    authors = {s.account_id for s in found}
    if len(authors) != 1:
        raise unprocessable("The statuses must all be by one account", "status_ids")
    target, target_user = await get_with_user(conn, tenant_id, authors.pop())
    if report is not None and report["target_account_id"] != target.id:
        raise unprocessable("The report is about another account", "report_id")
    _check_rank(actor_user, target_user)
    if action == "delete_statuses":
        content_date = await _content_date(conn, tenant_id, status_ids)
        await remove_statuses(conn, tenant_id, found)
        for s in found:
            await log_action(conn, tenant_id, actor.id, "destroy", "Status", s.id, target.acct())
    else:
        content_date = await _content_date(conn, tenant_id, status_ids)
        for status_id in await set_sensitive(conn, tenant_id, target.id, status_ids, True):
            await log_action(conn, tenant_id, actor.id, "update", "Status", status_id, target.acct(),
                             sensitive=True)
    if report is not None:
        await settle_reports(conn, tenant_id, actor.id, int(report["id"]), target.id, every_open=True)
    text = await action_text(conn, tenant_id, warning_preset_id, text)
    warning_id = await _strike(conn, tenant_id, actor, target, action, text, status_ids, report)
    if target_user is not None:
        await enqueue(conn, "notify", {"tenant_id": tenant_id, "account_id": target.id, "from_account_id": target.id,
                                       "type": "moderation_warning", "account_warning_id": warning_id},
                      tenant_id=tenant_id)
    await record_statement(
        conn, tenant_id, action=action, target_account_id=target.id, target_created_at=target.created_at,
        warning_id=warning_id, report=report,
        rule_texts=await _rule_texts(conn, tenant_id, list(report["rule_ids"]) if report else []),
        status_ids=status_ids, content_date=content_date)
    return warning_id


async def reverse(conn: AsyncConnection, tenant_id: int, actor: Account, warning: Any) -> str | None:
    """Undo a status strike whose appeal was approved; the audit action name,
    or None when the strike is not about statuses."""
    ids = [int(i) for i in warning.status_ids or []]
    if warning.action == "delete_statuses":
        await restore_statuses(conn, tenant_id, warning.target_account_id, ids)
        for status_id in ids:
            await log_action(conn, tenant_id, actor.id, "restore", "Status", status_id)
        return "restore_statuses"
    if warning.action == "mark_statuses_as_sensitive":
        for status_id in await set_sensitive(conn, tenant_id, warning.target_account_id, ids, False):
            await log_action(conn, tenant_id, actor.id, "update", "Status", status_id, sensitive=False)
        return "unsensitive_statuses"
    return None
