"""Scheduled status routes (posting one goes through POST /api/v1/statuses with
`scheduled_at`)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.social import scheduled_statuses as scheduled
from steward.social.status_drafts import parse_timestamp
from steward.web.base import Ctx, endpoint, page_params, paged
from steward.web.mastodon.serialize_statuses import scheduled_to_api


@endpoint("read:statuses")
async def index(ctx: Ctx) -> Any:
    page = page_params(ctx.params)
    async with ctx.c.db.read() as conn:
        rows = await scheduled.list_scheduled(conn, ctx.tenant.id, ctx.me, page)
        return paged(ctx.request, await scheduled_to_api(ctx.c, conn, ctx.tenant, rows))


@endpoint("read:statuses")
async def show(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        row = await scheduled.get_scheduled(conn, ctx.tenant.id, ctx.me, ctx.path_id())
        return (await scheduled_to_api(ctx.c, conn, ctx.tenant, [row]))[0]


@endpoint("write:statuses")
async def update(ctx: Ctx) -> Any:
    at = parse_timestamp(ctx.params.str("scheduled_at", max_len=64))
    row = await scheduled.reschedule(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), at)
    async with ctx.c.db.read() as conn:
        return (await scheduled_to_api(ctx.c, conn, ctx.tenant, [row]))[0]


@endpoint("write:statuses")
async def destroy(ctx: Ctx) -> Any:
    await scheduled.cancel(ctx.c, ctx.tenant, ctx.me, ctx.path_id())
    return {}


routes = [
    Route("/api/v1/scheduled_statuses", index, methods=["GET"]),
    Route("/api/v1/scheduled_statuses/{id}", show, methods=["GET"]),
    Route("/api/v1/scheduled_statuses/{id}", update, methods=["PUT"]),
    Route("/api/v1/scheduled_statuses/{id}", destroy, methods=["DELETE"]),
]
