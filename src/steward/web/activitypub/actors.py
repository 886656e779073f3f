"""Actors: a local account as AS2 (Person/Service/Group) or as an HTML profile
page, picked by the Accept header; and the tenant's instance actor."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from steward.activitypub import convert
from steward.db.tables import accounts, statuses
from steward.federation.keys import account_keys
from steward.model.entities import Account, Status, from_row
from steward.web.activitypub.common import as2, check_authorized_fetch, local_account, wants_as2
from steward.web.base import Ctx, endpoint
from steward.web.templating import render

RECENT_ON_PROFILE = 20


async def actor_response(ctx: Ctx, account: Account) -> Response:
    await check_authorized_fetch(ctx)
    _, public_pem = await account_keys(ctx.c, ctx.tenant, account)
    if account.suspended_at is not None:
        return as2(convert.suspended_actor(ctx.base_url, account, public_pem))
    moved_to = None
    if account.moved_to_account_id is not None:
        async with ctx.c.db.read() as conn:
            moved_to = (await conn.execute(select(accounts.c.uri).where(
                accounts.c.tenant_id == ctx.tenant.id, accounts.c.id == account.moved_to_account_id))).scalar()
    return as2(convert.account_to_actor(ctx.base_url, ctx.tenant, account, public_pem, moved_to=moved_to or None))


async def profile_page(ctx: Ctx, account: Account) -> Response:
    shown: list[Status] = []
    if account.suspended_at is None:
        async with ctx.c.db.read() as conn:
            rows = (await conn.execute(select(statuses).where(
                statuses.c.tenant_id == ctx.tenant.id, statuses.c.account_id == account.id,
                statuses.c.visibility == "public", statuses.c.deleted_at.is_(None),
                statuses.c.reblog_of_id.is_(None)).order_by(statuses.c.id.desc()).limit(RECENT_ON_PROFILE))).all()
        shown = [from_row(Status, r) for r in rows]
    body = render("activitypub/profile.html", tenant=ctx.tenant, account=account, statuses=shown,
                  base=ctx.base_url, actor=convert.actor_uri(ctx.base_url, account))
    return HTMLResponse(body, status_code=410 if account.suspended_at else 200, headers={"Vary": "Accept"})


@endpoint(auth="none")
async def user(ctx: Ctx) -> Any:
    account = await local_account(ctx)
    if wants_as2(ctx.request):
        return await actor_response(ctx, account)
    return await profile_page(ctx, account)


@endpoint(auth="none")
async def instance_actor(ctx: Ctx) -> Any:
    # Served unsigned even under authorized fetch: remote servers fetch it to verify us.
    return as2(convert.instance_actor(ctx.base_url, ctx.tenant), negotiated=False)


@endpoint(auth="none")
async def instance_outbox(ctx: Ctx) -> Any:
    uri = f"{ctx.base_url}/actor/outbox"
    return as2(convert.with_context({"id": uri, "type": "OrderedCollection", "totalItems": 0,
                                     "orderedItems": []}), negotiated=False)


routes = [
    Route("/users/{username}", user, methods=["GET", "HEAD"]),
    Route("/@{username}", user, methods=["GET", "HEAD"]),
    Route("/actor", instance_actor, methods=["GET", "HEAD"]),
    Route("/actor/outbox", instance_outbox, methods=["GET", "HEAD"]),
]
