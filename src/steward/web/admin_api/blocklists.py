"""Steward's own admin API for blocklists (Mastodon has none for this):
CSV import/export of domain blocks and blocklist subscriptions with review.

    POST   /api/v1/admin/steward/domain_blocks/import   multipart `data` (or a text/csv body); `dry_run`, `format`
    GET    /api/v1/admin/steward/domain_blocks/export   text/csv in Mastodon's format
    GET    /api/v1/admin/steward/blocklist_subscriptions
    POST   /api/v1/admin/steward/blocklist_subscriptions  url, format, max_severity, excluded_domains[],
                                                          severity_overrides[domain]=severity
    GET|PUT|DELETE /api/v1/admin/steward/blocklist_subscriptions/{id}
    POST   /api/v1/admin/steward/blocklist_subscriptions/{id}/refresh
    GET    /api/v1/admin/steward/blocklist_subscriptions/{id}/review
    POST   /api/v1/admin/steward/blocklist_subscriptions/{id}/apply
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from steward.core.errors import ApiError
from steward.moderation import blocklist_subscriptions as subs
from steward.moderation import blocklists
from steward.moderation.roles import Permission
from steward.web.admin_api.common import require_permission
from steward.web.base import Ctx, endpoint
from steward.web.params import Params

BASE = "/api/v1/admin/steward"


async def _upload(ctx: Ctx) -> bytes:
    upload = ctx.params.file("data")
    if upload is not None:
        data = await upload.read(blocklists.MAX_BYTES + 1)
    else:
        ctype = ctx.request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in {"text/csv", "text/plain"}:
            raise ApiError(422, "Validation failed: data must be a file upload",
                           {"data": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
        data = await ctx.request.body()
    if len(data) > blocklists.MAX_BYTES:
        raise blocklists.invalid(0, f"the file is larger than {blocklists.MAX_BYTES // (1024 * 1024)} MB")
    return data


@endpoint("admin:write:domain_blocks")
async def import_blocks(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    data = await _upload(ctx)
    fmt = ctx.params.str("format", "csv", max_len=8) or "csv"
    if fmt not in subs.FORMATS:
        raise ApiError(422, "Validation failed: format must be auto, csv or json")
    dry_run = bool(ctx.params.bool("dry_run"))
    async with ctx.c.db.write() as conn:
        return await blocklists.import_blocks(conn, ctx.tenant.id, ctx.me.id, data, fmt=fmt, dry_run=dry_run)


@endpoint("admin:read:domain_blocks")
async def export_blocks(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    async with ctx.c.db.read() as conn:
        text = await blocklists.export_blocks(conn, ctx.tenant.id)
    return Response(text, media_type="text/csv; charset=utf-8",
                     headers={"Content-Disposition": 'attachment; filename="domain_blocks.csv"'})


def _fields(p: Params) -> dict[str, Any]:
    overrides = p.dict("severity_overrides") if "severity_overrides" in p else None
    return {
        "format": p.str("format", max_len=8), "max_severity": p.str("max_severity", max_len=16),
        "excluded_domains": p.list("excluded_domains") if "excluded_domains" in p else None,
        "severity_overrides": overrides,
    }


@endpoint("admin:read:domain_blocks")
async def list_subscriptions(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    async with ctx.c.db.read() as conn:
        return [subs.subscription_to_api(r) for r in await subs.list_all(conn, ctx.tenant.id)]


@endpoint("admin:write:domain_blocks")
async def create_subscription(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    url = ctx.params.str("url", max_len=subs.MAX_URL + 1)
    async with ctx.c.db.write() as conn:
        row = await subs.subscribe(conn, ctx.tenant.id, ctx.me.id, url, _fields(ctx.params))
    ctx.c.jobs.wake()
    return subs.subscription_to_api(row)


@endpoint("admin:read:domain_blocks")
async def show_subscription(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    async with ctx.c.db.read() as conn:
        return subs.subscription_to_api(await subs.get(conn, ctx.tenant.id, ctx.path_id()))


@endpoint("admin:write:domain_blocks")
async def update_subscription(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    async with ctx.c.db.write() as conn:
        row = await subs.change(conn, ctx.tenant.id, ctx.me.id, ctx.path_id(), _fields(ctx.params))
    return subs.subscription_to_api(row)


@endpoint("admin:write:domain_blocks")
async def delete_subscription(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    async with ctx.c.db.write() as conn:
        await subs.unsubscribe(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return {}


@endpoint("admin:write:domain_blocks")
async def refresh_subscription(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    async with ctx.c.db.write() as conn:
        row = await subs.refresh(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    ctx.c.jobs.wake()
    return subs.subscription_to_api(row)


@endpoint("admin:read:domain_blocks")
async def review_subscription(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    async with ctx.c.db.read() as conn:
        return await subs.review(conn, ctx.tenant.id, ctx.path_id())


@endpoint("admin:write:domain_blocks")
async def apply_subscription(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_FEDERATION)
    async with ctx.c.db.write() as conn:
        return await subs.apply(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())


routes = [
    Route(f"{BASE}/domain_blocks/import", import_blocks, methods=["POST"]),
    Route(f"{BASE}/domain_blocks/export", export_blocks, methods=["GET"]),
    Route(f"{BASE}/blocklist_subscriptions", list_subscriptions, methods=["GET"]),
    Route(f"{BASE}/blocklist_subscriptions", create_subscription, methods=["POST"]),
    Route(f"{BASE}/blocklist_subscriptions/{{id}}", show_subscription, methods=["GET"]),
    Route(f"{BASE}/blocklist_subscriptions/{{id}}", update_subscription, methods=["PUT", "PATCH"]),
    Route(f"{BASE}/blocklist_subscriptions/{{id}}", delete_subscription, methods=["DELETE"]),
    Route(f"{BASE}/blocklist_subscriptions/{{id}}/refresh", refresh_subscription, methods=["POST"]),
    Route(f"{BASE}/blocklist_subscriptions/{{id}}/review", review_subscription, methods=["GET"]),
    Route(f"{BASE}/blocklist_subscriptions/{{id}}/apply", apply_subscription, methods=["POST"]),
]
