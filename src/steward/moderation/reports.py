"""Reports: filing by users, and the queue as moderators work it (list, show,
re-categorise, assign, resolve, reopen). Every moderator change is written to
the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.db.tables import account_warnings, instance_rules, reports, statuses, users
from steward.jobs.queue import enqueue
from steward.model.entities import Account, Tenant, User, from_row
from steward.moderation.audit import log_action
from steward.moderation.roles import Permission, has_permission
from steward.social.accounts import get_account
from steward.social.federate import federate

if TYPE_CHECKING:
    from steward.container import Container

CATEGORIES = ("spam", "legal", "violation", "other")


async def list_reports(conn: AsyncConnection, tenant_id: int, *, resolved: bool | None, account_id: int | None,
                       target_account_id: int | None, max_id: int | None, since_id: int | None,
                       min_id: int | None, limit: int) -> list[dict[str, Any]]:
    """`resolved`: True only resolved, False only open, None both."""
    query = select(reports).where(reports.c.tenant_id == tenant_id)
    if resolved is True:
        query = query.where(reports.c.action_taken_at.is_not(None))
    elif resolved is False:
        query = query.where(reports.c.action_taken_at.is_(None))
    if account_id is not None:
        query = query.where(reports.c.account_id == account_id)
    if target_account_id is not None:
        query = query.where(reports.c.target_account_id == target_account_id)
    if max_id is not None:
        query = query.where(reports.c.id < max_id)
    if since_id is not None:
        query = query.where(reports.c.id > since_id)
    if min_id is not None:
        query = query.where(reports.c.id > min_id).order_by(reports.c.id.asc())
    else:
        query = query.order_by(reports.c.id.desc())
    rows = [dict(r._mapping) for r in (await conn.execute(query.limit(limit))).all()]
    return list(reversed(rows)) if min_id is not None else rows


async def get_report(conn: AsyncConnection, tenant_id: int, report_id: int) -> dict[str, Any]:
    row = (await conn.execute(select(reports).where(reports.c.tenant_id == tenant_id,
                                                    reports.c.id == report_id))).first()
    if row is None:
        raise not_found()
    return dict(row._mapping)


async def _change(conn: AsyncConnection, tenant_id: int, actor_id: int, report_id: int, action: str,
                  **values: Any) -> dict[str, Any]:
    await get_report(conn, tenant_id, report_id)
    await conn.execute(update(reports).where(reports.c.tenant_id == tenant_id, reports.c.id == report_id)
                       .values(updated_at=utcnow(), **values))
    await log_action(conn, tenant_id, actor_id, action, "Report", report_id)
    return await get_report(conn, tenant_id, report_id)


async def update_report(conn: AsyncConnection, tenant_id: int, actor_id: int, report_id: int, *,
                        category: str | None, rule_ids: list[int] | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if category is not None:
        if category not in CATEGORIES:
            raise ApiError(422, "Validation failed: Category is not included in the list",
                           {"category": [{"error": "ERR_INCLUSION", "description": "is not included in the list"}]})
        values["category"] = category
    if rule_ids is not None:
        known = set((await conn.execute(select(instance_rules.c.id).where(
            instance_rules.c.tenant_id == tenant_id, instance_rules.c.id.in_(rule_ids)))).scalars())
        if known != set(rule_ids):
            raise ApiError(422, "Validation failed: Rule ids contain a rule this server does not have",
                           {"rule_ids": [{"error": "ERR_INVALID", "description": "is invalid"}]})
        values["rule_ids"] = list(dict.fromkeys(rule_ids))
        if rule_ids and values.get("category", "violation") == "violation":
            values["category"] = "violation"
    if values.get("category") not in (None, "violation"):
        values["rule_ids"] = []
    return await _change(conn, tenant_id, actor_id, report_id, "update", **values)


async def assign(conn: AsyncConnection, tenant_id: int, actor_id: int, report_id: int) -> dict[str, Any]:
    return await _change(conn, tenant_id, actor_id, report_id, "assigned_to_self", assigned_account_id=actor_id)


async def unassign(conn: AsyncConnection, tenant_id: int, actor_id: int, report_id: int) -> dict[str, Any]:
    return await _change(conn, tenant_id, actor_id, report_id, "unassigned", assigned_account_id=None)


async def resolve(conn: AsyncConnection, tenant_id: int, actor_id: int, report_id: int) -> dict[str, Any]:
    return await _change(conn, tenant_id, actor_id, report_id, "resolve", action_taken_at=utcnow(),
                         action_taken_by_account_id=actor_id)


async def reopen(conn: AsyncConnection, tenant_id: int, actor_id: int, report_id: int) -> dict[str, Any]:
    return await _change(conn, tenant_id, actor_id, report_id, "reopen", action_taken_at=None,
                         action_taken_by_account_id=None)


async def reports_by_id(conn: AsyncConnection, tenant_id: int, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    return [dict(r._mapping) for r in await conn.execute(
        select(reports).where(reports.c.tenant_id == tenant_id, reports.c.id.in_(ids)))]


async def rules_by_id(conn: AsyncConnection, tenant_id: int, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = (await conn.execute(select(instance_rules).where(
        instance_rules.c.tenant_id == tenant_id, instance_rules.c.id.in_(list(set(ids)))))).all()
    return {r.id: {"id": str(r.id), "text": r.text, "hint": r.hint} for r in rows}


async def file_report(c: Container, tenant: Tenant, reporter: Account, *, target_id: int, status_ids: list[int],
                      rule_ids: list[int], category: str, comment: str,
                      forward: bool = False) -> tuple[dict[str, Any], Account]:
    """A user's report of an account (and some of its statuses) to this tenant's
    moderators. With `forward`, a report about a remote account is also sent to
    its server as a Flag (signed by this tenant's instance actor); for a local
    account `forward` means nothing, as on Mastodon."""
    if category not in CATEGORIES:
        raise ApiError(422, "Validation failed: Category is not included in the list",
                       {"category": [{"error": "ERR_INCLUSION", "description": "is not included in the list"}]})
    if rule_ids:
        category = "violation"
    async with c.db.write() as conn:
        target = await get_account(conn, tenant.id, target_id)
        if status_ids:
            found = {r.id for r in (await conn.execute(select(statuses.c.id).where(
                statuses.c.tenant_id == tenant.id, statuses.c.account_id == target.id,
                statuses.c.id.in_(status_ids)))).all()}
            if found != set(status_ids):
                raise not_found()
        if rule_ids and set(await rules_by_id(conn, tenant.id, rule_ids)) != set(rule_ids):
            raise ApiError(422, "Validation failed: Rule ids contain a rule this server does not have",
                           {"rule_ids": [{"error": "ERR_INVALID", "description": "is invalid"}]})
        now = utcnow()
        row: dict[str, Any] = {
            "tenant_id": tenant.id, "id": new_id(), "account_id": reporter.id, "target_account_id": target.id,
            "status_ids": list(dict.fromkeys(status_ids)), "rule_ids": list(dict.fromkeys(rule_ids)),
            "category": category, "comment": comment, "forwarded": bool(forward and not target.local),
            "action_taken_at": None, "created_at": now, "updated_at": now,
        }
        await conn.execute(reports.insert().values(**row))
        await notify_staff(conn, tenant.id, row["id"], reporter.id)
        if row["forwarded"]:
            await federate(conn, tenant.id, "report.forward", report_id=row["id"])
    c.jobs.wake()
    return row, target


async def notify_staff(conn: AsyncConnection, tenant_id: int, report_id: int, reporter_id: int) -> int:
    """An `admin.report` notification for every staff member of this tenant who
    manages reports (but the reporter), as Mastodon's ReportService does."""
    staff = [from_row(User, r) for r in await conn.execute(select(users).where(
        users.c.tenant_id == tenant_id, users.c.role != "user", users.c.disabled.is_(False)))]
    told = 0
    for user in staff:
        if user.account_id == reporter_id or not has_permission(user, Permission.MANAGE_REPORTS):
            continue
        await enqueue(conn, "notify", {"tenant_id": tenant_id, "account_id": user.account_id,
                                       "from_account_id": reporter_id, "type": "admin.report",
                                       "report_id": report_id}, tenant_id=tenant_id)
        told += 1
    return told


async def forward(conn: AsyncConnection, tenant_id: int, actor_id: int, report_id: int) -> dict[str, Any]:
    """A moderator sends a report about a remote account to that account's server
    (once: a second forward would only repeat the same Flag)."""
    report = await get_report(conn, tenant_id, report_id)
    target = await get_account(conn, tenant_id, report["target_account_id"])
    if target.local:
        raise ApiError(422, "Only reports about remote accounts can be forwarded")
    # Claimed with a conditional update, so two moderators at once send one Flag.
    claimed = await conn.execute(update(reports).where(
        reports.c.tenant_id == tenant_id, reports.c.id == report_id, reports.c.forwarded.is_(False))
        .values(forwarded=True, updated_at=utcnow()))
    if report["forwarded"] or claimed.rowcount != 1:
        raise ApiError(422, "This report was already forwarded")
    await log_action(conn, tenant_id, actor_id, "forward", "Report", report_id)
    await federate(conn, tenant_id, "report.forward", report_id=report_id)
    return await get_report(conn, tenant_id, report_id)


BATCH_ACTIONS = {"resolve": resolve, "reopen": reopen, "assign_to_self": assign, "unassign": unassign}


async def batch(conn: AsyncConnection, tenant_id: int, actor_id: int, report_ids: list[int],
                action: str) -> list[dict[str, Any]]:
    """One queue step on several reports of this tenant, all or none (404 when one is missing)."""
    step = BATCH_ACTIONS.get(action)
    if step is None:
        raise ApiError(422, f"Unknown batch action: {action}")
    ids = list(dict.fromkeys(report_ids))
    if not ids:
        raise ApiError(422, "Validation failed: ids can't be blank")
    if len(await reports_by_id(conn, tenant_id, ids)) != len(ids):
        raise not_found()
    return [await step(conn, tenant_id, actor_id, rid) for rid in ids]


async def own_reports(conn: AsyncConnection, tenant_id: int, account_id: int, *, limit: int = 40
                      ) -> list[dict[str, Any]]:
    """The reports a user filed, newest first, each with its outcome as the
    reporter is told it: `pending`, `no_action` (resolved without an action on
    the account) or `action_taken` (a moderator acted on the account for it)."""
    rows = [dict(r._mapping) for r in (await conn.execute(select(reports).where(
        reports.c.tenant_id == tenant_id, reports.c.account_id == account_id)
        .order_by(reports.c.id.desc()).limit(limit))).all()]
    acted = set((await conn.execute(select(account_warnings.c.report_id).where(
        account_warnings.c.tenant_id == tenant_id, account_warnings.c.report_id.in_([r["id"] for r in rows]))))
        .scalars()) if rows else set()
    for r in rows:
        r["outcome"] = ("pending" if r["action_taken_at"] is None
                        else "action_taken" if r["id"] in acted else "no_action")
    return rows
