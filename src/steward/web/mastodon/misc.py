"""Small client endpoints: custom emojis, preferences, announcements, the profile
directory and trends."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.core.errors import ApiError
from steward.social import instance as instance_service
from steward.social.accounts import get_user_for_account
from steward.web.base import Ctx, endpoint
from steward.web.mastodon.serialize_accounts import account_to_api


def emoji_to_api(base: str, row: Any) -> dict[str, Any]:
    url = f"{base}/system/{row.image_path}" if row.image_path else (row.remote_url or "")
    return {"shortcode": row.shortcode, "url": url, "static_url": url,
            "visible_in_picker": bool(row.visible_in_picker), "category": row.category}


@endpoint(auth="none")
async def custom_emojis(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        rows = await instance_service.emojis(conn, ctx.tenant.id)
    return [emoji_to_api(ctx.base_url, r) for r in rows]


@endpoint("read:accounts")
async def preferences(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        user = await get_user_for_account(conn, ctx.tenant.id, ctx.me.id)
    return instance_service.preferences(user)


@endpoint("read", auth="optional")
async def announcements(ctx: Ctx) -> Any:
    # Announcements cannot be authored on Steward yet, so there are never any to show.
    ctx.params.bool("with_dismissed")
    return []


@endpoint("write:accounts")
async def announcement_action(ctx: Ctx) -> Any:
    ctx.path_id()
    raise ApiError(404, "Record not found")


@endpoint("read:accounts|read", auth="optional")
async def directory(ctx: Ctx) -> Any:
    p = ctx.params
    order = p.str("order", "active", max_len=16) or "active"
    if order not in {"active", "new"}:
        raise ApiError(422, "Validation failed: order must be active or new")
    limit = p.int("limit", 40, lo=1, hi=80, clamp=True) or 40
    offset = p.int("offset", 0, lo=0, clamp=True) or 0
    local_only = bool(p.bool("local", False))
    async with ctx.c.db.read() as conn:
        found = await instance_service.directory(conn, ctx.tenant.id, order=order, local_only=local_only,
                                                 offset=offset, limit=limit)
    return [account_to_api(ctx.base_url, ctx.tenant, a) for a in found]


def _trend_page(ctx: Ctx, maximum: int) -> None:
    ctx.params.int("limit", 10, lo=1, hi=maximum, clamp=True)
    ctx.params.int("offset", 0, lo=0, clamp=True)


@endpoint(auth="none")
async def trending_tags(ctx: Ctx) -> Any:
    # Trends are not computed yet; an empty list is what a server without trends returns.
    _trend_page(ctx, 20)
    return []


@endpoint(auth="none")
async def trending_statuses(ctx: Ctx) -> Any:
    _trend_page(ctx, 40)
    return []


@endpoint(auth="none")
async def trending_links(ctx: Ctx) -> Any:
    _trend_page(ctx, 20)
    return []


routes = [
    Route("/api/v1/custom_emojis", custom_emojis, methods=["GET"]),
    Route("/api/v1/preferences", preferences, methods=["GET"]),
    Route("/api/v1/announcements", announcements, methods=["GET"]),
    Route("/api/v1/announcements/{id}/dismiss", announcement_action, methods=["POST"]),
    Route("/api/v1/announcements/{id}/reactions/{name}", announcement_action, methods=["PUT", "DELETE"]),
    Route("/api/v1/directory", directory, methods=["GET"]),
    Route("/api/v1/trends", trending_tags, methods=["GET"]),
    Route("/api/v1/trends/tags", trending_tags, methods=["GET"]),
    Route("/api/v1/trends/statuses", trending_statuses, methods=["GET"]),
    Route("/api/v1/trends/links", trending_links, methods=["GET"]),
]
