"""/api/v1/admin/measures, /dimensions, /retention and /trends/*."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.core.errors import ApiError
from steward.moderation import measures as svc
from steward.moderation.roles import Permission
from steward.social import trends
from steward.web.admin_api.common import require_permission
from steward.web.base import Ctx, endpoint, page_params
from steward.web.mastodon.search import render_tags
from steward.web.mastodon.serialize_statuses import render_statuses
from steward.web.params import Params

MAX_KEYS = 20


def _keys_and_options(p: Params) -> tuple[list[str], dict[str, dict[str, Any]]]:
    keys: list[str] = p.str_list("keys", max_items=MAX_KEYS)
    if not keys:
        raise ApiError(422, "Validation failed: keys can't be blank",
                       {"keys": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
    options = {k: p.dict(k) for k in keys if k in p}
    return keys, options


@endpoint("admin:read")
async def measures(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.VIEW_DASHBOARD)
    keys, options = _keys_and_options(ctx.params)
    span = svc.span_of(ctx.params.str("start_at", max_len=64), ctx.params.str("end_at", max_len=64))
    async with ctx.c.db.read() as conn:
        return await svc.measures(conn, ctx.tenant.id, keys, span, options)


@endpoint("admin:read")
async def dimensions(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.VIEW_DASHBOARD)
    keys, options = _keys_and_options(ctx.params)
    span = svc.span_of(ctx.params.str("start_at", max_len=64), ctx.params.str("end_at", max_len=64))
    limit = ctx.params.int("limit", 10, lo=1, hi=100, clamp=True) or 10
    async with ctx.c.db.read() as conn:
        return await svc.dimensions(conn, ctx.tenant.id, keys, span, limit, options)


@endpoint("admin:read")
async def retention(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.VIEW_DASHBOARD)
    p = ctx.params
    frequency = p.str("frequency", "day", max_len=8) or "day"
    span = svc.span_of(p.str("start_at", max_len=64), p.str("end_at", max_len=64),
                       max_days=svc.MAX_DAYS if frequency == "day" else svc.MAX_MONTHS * 31)
    async with ctx.c.db.read() as conn:
        return await svc.retention(conn, ctx.tenant.id, span, frequency)


# Trends: Steward ranks tags and statuses as the public trends do and has no review
# queue, so every trend shown is already approved (requires_review false).

@endpoint("admin:read")
async def trending_tags(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_TAXONOMIES)
    page = page_params(ctx.params, default=10, maximum=20)
    async with ctx.c.db.read() as conn:
        rows = await trends.trending_tags(conn, ctx.tenant.id, limit=page.limit, offset=page.offset)
        rendered = await render_tags(ctx, conn, rows)
    flags = {r.id: r for r in rows}
    for tag in rendered:
        row = flags[int(tag["id"])]
        tag.update({"trendable": row.trendable, "usable": row.usable, "requires_review": False})
    return rendered


@endpoint("admin:read")
async def trending_statuses(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_TAXONOMIES)
    page = page_params(ctx.params, default=20, maximum=40)
    async with ctx.c.db.read() as conn:
        found = await trends.trending_statuses(conn, ctx.tenant.id, None, limit=page.limit, offset=page.offset)
        return await render_statuses(ctx.c, conn, ctx.tenant, ctx.me.id, found)


@endpoint("admin:read")
async def trending_links(ctx: Ctx) -> Any:
    """Links are not tracked (no preview cards are fetched yet), so none trend."""
    require_permission(ctx, Permission.MANAGE_TAXONOMIES)
    return []


routes = [
    Route("/api/v1/admin/measures", measures, methods=["POST"]),
    Route("/api/v1/admin/dimensions", dimensions, methods=["POST"]),
    Route("/api/v1/admin/retention", retention, methods=["POST"]),
    Route("/api/v1/admin/trends/tags", trending_tags, methods=["GET"]),
    Route("/api/v1/admin/trends/statuses", trending_statuses, methods=["GET"]),
    Route("/api/v1/admin/trends/links", trending_links, methods=["GET"]),
]
