"""/api/v1/admin/accounts and /api/v2/admin/accounts."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.core.errors import ApiError
from steward.moderation import admin_accounts as svc
from steward.moderation.roles import Permission
from steward.web.admin_api.common import admin_account_to_api, require_permission
from steward.web.base import Ctx, endpoint, page_params, paged
from steward.web.params import Params

READ = "admin:read:accounts"
WRITE = "admin:write:accounts"


def _v1_filter(p: Params) -> svc.AccountFilter:
    origin = "remote" if p.bool("remote", False) else ("local" if p.bool("local", False) else None)
    status = next((s for s in svc.STATUSES if p.bool(s, False)), None)
    return svc.AccountFilter(
        origin=origin, status=status, staff=bool(p.bool("staff", False)), sensitized=bool(p.bool("sensitized", False)),
        by_domain=p.str("by_domain", max_len=253), username=p.str("username", max_len=64),
        display_name=p.str("display_name", max_len=200), email=p.str("email", max_len=320), ip=p.str("ip", max_len=64))


def _v2_filter(p: Params) -> svc.AccountFilter:
    origin = p.str("origin", max_len=16)
    if origin not in (None, "local", "remote"):
        raise ApiError(400, f"Unknown origin: {origin}")
    status = p.str("status", max_len=16)
    if status not in (None, *svc.STATUSES):
        raise ApiError(400, f"Unknown status: {status}")
    permissions = p.str("permissions", max_len=16)
    if permissions not in (None, "staff"):
        raise ApiError(400, f"Unknown permissions: {permissions}")
    role_ids = p.str_list("role_ids", max_items=20)
    return svc.AccountFilter(
        origin=origin, status=status, staff=permissions == "staff",
        role_names=svc.role_names_for(role_ids) if role_ids else (), invited_by=p.id("invited_by"),
        by_domain=p.str("by_domain", max_len=253), username=p.str("username", max_len=64),
        display_name=p.str("display_name", max_len=200), email=p.str("email", max_len=320), ip=p.str("ip", max_len=64))


async def _list(ctx: Ctx, f: svc.AccountFilter) -> Any:
    require_permission(ctx, Permission.MANAGE_USERS)
    page = page_params(ctx.params, default=100, maximum=200)
    async with ctx.c.db.read() as conn:
        found = await svc.list_accounts(conn, ctx.tenant.id, f, max_id=page.max_id, since_id=page.since_id,
                                        min_id=page.min_id, limit=page.limit)
    return paged(ctx.request, [admin_account_to_api(ctx.base_url, ctx.tenant, a, u) for a, u in found])


@endpoint(READ)
async def list_v1(ctx: Ctx) -> Any:
    return await _list(ctx, _v1_filter(ctx.params))


@endpoint(READ)
async def list_v2(ctx: Ctx) -> Any:
    return await _list(ctx, _v2_filter(ctx.params))


async def _show(ctx: Ctx, account_id: int) -> dict[str, Any]:
    async with ctx.c.db.read() as conn:
        account, user = await svc.get_with_user(conn, ctx.tenant.id, account_id)
    return admin_account_to_api(ctx.base_url, ctx.tenant, account, user)


@endpoint(READ)
async def show(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_USERS)
    return await _show(ctx, ctx.path_id())


@endpoint(WRITE)
async def action(ctx: Ctx) -> Any:
    actor = require_permission(ctx, Permission.MANAGE_USERS)
    p = ctx.params
    kind = p.str("type", "none", max_len=16) or "none"
    text = p.str("text", "", max_len=5000) or ""
    report_id = p.id("report_id")
    preset_id = p.id("warning_preset_id")
    p.bool("send_email_notification", True)  # no mail: the user is told by a moderation_warning notification
    async with ctx.c.db.write() as conn:
        await svc.take_action(conn, ctx.tenant.id, ctx.me, actor, ctx.path_id(), action=kind, report_id=report_id,
                              text=text, warning_preset_id=preset_id)
    ctx.c.auth_cache.clear()
    return {}


def _undo(kind: str) -> Any:
    @endpoint(WRITE)
    async def handler(ctx: Ctx) -> Any:
        actor = require_permission(ctx, Permission.MANAGE_USERS)
        async with ctx.c.db.write() as conn:
            await svc.undo_action(conn, ctx.tenant.id, ctx.me, actor, ctx.path_id(), kind)
        ctx.c.auth_cache.clear()
        return await _show(ctx, ctx.path_id())

    handler.__name__ = kind
    return handler


@endpoint(WRITE)
async def approve(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_USERS)
    async with ctx.c.db.write() as conn:
        await svc.approve(conn, ctx.tenant.id, ctx.me, ctx.path_id())
    ctx.c.auth_cache.clear()
    return await _show(ctx, ctx.path_id())


@endpoint(WRITE)
async def reject(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_USERS)
    shown = await _show(ctx, ctx.path_id())
    async with ctx.c.db.write() as conn:
        await svc.reject(conn, ctx.tenant.id, ctx.me, ctx.path_id())
    ctx.c.auth_cache.clear()
    return shown


@endpoint(WRITE)
async def destroy(ctx: Ctx) -> Any:
    actor = require_permission(ctx, Permission.DELETE_USER_DATA)
    async with ctx.c.db.write() as conn:
        account, user = await svc.delete_data(conn, ctx.tenant.id, ctx.me, actor, ctx.path_id())
    ctx.c.auth_cache.clear()
    return admin_account_to_api(ctx.base_url, ctx.tenant, account, user)


routes = [
    Route("/api/v1/admin/accounts", list_v1, methods=["GET"]),
    Route("/api/v2/admin/accounts", list_v2, methods=["GET"]),
    Route("/api/v1/admin/accounts/{id}", show, methods=["GET"]),
    Route("/api/v1/admin/accounts/{id}", destroy, methods=["DELETE"]),
    Route("/api/v1/admin/accounts/{id}/action", action, methods=["POST"]),
    Route("/api/v1/admin/accounts/{id}/approve", approve, methods=["POST"]),
    Route("/api/v1/admin/accounts/{id}/reject", reject, methods=["POST"]),
    *(Route(f"/api/v1/admin/accounts/{{id}}/{kind}", _undo(kind), methods=["POST"])
      for kind in ("enable", "unsilence", "unsuspend", "unsensitive")),
]
