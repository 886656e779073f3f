"""Account routes: registration, credentials, profile reads."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.core.errors import ApiError
from steward.federation import resolve
from steward.model.entities import Account
from steward.social import migration, profile, registration
from steward.social.accounts import (
    find_by_acct,
    get_account,
    get_accounts,
    get_user_for_account,
)
from steward.social.oauth import OAuthService
from steward.web.base import Ctx, endpoint
from steward.web.mastodon.serialize_accounts import account_to_api, credential_account_to_api, profile_to_api


@endpoint("write:accounts", auth="app")
async def register(ctx: Ctx) -> Any:
    p = ctx.params
    client = ctx.request.client
    _account, user = await registration.register(
        ctx.c, ctx.tenant, username=p.str("username", max_len=64), email=p.str("email", max_len=320),
        password=p.str("password", max_len=1000), agreement=bool(p.bool("agreement", False)),
        locale=p.str("locale", "en", max_len=16) or "en", reason=p.str("reason", max_len=1000),
        ip=client.host if client else None, invite_code=p.str("invite_code", max_len=64),
    )
    assert ctx.token is not None
    scopes = ctx.token.scopes
    raw, refresh, tok = await OAuthService(ctx.c.db).issue_token(ctx.tenant, ctx.token.app_id, user.id, scopes)
    body: dict[str, Any] = {"access_token": raw, "token_type": "Bearer", "scope": scopes,
                            "created_at": int(tok.created_at.timestamp()) if tok.created_at else 0}
    if refresh:
        body["refresh_token"] = refresh
    return body


async def moved_to_api(ctx: Ctx, items: list[Account]) -> dict[int, dict[str, Any]]:
    """The `moved` account entity for each moved account among `items`, by origin id."""
    if not any(a.moved_to_account_id is not None for a in items):
        return {}
    async with ctx.c.db.read() as conn:
        targets = await migration.moved_targets(conn, ctx.tenant.id, items)
    return {a.id: account_to_api(ctx.base_url, ctx.tenant, targets[a.moved_to_account_id])
            for a in items if a.moved_to_account_id in targets}


async def render_account(ctx: Ctx, account: Account) -> dict[str, Any]:
    moved = await moved_to_api(ctx, [account])
    return account_to_api(ctx.base_url, ctx.tenant, account, moved=moved.get(account.id))


@endpoint("read:accounts|profile")
async def verify_credentials(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        account = await get_account(conn, ctx.tenant.id, ctx.me.id)
        user = await get_user_for_account(conn, ctx.tenant.id, account.id)
        data = credential_account_to_api(ctx.base_url, ctx.tenant, account, user)
        data["source"]["follow_requests_count"] = await profile.follow_request_count(conn, ctx.tenant.id, account.id)
    moved = await moved_to_api(ctx, [account])
    if account.id in moved:
        data["moved"] = moved[account.id]
    return data


@endpoint("write:accounts")
async def update_credentials(ctx: Ctx) -> Any:
    account, user = await profile.update_profile(ctx.c, ctx.tenant, ctx.me, ctx.params)
    return credential_account_to_api(ctx.base_url, ctx.tenant, account, user)


@endpoint("read:accounts", auth="optional")
async def show(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        account = await get_account(conn, ctx.tenant.id, ctx.path_id())
    if account.suspended_at is not None and account.local:
        raise ApiError(404, "Record not found")
    return await render_account(ctx, account)


@endpoint("read:accounts", auth="optional")
async def show_many(ctx: Ctx) -> Any:
    """GET /api/v1/accounts?id[]=...: the accounts that exist, in the order asked."""
    ids = ctx.params.id_list("id", max_items=40)
    async with ctx.c.db.read() as conn:
        found = await get_accounts(conn, ctx.tenant.id, ids)
    shown = [found[i] for i in dict.fromkeys(ids)
             if i in found and not (found[i].suspended_at is not None and found[i].local)]
    moved = await moved_to_api(ctx, shown)
    return [account_to_api(ctx.base_url, ctx.tenant, a, moved=moved.get(a.id)) for a in shown]


@endpoint("read:accounts|profile")
async def show_profile(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        account = await get_account(conn, ctx.tenant.id, ctx.me.id)
    return profile_to_api(ctx.base_url, ctx.tenant, account)


@endpoint("write:accounts")
async def update_own_profile(ctx: Ctx) -> Any:
    account, _user = await profile.update_profile(ctx.c, ctx.tenant, ctx.me, ctx.params)
    return profile_to_api(ctx.base_url, ctx.tenant, account)


@endpoint("write:accounts")
async def delete_avatar(ctx: Ctx) -> Any:
    account = await profile.remove_profile_image(ctx.c, ctx.tenant, ctx.me, "avatar")
    async with ctx.c.db.read() as conn:
        user = await get_user_for_account(conn, ctx.tenant.id, account.id)
    return credential_account_to_api(ctx.base_url, ctx.tenant, account, user)


@endpoint("write:accounts")
async def delete_header(ctx: Ctx) -> Any:
    account = await profile.remove_profile_image(ctx.c, ctx.tenant, ctx.me, "header")
    async with ctx.c.db.read() as conn:
        user = await get_user_for_account(conn, ctx.tenant.id, account.id)
    return credential_account_to_api(ctx.base_url, ctx.tenant, account, user)


@endpoint("read:accounts", auth="optional")
async def lookup(ctx: Ctx) -> Any:
    """A signed-in caller's lookup of `user@host` resolves it through WebFinger;
    an anonymous one sees only accounts already known here."""
    acct = ctx.params.str("acct", required=True, max_len=400) or ""
    if ctx.account is not None:
        account = await resolve.lookup_account(ctx.c, ctx.tenant, acct)
    else:
        async with ctx.c.db.read() as conn:
            account = await find_by_acct(conn, ctx.tenant, acct)
    if account is None or account.suspended_at is not None:
        raise ApiError(404, "Record not found")
    return await render_account(ctx, account)


routes = [
    Route("/api/v1/accounts", register, methods=["POST"]),
    Route("/api/v1/accounts", show_many, methods=["GET"]),
    Route("/api/v1/profile", show_profile, methods=["GET"]),
    Route("/api/v1/profile", update_own_profile, methods=["PATCH", "PUT"]),
    Route("/api/v1/profile/avatar", delete_avatar, methods=["DELETE"]),
    Route("/api/v1/profile/header", delete_header, methods=["DELETE"]),
    Route("/api/v1/accounts/verify_credentials", verify_credentials, methods=["GET"]),
    Route("/api/v1/accounts/update_credentials", update_credentials, methods=["PATCH", "PUT", "POST"]),
    Route("/api/v1/accounts/lookup", lookup, methods=["GET"]),
    Route("/api/v1/accounts/{id}", show, methods=["GET"]),
]
