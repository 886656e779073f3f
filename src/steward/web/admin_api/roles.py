"""Custom staff roles of a tenant, under Steward's admin namespace (Mastodon
manages roles only in its web interface): `/api/v1/admin/steward/roles` and
`POST /api/v1/admin/accounts/:id/role` to hand one out."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.moderation import custom_roles as svc
from steward.moderation.roles import Permission, role_to_api
from steward.web.admin_api.common import require_permission
from steward.web.base import Ctx, endpoint
from steward.web.params import Params


def _input(p: Params, current: Any = None) -> svc.RoleInput:
    raw_perms = p.raw("permissions")
    if raw_perms is None:
        perms = svc.Permission(int(current.permissions)) if current is not None else svc.Permission(0)
    elif isinstance(raw_perms, list) and all(isinstance(x, str) for x in raw_perms) and len(raw_perms) <= 32:
        perms = svc.parse_permissions(raw_perms)
    elif isinstance(raw_perms, str | int) and not isinstance(raw_perms, bool):
        perms = svc.parse_permissions(str(raw_perms)[:2000])
    else:
        perms = svc.parse_permissions(["?"])  # answers 422: not a permission list
    default_position = int(current.position) if current is not None else None
    position = p.int("position", default_position, lo=0, hi=svc.MAX_POSITION)
    if position is None:
        position = 0
    return svc.RoleInput(
        name=p.str("name", current.name if current is not None else None, max_len=64, required=current is None) or "",
        permissions=perms, position=position,
        color=p.str("color", current.color if current is not None else "", max_len=16) or "",
        highlighted=bool(p.bool("highlighted", bool(current.highlighted) if current is not None else False)))


@endpoint("admin:read")
async def list_roles(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_ROLES)
    async with ctx.c.db.read() as conn:
        return [svc.role_to_api(r) for r in await svc.list_roles(conn, ctx.tenant.id)]


@endpoint("admin:read")
async def show_role(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_ROLES)
    async with ctx.c.db.read() as conn:
        return svc.role_to_api(await svc.get_role(conn, ctx.tenant.id, ctx.path_id()))


@endpoint("admin:write")
async def create_role(ctx: Ctx) -> Any:
    actor = require_permission(ctx, Permission.MANAGE_ROLES)
    async with ctx.c.db.write() as conn:
        row = await svc.create_role(conn, ctx.tenant.id, ctx.me, actor, _input(ctx.params))
    return svc.role_to_api(row)


@endpoint("admin:write")
async def update_role(ctx: Ctx) -> Any:
    actor = require_permission(ctx, Permission.MANAGE_ROLES)
    async with ctx.c.db.write() as conn:
        current = await svc.get_role(conn, ctx.tenant.id, ctx.path_id())
        row = await svc.update_role(conn, ctx.tenant.id, ctx.me, actor, current.id, _input(ctx.params, current))
    return svc.role_to_api(row)


@endpoint("admin:write")
async def delete_role(ctx: Ctx) -> Any:
    actor = require_permission(ctx, Permission.MANAGE_ROLES)
    async with ctx.c.db.write() as conn:
        await svc.delete_role(conn, ctx.tenant.id, ctx.me, actor, ctx.path_id())
    return {}


@endpoint("admin:write:accounts")
async def assign_role(ctx: Ctx) -> Any:
    actor = require_permission(ctx, Permission.MANAGE_ROLES)
    role = ctx.params.str("role_id", max_len=40, required=True) or ""
    async with ctx.c.db.write() as conn:
        user = await svc.assign_role(conn, ctx.tenant.id, ctx.me, actor, ctx.path_id(), role)
    return role_to_api(user.role, user.role_spec)


routes = [
    Route("/api/v1/admin/steward/roles", list_roles, methods=["GET"]),
    Route("/api/v1/admin/steward/roles", create_role, methods=["POST"]),
    Route("/api/v1/admin/steward/roles/{id}", show_role, methods=["GET"]),
    Route("/api/v1/admin/steward/roles/{id}", update_role, methods=["PUT", "PATCH"]),
    Route("/api/v1/admin/steward/roles/{id}", delete_role, methods=["DELETE"]),
    Route("/api/v1/admin/accounts/{id}/role", assign_role, methods=["POST"]),
]
