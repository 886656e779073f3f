"""What a moderator's desk (the HTML console) needs beyond the admin API: the
report queue with its filters, one report with everything around it, and an
account action taken from a report with the rules it cites. Changes go through
the same services as the admin API (moderation/reports.py, admin_accounts.py),
so strikes, audit rows and statements of reasons are written the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import aware
from steward.core.errors import ApiError
from steward.db.tables import admin_action_logs, reports, statuses
from steward.model.entities import Account, User
from steward.moderation import admin_accounts, report_notes
from steward.moderation import reports as report_svc
from steward.social.accounts import get_accounts
from steward.social.instance import rules as instance_rules

ORDERS = ("newest", "oldest")


@dataclass(slots=True)
class QueueFilter:
    resolved: bool = False
    assigned_to: int | None = None
    target_account_id: int | None = None
    category: str | None = None
    order: str = "newest"


@dataclass(slots=True)
class ReportView:
    report: dict[str, Any]
    people: dict[int, Account]
    target_user: User | None
    statuses: list[dict[str, Any]]
    cited_rules: list[dict[str, Any]]
    all_rules: list[dict[str, Any]]
    history: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)


def _aware(row: Any) -> dict[str, Any]:
    """A row as a dict, its timestamps in UTC (SQLite hands them back naive)."""
    return {k: aware(v) if isinstance(v, datetime) else v for k, v in row._mapping.items()}


async def queue(conn: AsyncConnection, tenant_id: int, f: QueueFilter, *, limit: int = 100
                ) -> tuple[list[dict[str, Any]], dict[int, Account]]:
    """One page of this tenant's reports and the accounts they name."""
    if f.category is not None and f.category not in report_svc.CATEGORIES:
        raise ApiError(400, "Unknown category")
    if f.order not in ORDERS:
        raise ApiError(400, "Unknown order")
    query = select(reports).where(reports.c.tenant_id == tenant_id)
    query = query.where(reports.c.action_taken_at.is_not(None) if f.resolved else reports.c.action_taken_at.is_(None))
    if f.assigned_to is not None:
        query = query.where(reports.c.assigned_account_id == f.assigned_to)
    if f.target_account_id is not None:
        query = query.where(reports.c.target_account_id == f.target_account_id)
    if f.category is not None:
        query = query.where(reports.c.category == f.category)
    query = query.order_by(reports.c.id.asc() if f.order == "oldest" else reports.c.id.desc()).limit(limit)
    rows = [_aware(r) for r in (await conn.execute(query)).all()]
    people = await get_accounts(conn, tenant_id, {i for r in rows for i in (
        r["account_id"], r["target_account_id"], r["assigned_account_id"]) if i is not None})
    return rows, people


async def _statuses(conn: AsyncConnection, tenant_id: int, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = (await conn.execute(select(statuses.c.id, statuses.c.text, statuses.c.content, statuses.c.spoiler_text,
                                      statuses.c.created_at, statuses.c.deleted_at, statuses.c.url)
                               .where(statuses.c.tenant_id == tenant_id, statuses.c.id.in_(ids))
                               .order_by(statuses.c.id))).all()
    return [_aware(r) for r in rows]


async def view(conn: AsyncConnection, tenant_id: int, report_id: int) -> ReportView:
    """A report of this tenant with its people, statuses, rules and history (404 otherwise)."""
    report: dict[str, Any] = {k: aware(v) if isinstance(v, datetime) else v
                              for k, v in (await report_svc.get_report(conn, tenant_id, report_id)).items()}
    history = [_aware(r) for r in (await conn.execute(
        select(admin_action_logs).where(admin_action_logs.c.tenant_id == tenant_id, or_(
            and_(admin_action_logs.c.target_type == "Report", admin_action_logs.c.target_id == report_id),
            and_(admin_action_logs.c.target_type == "Account",
                 admin_action_logs.c.target_id == report["target_account_id"])))
        .order_by(admin_action_logs.c.id.desc()).limit(200))).all()]
    notes = [{k: aware(v) if isinstance(v, datetime) else v for k, v in n.items()}
             for n in await report_notes.list_notes(conn, tenant_id, report_id)]
    people = await get_accounts(conn, tenant_id, {i for i in (
        report["account_id"], report["target_account_id"], report["assigned_account_id"],
        report["action_taken_by_account_id"], *(h["account_id"] for h in history),
        *(n["account_id"] for n in notes)) if i is not None})
    owners = await admin_accounts.users_of(conn, tenant_id, [report["target_account_id"]])
    cited = await report_svc.rules_by_id(conn, tenant_id, [int(i) for i in report["rule_ids"]])
    return ReportView(report, people, owners.get(report["target_account_id"]),
                      await _statuses(conn, tenant_id, [int(i) for i in report["status_ids"]]),
                      [cited[int(i)] for i in report["rule_ids"] if int(i) in cited],
                      await instance_rules(conn, tenant_id), history, notes)


async def act_on_report(conn: AsyncConnection, tenant_id: int, actor: Account, actor_user: User, report_id: int, *,
                        action: str, text: str, rule_ids: list[int] | None) -> None:
    """An account action against the report's target. When the moderator cites
    rules, the report is re-categorised with them first (as PUT /admin/reports
    does), so the strike and the statement of reasons name those rules."""
    report = await report_svc.get_report(conn, tenant_id, report_id)
    if rule_ids is not None and sorted(set(rule_ids)) != sorted(int(i) for i in report["rule_ids"]):
        await report_svc.update_report(conn, tenant_id, actor.id, report_id,
                                       category="violation" if rule_ids else None, rule_ids=rule_ids)
    await admin_accounts.take_action(conn, tenant_id, actor, actor_user, report["target_account_id"],
                                     action=action, report_id=report_id, text=text)


def age(created_at: datetime | None, now: datetime) -> str:
    """How long a report has waited, for the queue ("3 h", "2 d")."""
    if created_at is None:
        return ""
    seconds = max(0, int((now - created_at).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
