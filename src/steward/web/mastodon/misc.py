"""Small client endpoints: custom emojis, preferences, announcements, the profile
directory and trends (tags and statuses; links are not tracked yet)."""

from __future__ import annotations

from typing import Any

from starlette.responses import PlainTextResponse
from starlette.routing import Route

from steward.core.clock import iso
from steward.core.errors import ApiError
from steward.social import announcements as announcement_service
from steward.social import instance as instance_service
from steward.social import trends
from steward.social.accounts import get_user_for_account
from steward.web.base import Ctx, endpoint
from steward.web.mastodon.search import render_tags
from steward.web.mastodon.serialize_accounts import account_to_api
from steward.web.mastodon.serialize_statuses import render_statuses


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


def reaction_to_api(base: str, reaction: announcement_service.Reaction) -> dict[str, Any]:
    data: dict[str, Any] = {"name": reaction.name, "count": reaction.count, "me": reaction.me}
    if reaction.emoji_path:
        data["url"] = data["static_url"] = f"{base}/system/{reaction.emoji_path}"
    return data


def announcement_to_api(base: str, a: announcement_service.Announcement) -> dict[str, Any]:
    return {
        "id": str(a.id), "content": a.content, "starts_at": iso(a.starts_at), "ends_at": iso(a.ends_at),
        "all_day": a.all_day, "published_at": iso(a.published_at), "updated_at": iso(a.updated_at),
        "read": a.read, "mentions": [], "statuses": [], "tags": [], "emojis": [],
        "reactions": [reaction_to_api(base, r) for r in a.reactions],
    }


@endpoint("read")
async def announcements(ctx: Ctx) -> Any:
    with_dismissed = bool(ctx.params.bool("with_dismissed", False))
    async with ctx.c.db.read() as conn:
        found = await announcement_service.list_for(conn, ctx.tenant.id, ctx.me.id, with_dismissed=with_dismissed)
    return [announcement_to_api(ctx.base_url, a) for a in found]


@endpoint("write:accounts")
async def dismiss_announcement(ctx: Ctx) -> Any:
    async with ctx.c.db.write() as conn:
        await announcement_service.dismiss(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return {}


@endpoint("write:favourites")
async def react_to_announcement(ctx: Ctx) -> Any:
    name = str(ctx.request.path_params.get("name", "")).strip()
    if not name or len(name) > 128:
        raise ApiError(422, "Validation failed: Name is not a recognized emoji")
    async with ctx.c.db.write() as conn:
        if ctx.request.method == "PUT":
            await announcement_service.add_reaction(conn, ctx.tenant.id, ctx.me.id, ctx.path_id(), name)
        else:
            await announcement_service.remove_reaction(conn, ctx.tenant.id, ctx.me.id, ctx.path_id(), name)
    return {}


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


def _trend_page(ctx: Ctx, default: int, maximum: int) -> tuple[int, int]:
    limit = ctx.params.int("limit", default, lo=1, hi=maximum, clamp=True) or default
    return limit, ctx.params.int("offset", 0, lo=0, clamp=True) or 0


@endpoint("read", auth="optional")
async def trending_tags(ctx: Ctx) -> Any:
    limit, offset = _trend_page(ctx, 10, 20)
    if not trends.enabled(ctx.tenant):
        return []
    async with ctx.c.db.read() as conn:
        rows = await trends.trending_tags(conn, ctx.tenant.id, limit=limit, offset=offset)
        return await render_tags(ctx, conn, rows)


@endpoint("read", auth="optional")
async def trending_statuses(ctx: Ctx) -> Any:
    limit, offset = _trend_page(ctx, 20, 40)
    if not trends.enabled(ctx.tenant):
        return []
    viewer = ctx.account.id if ctx.account else None
    async with ctx.c.db.read() as conn:
        rows = await trends.trending_statuses(conn, ctx.tenant.id, viewer, limit=limit, offset=offset)
        return await render_statuses(ctx.c, conn, ctx.tenant, viewer, rows)


@endpoint("read", auth="optional")
async def trending_links(ctx: Ctx) -> Any:
    # Links are not tracked yet (no preview cards), so none trend.
    _trend_page(ctx, 10, 20)
    return []


@endpoint(auth="none")
async def health(ctx: Ctx) -> Any:
    # Mastodon's liveness answer: the web process is up and serving this host.
    return PlainTextResponse("OK", headers={"Cache-Control": "no-store"})


routes = [
    Route("/health", health, methods=["GET", "HEAD"]),
    Route("/api/v1/custom_emojis", custom_emojis, methods=["GET"]),
    Route("/api/v1/preferences", preferences, methods=["GET"]),
    Route("/api/v1/announcements", announcements, methods=["GET"]),
    Route("/api/v1/announcements/{id}/dismiss", dismiss_announcement, methods=["POST"]),
    Route("/api/v1/announcements/{id}/reactions/{name}", react_to_announcement, methods=["PUT", "DELETE"]),
    Route("/api/v1/directory", directory, methods=["GET"]),
    Route("/api/v1/trends", trending_tags, methods=["GET"]),
    Route("/api/v1/trends/tags", trending_tags, methods=["GET"]),
    Route("/api/v1/trends/statuses", trending_statuses, methods=["GET"]),
    Route("/api/v1/trends/links", trending_links, methods=["GET"]),
]
