"""Poll routes: read a poll, vote on it."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.social import polls
from steward.web.base import Ctx, endpoint
from steward.web.mastodon.serialize_statuses import poll_to_api


@endpoint("read:statuses", auth="optional")
async def show(ctx: Ctx) -> Any:
    viewer = ctx.account.id if ctx.account is not None else None
    async with ctx.c.db.read() as conn:
        poll, _ = await polls.get_poll(conn, ctx.tenant.id, viewer, ctx.path_id())
        votes = await polls.own_votes(conn, ctx.tenant.id, viewer, poll.id) if viewer is not None else None
    return poll_to_api(poll, own_votes=votes, viewer_is_author=viewer == poll.account_id)


@endpoint("write:statuses")
async def vote(ctx: Ctx) -> Any:
    choices = ctx.params.str_list("choices", max_items=100)
    poll = await polls.vote(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), choices)
    async with ctx.c.db.read() as conn:
        votes = await polls.own_votes(conn, ctx.tenant.id, ctx.me.id, poll.id)
    return poll_to_api(poll, own_votes=votes, viewer_is_author=ctx.me.id == poll.account_id)


routes = [
    Route("/api/v1/polls/{id}", show, methods=["GET"]),
    Route("/api/v1/polls/{id}/votes", vote, methods=["POST"]),
]
