"""/api/v1/admin/reports."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import Route

from steward.core.clock import iso
from steward.moderation import reports as svc
from steward.moderation.roles import Permission
from steward.web.admin_api.common import admin_accounts_by_id, require_permission
from steward.web.base import Ctx, endpoint, page_params, paged
from steward.web.mastodon.serialize_statuses import load_statuses, render_statuses

READ = "admin:read:reports"
WRITE = "admin:write:reports"


async def reports_to_api(conn: AsyncConnection, ctx: Ctx, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Admin::Report entities, with their accounts, statuses and rules loaded in batches."""
    people = await admin_accounts_by_id(conn, ctx, [
        i for r in rows for i in (r["account_id"], r["target_account_id"], r["assigned_account_id"],
                                  r["action_taken_by_account_id"]) if i is not None])
    status_ids = [int(i) for r in rows for i in r["status_ids"]]
    loaded = await load_statuses(conn, ctx.tenant.id, status_ids, include_deleted=True)
    rendered = {int(s["id"]): s for s in await render_statuses(ctx.c, conn, ctx.tenant, ctx.me.id,
                                                                list(loaded.values()))}
    rules = await svc.rules_by_id(conn, ctx.tenant.id, [int(i) for r in rows for i in r["rule_ids"]])
    out = []
    for r in rows:
        out.append({
            "id": str(r["id"]),
            "action_taken": r["action_taken_at"] is not None,
            "action_taken_at": iso(r["action_taken_at"]),
            "category": r["category"],
            "comment": r["comment"],
            "forwarded": r["forwarded"],
            "created_at": iso(r["created_at"]),
            "updated_at": iso(r["updated_at"]),
            "account": people.get(r["account_id"]),
            "target_account": people.get(r["target_account_id"]),
            "assigned_account": people.get(r["assigned_account_id"]) if r["assigned_account_id"] else None,
            "action_taken_by_account": people.get(r["action_taken_by_account_id"])
            if r["action_taken_by_account_id"] else None,
            "statuses": [rendered[int(i)] for i in r["status_ids"] if int(i) in rendered],
            "rules": [rules[int(i)] for i in r["rule_ids"] if int(i) in rules],
        })
    return out


@endpoint(READ)
async def list_reports(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_REPORTS)
    p = ctx.params
    resolved_flag = bool(p.bool("resolved", False))
    # Mastodon.py sends resolved and unresolved together to mean "all reports".
    resolved = None if resolved_flag and p.bool("unresolved", False) else resolved_flag
    page = page_params(p, default=100, maximum=200)
    async with ctx.c.db.read() as conn:
        rows = await svc.list_reports(conn, ctx.tenant.id, resolved=resolved, account_id=p.id("account_id"),
                                      target_account_id=p.id("target_account_id"), max_id=page.max_id,
                                      since_id=page.since_id, min_id=page.min_id, limit=page.limit)
        return paged(ctx.request, await reports_to_api(conn, ctx, rows))


@endpoint(READ)
async def show(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_REPORTS)
    async with ctx.c.db.read() as conn:
        row = await svc.get_report(conn, ctx.tenant.id, ctx.path_id())
        return (await reports_to_api(conn, ctx, [row]))[0]


@endpoint(WRITE)
async def update(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_REPORTS)
    p = ctx.params
    rule_ids = p.id_list("rule_ids", max_items=100) if "rule_ids" in p else None
    async with ctx.c.db.write() as conn:
        row = await svc.update_report(conn, ctx.tenant.id, ctx.me.id, ctx.path_id(),
                                      category=p.str("category", max_len=16), rule_ids=rule_ids)
        return (await reports_to_api(conn, ctx, [row]))[0]


def _step(name: str) -> Any:
    change = getattr(svc, name)

    @endpoint(WRITE)
    async def handler(ctx: Ctx) -> Any:
        require_permission(ctx, Permission.MANAGE_REPORTS)
        async with ctx.c.db.write() as conn:
            row = await change(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
            return (await reports_to_api(conn, ctx, [row]))[0]

    handler.__name__ = name
    return handler


routes = [
    Route("/api/v1/admin/reports", list_reports, methods=["GET"]),
    Route("/api/v1/admin/reports/{id}", show, methods=["GET"]),
    Route("/api/v1/admin/reports/{id}", update, methods=["PUT"]),
    Route("/api/v1/admin/reports/{id}/assign_to_self", _step("assign"), methods=["POST"]),
    Route("/api/v1/admin/reports/{id}/unassign", _step("unassign"), methods=["POST"]),
    Route("/api/v1/admin/reports/{id}/resolve", _step("resolve"), methods=["POST"]),
    Route("/api/v1/admin/reports/{id}/reopen", _step("reopen"), methods=["POST"]),
]
