"""Statuses as AS2 objects (Note, its Create, a boost's Announce, its replies)
or as an HTML page. Public and unlisted statuses are served to anyone;
followers-only ones as AS2 to a signed fetch by a follower, direct ones to a
signed fetch by a mentioned actor. The others answer 404 as if they did not
exist."""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse
from starlette.routing import Route

from steward.activitypub import convert
from steward.activitypub.convert import NoteParts
from steward.core.errors import ApiError
from steward.core.text import strip_tags
from steward.federation.collections import originals_of, public_reply_uris
from steward.federation.objects import load_note_parts, published_status, status_for_reader
from steward.model.entities import Account, Status
from steward.web.activitypub.common import as2, local_account, signed_reader, wants_as2
from steward.web.base import Ctx, endpoint
from steward.web.templating import render

REPLIES_PAGE = 40


async def _status(ctx: Ctx, *, as2_read: bool) -> tuple[Account, Status]:
    """The status the path names; an AS2 read may be signed (and must be under
    authorized fetch), and its signer may then see more."""
    account = await local_account(ctx)
    if account.suspended_at is not None:
        raise ApiError(404, "Record not found")
    reader = await signed_reader(ctx) if as2_read else None
    async with ctx.c.db.read() as conn:
        if reader is None:
            status = await published_status(conn, ctx.tenant.id, account.id, ctx.path_id())
        else:
            status = await status_for_reader(conn, ctx.tenant.id, account.id, ctx.path_id(), reader.owner)
    if status is None:
        raise ApiError(404, "Record not found")
    return account, status


async def _parts(ctx: Ctx, status: Status) -> NoteParts:
    async with ctx.c.db.read() as conn:
        parts = (await load_note_parts(conn, ctx.tenant, ctx.base_url, [status])).get(status.id)
    if parts is None:
        raise ApiError(404, "Record not found")
    return parts


async def _note(ctx: Ctx, status: Status) -> dict[str, Any]:
    return convert.status_to_note(ctx.base_url, ctx.tenant, await _parts(ctx, status))


@endpoint(auth="none")
async def status_object(ctx: Ctx) -> Any:
    as2_read = wants_as2(ctx.request)
    account, status = await _status(ctx, as2_read=as2_read)
    if status.reblog_of_id is not None:
        raise ApiError(404, "Record not found")
    if as2_read:
        return as2(convert.with_context(await _note(ctx, status)))
    note = await _note(ctx, status)
    body = render("activitypub/status.html", tenant=ctx.tenant, author=account, status=status,
                  base=ctx.base_url, media=note["attachment"], summary=strip_tags(status.content)[:80])
    return HTMLResponse(body, headers={"Vary": "Accept"})


@endpoint(auth="none")
async def status_activity(ctx: Ctx) -> Any:
    account, status = await _status(ctx, as2_read=True)
    if status.reblog_of_id is None:
        create = convert.status_to_create(ctx.base_url, ctx.tenant, await _parts(ctx, status))
        return as2(convert.with_context(create), negotiated=False)
    async with ctx.c.db.read() as conn:
        original = (await originals_of(conn, ctx.tenant.id, [status])).get(status.reblog_of_id)
    if original is None:
        raise ApiError(404, "Record not found")
    return as2(convert.with_context(convert.status_to_announce(ctx.base_url, account, status, original.uri,
                                                               original.author_uri)), negotiated=False)


@endpoint(auth="none")
async def status_replies(ctx: Ctx) -> Any:
    _, status = await _status(ctx, as2_read=True)
    uri = f"{status.uri}/replies"
    async with ctx.c.db.read() as conn:
        replies = await public_reply_uris(conn, ctx.tenant.id, status.id, REPLIES_PAGE)
    page = {"id": f"{uri}?page=true", "type": "CollectionPage", "partOf": uri, "items": replies}
    if ctx.request.query_params.get("page"):
        return as2(convert.with_context(page), negotiated=False)
    return as2(convert.with_context({"id": uri, "type": "Collection", "first": page}), negotiated=False)


routes = [
    Route("/users/{username}/statuses/{id}", status_object, methods=["GET", "HEAD"]),
    Route("/@{username}/{id}", status_object, methods=["GET", "HEAD"]),
    Route("/users/{username}/statuses/{id}/activity", status_activity, methods=["GET", "HEAD"]),
    Route("/users/{username}/statuses/{id}/replies", status_replies, methods=["GET", "HEAD"]),
]
