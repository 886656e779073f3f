"""What every route shares: the request context (tenant, token, viewer), the
`endpoint` wrapper that authenticates and checks scope, JSON responses, and
Mastodon pagination."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from steward.core.clock import utcnow
from steward.core.errors import ApiError
from steward.core.pagination import Page
from steward.db.tables import accounts, oauth_tokens, users
from steward.model.entities import Account, Tenant, Token, User, from_row
from steward.web.params import Params, read_params

if TYPE_CHECKING:
    from steward.container import Container


class JSONResponse(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=headers)


def error_response(err: ApiError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Scope implications, as Mastodon defines them.
_FOLLOW_IMPLIES = {"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}


def scope_allows(granted: frozenset[str], needed: str) -> bool:
    if needed in granted:
        return True
    top = needed.split(":")
    if len(top) >= 2 and top[0] in {"read", "write"} and top[0] in granted:
        return True
    if top[0] == "admin" and len(top) >= 3 and f"admin:{top[1]}" in granted:
        return True
    return needed in _FOLLOW_IMPLIES and "follow" in granted


def scopes_allow_any(granted: frozenset[str], needed: str) -> bool:
    """`needed` may list alternatives separated by '|'."""
    return any(scope_allows(granted, n) for n in needed.split("|"))


@dataclass(slots=True)
class Viewer:
    token: Token
    user: User | None
    account: Account | None


class Ctx:
    """One request as a route sees it."""

    __slots__ = ("account", "c", "params", "request", "tenant", "token", "user")

    def __init__(self, request: Request, c: Container, tenant: Tenant, viewer: Viewer | None,
                 params: Params) -> None:
        self.request = request
        self.c = c
        self.tenant = tenant
        self.token = viewer.token if viewer else None
        self.user = viewer.user if viewer else None
        self.account = viewer.account if viewer else None
        self.params = params

    def path_id(self, name: str = "id") -> int:
        from steward.core.ids import parse_id

        parsed = parse_id(self.request.path_params.get(name, ""))
        if parsed is None:
            raise ApiError(404, "Record not found")
        return parsed

    @property
    def me(self) -> Account:
        if self.account is None:
            raise ApiError(422, "This method requires an authenticated user")
        return self.account

    @property
    def base_url(self) -> str:
        return self.c.base_url(self.tenant)


class AuthCache:
    """Bearer token -> viewer, for a couple of seconds. Revocation clears it in
    this process; other processes see a revocation within `ttl` seconds."""

    def __init__(self, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, int, Viewer]] = {}

    def get(self, digest: str, tenant_id: int) -> Viewer | None:
        hit = self._entries.get(digest)
        if hit and hit[0] > time.monotonic() and hit[1] == tenant_id:
            return hit[2]
        return None

    def put(self, digest: str, tenant_id: int, viewer: Viewer) -> None:
        if len(self._entries) > 50_000:
            self._entries.clear()
        self._entries[digest] = (time.monotonic() + self.ttl, tenant_id, viewer)

    def clear(self) -> None:
        self._entries.clear()


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    return request.query_params.get("access_token") or None


async def load_viewer(c: Container, tenant: Tenant, raw_token: str, *, sanctioned: bool = False) -> Viewer | None:
    """`sanctioned`: also a suspended or disabled user (never cached), for the
    few routes such a user keeps: reading their strikes and appealing them."""
    digest = hash_token(raw_token)
    cached = c.auth_cache.get(digest, tenant.id)
    if cached is not None:
        return cached
    async with c.db.read() as conn:
        row = (
            await conn.execute(
                select(oauth_tokens).where(
                    oauth_tokens.c.token_hash == digest, oauth_tokens.c.tenant_id == tenant.id
                )
            )
        ).first()
        if row is None or row.revoked_at is not None:
            return None
        token = from_row(Token, row)
        if token.expires_at is not None and token.expires_at < utcnow():
            return None
        user = account = None
        if token.user_id is not None:
            urow = (
                await conn.execute(
                    select(users).where(users.c.tenant_id == tenant.id, users.c.id == token.user_id)
                )
            ).first()
            if urow is None:
                return None
            user = from_row(User, urow)
            if (user.disabled and not sanctioned) or not user.approved:
                return None
            arow = (
                await conn.execute(
                    select(accounts).where(
                        accounts.c.tenant_id == tenant.id, accounts.c.id == user.account_id
                    )
                )
            ).first()
            if arow is None or (arow.suspended_at is not None and not sanctioned):
                return None
            account = from_row(Account, arow)
    viewer = Viewer(token, user, account)
    if not sanctioned:
        c.auth_cache.put(digest, tenant.id, viewer)
    return viewer


Handler = Callable[[Ctx], Awaitable[Any]]


Route = Callable[[Request], Awaitable[Response]]


def endpoint(scope: str | None = None, *, auth: str = "user") -> Callable[[Handler], Route]:
    """Wrap a route. `auth`: "user" (a user token), "app" (any valid token),
    "optional" (a token is checked when sent), "none" (never looked at),
    "sanctioned" (a user token, also of a suspended or disabled user)."""

    def wrap(fn: Handler) -> Route:
        async def handler(request: Request) -> Response:
            c: Container = request.app.state.container
            tenant: Tenant = request.state.tenant
            viewer: Viewer | None = None
            if auth != "none":
                raw = bearer_token(request)
                if raw:
                    viewer = await load_viewer(c, tenant, raw)
                    if viewer is None and auth == "sanctioned":
                        viewer = await load_viewer(c, tenant, raw, sanctioned=True)
                    if viewer is None:
                        raise ApiError(401, "The access token is invalid")
                elif auth in {"user", "app", "sanctioned"}:
                    raise ApiError(401, "The access token is invalid")
                if viewer is not None:
                    if scope and not scopes_allow_any(viewer.token.scope_set, scope):
                        raise ApiError(403, "This action is outside the authorized scopes")
                    if auth in {"user", "sanctioned"} and viewer.account is None:
                        raise ApiError(422, "This method requires an authenticated user")
            params = await read_params(request, c.settings.max_json_body)
            result = await fn(Ctx(request, c, tenant, viewer, params))
            if isinstance(result, Response):
                return result
            return json(result)

        handler.__name__ = fn.__name__
        handler.__doc__ = fn.__doc__
        return handler

    return wrap


def page_params(params: Params, default: int = 20, maximum: int = 40) -> Page:
    from steward.core.ids import parse_id

    def _id(key: str) -> int | None:
        value = params.raw(key)
        if value is None or value == "":
            return None
        parsed = parse_id(value)
        if parsed is None:
            # Mastodon ignores ids it cannot read rather than failing.
            return None
        return parsed

    limit = params.int("limit", default, lo=1, hi=maximum, clamp=True) or default
    offset = params.int("offset", 0, lo=0, clamp=True) or 0
    return Page(_id("max_id"), _id("since_id"), _id("min_id"), limit, offset)


def link_header(request: Request, next_max: Any, prev_min: Any, *, extra: dict[str, Any] | None = None,
                base: str | None = None) -> dict[str, str]:
    """Mastodon's Link header: `next` pages older, `prev` pages newer."""
    if next_max is None and prev_min is None:
        return {}
    keep = [(k, v) for k, v in request.query_params.multi_items()
            if k not in {"max_id", "since_id", "min_id", "offset"}]
    url = base or str(request.url.replace(query=""))
    parts = []
    if next_max is not None:
        parts.append(f'<{url}?{urlencode([*keep, ("max_id", str(next_max))])}>; rel="next"')
    if prev_min is not None:
        parts.append(f'<{url}?{urlencode([*keep, ("min_id", str(prev_min))])}>; rel="prev"')
    return {"Link": ", ".join(parts)}


def paged(request: Request, data: list[dict[str, Any]], ids: Iterable[Any] | None = None,
          base: str | None = None) -> JSONResponse:
    """A page of entities with its Link header; `ids` are the pagination keys of
    the rows (defaults to each entity's id)."""
    keys = list(ids) if ids is not None else [d["id"] for d in data]
    headers = link_header(request, keys[-1], keys[0], base=base) if keys else {}
    return json(data, headers=headers)
