"""List routes: the owner's lists, their settings and members, and which of
my lists hold an account."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.social import lists as svc
from steward.social.relationships import visible_target
from steward.web.base import Ctx, endpoint, page_params
from steward.web.mastodon.relationships import account_page


def list_to_api(item: svc.UserList) -> dict[str, Any]:
    return {"id": str(item.id), "title": item.title, "replies_policy": item.replies_policy,
            "exclusive": item.exclusive}


@endpoint("read:lists")
async def index(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return [list_to_api(x) for x in await svc.lists_of(conn, ctx.tenant.id, ctx.me.id)]


@endpoint("write:lists")
async def create(ctx: Ctx) -> Any:
    p = ctx.params
    item = await svc.create_list(ctx.c, ctx.tenant, ctx.me, title=p.str("title", max_len=svc.MAX_TITLE * 4),
                                 replies_policy=p.str("replies_policy", "list", max_len=32) or "list",
                                 exclusive=bool(p.bool("exclusive", False)))
    return list_to_api(item)


@endpoint("read:lists")
async def show(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return list_to_api(await svc.owned_list(conn, ctx.tenant.id, ctx.path_id(), ctx.me.id))


@endpoint("write:lists")
async def update(ctx: Ctx) -> Any:
    p = ctx.params
    item = await svc.update_list(ctx.c, ctx.tenant, ctx.me, ctx.path_id(),
                                 title=p.str("title", max_len=svc.MAX_TITLE * 4),
                                 replies_policy=p.str("replies_policy", max_len=32),
                                 exclusive=p.bool("exclusive"))
    return list_to_api(item)


@endpoint("write:lists")
async def destroy(ctx: Ctx) -> Any:
    await svc.delete_list(ctx.c, ctx.tenant, ctx.me, ctx.path_id())
    return {}


@endpoint("read:lists")
async def members(ctx: Ctx) -> Any:
    # As in Mastodon, limit=0 asks for every member at once.
    everything = str(ctx.params.raw("limit", "")).strip() == "0"
    page = None if everything else page_params(ctx.params, default=40, maximum=80)
    async with ctx.c.db.read() as conn:
        items = await svc.members(conn, ctx.tenant.id, ctx.me.id, ctx.path_id(), page)
    return account_page(ctx, items)


@endpoint("write:lists")
async def add_members(ctx: Ctx) -> Any:
    ids = ctx.params.id_list("account_ids", max_items=svc.MAX_MEMBERS_PER_CALL)
    await svc.add_members(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), ids)
    return {}


@endpoint("write:lists")
async def remove_members(ctx: Ctx) -> Any:
    ids = ctx.params.id_list("account_ids", max_items=svc.MAX_MEMBERS_PER_CALL)
    await svc.remove_members(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), ids)
    return {}


@endpoint("read:lists")
async def account_lists(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        account = await visible_target(conn, ctx.tenant.id, ctx.path_id())
        return [list_to_api(x) for x in await svc.lists_containing(conn, ctx.tenant.id, ctx.me.id, account.id)]


routes = [
    Route("/api/v1/lists", index, methods=["GET"]),
    Route("/api/v1/lists", create, methods=["POST"]),
    Route("/api/v1/lists/{id}", show, methods=["GET"]),
    Route("/api/v1/lists/{id}", update, methods=["PUT", "PATCH"]),
    Route("/api/v1/lists/{id}", destroy, methods=["DELETE"]),
    Route("/api/v1/lists/{id}/accounts", members, methods=["GET"]),
    Route("/api/v1/lists/{id}/accounts", add_members, methods=["POST"]),
    Route("/api/v1/lists/{id}/accounts", remove_members, methods=["DELETE"]),
    Route("/api/v1/accounts/{id}/lists", account_lists, methods=["GET"]),
]
