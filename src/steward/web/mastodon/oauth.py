"""OAuth routes: app registration, authorize page, token, revoke, metadata."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from steward.core.errors import ApiError
from steward.core.passwords import check_password
from steward.social.accounts import find_user_by_login
from steward.social.oauth import ALL_SCOPES, OOB, OAuthService, parse_scopes, scopes_within
from steward.web.base import Ctx, endpoint
from steward.web.templating import render


def _oauth(ctx: Ctx) -> OAuthService:
    return OAuthService(ctx.c.db)


def app_to_api(app: Any, *, with_secret: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(app.id), "name": app.name, "website": app.website,
        "scopes": app.scopes.split(), "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": list(app.redirect_uris), "vapid_key": "",
    }
    if with_secret:
        data["client_id"] = app.client_id
        data["client_secret"] = app.client_secret
        data["client_secret_expires_at"] = 0
    return data


@endpoint(auth="none")
async def create_app(ctx: Ctx) -> Any:
    p = ctx.params
    name = p.str("client_name", required=True, max_len=200)
    raw_uris = p.raw("redirect_uris")
    if isinstance(raw_uris, list):
        uris = [str(u) for u in raw_uris]
    else:
        uris = (p.str("redirect_uris", max_len=4000) or "").split()
    scopes = parse_scopes(p.str("scopes", max_len=2000))
    website = p.str("website", max_len=2000) or None
    app = await _oauth(ctx).create_app(ctx.tenant, name or "", uris, scopes, website)
    return app_to_api(app, with_secret=True)


@endpoint(auth="app")
async def verify_app(ctx: Ctx) -> Any:
    assert ctx.token is not None
    app = await _oauth(ctx).app_by_id(ctx.tenant.id, ctx.token.app_id)
    if app is None:
        raise ApiError(401, "The access token is invalid")
    return app_to_api(app, with_secret=False)


def _token_body(token: str, refresh: str | None, scopes: str, created: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "scope": scopes,
                            "created_at": int(created.timestamp())}
    if refresh:
        body["refresh_token"] = refresh
    return body


@endpoint(auth="none")
async def token(ctx: Ctx) -> Any:
    p = ctx.params
    svc = _oauth(ctx)
    grant = p.str("grant_type", required=True)
    client_id, client_secret = p.str("client_id"), p.str("client_secret")
    basic = _basic_auth(ctx.request)
    if basic:
        client_id, client_secret = basic
    app = await svc.authenticate_client(ctx.tenant, client_id, client_secret)
    raw_scope = p.str("scope") or p.str("scopes")
    requested = parse_scopes(raw_scope) if raw_scope else []
    if requested and not scopes_within(requested, app.scopes):
        raise ApiError(400, "The requested scope is invalid, unknown, or malformed.", {"error_code": "invalid_scope"})
    if grant == "client_credentials":
        scopes = " ".join(requested) if requested else app.scopes.split()[0]
        raw, refresh, tok = await svc.issue_token(ctx.tenant, app.id, None, scopes, with_refresh=False)
        return _token_body(raw, refresh, scopes, tok.created_at)
    if grant == "authorization_code":
        user_id, scopes = await svc.redeem_code(ctx.tenant, app, p.str("code", required=True) or "",
                                                p.str("redirect_uri"), p.str("code_verifier"))
        raw, refresh, tok = await svc.issue_token(ctx.tenant, app.id, user_id, scopes)
        return _token_body(raw, refresh, scopes, tok.created_at)
    if grant == "refresh_token":
        raw, refresh, tok = await svc.refresh(ctx.tenant, app, p.str("refresh_token", required=True) or "",
                                              requested or None)
        return _token_body(raw, refresh, tok.scopes, tok.created_at)
    if grant == "password":
        if not ctx.tenant.setting("password_grant", False):
            raise ApiError(400, "The authorization grant type is not supported by the authorization server.",
                           {"error_code": "unsupported_grant_type"})
        found = await find_user_by_login(ctx.c.db, ctx.tenant, p.str("username", required=True) or "")
        password = p.str("password", required=True) or ""
        if found is None or not check_password(password, found[0].password_hash) or found[0].disabled \
                or not found[0].approved:
            raise ApiError(400, "The provided authorization grant is invalid, expired, revoked, does not match "
                                "the redirection URI used in the authorization request, or was issued to "
                                "another client.", {"error_code": "invalid_grant"})
        scopes = " ".join(requested) if requested else app.scopes
        raw, refresh, tok = await svc.issue_token(ctx.tenant, app.id, found[0].id, scopes)
        return _token_body(raw, refresh, scopes, tok.created_at)
    raise ApiError(400, "The authorization grant type is not supported by the authorization server.",
                   {"error_code": "unsupported_grant_type"})


def _basic_auth(request: Request) -> tuple[str, str] | None:
    import base64
    import binascii

    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:]).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    cid, sep, secret = decoded.partition(":")
    return (cid, secret) if sep else None


@endpoint(auth="none")
async def revoke(ctx: Ctx) -> Any:
    svc = _oauth(ctx)
    client_id, client_secret = ctx.params.str("client_id"), ctx.params.str("client_secret")
    basic = _basic_auth(ctx.request)
    if basic:
        client_id, client_secret = basic
    app = await svc.authenticate_client(ctx.tenant, client_id, client_secret)
    await svc.revoke(ctx.tenant, app, ctx.params.str("token", required=True) or "")
    ctx.c.auth_cache.clear()
    return {}


@endpoint(auth="none")
async def authorization_server_metadata(ctx: Ctx) -> Any:
    base = ctx.base_url
    return {
        "issuer": f"{base}/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "userinfo_endpoint": f"{base}/oauth/userinfo",
        "scopes_supported": sorted(ALL_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }


@endpoint("profile|read:accounts", auth="user")
async def userinfo(ctx: Ctx) -> Any:
    acc = ctx.me
    return {"iss": f"{ctx.base_url}/", "sub": acc.uri, "name": acc.display_name or acc.username,
            "preferred_username": acc.username, "profile": acc.url,
            "picture": f"{ctx.base_url}/avatars/original/missing.png"}


async def _authorize_request(ctx: Ctx) -> tuple[Any, str, str, dict[str, Any]]:
    p = ctx.params
    app = await _oauth(ctx).app_by_client_id(ctx.tenant, p.str("client_id"))
    if app is None:
        raise ApiError(400, "Client authentication failed due to unknown client.", {"error_code": "invalid_client"})
    redirect_uri = p.str("redirect_uri") or (app.redirect_uris[0] if len(app.redirect_uris) == 1 else "")
    if redirect_uri not in app.redirect_uris:
        raise ApiError(400, "The redirect uri included is not valid.", {"error_code": "invalid_redirect_uri"})
    if (p.str("response_type") or "code") != "code":
        raise ApiError(400, "The authorization server does not support this response type.",
                       {"error_code": "unsupported_response_type"})
    scopes = parse_scopes(p.str("scope") or p.str("scopes"), default=app.scopes.split()[0])
    if not scopes_within(scopes, app.scopes):
        raise ApiError(400, "The requested scope is invalid, unknown, or malformed.", {"error_code": "invalid_scope"})
    method = p.str("code_challenge_method")
    challenge = p.str("code_challenge", max_len=128)
    if challenge and (method or "plain") not in {"S256", "plain"}:
        raise ApiError(400, "Code challenge method is not supported.", {"error_code": "invalid_request"})
    hidden = {"client_id": app.client_id, "redirect_uri": redirect_uri, "scope": " ".join(scopes),
              "response_type": "code", "state": p.str("state", max_len=2000) or "",
              "code_challenge": challenge or "", "code_challenge_method": method or ""}
    return app, redirect_uri, " ".join(scopes), hidden


@endpoint(auth="none")
async def authorize_form(ctx: Ctx) -> Response:
    app, _redirect, scopes, hidden = await _authorize_request(ctx)
    return HTMLResponse(render("authorize.html", tenant=ctx.tenant, app=app, scopes=scopes.split(),
                               hidden=hidden, error=None))


@endpoint(auth="none")
async def authorize_submit(ctx: Ctx) -> Response:
    app, redirect_uri, scopes, hidden = await _authorize_request(ctx)
    p = ctx.params
    state = hidden["state"]
    if p.str("decision") == "deny":
        if redirect_uri == OOB:
            return HTMLResponse(render("authorize_done.html", tenant=ctx.tenant, code=None, denied=True))
        query = urlencode({"error": "access_denied", **({"state": state} if state else {})})
        return RedirectResponse(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}", status_code=302)
    found = await find_user_by_login(ctx.c.db, ctx.tenant, p.str("login", max_len=320) or "")
    if found is None or not check_password(p.str("password", max_len=1000) or "", found[0].password_hash) \
            or found[0].disabled or not found[0].approved:
        return HTMLResponse(render("authorize.html", tenant=ctx.tenant, app=app, scopes=scopes.split(),
                                   hidden=hidden, error="Invalid email or password."), status_code=401)
    code = await _oauth(ctx).create_code(ctx.tenant, app, found[0].id, redirect_uri, scopes,
                                         hidden["code_challenge"] or None, hidden["code_challenge_method"] or None)
    if redirect_uri == OOB:
        return HTMLResponse(render("authorize_done.html", tenant=ctx.tenant, code=code, denied=False))
    query = urlencode({"code": code, **({"state": state} if state else {})})
    return RedirectResponse(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}", status_code=302)


routes = [
    Route("/api/v1/apps", create_app, methods=["POST"]),
    Route("/api/v1/apps/verify_credentials", verify_app, methods=["GET"]),
    Route("/oauth/token", token, methods=["POST"]),
    Route("/oauth/revoke", revoke, methods=["POST"]),
    Route("/oauth/authorize", authorize_form, methods=["GET"]),
    Route("/oauth/authorize", authorize_submit, methods=["POST"]),
    Route("/oauth/userinfo", userinfo, methods=["GET", "POST"]),
    Route("/.well-known/oauth-authorization-server", authorization_server_metadata, methods=["GET"]),
]
