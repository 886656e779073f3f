"""Direct-message conversations, as each participant sees them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import Route

from steward.model.entities import Tenant
from steward.social import timelines
from steward.social.accounts import get_accounts
from steward.web.base import Ctx, endpoint, page_params, paged
from steward.web.mastodon.serialize_accounts import account_to_api
from steward.web.mastodon.serialize_statuses import load_statuses, render_statuses

if TYPE_CHECKING:
    from steward.container import Container


async def render_conversations(c: Container, conn: AsyncConnection, tenant: Tenant, viewer_id: int,
                               rows: list[Any]) -> list[dict[str, Any]]:
    """Mastodon Conversation entities: `accounts` are the other participants (the
    viewer alone when talking to themself)."""
    base = c.base_url(tenant)
    wanted = {viewer_id} | {a for r in rows for a in (r.participant_ids or [])}
    people = await get_accounts(conn, tenant.id, wanted)
    loaded = await load_statuses(conn, tenant.id, [r.last_status_id for r in rows])
    rendered = {int(s["id"]): s for s in await render_statuses(c, conn, tenant, viewer_id, list(loaded.values()))}
    out = []
    for r in rows:
        ids = [a for a in (r.participant_ids or []) if a in people] or [viewer_id]
        out.append({"id": str(r.id), "unread": bool(r.unread),
                    "accounts": [account_to_api(base, tenant, people[a]) for a in ids if a in people],
                    "last_status": rendered.get(r.last_status_id)})
    return out


@endpoint("read:statuses")
async def index(ctx: Ctx) -> Any:
    page = page_params(ctx.params, default=20, maximum=40)
    async with ctx.c.db.read() as conn:
        rows = await timelines.conversations(conn, ctx.tenant.id, ctx.me.id, page)
        data = await render_conversations(ctx.c, conn, ctx.tenant, ctx.me.id, rows)
    return paged(ctx.request, data, [r.last_status_id for r in rows])


@endpoint("write:conversations")
async def remove(ctx: Ctx) -> Any:
    async with ctx.c.db.write() as conn:
        await timelines.remove_conversation(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return {}


@endpoint("write:conversations")
async def read(ctx: Ctx) -> Any:
    async with ctx.c.db.write() as conn:
        row = await timelines.mark_conversation_read(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    async with ctx.c.db.read() as conn:
        return (await render_conversations(ctx.c, conn, ctx.tenant, ctx.me.id, [row]))[0]


routes = [
    Route("/api/v1/conversations", index, methods=["GET"]),
    Route("/api/v1/conversations/{id}", remove, methods=["DELETE"]),
    Route("/api/v1/conversations/{id}/read", read, methods=["POST"]),
]
