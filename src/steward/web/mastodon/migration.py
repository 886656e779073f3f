"""Account migration under Steward's namespace (Mastodon offers these only in
its web settings): aliases (`alsoKnownAs`) and moving this account to another."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.federation import migration as remote
from steward.social import migration
from steward.social.accounts import get_account
from steward.web.base import Ctx, endpoint
from steward.web.mastodon.accounts import render_account


async def _aliases(ctx: Ctx) -> list[dict[str, Any]]:
    async with ctx.c.db.read() as conn:
        listed = await migration.aliases_of(conn, ctx.tenant.id, ctx.me)
    return [{"uri": uri, "acct": account.acct() if account else None,
             "account_id": str(account.id) if account else None} for uri, account in listed]


@endpoint("read:accounts")
async def list_aliases(ctx: Ctx) -> Any:
    return await _aliases(ctx)


@endpoint("write:accounts")
async def add_alias(ctx: Ctx) -> Any:
    await remote.add_alias(ctx.c, ctx.tenant, ctx.me, ctx.params.str("acct", required=True, max_len=400) or "")
    return await _aliases(ctx)


@endpoint("write:accounts")
async def remove_alias(ctx: Ctx) -> Any:
    p = ctx.params
    named = p.str("uri", max_len=2000) or p.str("acct", required=True, max_len=400) or ""
    await remote.remove_alias(ctx.c, ctx.tenant, ctx.me, named)
    return await _aliases(ctx)


@endpoint("read:accounts")
async def show_migration(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        me = await get_account(conn, ctx.tenant.id, ctx.me.id)
    data = await render_account(ctx, me)
    return {"moved_to": data.get("moved")}


@endpoint("write:accounts")
async def move(ctx: Ctx) -> Any:
    p = ctx.params
    acct = p.str("acct", max_len=400) or p.str("target_acct", required=True, max_len=400) or ""
    password = p.str("current_password", max_len=1000) or p.str("password", required=True, max_len=1000) or ""
    moved = await remote.move_out(ctx.c, ctx.tenant, ctx.me, acct, password)
    return await render_account(ctx, moved)


@endpoint("write:accounts")
async def cancel(ctx: Ctx) -> Any:
    return await render_account(ctx, await migration.cancel_move(ctx.c, ctx.tenant, ctx.me))


routes = [
    Route("/api/v1/steward/aliases", list_aliases, methods=["GET"]),
    Route("/api/v1/steward/aliases", add_alias, methods=["POST"]),
    Route("/api/v1/steward/aliases", remove_alias, methods=["DELETE"]),
    Route("/api/v1/steward/migration", show_migration, methods=["GET"]),
    Route("/api/v1/steward/migration", move, methods=["POST"]),
    Route("/api/v1/steward/migration", cancel, methods=["DELETE"]),
]
