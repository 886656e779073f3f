"""What the ActivityPub routes share: content negotiation, AS2 responses, the
local actor a path names, and the tenant's authorized-fetch gate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from steward.activitypub.signatures import Request as SignedRequest
from steward.activitypub.signatures import SignatureError, Verified, verify_request
from steward.core.errors import ApiError
from steward.db.tables import accounts
from steward.federation.keys import RemoteKeys
from steward.model.entities import Account, Tenant, from_row
from steward.web.base import Ctx

if TYPE_CHECKING:
    from steward.container import Container

AS2_MEDIA_TYPE = "application/activity+json; charset=utf-8"


def wants_as2(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "application/activity+json" in accept or "application/ld+json" in accept


def as2(data: dict[str, Any], status: int = 200, *, negotiated: bool = True) -> Response:
    headers = {"Vary": "Accept, Signature"} if negotiated else {}
    return Response(orjson.dumps(data), status_code=status, media_type=AS2_MEDIA_TYPE, headers=headers)


async def find_local_account(c: Container, tenant: Tenant, name: str) -> Account:
    if not name or len(name) > 64:
        raise ApiError(404, "Record not found")
    async with c.db.read() as conn:
        row = (await conn.execute(select(accounts).where(
            accounts.c.tenant_id == tenant.id, accounts.c.domain == "",
            accounts.c.username_lower == name.lower()))).first()
    if row is None:
        raise ApiError(404, "Record not found")
    return from_row(Account, row)


async def local_account(ctx: Ctx) -> Account:
    return await find_local_account(ctx.c, ctx.tenant, ctx.request.path_params.get("username", ""))


def signed_request(request: Request, base_url: str, body: bytes = b"") -> SignedRequest:
    """The request as its sender signed it: our public URL, not the proxied one."""
    url = base_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return SignedRequest(request.method, url, {k.lower(): v for k, v in request.headers.items()}, body)


async def signed_reader(ctx: Ctx) -> Verified | None:
    """The verified signer of a GET, or None when it is unsigned (401 when the
    tenant's `authorized_fetch` is on). A signature that does not hold is 401."""
    req = signed_request(ctx.request, ctx.base_url)
    if "signature" not in req.headers and "signature-input" not in req.headers:
        if ctx.tenant.settings.get("authorized_fetch"):
            raise ApiError(401, "Request not signed")
        return None
    try:
        return await verify_request(req, RemoteKeys(ctx.c, ctx.tenant))
    except SignatureError as exc:
        raise ApiError(401, f"Verification failed: {exc}") from exc


async def check_authorized_fetch(ctx: Ctx) -> Verified | None:
    """With the tenant's `authorized_fetch` on, AS2 reads need a valid signature
    (401 otherwise); the verified signer is returned. Off: None, unchecked."""
    if not ctx.tenant.settings.get("authorized_fetch"):
        return None
    return await signed_reader(ctx)
