"""Relationship routes: follow, block, mute, endorse, note an account; the
relationships, followers, following and familiar-followers reads; blocks,
mutes, endorsements, user domain blocks and follow suggestions."""

from __future__ import annotations

from typing import Any, cast

import orjson
from starlette.routing import Route

from steward.core.clock import iso
from steward.core.errors import ApiError
from steward.model.entities import Account
from steward.social import relationships as rels
from steward.web.base import Ctx, endpoint, json, page_params, paged
from steward.web.mastodon.serialize_accounts import account_to_api
from steward.web.params import Params

MAX_MUTE_SECONDS = 10 * 366 * 86_400


def relationship_to_api(rel: rels.Relationship) -> dict[str, Any]:
    return {
        "id": str(rel.id),
        "following": rel.following,
        "showing_reblogs": rel.showing_reblogs,
        "notifying": rel.notifying,
        "languages": rel.languages,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting_notifications,
        "muting_expires_at": iso(rel.muting_expires_at),
        "requested": rel.requested,
        "requested_by": rel.requested_by,
        "domain_blocking": rel.domain_blocking,
        "endorsed": rel.endorsed,
        "note": rel.note,
    }


def account_page(ctx: Ctx, items: list[tuple[int, Account]]) -> Any:
    base = ctx.base_url
    return paged(ctx.request, [account_to_api(base, ctx.tenant, a) for _, a in items], [k for k, _ in items])


# ---------------------------------------------------------------- acting on one account

def _languages(ctx: Ctx) -> list[str]:
    langs = cast("list[str]", ctx.params.str_list("languages", max_items=rels.MAX_LANGUAGES))
    if any(not 1 <= len(x) <= 16 for x in langs):
        raise ApiError(422, "Validation failed: languages must be language codes")
    return langs


@endpoint("write:follows")
async def follow(ctx: Ctx) -> Any:
    p = ctx.params
    rel = await rels.follow(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), reblogs=p.bool("reblogs"),
                            notify=p.bool("notify"), languages=_languages(ctx), languages_given="languages" in p)
    return relationship_to_api(rel)


@endpoint("write:follows")
async def unfollow(ctx: Ctx) -> Any:
    return relationship_to_api(await rels.unfollow(ctx.c, ctx.tenant, ctx.me, ctx.path_id()))


@endpoint("write:follows")
async def remove_from_followers(ctx: Ctx) -> Any:
    return relationship_to_api(await rels.remove_from_followers(ctx.c, ctx.tenant, ctx.me, ctx.path_id()))


@endpoint("write:blocks")
async def block(ctx: Ctx) -> Any:
    return relationship_to_api(await rels.block(ctx.c, ctx.tenant, ctx.me, ctx.path_id()))


@endpoint("write:blocks")
async def unblock(ctx: Ctx) -> Any:
    return relationship_to_api(await rels.unblock(ctx.c, ctx.tenant, ctx.me, ctx.path_id()))


@endpoint("write:mutes")
async def mute(ctx: Ctx) -> Any:
    notifications = ctx.params.bool("notifications", True)
    duration = ctx.params.int("duration", 0, lo=0, hi=MAX_MUTE_SECONDS) or 0
    rel = await rels.mute(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), notifications=bool(notifications),
                          duration=duration)
    return relationship_to_api(rel)


@endpoint("write:mutes")
async def unmute(ctx: Ctx) -> Any:
    return relationship_to_api(await rels.unmute(ctx.c, ctx.tenant, ctx.me, ctx.path_id()))


@endpoint("write:accounts")
async def endorse(ctx: Ctx) -> Any:
    return relationship_to_api(await rels.endorse(ctx.c, ctx.tenant, ctx.me, ctx.path_id()))


@endpoint("write:accounts")
async def unendorse(ctx: Ctx) -> Any:
    return relationship_to_api(await rels.unendorse(ctx.c, ctx.tenant, ctx.me, ctx.path_id()))


@endpoint("write:accounts")
async def note(ctx: Ctx) -> Any:
    comment = ctx.params.str("comment", "", max_len=rels.MAX_NOTE) or ""
    return relationship_to_api(await rels.set_note(ctx.c, ctx.tenant, ctx.me, ctx.path_id(), comment))


