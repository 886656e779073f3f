"""Follow requests to a locked account: list them, authorize, reject."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.social import relationships as rels
from steward.web.base import Ctx, endpoint, page_params
from steward.web.mastodon.relationships import account_page, relationship_to_api


@endpoint("read:follows")
async def index(ctx: Ctx) -> Any:
    page = page_params(ctx.params, default=40, maximum=80)
    async with ctx.c.db.read() as conn:
        items = await rels.requesters(conn, ctx.tenant.id, ctx.me.id, page)
    return account_page(ctx, items)


@endpoint("write:follows")
async def authorize(ctx: Ctx) -> Any:
    rel = await rels.authorize_request(ctx.c, ctx.tenant, ctx.me, ctx.path_id("account_id"))
    return relationship_to_api(rel)


@endpoint("write:follows")
async def reject(ctx: Ctx) -> Any:
    rel = await rels.reject_request(ctx.c, ctx.tenant, ctx.me, ctx.path_id("account_id"))
    return relationship_to_api(rel)


routes = [
    Route("/api/v1/follow_requests", index, methods=["GET"]),
    Route("/api/v1/follow_requests/{account_id}/authorize", authorize, methods=["POST"]),
    Route("/api/v1/follow_requests/{account_id}/reject", reject, methods=["POST"]),
]
