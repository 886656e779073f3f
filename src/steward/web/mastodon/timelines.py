"""Timeline routes: home, public, hashtag, list and direct."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import Route

from steward.core.errors import ApiError
from steward.core.text import strip_tags
from steward.model.entities import Status
from steward.social import timelines
from steward.social.filters import active_filters, match_filters
from steward.web.base import Ctx, Page, endpoint, page_params, paged
from steward.web.mastodon.filters import filter_result_to_api
from steward.web.mastodon.serialize_statuses import render_statuses


async def apply_filters(conn: AsyncConnection, tenant_id: int, viewer_id: int | None, context: str,
                        data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The viewer's content filters for `context`: statuses matched by a "hide"
    filter are left out, others carry Mastodon's `filtered` results."""
    if viewer_id is None or not data:
        return data
    active = await active_filters(conn, tenant_id, viewer_id, context)
    if not active:
        return data
    out = []
    for item in data:
        shown = item["reblog"] or item
        text = "\n".join([strip_tags(shown["content"]), shown["spoiler_text"],
                          *(m["description"] or "" for m in shown["media_attachments"])])
        matches = match_filters(active, int(shown["id"]), text)
        if any(f.action == "hide" for f, _, _ in matches):
            continue
        if matches:
            results = [filter_result_to_api(f, words, ids) for f, words, ids in matches]
            item["filtered"] = results
            if item["reblog"]:
                item["reblog"]["filtered"] = results
        out.append(item)
    return out


async def _respond(ctx: Ctx, rows: list[Status], context: str) -> Any:
    """One rendering pass for the page. Link ids come from the rows themselves, so
    a status left out by the presenter or a filter does not break paging."""
    viewer = ctx.account.id if ctx.account else None
    async with ctx.c.db.read() as conn:
        data = await render_statuses(ctx.c, conn, ctx.tenant, viewer, rows)
        data = await apply_filters(conn, ctx.tenant.id, viewer, context, data)
    return paged(ctx.request, data, [r.id for r in rows])


def _page(ctx: Ctx) -> Page:
    return page_params(ctx.params, default=20, maximum=40)


def _public_filter(ctx: Ctx) -> timelines.PublicFilter:
    p = ctx.params
    return timelines.PublicFilter(local=bool(p.bool("local", False)), remote=bool(p.bool("remote", False)),
                                  only_media=bool(p.bool("only_media", False)))


def _check_preview(ctx: Ctx) -> None:
    if ctx.account is None and not ctx.tenant.setting("timeline_preview", True):
        raise ApiError(422, "This method requires an authenticated user")


@endpoint("read:statuses")
async def home(ctx: Ctx) -> Any:
    page = _page(ctx)
    async with ctx.c.db.read() as conn:
        rows = await timelines.home(conn, ctx.tenant.id, ctx.me.id, page)
        data = await render_statuses(ctx.c, conn, ctx.tenant, ctx.me.id, rows)
        data = await apply_filters(conn, ctx.tenant.id, ctx.me.id, "home", data)
    return paged(ctx.request, data, [r.id for r in rows])


@endpoint("read:statuses", auth="optional")
async def public(ctx: Ctx) -> Any:
    _check_preview(ctx)
    page = _page(ctx)
    viewer = ctx.account.id if ctx.account else None
    async with ctx.c.db.read() as conn:
        rows = await timelines.public(conn, ctx.tenant.id, viewer, _public_filter(ctx), page)
    return await _respond(ctx, rows, "public")


@endpoint("read:statuses", auth="optional")
async def tag(ctx: Ctx) -> Any:
    _check_preview(ctx)
    p = ctx.params
    name = timelines.normalise_tag(str(ctx.request.path_params.get("hashtag", "")))
    any_of = timelines.normalise_tags(p.str_list("any", max_items=10))
    all_of = timelines.normalise_tags(p.str_list("all", max_items=10))
    none_of = timelines.normalise_tags(p.str_list("none", max_items=10))
    page = _page(ctx)
    viewer = ctx.account.id if ctx.account else None
    async with ctx.c.db.read() as conn:
        rows = await timelines.tag(conn, ctx.tenant.id, viewer, [name, *any_of], all_of, none_of,
                                   _public_filter(ctx), page)
    return await _respond(ctx, rows, "public")


@endpoint("read:lists")
async def list_timeline(ctx: Ctx) -> Any:
    list_id = ctx.path_id("list_id")
    page = _page(ctx)
    async with ctx.c.db.read() as conn:
        rows = await timelines.list_timeline(conn, ctx.tenant.id, ctx.me.id, list_id, page)
    return await _respond(ctx, rows, "home")


@endpoint("read:statuses")
async def direct(ctx: Ctx) -> Any:
    page = _page(ctx)
    async with ctx.c.db.read() as conn:
        rows = await timelines.direct(conn, ctx.tenant.id, ctx.me.id, page)
    return await _respond(ctx, rows, "thread")


routes = [
    Route("/api/v1/timelines/home", home, methods=["GET"]),
    Route("/api/v1/timelines/public", public, methods=["GET"]),
    Route("/api/v1/timelines/direct", direct, methods=["GET"]),
    Route("/api/v1/timelines/tag/{hashtag}", tag, methods=["GET"]),
    Route("/api/v1/timelines/list/{list_id}", list_timeline, methods=["GET"]),
]
