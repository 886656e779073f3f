"""Steward's own admin routes where Mastodon's admin API has none:
report notes, forwarding, batch steps on reports, warning presets and appeals
(`/api/v1/admin/steward/...`). The same permission flags as Mastodon's roles."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.core.clock import iso
from steward.core.errors import ApiError
from steward.moderation import appeals, dashboard, presets, report_notes
from steward.moderation import reports as report_svc
from steward.moderation.measures import span_of
from steward.moderation.roles import Permission, has_permission
from steward.web.admin_api.common import admin_accounts_by_id, require_permission
from steward.web.admin_api.reports import reports_to_api
from steward.web.base import Ctx, endpoint

READ = "admin:read:reports"
WRITE = "admin:write:reports"
READ_ACCOUNTS = "admin:read:accounts"
WRITE_ACCOUNTS = "admin:write:accounts"


def note_to_api(row: dict[str, Any], people: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {"id": str(row["id"]), "report_id": str(row["report_id"]), "content": row["content"],
            "created_at": iso(row["created_at"]), "account": people.get(row["account_id"])}


@endpoint(READ)
async def notes(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_REPORTS)
    async with ctx.c.db.read() as conn:
        rows = await report_notes.list_notes(conn, ctx.tenant.id, ctx.path_id())
        people = await admin_accounts_by_id(conn, ctx, [r["account_id"] for r in rows])
    return [note_to_api(r, people) for r in rows]


@endpoint(WRITE)
async def add_note(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_REPORTS)
    async with ctx.c.db.write() as conn:
        row = await report_notes.add_note(conn, ctx.tenant.id, ctx.me.id, ctx.path_id(),
                                          ctx.params.str("content", "", max_len=10_000) or "")
        people = await admin_accounts_by_id(conn, ctx, [row["account_id"]])
    return note_to_api(row, people)


@endpoint(WRITE)
async def delete_note(ctx: Ctx) -> Any:
    user = require_permission(ctx, Permission.MANAGE_REPORTS)
    async with ctx.c.db.write() as conn:
        await report_notes.delete_note(conn, ctx.tenant.id, ctx.me.id, user, ctx.path_id(),
                                       ctx.path_id("note_id"))
    return {}


@endpoint(WRITE)
async def forward(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_REPORTS)
    async with ctx.c.db.write() as conn:
        row = await report_svc.forward(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
        out = (await reports_to_api(conn, ctx, [row]))[0]
    ctx.c.jobs.wake()
    return out


@endpoint(WRITE)
async def batch(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_REPORTS)
    p = ctx.params
    async with ctx.c.db.write() as conn:
        rows = await report_svc.batch(conn, ctx.tenant.id, ctx.me.id, p.id_list("ids", max_items=200),
                                      p.str("action", "", max_len=32) or "")
        return await reports_to_api(conn, ctx, rows)


def preset_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(row["id"]), "title": row["title"], "text": row["text"],
            "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"])}


def _may_read_presets(ctx: Ctx) -> None:
    # Moderators pick presets when they act; only those who manage settings change them.
    if not (has_permission(ctx.user, Permission.MANAGE_USERS) or has_permission(ctx.user, Permission.MANAGE_SETTINGS)):
        raise ApiError(403, "This action is not allowed")


@endpoint(READ_ACCOUNTS)
async def list_presets(ctx: Ctx) -> Any:
    ctx.me  # noqa: B018 - a user is needed
    _may_read_presets(ctx)
    async with ctx.c.db.read() as conn:
        return [preset_to_api(r) for r in await presets.list_presets(conn, ctx.tenant.id)]


@endpoint(READ_ACCOUNTS)
async def show_preset(ctx: Ctx) -> Any:
    ctx.me  # noqa: B018
    _may_read_presets(ctx)
    async with ctx.c.db.read() as conn:
        return preset_to_api(await presets.get_preset(conn, ctx.tenant.id, ctx.path_id()))


@endpoint(WRITE_ACCOUNTS)
async def create_preset(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_SETTINGS)
    p = ctx.params
    async with ctx.c.db.write() as conn:
        return preset_to_api(await presets.create_preset(conn, ctx.tenant.id, ctx.me.id,
                                                         title=p.str("title", max_len=10_000),
                                                         text=p.str("text", max_len=100_000)))


@endpoint(WRITE_ACCOUNTS)
async def update_preset(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_SETTINGS)
    p = ctx.params
    async with ctx.c.db.write() as conn:
        return preset_to_api(await presets.update_preset(conn, ctx.tenant.id, ctx.me.id, ctx.path_id(),
                                                         title=p.str("title", max_len=10_000),
                                                         text=p.str("text", max_len=100_000)))


@endpoint(WRITE_ACCOUNTS)
async def delete_preset(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_SETTINGS)
    async with ctx.c.db.write() as conn:
        await presets.delete_preset(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return {}


def appeal_to_api(row: dict[str, Any], people: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {"id": str(row["id"]), "text": row["text"], "state": row["state"],
            "strike_id": str(row["account_warning_id"]), "action": row.get("action"),
            "strike_text": row.get("strike_text"), "created_at": iso(row["created_at"]),
            "account": people.get(row["account_id"]),
            "approved_at": iso(row["approved_at"]), "rejected_at": iso(row["rejected_at"])}


@endpoint(READ_ACCOUNTS)
async def list_appeals(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_APPEALS)
    state = ctx.params.str("state", "pending", max_len=16)
    async with ctx.c.db.read() as conn:
        rows = await appeals.list_appeals(conn, ctx.tenant.id, state=None if state == "all" else state)
        people = await admin_accounts_by_id(conn, ctx, [r["account_id"] for r in rows])
    return [appeal_to_api(r, people) for r in rows]


def _decide(name: str) -> Any:
    @endpoint(WRITE_ACCOUNTS)
    async def handler(ctx: Ctx) -> Any:
        user = require_permission(ctx, Permission.MANAGE_APPEALS)
        async with ctx.c.db.write() as conn:
            if name == "approve":
                row = await appeals.approve(conn, ctx.tenant.id, ctx.me, user, ctx.path_id())
            else:
                row = await appeals.reject(conn, ctx.tenant.id, ctx.me, ctx.path_id())
            people = await admin_accounts_by_id(conn, ctx, [row["account_id"]])
        ctx.c.auth_cache.clear()
        return appeal_to_api(row, people)

    handler.__name__ = name
    return handler


@endpoint("admin:read")
async def dashboard_numbers(ctx: Ctx) -> Any:
    """The moderation dashboard for [start_at, end_at] (whole UTC days)."""
    require_permission(ctx, Permission.VIEW_DASHBOARD)
    span = span_of(ctx.params.str("start_at", max_len=64), ctx.params.str("end_at", max_len=64))
    async with ctx.c.db.read() as conn:
        return await dashboard.summary(conn, ctx.tenant.id, span)


PREFIX = "/api/v1/admin/steward"
routes = [
    Route(f"{PREFIX}/dashboard", dashboard_numbers, methods=["GET"]),
    Route(f"{PREFIX}/reports/batch", batch, methods=["POST"]),
    Route(f"{PREFIX}/reports/{{id}}/notes", notes, methods=["GET"]),
    Route(f"{PREFIX}/reports/{{id}}/notes", add_note, methods=["POST"]),
    Route(f"{PREFIX}/reports/{{id}}/notes/{{note_id}}", delete_note, methods=["DELETE"]),
    Route(f"{PREFIX}/reports/{{id}}/forward", forward, methods=["POST"]),
    Route(f"{PREFIX}/warning_presets", list_presets, methods=["GET"]),
    Route(f"{PREFIX}/warning_presets", create_preset, methods=["POST"]),
    Route(f"{PREFIX}/warning_presets/{{id}}", show_preset, methods=["GET"]),
    Route(f"{PREFIX}/warning_presets/{{id}}", update_preset, methods=["PUT"]),
    Route(f"{PREFIX}/warning_presets/{{id}}", delete_preset, methods=["DELETE"]),
    Route(f"{PREFIX}/appeals", list_appeals, methods=["GET"]),
    Route(f"{PREFIX}/appeals/{{id}}/approve", _decide("approve"), methods=["POST"]),
    Route(f"{PREFIX}/appeals/{{id}}/reject", _decide("reject"), methods=["POST"]),
]