# ---------------------------------------------------------------- reads

@endpoint("read:follows")
async def relationships(ctx: Ctx) -> Any:
    ids = ctx.params.id_list("id")
    with_suspended = bool(ctx.params.bool("with_suspended", False))
    async with ctx.c.db.read() as conn:
        targets = await rels.accounts_for_ids(conn, ctx.tenant.id, ids, with_suspended=with_suspended)
        found = await rels.relationships(conn, ctx.tenant.id, ctx.me.id, targets)
    return [relationship_to_api(r) for r in found]


async def _get_with_json_body(ctx: Ctx) -> Params:
    """Mastodon.py sends familiar_followers' ids as a JSON body on a GET, which
    Rails reads; the query string wins when it has them."""
    if "id" in ctx.params or "json" not in ctx.request.headers.get("content-type", ""):
        return ctx.params
    body = await ctx.request.body()
    if not body.strip() or len(body) > 64 * 1024:
        return ctx.params
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ApiError(400, "The request body is not valid JSON") from None
    return Params(parsed) if isinstance(parsed, dict) else ctx.params


@endpoint("read:follows")
async def familiar_followers(ctx: Ctx) -> Any:
    params = await _get_with_json_body(ctx)
    ids: list[int] = list(dict.fromkeys(cast("list[int]", params.id_list("id"))))
    async with ctx.c.db.read() as conn:
        known = await rels.accounts_for_ids(conn, ctx.tenant.id, ids)
        found = await rels.familiar_followers(conn, ctx.tenant.id, ctx.me.id, [a.id for a in known])
    base = ctx.base_url
    return [{"id": str(a.id), "accounts": [account_to_api(base, ctx.tenant, f) for f in found.get(a.id, [])]}
            for a in known]


async def _collection(ctx: Ctx, direction: str) -> Any:
    page = page_params(ctx.params, default=40, maximum=80)
    viewer_id = ctx.account.id if ctx.account else None
    async with ctx.c.db.read() as conn:
        owner = await rels.visible_target(conn, ctx.tenant.id, ctx.path_id())
        if await rels.collection_hidden(conn, ctx.tenant.id, owner, viewer_id):
            return json([])
        reader = rels.followers if direction == "followers" else rels.following
        items = await reader(conn, ctx.tenant.id, owner.id, page)
    return account_page(ctx, items)


@endpoint("read:accounts", auth="optional")
async def followers(ctx: Ctx) -> Any:
    return await _collection(ctx, "followers")


@endpoint("read:accounts", auth="optional")
async def following(ctx: Ctx) -> Any:
    return await _collection(ctx, "following")


@endpoint("read:accounts", auth="optional")
async def account_endorsements(ctx: Ctx) -> Any:
    page = page_params(ctx.params, default=40, maximum=80)
    async with ctx.c.db.read() as conn:
        owner = await rels.visible_target(conn, ctx.tenant.id, ctx.path_id())
        items = await rels.endorsed_accounts(conn, ctx.tenant.id, owner.id, page)
    return account_page(ctx, items)


@endpoint(None, auth="optional")
async def identity_proofs(ctx: Ctx) -> Any:
    """Identity proofs were removed from Mastodon (3.5); the answer is always empty."""
    async with ctx.c.db.read() as conn:
        await rels.visible_target(conn, ctx.tenant.id, ctx.path_id())
    return []


@endpoint("read:blocks")
async def blocks(ctx: Ctx) -> Any:
    page = page_params(ctx.params, default=40, maximum=80)
    async with ctx.c.db.read() as conn:
        items = await rels.blocked_accounts(conn, ctx.tenant.id, ctx.me.id, page)
    return account_page(ctx, items)


@endpoint("read:mutes")
async def mutes(ctx: Ctx) -> Any:
    page = page_params(ctx.params, default=40, maximum=80)
    async with ctx.c.db.read() as conn:
        items = await rels.muted_accounts(conn, ctx.tenant.id, ctx.me.id, page)
    return account_page(ctx, items)


