"""An actor's collections: outbox (Create and Announce of public and unlisted
statuses), followers and following (counts only when the owner hides them),
featured (pinned statuses as Notes) and featured tags."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.activitypub import convert
from steward.core.ids import parse_id
from steward.federation.collections import featured_tag_names, outbox_items, pinned_parts, relation_uris
from steward.model.entities import Account
from steward.web.activitypub.common import as2, check_authorized_fetch, local_account
from steward.web.base import Ctx, endpoint

OUTBOX_PAGE = 20
ACCOUNTS_PAGE = 40


async def _owner(ctx: Ctx) -> Account:
    account = await local_account(ctx)
    await check_authorized_fetch(ctx)
    return account


def _page_number(ctx: Ctx) -> int | None:
    raw = ctx.request.query_params.get("page")
    if raw is None:
        return None
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


@endpoint(auth="none")
async def outbox(ctx: Ctx) -> Any:
    account = await _owner(ctx)
    uri = f"{convert.actor_uri(ctx.base_url, account)}/outbox"
    if ctx.request.query_params.get("page") is None:
        return as2(convert.with_context({
            "id": uri, "type": "OrderedCollection", "totalItems": account.statuses_count,
            "first": f"{uri}?page=true", "last": f"{uri}?min_id=0&page=true"}), negotiated=False)
    max_id = parse_id(ctx.request.query_params.get("max_id", ""))
    async with ctx.c.db.read() as conn:
        items, next_max = await outbox_items(conn, ctx.tenant, ctx.base_url, account, max_id, OUTBOX_PAGE)
    page_id = f"{uri}?page=true" + (f"&max_id={max_id}" if max_id is not None else "")
    data: dict[str, Any] = {"id": page_id,
                            "type": "OrderedCollectionPage", "partOf": uri, "orderedItems": items}
    if next_max is not None:
        data["next"] = f"{uri}?page=true&max_id={next_max}"
    return as2(convert.with_context(data), negotiated=False)


async def _relations(ctx: Ctx, name: str) -> Any:
    account = await _owner(ctx)
    uri = f"{convert.actor_uri(ctx.base_url, account)}/{name}"
    total = account.followers_count if name == "followers" else account.following_count
    page_no = _page_number(ctx)
    if account.hide_collections or page_no is None:
        data: dict[str, Any] = {"id": uri, "type": "OrderedCollection", "totalItems": total}
        if not account.hide_collections:
            data["first"] = f"{uri}?page=1"
        return as2(convert.with_context(data), negotiated=False)
    async with ctx.c.db.read() as conn:
        uris = await relation_uris(conn, ctx.tenant.id, ctx.base_url, account.id, name,
                                   (page_no - 1) * ACCOUNTS_PAGE, ACCOUNTS_PAGE)
    page: dict[str, Any] = {"id": f"{uri}?page={page_no}", "type": "OrderedCollectionPage", "totalItems": total,
                            "partOf": uri, "orderedItems": uris}
    if len(uris) == ACCOUNTS_PAGE:
        page["next"] = f"{uri}?page={page_no + 1}"
    if page_no > 1:
        page["prev"] = f"{uri}?page={page_no - 1}"
    return as2(convert.with_context(page), negotiated=False)


@endpoint(auth="none")
async def followers(ctx: Ctx) -> Any:
    return await _relations(ctx, "followers")


@endpoint(auth="none")
async def following(ctx: Ctx) -> Any:
    return await _relations(ctx, "following")


@endpoint(auth="none")
async def featured(ctx: Ctx) -> Any:
    account = await _owner(ctx)
    async with ctx.c.db.read() as conn:
        pinned = await pinned_parts(conn, ctx.tenant, ctx.base_url, account.id)
    notes = [convert.status_to_note(ctx.base_url, ctx.tenant, parts) for parts in pinned]
    uri = f"{convert.actor_uri(ctx.base_url, account)}/collections/featured"
    return as2(convert.with_context({"id": uri, "type": "OrderedCollection", "totalItems": len(notes),
                                     "orderedItems": notes}), negotiated=False)


@endpoint(auth="none")
async def featured_tags_collection(ctx: Ctx) -> Any:
    account = await _owner(ctx)
    async with ctx.c.db.read() as conn:
        names = await featured_tag_names(conn, ctx.tenant.id, account.id)
    uri = f"{convert.actor_uri(ctx.base_url, account)}/collections/tags"
    return as2(convert.with_context({
        "id": uri, "type": "Collection", "totalItems": len(names),
        "items": [{"type": "Hashtag", "href": f"{ctx.base_url}/tags/{n}", "name": f"#{n}"} for n in names]}),
        negotiated=False)


routes = [
    Route("/users/{username}/outbox", outbox, methods=["GET", "HEAD"]),
    Route("/users/{username}/followers", followers, methods=["GET", "HEAD"]),
    Route("/users/{username}/following", following, methods=["GET", "HEAD"]),
    Route("/users/{username}/collections/featured", featured, methods=["GET", "HEAD"]),
    Route("/users/{username}/collections/tags", featured_tags_collection, methods=["GET", "HEAD"]),
]
