"""OAuth 2 as Mastodon does it: apps, authorization codes (with PKCE), tokens,
refresh and revocation. Every row is bound to one tenant."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from steward.core.clock import utcnow
from steward.core.errors import ApiError
from steward.core.ids import new_id
from steward.db.engine import Database
from steward.db.tables import oauth_apps, oauth_codes, oauth_tokens
from steward.model.entities import OAuthApp, Tenant, Token, from_row

OOB = "urn:ietf:wg:oauth:2.0:oob"
BASE_SCOPES = ("read", "write", "follow", "push", "profile", "admin:read", "admin:write")
GRANULAR = {
    "read": ("accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes",
             "notifications", "search", "statuses"),
    "write": ("accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows",
              "lists", "media", "mutes", "notifications", "reports", "statuses"),
    "admin:read": ("accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks", "email_domain_blocks",
                   "canonical_email_blocks"),
    "admin:write": ("accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks", "email_domain_blocks",
                    "canonical_email_blocks"),
}
ALL_SCOPES = frozenset(
    [*BASE_SCOPES, *(f"{top}:{sub}" for top, subs in GRANULAR.items() for sub in subs)]
)
CODE_TTL = timedelta(minutes=10)


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def parse_scopes(raw: str | None, default: str = "read") -> list[str]:
    scopes = (raw or default).replace("+", " ").split()
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        raise ApiError(422, f"Validation failed: Scopes {', '.join(unknown)} are not valid scopes",
                       {"scopes": [{"error": "ERR_INVALID", "description": "is invalid"}]})
    return list(dict.fromkeys(scopes))


def scopes_within(requested: list[str], allowed: str) -> bool:
    """Every requested scope must be granted to the app, directly or by its parent."""
    granted = set(allowed.split())
    for scope in requested:
        parent = scope.rsplit(":", 1)[0] if scope.count(":") == 2 or scope.startswith(("read:", "write:")) else None
        if scope not in granted and (parent is None or parent not in granted):
            return False
    return True


def _uri_ok(uri: str) -> bool:
    if uri == OOB:
        return True
    scheme, sep, rest = uri.partition(":")
    return bool(sep) and bool(scheme) and scheme.replace("+", "").replace(".", "").replace("-", "").isalnum() \
        and "#" not in uri and len(uri) <= 2000 and bool(rest)


class OAuthService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_app(self, tenant: Tenant, name: str, redirect_uris: list[str], scopes: list[str],
                         website: str | None) -> OAuthApp:
        if not redirect_uris:
            raise ApiError(422, "Validation failed: Redirect URI can't be blank",
                           {"redirect_uri": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
        for uri in redirect_uris:
            if not _uri_ok(uri):
                raise ApiError(422, "Validation failed: Redirect URI must be an absolute URI.",
                               {"redirect_uri": [{"error": "ERR_INVALID", "description": "must be an absolute URI"}]})
        row: dict[str, Any] = {
            "tenant_id": tenant.id, "id": new_id(), "name": name, "client_id": secrets.token_urlsafe(32),
            "client_secret": secrets.token_urlsafe(32), "redirect_uris": redirect_uris,
            "scopes": " ".join(scopes), "website": website, "created_at": utcnow(),
        }
        async with self.db.write() as conn:
            await conn.execute(oauth_apps.insert().values(**row))
        return from_row(OAuthApp, row)

    async def app_by_client_id(self, tenant: Tenant, client_id: str | None) -> OAuthApp | None:
        if not client_id:
            return None
        async with self.db.read() as conn:
            row = (await conn.execute(select(oauth_apps).where(
                oauth_apps.c.tenant_id == tenant.id, oauth_apps.c.client_id == client_id))).first()
        return from_row(OAuthApp, row) if row else None

    async def app_by_id(self, tenant_id: int, app_id: int | None) -> OAuthApp | None:
        if app_id is None:
            return None
        async with self.db.read() as conn:
            row = (await conn.execute(select(oauth_apps).where(
                oauth_apps.c.tenant_id == tenant_id, oauth_apps.c.id == app_id))).first()
        return from_row(OAuthApp, row) if row else None

    async def authenticate_client(self, tenant: Tenant, client_id: str | None, client_secret: str | None) -> OAuthApp:
        app = await self.app_by_client_id(tenant, client_id)
        if app is None or client_secret is None or not hmac.compare_digest(app.client_secret, client_secret):
            raise ApiError(401, "Client authentication failed due to unknown client, no client authentication "
                                "included, or unsupported authentication method.", {"error_code": "invalid_client"})
        return app

    async def issue_token(self, tenant: Tenant, app_id: int | None, user_id: int | None, scopes: str,
                          *, with_refresh: bool = True, raw_token: str | None = None) -> tuple[str, str | None, Token]:
        token = raw_token or secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32) if with_refresh else None
        row: dict[str, Any] = {
            "tenant_id": tenant.id, "id": new_id(), "token_hash": hash_secret(token),
            "refresh_hash": hash_secret(refresh) if refresh else None, "app_id": app_id, "user_id": user_id,
            "scopes": scopes, "created_at": utcnow(),
        }
        async with self.db.write() as conn:
            await conn.execute(oauth_tokens.insert().values(**row))
        return token, refresh, from_row(Token, row)

    async def create_code(self, tenant: Tenant, app: OAuthApp, user_id: int, redirect_uri: str, scopes: str,
                          challenge: str | None, method: str | None) -> str:
        code = secrets.token_urlsafe(32)
        now = utcnow()
        async with self.db.write() as conn:
            await conn.execute(oauth_codes.insert().values(
                tenant_id=tenant.id, id=new_id(), code_hash=hash_secret(code), app_id=app.id, user_id=user_id,
                redirect_uri=redirect_uri, scopes=scopes, code_challenge=challenge, code_challenge_method=method,
                created_at=now, expires_at=now + CODE_TTL,
            ))
        return code

    async def redeem_code(self, tenant: Tenant, app: OAuthApp, code: str, redirect_uri: str | None,
                          verifier: str | None) -> tuple[int, str]:
        invalid = ApiError(400, "The provided authorization grant is invalid, expired, revoked, does not match "
                                "the redirection URI used in the authorization request, or was issued to "
                                "another client.", {"error_code": "invalid_grant"})
        async with self.db.write() as conn:
            row = (await conn.execute(select(oauth_codes).where(
                oauth_codes.c.tenant_id == tenant.id, oauth_codes.c.code_hash == hash_secret(code)))).first()
            if row is None or row.app_id != app.id or row.used_at is not None:
                raise invalid
            expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=utcnow().tzinfo)
            if expires < utcnow():
                raise invalid
            if redirect_uri and redirect_uri != row.redirect_uri:
                raise invalid
            if row.code_challenge:
                if not verifier:
                    raise invalid
                if row.code_challenge_method == "S256":
                    digest = hashlib.sha256(verifier.encode()).digest()
                    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                else:
                    computed = verifier
                if not hmac.compare_digest(computed, row.code_challenge):
                    raise invalid
            await conn.execute(update(oauth_codes).where(
                oauth_codes.c.tenant_id == tenant.id, oauth_codes.c.id == row.id).values(used_at=utcnow()))
        return row.user_id, row.scopes

    async def refresh(self, tenant: Tenant, app: OAuthApp, refresh_token: str,
                      scopes: list[str] | None) -> tuple[str, str | None, Token]:
        async with self.db.write() as conn:
            row = (await conn.execute(select(oauth_tokens).where(
                oauth_tokens.c.tenant_id == tenant.id,
                oauth_tokens.c.refresh_hash == hash_secret(refresh_token)))).first()
            if row is None or row.app_id != app.id or row.revoked_at is not None:
                raise ApiError(400, "The provided authorization grant is invalid, expired, revoked, does not "
                                    "match the redirection URI used in the authorization request, or was issued "
                                    "to another client.", {"error_code": "invalid_grant"})
            await conn.execute(update(oauth_tokens).where(
                oauth_tokens.c.tenant_id == tenant.id, oauth_tokens.c.id == row.id).values(revoked_at=utcnow()))
        granted = row.scopes
        if scopes:
            if not set(scopes) <= set(granted.split()):
                raise ApiError(400, "The requested scope is invalid, unknown, or malformed.",
                               {"error_code": "invalid_scope"})
            granted = " ".join(scopes)
        return await self.issue_token(tenant, app.id, row.user_id, granted)

    async def revoke(self, tenant: Tenant, app: OAuthApp, token: str) -> None:
        digest = hash_secret(token)
        async with self.db.write() as conn:
            await conn.execute(update(oauth_tokens).where(
                oauth_tokens.c.tenant_id == tenant.id, oauth_tokens.c.app_id == app.id,
                (oauth_tokens.c.token_hash == digest) | (oauth_tokens.c.refresh_hash == digest),
            ).values(revoked_at=utcnow()))
