"""/api/v1/admin/domain_blocks and /api/v1/admin/domain_allows."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.db.tables import domain_allows, domain_blocks
from steward.moderation import domain_policy as svc
from steward.moderation.roles import Permission
from steward.web.admin_api.common import require_permission
from steward.web.base import Ctx, endpoint, page_params, paged
from steward.web.params import Params


def _block_fields(p: Params) -> dict[str, Any]:
    return {
        "severity": p.str("severity", max_len=16), "reject_media": p.bool("reject_media"),
        "reject_reports": p.bool("reject_reports"), "private_comment": p.str("private_comment", max_len=1000),
        "public_comment": p.str("public_comment", max_len=1000), "obfuscate": p.bool("obfuscate"),
    }


@endpoint("admin:read:domain_blocks")
async def list_blocks(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    page = page_params(ctx.params, default=100, maximum=200)
    async with ctx.c.db.read() as conn:
        rows = await svc.page_of(conn, domain_blocks, ctx.tenant.id, max_id=page.max_id, since_id=page.since_id,
                                 min_id=page.min_id, limit=page.limit)
    return paged(ctx.request, [svc.block_to_api(r) for r in rows])


@endpoint("admin:read:domain_blocks")
async def show_block(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    async with ctx.c.db.read() as conn:
        return svc.block_to_api(await svc.get_row(conn, domain_blocks, ctx.tenant.id, ctx.path_id()))


@endpoint("admin:write:domain_blocks")
async def create_block(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    domain = ctx.params.str("domain", max_len=300)
    fields = _block_fields(ctx.params)
    async with ctx.c.db.write() as conn:
        row = await svc.create_block(conn, ctx.tenant.id, ctx.me.id, domain or "", fields)
    return svc.block_to_api(row)


@endpoint("admin:write:domain_blocks")
async def update_block(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    fields = _block_fields(ctx.params)
    async with ctx.c.db.write() as conn:
        row = await svc.update_block(conn, ctx.tenant.id, ctx.me.id, ctx.path_id(), fields)
    return svc.block_to_api(row)


@endpoint("admin:write:domain_blocks")
async def delete_block(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    async with ctx.c.db.write() as conn:
        await svc.delete_block(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return {}


@endpoint("admin:read:domain_allows")
async def list_allows(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    page = page_params(ctx.params, default=100, maximum=200)
    async with ctx.c.db.read() as conn:
        rows = await svc.page_of(conn, domain_allows, ctx.tenant.id, max_id=page.max_id, since_id=page.since_id,
                                 min_id=page.min_id, limit=page.limit)
    return paged(ctx.request, [svc.allow_to_api(r) for r in rows])


@endpoint("admin:read:domain_allows")
async def show_allow(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    async with ctx.c.db.read() as conn:
        return svc.allow_to_api(await svc.get_row(conn, domain_allows, ctx.tenant.id, ctx.path_id()))


@endpoint("admin:write:domain_allows")
async def create_allow(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    domain = ctx.params.str("domain", max_len=300)
    async with ctx.c.db.write() as conn:
        row = await svc.create_allow(conn, ctx.tenant.id, ctx.me.id, domain or "")
    return svc.allow_to_api(row)


@endpoint("admin:write:domain_allows")
async def delete_allow(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    async with ctx.c.db.write() as conn:
        await svc.delete_allow(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return {}


routes = [
    Route("/api/v1/admin/domain_blocks", list_blocks, methods=["GET"]),
    Route("/api/v1/admin/domain_blocks/", list_blocks, methods=["GET"]),
    Route("/api/v1/admin/domain_blocks", create_block, methods=["POST"]),
    Route("/api/v1/admin/domain_blocks/", create_block, methods=["POST"]),
    Route("/api/v1/admin/domain_blocks/{id}", show_block, methods=["GET"]),
    Route("/api/v1/admin/domain_blocks/{id}", update_block, methods=["PUT"]),
    Route("/api/v1/admin/domain_blocks/{id}", delete_block, methods=["DELETE"]),
    Route("/api/v1/admin/domain_allows", list_allows, methods=["GET"]),
    Route("/api/v1/admin/domain_allows", create_allow, methods=["POST"]),
    Route("/api/v1/admin/domain_allows/{id}", show_allow, methods=["GET"]),
    Route("/api/v1/admin/domain_allows/{id}", delete_allow, methods=["DELETE"]),
]