@endpoint("read:accounts")
async def endorsements(ctx: Ctx) -> Any:
    page = page_params(ctx.params, default=40, maximum=80)
    async with ctx.c.db.read() as conn:
        items = await rels.endorsed_accounts(conn, ctx.tenant.id, ctx.me.id, page)
    return account_page(ctx, items)


# ---------------------------------------------------------------- domain blocks

@endpoint("read:blocks")
async def domain_blocks(ctx: Ctx) -> Any:
    page = page_params(ctx.params, default=100, maximum=200)
    async with ctx.c.db.read() as conn:
        items = await rels.blocked_domains(conn, ctx.tenant.id, ctx.me.id, page)
    domains: list[Any] = [d for _, d in items]
    return paged(ctx.request, domains, [k for k, _ in items])


@endpoint("write:blocks")
async def block_domain(ctx: Ctx) -> Any:
    await rels.block_domain(ctx.c, ctx.tenant, ctx.me, ctx.params.str("domain", required=True, max_len=300) or "")
    return {}


@endpoint("write:blocks")
async def unblock_domain(ctx: Ctx) -> Any:
    await rels.unblock_domain(ctx.c, ctx.tenant, ctx.me, ctx.params.str("domain", required=True, max_len=300) or "")
    return {}


# ---------------------------------------------------------------- suggestions

async def _suggested(ctx: Ctx) -> list[Account]:
    limit = ctx.params.int("limit", 40, lo=1, hi=80, clamp=True) or 40
    async with ctx.c.db.read() as conn:
        return await rels.suggestions(conn, ctx.tenant.id, ctx.me.id, limit)


@endpoint("read:accounts|read")
async def suggestions_v1(ctx: Ctx) -> Any:
    return [account_to_api(ctx.base_url, ctx.tenant, a) for a in await _suggested(ctx)]


@endpoint("read:accounts|read")
async def suggestions_v2(ctx: Ctx) -> Any:
    return [{"source": "global", "sources": ["most_followed"], "account": account_to_api(ctx.base_url, ctx.tenant, a)}
            for a in await _suggested(ctx)]


@endpoint("write:accounts|read")
async def dismiss_suggestion(ctx: Ctx) -> Any:
    await rels.dismiss_suggestion(ctx.c, ctx.tenant, ctx.me, ctx.path_id("account_id"))
    return {}


_ACT = {"follow": follow, "unfollow": unfollow, "remove_from_followers": remove_from_followers, "block": block,
        "unblock": unblock, "mute": mute, "unmute": unmute, "pin": endorse, "unpin": unendorse,
        "endorse": endorse, "unendorse": unendorse, "note": note}

routes = [
    Route("/api/v1/accounts/relationships", relationships, methods=["GET"]),
    Route("/api/v1/accounts/familiar_followers", familiar_followers, methods=["GET"]),
    *(Route(f"/api/v1/accounts/{{id}}/{name}", handler, methods=["POST"]) for name, handler in _ACT.items()),
    Route("/api/v1/accounts/{id}/followers", followers, methods=["GET"]),
    Route("/api/v1/accounts/{id}/following", following, methods=["GET"]),
    Route("/api/v1/accounts/{id}/endorsements", account_endorsements, methods=["GET"]),
    Route("/api/v1/accounts/{id}/identity_proofs", identity_proofs, methods=["GET"]),
    Route("/api/v1/blocks", blocks, methods=["GET"]),
    Route("/api/v1/mutes", mutes, methods=["GET"]),
    Route("/api/v1/endorsements", endorsements, methods=["GET"]),
    Route("/api/v1/domain_blocks", domain_blocks, methods=["GET"]),
    Route("/api/v1/domain_blocks", block_domain, methods=["POST"]),
    Route("/api/v1/domain_blocks", unblock_domain, methods=["DELETE"]),
    Route("/api/v1/suggestions", suggestions_v1, methods=["GET"]),
    Route("/api/v2/suggestions", suggestions_v2, methods=["GET"]),
    Route("/api/v1/suggestions/{account_id}", dismiss_suggestion, methods=["DELETE"]),
]
