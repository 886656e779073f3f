"""Search routes (v2 search, account search) and hashtag routes (show, follow,
unfollow, followed tags, featured tags)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import Route

from steward.core.clock import iso_date
from steward.core.errors import ApiError
from steward.federation import resolve as remote
from steward.model.entities import Account
from steward.social import search as svc
from steward.social.relationships import visible_target
from steward.web.base import Ctx, endpoint, page_params, paged
from steward.web.mastodon.accounts import moved_to_api
from steward.web.mastodon.serialize_accounts import account_to_api
from steward.web.mastodon.serialize_statuses import render_statuses

SEARCH_TYPES = ("accounts", "statuses", "hashtags")


def tag_to_api(base: str, name: str, tag_id: int | None, history: list[dict[str, str]],
               following: bool | None, featuring: bool | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(tag_id) if tag_id is not None else "", "name": name,
                            "url": f"{base}/tags/{name}", "history": history}
    if following is not None:
        data["following"] = following
    if featuring is not None:
        data["featuring"] = featuring
    return data


def featured_tag_to_api(base: str, owner: Account, item: svc.FeaturedTag) -> dict[str, Any]:
    profile = owner.url or f"{base}/@{owner.username}"
    return {"id": str(item.id), "name": item.name, "url": f"{profile}/tagged/{item.name}",
            "statuses_count": str(item.statuses_count), "last_status_at": iso_date(item.last_status_at)}


async def render_tags(ctx: Ctx, conn: AsyncConnection, rows: list[Any]) -> list[dict[str, Any]]:
    """Tag entities for tag rows, with history and (for a signed-in viewer)
    `following` and `featuring`: three queries."""
    ids = [r.id for r in rows]
    histories = await svc.tag_histories(conn, ctx.tenant.id, ids)
    viewer = ctx.account.id if ctx.account else None
    followed = await svc.followed_tag_ids(conn, ctx.tenant.id, viewer, ids)
    featured = await svc.featured_tag_ids(conn, ctx.tenant.id, viewer, ids)
    signed_in = viewer is not None
    return [tag_to_api(ctx.base_url, r.display_name or r.name, r.id, histories[r.id],
                       (r.id in followed) if signed_in else None, (r.id in featured) if signed_in else None)
            for r in rows]


# ---------------------------------------------------------------- search

@endpoint("read:search", auth="optional")
async def search_v2(ctx: Ctx) -> Any:
    p = ctx.params
    q = p.str("q", max_len=1000)
    if q is None or not q.strip():
        raise ApiError(400, "param is missing or the request is empty: q")
    kind = p.str("type", max_len=32)
    if kind is not None and kind != "" and kind not in SEARCH_TYPES:
        raise ApiError(422, f"Validation failed: type must be one of {', '.join(SEARCH_TYPES)}")
    limit = p.int("limit", 20, lo=1, hi=40, clamp=True) or 20
    offset = p.int("offset", 0, lo=0, clamp=True) or 0
    resolve = bool(p.bool("resolve", False))
    if ctx.account is None and offset:
        raise ApiError(401, "Search queries pagination is not supported without authentication")
    if ctx.account is None and resolve:
        raise ApiError(401, "Search queries that resolve remote resources are not supported without authentication")
    following = bool(p.bool("following", False))
    account_id = p.id("account_id")
    page = page_params(p)
    viewer = ctx.account.id if ctx.account else None
    wants = {kind} if kind else set(SEARCH_TYPES)
    out: dict[str, list[Any]] = {"accounts": [], "statuses": [], "hashtags": []}
    if resolve and svc.is_url(q):
        # A URL names one thing: ours, or fetched from its server.
        account, status = await remote.resolve_url(ctx.c, ctx.tenant, viewer, q.strip())
        if account is not None and "accounts" in wants:
            out["accounts"] = await _accounts_api(ctx, [account])
        if status is not None and "statuses" in wants:
            async with ctx.c.db.read() as conn:
                out["statuses"] = await render_statuses(ctx.c, conn, ctx.tenant, viewer, [status])
        return out
    resolved = None
    if resolve and "accounts" in wants and remote.looks_like_handle(q):
        resolved = await remote.lookup_account(ctx.c, ctx.tenant, q)
    async with ctx.c.db.read() as conn:
        # As Mastodon: '#...' is not a person, and '...@...' is not a hashtag.
        if "accounts" in wants and not q.lstrip().startswith("#") and not ("@" in q and " " in q.strip()):
            found = await svc.search_accounts(conn, ctx.tenant, viewer, q, limit=limit, offset=offset,
                                              following=following)
            out["accounts"] = await _accounts_api(ctx, _first(resolved, found))
        if "hashtags" in wants and "@" not in q:
            out["hashtags"] = await render_tags(ctx, conn, await svc.search_tags(
                conn, ctx.tenant.id, q, limit=limit, offset=offset))
        if "statuses" in wants and viewer is not None:
            items = await svc.search_statuses(conn, ctx.tenant, viewer, q, limit=limit, offset=offset,
                                              account_id=account_id, max_id=page.max_id, min_id=page.min_id)
            out["statuses"] = await render_statuses(ctx.c, conn, ctx.tenant, viewer, items)
    return out


@endpoint(None, auth="none")
async def search_v1(ctx: Ctx) -> Any:
    raise ApiError(410, "GET /api/v1/search was removed from the Mastodon API; use GET /api/v2/search")


@endpoint("read:accounts")
async def account_search(ctx: Ctx) -> Any:
    p = ctx.params
    q = p.str("q", "", max_len=1000) or ""
    limit = p.int("limit", 40, lo=1, hi=80, clamp=True) or 40
    offset = p.int("offset", 0, lo=0, clamp=True) or 0
    wants_resolve = bool(p.bool("resolve", False))
    following = bool(p.bool("following", False))
    if not q.strip():
        return []
    resolved = None
    if wants_resolve and remote.looks_like_handle(q):
        resolved = await remote.lookup_account(ctx.c, ctx.tenant, q)
    async with ctx.c.db.read() as conn:
        found = await svc.search_accounts(conn, ctx.tenant, ctx.me.id, q, limit=limit, offset=offset,
                                          following=following)
    return await _accounts_api(ctx, _first(resolved, found)[:limit])


async def _accounts_api(ctx: Ctx, items: list[Account]) -> list[dict[str, Any]]:
    moved = await moved_to_api(ctx, items)
    return [account_to_api(ctx.base_url, ctx.tenant, a, moved=moved.get(a.id)) for a in items]


def _first(resolved: Account | None, found: list[Account]) -> list[Account]:
    """The account a handle resolved to leads the results, as in Mastodon."""
    if resolved is None or resolved.suspended_at is not None:
        return found
    return [resolved, *[a for a in found if a.id != resolved.id]]


# ---------------------------------------------------------------- hashtags

def _name(ctx: Ctx) -> str:
    return str(ctx.request.path_params.get("name", ""))


async def _tag_entity(ctx: Ctx, raw_name: str, row: Any) -> dict[str, Any]:
    if row is None:
        # Mastodon answers for a hashtag nobody used yet with an unsaved tag (empty id).
        signed_in = False if ctx.account else None
        return tag_to_api(ctx.base_url, svc.valid_tag_name(raw_name), None, svc.empty_history(), signed_in,
                          signed_in)
    async with ctx.c.db.read() as conn:
        return (await render_tags(ctx, conn, [row]))[0]


@endpoint(None, auth="optional")
async def show_tag(ctx: Ctx) -> Any:
    name = svc.valid_tag_name(_name(ctx))
    async with ctx.c.db.read() as conn:
        row = await svc.find_tag(conn, ctx.tenant.id, name)
    return await _tag_entity(ctx, name, row)


@endpoint("write:follows")
async def follow_tag(ctx: Ctx) -> Any:
    row = await svc.follow_tag(ctx.c, ctx.tenant, ctx.me, _name(ctx))
    return await _tag_entity(ctx, _name(ctx), row)


@endpoint("write:follows")
async def unfollow_tag(ctx: Ctx) -> Any:
    row = await svc.unfollow_tag(ctx.c, ctx.tenant, ctx.me, _name(ctx))
    return await _tag_entity(ctx, _name(ctx), row)


@endpoint("read:follows")
async def followed_tags(ctx: Ctx) -> Any:
    page = page_params(ctx.params, default=100, maximum=200)
    async with ctx.c.db.read() as conn:
        items = await svc.followed_tags(conn, ctx.tenant.id, ctx.me.id, page)
        data = await render_tags(ctx, conn, [row for _, row in items])
    return paged(ctx.request, data, [k for k, _ in items])


# ---------------------------------------------------------------- featured hashtags

async def _featured_of(ctx: Ctx, owner: Account) -> list[dict[str, Any]]:
    async with ctx.c.db.read() as conn:
        items = await svc.featured_tags_of(conn, ctx.tenant.id, owner.id)
    return [featured_tag_to_api(ctx.base_url, owner, f) for f in items]


@endpoint("read:accounts", auth="optional")
async def account_featured_tags(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        owner = await visible_target(conn, ctx.tenant.id, ctx.path_id())
    return await _featured_of(ctx, owner)


@endpoint("read:accounts")
async def my_featured_tags(ctx: Ctx) -> Any:
    return await _featured_of(ctx, ctx.me)


@endpoint("write:accounts")
async def add_featured_tag(ctx: Ctx) -> Any:
    name = svc.normalize_tag(ctx.params.str("name", required=True, max_len=300) or "")
    if name is None:
        raise ApiError(422, "Validation failed: Name is not a valid hashtag",
                       {"name": [{"error": "ERR_INVALID", "description": "is not a valid hashtag"}]})
    tag = await svc.feature_tag(ctx.c, ctx.tenant, ctx.me, name, strict=True)
    async with ctx.c.db.read() as conn:
        items = await svc.featured_tags_of(conn, ctx.tenant.id, ctx.me.id)
    for item in items:
        if item.tag_id == tag.id:
            return featured_tag_to_api(ctx.base_url, ctx.me, item)
    raise ApiError(404, "Record not found")  # unfeatured again by a concurrent request


@endpoint("write:accounts")
async def remove_featured_tag(ctx: Ctx) -> Any:
    await svc.unfeature_tag(ctx.c, ctx.tenant, ctx.me, featured_id=ctx.path_id())
    return {}


@endpoint("read:accounts")
async def featured_tag_suggestions(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return await render_tags(ctx, conn, await svc.featured_tag_suggestions(conn, ctx.tenant.id, ctx.me.id))


@endpoint("write:accounts")
async def feature_tag(ctx: Ctx) -> Any:
    row = await svc.feature_tag(ctx.c, ctx.tenant, ctx.me, svc.valid_tag_name(_name(ctx)), strict=False)
    return await _tag_entity(ctx, _name(ctx), row)


@endpoint("write:accounts")
async def unfeature_tag(ctx: Ctx) -> Any:
    row = await svc.unfeature_tag(ctx.c, ctx.tenant, ctx.me, name=svc.valid_tag_name(_name(ctx)))
    return await _tag_entity(ctx, _name(ctx), row)


routes = [
    Route("/api/v2/search", search_v2, methods=["GET"]),
    Route("/api/v1/search", search_v1, methods=["GET"]),
    Route("/api/v1/accounts/search", account_search, methods=["GET"]),
    Route("/api/v1/tags/{name}", show_tag, methods=["GET"]),
    Route("/api/v1/tags/{name}/follow", follow_tag, methods=["POST"]),
    Route("/api/v1/tags/{name}/unfollow", unfollow_tag, methods=["POST"]),
    Route("/api/v1/followed_tags", followed_tags, methods=["GET"]),
    Route("/api/v1/tags/{name}/feature", feature_tag, methods=["POST"]),
    Route("/api/v1/tags/{name}/unfeature", unfeature_tag, methods=["POST"]),
    Route("/api/v1/featured_tags", my_featured_tags, methods=["GET"]),
    Route("/api/v1/featured_tags", add_featured_tag, methods=["POST"]),
    Route("/api/v1/featured_tags/suggestions", featured_tag_suggestions, methods=["GET"]),
    Route("/api/v1/featured_tags/{id}", remove_featured_tag, methods=["DELETE"]),
    Route("/api/v1/accounts/{id}/featured_tags", account_featured_tags, methods=["GET"]),
]
