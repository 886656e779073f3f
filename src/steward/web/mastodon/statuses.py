"""Status routes: post, read, edit, delete, the thread, and what an account
does to a status (favourite, boost, bookmark, pin, mute)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.core.errors import ApiError
from steward.federation.resolve import resolve_mentions
from steward.model.entities import Status
from steward.social import quotes
from steward.social import scheduled_statuses as scheduled
from steward.social import status_actions as actions
from steward.social.status_drafts import draft_from_params
from steward.social.status_edits import edit_history, edit_status, source_of
from steward.social.status_queries import account_statuses, context
from steward.social.status_visibility import filter_visible, get_visible
from steward.social.statuses import create_status, delete_status
from steward.web.base import Ctx, endpoint, page_params, paged
from steward.web.mastodon.serialize_accounts import account_to_api
from steward.web.mastodon.serialize_statuses import (
    edits_to_api,
    load_statuses,
    render_status,
    render_statuses,
    scheduled_to_api,
)
from steward.web.mastodon.timelines import apply_filters


def _viewer(ctx: Ctx) -> int | None:
    return ctx.account.id if ctx.account is not None else None


async def _render(ctx: Ctx, status: Status) -> dict[str, Any]:
    async with ctx.c.db.read() as conn:
        return await render_status(ctx.c, conn, ctx.tenant, _viewer(ctx), status)


@endpoint("write:statuses")
async def create(ctx: Ctx) -> Any:
    draft = draft_from_params(ctx.tenant, ctx.params, idempotency_key=ctx.request.headers.get("idempotency-key"),
                              application_id=ctx.token.app_id if ctx.token else None)
    await resolve_mentions(ctx.c, ctx.tenant, draft.text)
    if draft.scheduled_at is not None:
        row = await scheduled.schedule(ctx.c, ctx.tenant, ctx.me, ctx.user, draft)
        async with ctx.c.db.read() as conn:
            return (await scheduled_to_api(ctx.c, conn, ctx.tenant, [row]))[0]
    status = await create_status(ctx.c, ctx.tenant, ctx.me, ctx.user, draft)
    return await _render(ctx, status)


@endpoint("read:statuses", auth="optional")
async def show(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        status = await get_visible(conn, ctx.tenant.id, _viewer(ctx), ctx.path_id())
        return await render_status(ctx.c, conn, ctx.tenant, _viewer(ctx), status)


@endpoint("read:statuses", auth="optional")
async def show_many(ctx: Ctx) -> Any:
    ids: list[int] = list(ctx.params.id_list("id", max_items=40))
    async with ctx.c.db.read() as conn:
        found = await load_statuses(conn, ctx.tenant.id, ids)
        ordered = [found[i] for i in dict.fromkeys(ids) if i in found]
        visible = await filter_visible(conn, ctx.tenant.id, _viewer(ctx), ordered)
        return await render_statuses(ctx.c, conn, ctx.tenant, _viewer(ctx), visible)


@endpoint("write:statuses")
async def update(ctx: Ctx) -> Any:
    draft = draft_from_params(ctx.tenant, ctx.params)
    await resolve_mentions(ctx.c, ctx.tenant, draft.text)
    status = await edit_status(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), draft)
    return await _render(ctx, status)


@endpoint("write:statuses")
async def destroy(ctx: Ctx) -> Any:
    delete_media = bool(ctx.params.bool("delete_media", False))
    if delete_media:
        async with ctx.c.db.read() as conn:  # rendered first: the media is about to go
            data = await render_status(ctx.c, conn, ctx.tenant, ctx.me.id, await get_visible(
                conn, ctx.tenant.id, ctx.me.id, ctx.path_id()))
    status = await delete_status(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), delete_media=delete_media)
    if not delete_media:
        data = await _render(ctx, status)
    data["text"] = status.text
    return data


@endpoint("read:statuses", auth="optional")
async def history(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        status, edits = await edit_history(conn, ctx.tenant.id, _viewer(ctx), ctx.path_id())
        return await edits_to_api(ctx.c, conn, ctx.tenant, status, edits)


@endpoint("read:statuses")
async def source(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        status = await source_of(conn, ctx.tenant.id, ctx.me, ctx.path_id())
    return {"id": str(status.id), "text": status.text, "spoiler_text": status.spoiler_text}


@endpoint("read:statuses", auth="optional")
async def thread(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        ancestors, descendants = await context(conn, ctx.tenant.id, _viewer(ctx), ctx.path_id())
        rendered = await render_statuses(ctx.c, conn, ctx.tenant, _viewer(ctx), ancestors + descendants)
        before, after = rendered[:len(ancestors)], rendered[len(ancestors):]
        return {"ancestors": await apply_filters(conn, ctx.tenant.id, _viewer(ctx), "thread", before),
                "descendants": await apply_filters(conn, ctx.tenant.id, _viewer(ctx), "thread", after)}


@endpoint("write:favourites")
async def favourite(ctx: Ctx) -> Any:
    return await _render(ctx, await actions.favourite(ctx.c, ctx.tenant, ctx.me, ctx.path_id()))


@endpoint("write:favourites")
async def unfavourite(ctx: Ctx) -> Any:
    return await _render(ctx, await actions.unfavourite(ctx.c, ctx.tenant, ctx.me, ctx.path_id()))


@endpoint("write:statuses")
async def reblog(ctx: Ctx) -> Any:
    visibility = ctx.params.str("visibility", max_len=16)
    return await _render(ctx, await actions.reblog(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), visibility))


@endpoint("write:statuses")
async def unreblog(ctx: Ctx) -> Any:
    return await _render(ctx, await actions.unreblog(ctx.c, ctx.tenant, ctx.me, ctx.path_id()))


@endpoint("write:bookmarks")
async def bookmark(ctx: Ctx) -> Any:
    return await _render(ctx, await actions.bookmark(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), True))


@endpoint("write:bookmarks")
async def unbookmark(ctx: Ctx) -> Any:
    return await _render(ctx, await actions.bookmark(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), False))


@endpoint("write:accounts")
async def pin(ctx: Ctx) -> Any:
    return await _render(ctx, await actions.pin(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), True))


@endpoint("write:accounts")
async def unpin(ctx: Ctx) -> Any:
    return await _render(ctx, await actions.pin(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), False))


@endpoint("write:mutes")
async def mute(ctx: Ctx) -> Any:
    return await _render(ctx, await actions.mute_conversation(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), True))


@endpoint("write:mutes")
async def unmute(ctx: Ctx) -> Any:
    return await _render(ctx, await actions.mute_conversation(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), False))


async def _who(ctx: Ctx, what: str) -> Any:
    page = page_params(ctx.params, default=40, maximum=80)
    async with ctx.c.db.read() as conn:
        found, keys = await actions.accounts_who(conn, ctx.tenant.id, _viewer(ctx), ctx.path_id(), what, page)
    return paged(ctx.request, [account_to_api(ctx.base_url, ctx.tenant, a) for a in found], keys)


@endpoint("read:accounts", auth="optional")
async def favourited_by(ctx: Ctx) -> Any:
    return await _who(ctx, "favourited")


@endpoint("read:accounts", auth="optional")
async def reblogged_by(ctx: Ctx) -> Any:
    return await _who(ctx, "reblogged")


async def _saved(ctx: Ctx, which: str) -> Any:
    page = page_params(ctx.params)
    async with ctx.c.db.read() as conn:
        found, keys = await actions.saved_statuses(conn, ctx.tenant.id, ctx.me, which, page)
        data = await render_statuses(ctx.c, conn, ctx.tenant, ctx.me.id, found)
    return paged(ctx.request, data, keys)


@endpoint("read:favourites")
async def favourites(ctx: Ctx) -> Any:
    return await _saved(ctx, "favourites")


@endpoint("read:bookmarks")
async def bookmarks(ctx: Ctx) -> Any:
    return await _saved(ctx, "bookmarks")


@endpoint("read:statuses", auth="optional")
async def by_account(ctx: Ctx) -> Any:
    p = ctx.params
    page = page_params(p)
    async with ctx.c.db.read() as conn:
        found = await account_statuses(
            conn, ctx.tenant.id, _viewer(ctx), ctx.path_id(), page, only_media=bool(p.bool("only_media")),
            exclude_replies=bool(p.bool("exclude_replies")), exclude_reblogs=bool(p.bool("exclude_reblogs")),
            pinned=bool(p.bool("pinned")), tagged=p.str("tagged", max_len=256),
            exclude_direct=bool(p.bool("exclude_direct")))
        data = await render_statuses(ctx.c, conn, ctx.tenant, _viewer(ctx), found)
        data = await apply_filters(conn, ctx.tenant.id, _viewer(ctx), "account", data)
    return paged(ctx.request, data, [s.id for s in found])


@endpoint("write:statuses")
async def interaction_policy(ctx: Ctx) -> Any:
    policy = ctx.params.str("quote_approval_policy", max_len=16)
    return await _render(ctx, await quotes.set_policy(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), policy))


@endpoint("read:statuses")
async def quotes_index(ctx: Ctx) -> Any:
    page = page_params(ctx.params)
    async with ctx.c.db.read() as conn:
        found = await quotes.quotes_of(conn, ctx.tenant.id, ctx.me, ctx.path_id(), page)
        return paged(ctx.request, await render_statuses(ctx.c, conn, ctx.tenant, ctx.me.id, found))


@endpoint("write:statuses")
async def revoke_quote(ctx: Ctx) -> Any:
    quoting = await quotes.revoke(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), ctx.path_id("quoting_status_id"))
    return await _render(ctx, quoting)


@endpoint("read:statuses", auth="optional")
async def translate(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        await get_visible(conn, ctx.tenant.id, _viewer(ctx), ctx.path_id())
    raise ApiError(503, "Translation is not available on this server")


_S = "/api/v1/statuses/{id}"
routes = [
    Route("/api/v1/statuses", create, methods=["POST"]),
    Route("/api/v1/statuses", show_many, methods=["GET"]),
    Route(_S, show, methods=["GET"]),
    Route(_S, update, methods=["PUT"]),
    Route(_S, destroy, methods=["DELETE"]),
    Route(f"{_S}/history", history, methods=["GET"]),
    Route(f"{_S}/source", source, methods=["GET"]),
    Route(f"{_S}/context", thread, methods=["GET"]),
    Route(f"{_S}/favourite", favourite, methods=["POST"]),
    Route(f"{_S}/unfavourite", unfavourite, methods=["POST"]),
    Route(f"{_S}/reblog", reblog, methods=["POST"]),
    Route(f"{_S}/unreblog", unreblog, methods=["POST"]),
    Route(f"{_S}/bookmark", bookmark, methods=["POST"]),
    Route(f"{_S}/unbookmark", unbookmark, methods=["POST"]),
    Route(f"{_S}/pin", pin, methods=["POST"]),
    Route(f"{_S}/unpin", unpin, methods=["POST"]),
    Route(f"{_S}/mute", mute, methods=["POST"]),
    Route(f"{_S}/unmute", unmute, methods=["POST"]),
    Route(f"{_S}/favourited_by", favourited_by, methods=["GET"]),
    Route(f"{_S}/reblogged_by", reblogged_by, methods=["GET"]),
    Route(f"{_S}/translate", translate, methods=["POST"]),
    Route(f"{_S}/interaction_policy", interaction_policy, methods=["PUT"]),
    Route(f"{_S}/quotes", quotes_index, methods=["GET"]),
    Route(f"{_S}/quotes/{{quoting_status_id}}/revoke", revoke_quote, methods=["POST"]),
    Route("/api/v1/favourites", favourites, methods=["GET"]),
    Route("/api/v1/bookmarks", bookmarks, methods=["GET"]),
    Route("/api/v1/accounts/{id}/statuses", by_account, methods=["GET"]),
]
