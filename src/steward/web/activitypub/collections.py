"""An actor's collections: outbox (Create and Announce of public and unlisted
statuses), followers and following (counts only when the owner hides them),
featured (pinned statuses as Notes) and featured tags."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.routing import Route

from steward.activitypub import convert
from steward.core.ids import parse_id
from steward.db.tables import accounts, featured_tags, follows, status_pins, statuses, tags
from steward.federation.objects import PUBLISHED, load_note_parts
from steward.model.entities import Account, Status, from_row
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
    query = select(statuses).where(
        statuses.c.tenant_id == ctx.tenant.id, statuses.c.account_id == account.id,
        statuses.c.deleted_at.is_(None), statuses.c.visibility.in_(PUBLISHED))
    if max_id is not None:
        query = query.where(statuses.c.id < max_id)
    items: list[dict[str, Any]] = []
    async with ctx.c.db.read() as conn:
        page = [from_row(Status, r) for r in (await conn.execute(
            query.order_by(statuses.c.id.desc()).limit(OUTBOX_PAGE))).all()]
        parts = await load_note_parts(conn, ctx.tenant, ctx.base_url, page)
        originals = {r.id: r for r in (await conn.execute(
            select(statuses.c.id, statuses.c.uri, accounts.c.uri.label("author_uri")).join(
                accounts, (accounts.c.tenant_id == statuses.c.tenant_id) & (accounts.c.id == statuses.c.account_id))
            .where(statuses.c.tenant_id == ctx.tenant.id, statuses.c.deleted_at.is_(None),
                   statuses.c.visibility.in_(PUBLISHED),
                   statuses.c.id.in_([s.reblog_of_id for s in page if s.reblog_of_id])))).all()}
    for s in page:
        if s.reblog_of_id is None and s.id in parts:
            items.append(convert.status_to_create(ctx.base_url, ctx.tenant, parts[s.id]))
        elif s.reblog_of_id in originals:
            o = originals[s.reblog_of_id]
            items.append(convert.status_to_announce(ctx.base_url, account, s, o.uri, o.author_uri))
    page_id = f"{uri}?page=true" + (f"&max_id={max_id}" if max_id is not None else "")
    data: dict[str, Any] = {"id": page_id,
                            "type": "OrderedCollectionPage", "partOf": uri, "orderedItems": items}
    if len(page) == OUTBOX_PAGE:
        data["next"] = f"{uri}?page=true&max_id={page[-1].id}"
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
    mine, other = ("target_account_id", "account_id") if name == "followers" else ("account_id", "target_account_id")
    async with ctx.c.db.read() as conn:
        rows = (await conn.execute(
            select(accounts.c.uri, accounts.c.username).join(
                follows, (follows.c.tenant_id == accounts.c.tenant_id) & (follows.c[other] == accounts.c.id))
            .where(follows.c.tenant_id == ctx.tenant.id, follows.c[mine] == account.id,
                   accounts.c.suspended_at.is_(None))
            .order_by(follows.c.id.desc()).offset((page_no - 1) * ACCOUNTS_PAGE).limit(ACCOUNTS_PAGE))).all()
    page: dict[str, Any] = {"id": f"{uri}?page={page_no}", "type": "OrderedCollectionPage", "totalItems": total,
                            "partOf": uri, "orderedItems": [r.uri or f"{ctx.base_url}/users/{r.username}"
                                                            for r in rows]}
    if len(rows) == ACCOUNTS_PAGE:
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
        pinned = [from_row(Status, r) for r in (await conn.execute(
            select(statuses).join(status_pins, (status_pins.c.tenant_id == statuses.c.tenant_id)
                                  & (status_pins.c.status_id == statuses.c.id))
            .where(status_pins.c.tenant_id == ctx.tenant.id, status_pins.c.account_id == account.id,
                   statuses.c.account_id == account.id, statuses.c.deleted_at.is_(None),
                   statuses.c.visibility.in_(PUBLISHED)).order_by(status_pins.c.id.desc()))).all()]
        parts = await load_note_parts(conn, ctx.tenant, ctx.base_url, pinned)
    notes = [convert.status_to_note(ctx.base_url, ctx.tenant, parts[s.id]) for s in pinned if s.id in parts]
    uri = f"{convert.actor_uri(ctx.base_url, account)}/collections/featured"
    return as2(convert.with_context({"id": uri, "type": "OrderedCollection", "totalItems": len(notes),
                                     "orderedItems": notes}), negotiated=False)


@endpoint(auth="none")
async def featured_tags_collection(ctx: Ctx) -> Any:
    account = await _owner(ctx)
    async with ctx.c.db.read() as conn:
        names = (await conn.execute(select(tags.c.name).join(
            featured_tags, (featured_tags.c.tenant_id == tags.c.tenant_id) & (featured_tags.c.tag_id == tags.c.id))
            .where(featured_tags.c.tenant_id == ctx.tenant.id, featured_tags.c.account_id == account.id)
            .order_by(tags.c.name))).scalars().all()
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
