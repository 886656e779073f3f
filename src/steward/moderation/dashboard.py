"""The moderation dashboard of one tenant for a period: Mastodon's measures
where one exists (new_users, active_users, opened_reports, resolved_reports),
and Steward's own figures where none does: the median time from a report to
the first moderator action on it, federation peers, blocked domains, and what
is waiting (open reports, pending appeals)."""

from __future__ import annotations

from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import aware
from steward.db.tables import accounts, admin_action_logs, appeals, domain_blocks, report_notes, reports
from steward.moderation.measures import Span, measures

MASTODON_KEYS = ("new_users", "active_users", "opened_reports", "resolved_reports")


async def first_action_seconds(conn: AsyncConnection, tenant_id: int, span: Span) -> list[float]:
    """For each report opened in the period that a moderator has touched: seconds
    from its filing to the first audited step on it (assign, note, resolve, an
    action citing it) or its resolution, whichever came first."""
    opened = (await conn.execute(select(reports.c.id, reports.c.created_at, reports.c.action_taken_at).where(
        reports.c.tenant_id == tenant_id, span.id_range(reports.c.id)))).all()
    if not opened:
        return []
    ids = [r.id for r in opened]
    first: dict[int, Any] = {}
    for table, ref, conds in (
            (admin_action_logs, admin_action_logs.c.target_id, [admin_action_logs.c.target_type == "Report"]),
            (report_notes, report_notes.c.report_id, [])):
        rows = await conn.execute(select(ref, func.min(table.c.created_at)).where(
            table.c.tenant_id == tenant_id, ref.in_(ids), *conds).group_by(ref))
        for rid, at in rows:
            if rid not in first or aware(at) < aware(first[rid]):  # type: ignore[operator]
                first[rid] = at
    out = []
    for r in opened:
        moments = [aware(m) for m in (first.get(r.id), r.action_taken_at) if m is not None]
        created = aware(r.created_at)
        if moments and created is not None:
            out.append(max(0.0, (min(moments) - created).total_seconds()))  # type: ignore[type-var,operator]
    return out


async def summary(conn: AsyncConnection, tenant_id: int, span: Span) -> dict[str, Any]:
    found = {m["key"]: int(m["total"]) for m in await measures(conn, tenant_id, list(MASTODON_KEYS), span, {})}
    waits = await first_action_seconds(conn, tenant_id, span)
    peers = (await conn.execute(select(func.count(accounts.c.domain.distinct())).where(
        accounts.c.tenant_id == tenant_id, accounts.c.domain != ""))).scalar() or 0
    blocks = {r.severity: int(r.n) for r in await conn.execute(
        select(domain_blocks.c.severity, func.count().label("n")).where(domain_blocks.c.tenant_id == tenant_id)
        .group_by(domain_blocks.c.severity))}
    open_reports = (await conn.execute(select(func.count()).select_from(reports).where(
        reports.c.tenant_id == tenant_id, reports.c.action_taken_at.is_(None)))).scalar() or 0
    pending_appeals = (await conn.execute(select(func.count()).select_from(appeals).where(
        appeals.c.tenant_id == tenant_id, appeals.c.approved_at.is_(None), appeals.c.rejected_at.is_(None))))\
        .scalar() or 0
    return {
        "start_at": span.start.isoformat(), "end_at": span.end.isoformat(),
        **{k: found.get(k, 0) for k in MASTODON_KEYS},
        "median_time_to_first_action_seconds": round(median(waits), 1) if waits else None,
        "reports_with_an_action": len(waits),
        "federation_peers": int(peers),
        "blocked_domains": sum(v for k, v in blocks.items() if k != "noop"),
        "blocked_domains_by_severity": {k: blocks.get(k, 0) for k in ("silence", "suspend", "noop")},
        "open_reports": int(open_reports), "pending_appeals": int(pending_appeals),
    }
