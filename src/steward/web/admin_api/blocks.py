"""/api/v1/admin/email_domain_blocks, /ip_blocks and /canonical_email_blocks."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.db.tables import canonical_email_blocks, email_domain_blocks, ip_blocks
from steward.moderation import blocks as svc
from steward.moderation.domain_policy import get_row, page_of
from steward.moderation.roles import Permission
from steward.web.admin_api.common import require_permission
from steward.web.base import Ctx, endpoint, page_params, paged

MAX_EXPIRES_IN = 10 * 365 * 86400


# --- E-mail domain blocks ----------------------------------------------------------

@endpoint("admin:read:email_domain_blocks")
async def list_email_domains(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    page = page_params(ctx.params, default=100, maximum=200)
    async with ctx.c.db.read() as conn:
        rows = await page_of(conn, email_domain_blocks, ctx.tenant.id, max_id=page.max_id, since_id=page.since_id,
                             min_id=page.min_id, limit=page.limit)
        data = [await svc.email_domain_block_to_api(conn, ctx.tenant.id, r) for r in rows]
    return paged(ctx.request, data)


@endpoint("admin:read:email_domain_blocks")
async def show_email_domain(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    async with ctx.c.db.read() as conn:
        row = await get_row(conn, email_domain_blocks, ctx.tenant.id, ctx.path_id())
        return await svc.email_domain_block_to_api(conn, ctx.tenant.id, row)


@endpoint("admin:write:email_domain_blocks")
async def create_email_domain(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    domain = ctx.params.str("domain", max_len=300)
    async with ctx.c.db.write() as conn:
        row = await svc.create_email_domain_block(conn, ctx.tenant.id, ctx.me.id, domain)
        return await svc.email_domain_block_to_api(conn, ctx.tenant.id, row)


@endpoint("admin:write:email_domain_blocks")
async def delete_email_domain(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    async with ctx.c.db.write() as conn:
        await svc.delete_email_domain_block(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return {}


# --- IP blocks ------------------------------------------------------------------

@endpoint("admin:read:ip_blocks")
async def list_ip_blocks(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    page = page_params(ctx.params, default=100, maximum=200)
    async with ctx.c.db.read() as conn:
        rows = await page_of(conn, ip_blocks, ctx.tenant.id, max_id=page.max_id, since_id=page.since_id,
                             min_id=page.min_id, limit=page.limit)
    return paged(ctx.request, [svc.ip_block_to_api(r) for r in rows])


@endpoint("admin:read:ip_blocks")
async def show_ip_block(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    async with ctx.c.db.read() as conn:
        return svc.ip_block_to_api(await get_row(conn, ip_blocks, ctx.tenant.id, ctx.path_id()))


@endpoint("admin:write:ip_blocks")
async def create_ip_block(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    p = ctx.params
    async with ctx.c.db.write() as conn:
        row = await svc.create_ip_block(conn, ctx.tenant.id, ctx.me.id, ip=p.str("ip", max_len=64),
                                        severity=p.str("severity", max_len=32),
                                        comment=p.str("comment", "", max_len=1000) or "",
                                        expires_in=p.int("expires_in", lo=1, hi=MAX_EXPIRES_IN))
    return svc.ip_block_to_api(row)


@endpoint("admin:write:ip_blocks")
async def update_ip_block(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    p = ctx.params
    async with ctx.c.db.write() as conn:
        row = await svc.update_ip_block(conn, ctx.tenant.id, ctx.me.id, ctx.path_id(), ip=p.str("ip", max_len=64),
                                        severity=p.str("severity", max_len=32),
                                        comment=p.str("comment", max_len=1000),
                                        expires_in=p.int("expires_in", lo=0, hi=MAX_EXPIRES_IN))
    return svc.ip_block_to_api(row)


@endpoint("admin:write:ip_blocks")
async def delete_ip_block(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    async with ctx.c.db.write() as conn:
        await svc.delete_ip_block(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return {}


# --- Canonical e-mail blocks --------------------------------------------------------

@endpoint("admin:read:canonical_email_blocks")
async def list_canonical(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    page = page_params(ctx.params, default=100, maximum=200)
    async with ctx.c.db.read() as conn:
        rows = await page_of(conn, canonical_email_blocks, ctx.tenant.id, max_id=page.max_id,
                             since_id=page.since_id, min_id=page.min_id, limit=page.limit)
    return paged(ctx.request, [svc.canonical_block_to_api(r) for r in rows])


@endpoint("admin:read:canonical_email_blocks")
async def show_canonical(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    async with ctx.c.db.read() as conn:
        return svc.canonical_block_to_api(await get_row(conn, canonical_email_blocks, ctx.tenant.id, ctx.path_id()))


@endpoint("admin:read:canonical_email_blocks")
async def test_canonical(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    email = ctx.params.str("email", required=True, max_len=320) or ""
    async with ctx.c.db.read() as conn:
        rows = await svc.matching_canonical_blocks(conn, ctx.tenant.id, email)
    return [svc.canonical_block_to_api(r) for r in rows]


@endpoint("admin:write:canonical_email_blocks")
async def create_canonical(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    p = ctx.params
    async with ctx.c.db.write() as conn:
        row = await svc.create_canonical_block(conn, ctx.tenant.id, ctx.me.id, email=p.str("email", max_len=320),
                                               digest=p.str("canonical_email_hash", max_len=128))
    return svc.canonical_block_to_api(row)


@endpoint("admin:write:canonical_email_blocks")
async def delete_canonical(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_BLOCKS)
    async with ctx.c.db.write() as conn:
        await svc.delete_canonical_block(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return {}


routes = [
    Route("/api/v1/admin/email_domain_blocks", list_email_domains, methods=["GET"]),
    Route("/api/v1/admin/email_domain_blocks", create_email_domain, methods=["POST"]),
    Route("/api/v1/admin/email_domain_blocks/{id}", show_email_domain, methods=["GET"]),
    Route("/api/v1/admin/email_domain_blocks/{id}", delete_email_domain, methods=["DELETE"]),
    Route("/api/v1/admin/ip_blocks", list_ip_blocks, methods=["GET"]),
    Route("/api/v1/admin/ip_blocks", create_ip_block, methods=["POST"]),
    Route("/api/v1/admin/ip_blocks/{id}", show_ip_block, methods=["GET"]),
    Route("/api/v1/admin/ip_blocks/{id}", update_ip_block, methods=["PUT"]),
    Route("/api/v1/admin/ip_blocks/{id}", delete_ip_block, methods=["DELETE"]),
    Route("/api/v1/admin/canonical_email_blocks", list_canonical, methods=["GET"]),
    Route("/api/v1/admin/canonical_email_blocks", create_canonical, methods=["POST"]),
    Route("/api/v1/admin/canonical_email_blocks/test", test_canonical, methods=["POST"]),
    Route("/api/v1/admin/canonical_email_blocks/{id}", show_canonical, methods=["GET"]),
    Route("/api/v1/admin/canonical_email_blocks/{id}", delete_canonical, methods=["DELETE"]),
]
