"""Web Push subscriptions: one per access token, as Mastodon keeps them, with the
tenant's VAPID public key as the server key (made on first use). Sending the
pushes themselves is not built yet."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.db.tables import push_subscriptions
from steward.model.entities import Account, Tenant

if TYPE_CHECKING:
    from steward.container import Container

ALERTS = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update",
          "admin.sign_up", "admin.report", "quote", "quoted_update")
POLICIES = ("all", "followed", "follower", "none")


@dataclass(slots=True)
class Subscription:
    id: int
    endpoint: str
    standard: bool
    alerts: dict[str, bool]
    policy: str
    server_key: str


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def vapid_public_key(c: Container, tenant: Tenant) -> str:
    """The tenant's VAPID public key (uncompressed P-256 point), made on first use."""
    key = tenant.setting("vapid_public_key")
    if key:
        return str(key)
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    updated = await c.tenants.update_settings(tenant.id, {"vapid_public_key": _b64url(public),
                                                          "vapid_private_key": pem})
    return str(updated.setting("vapid_public_key"))


def _check_policy(policy: str | None) -> None:
    if policy is not None and policy not in POLICIES:
        raise ApiError(422, f"Validation failed: Policy is not included in the list ({', '.join(POLICIES)})",
                       {"policy": [{"error": "ERR_INCLUSION", "description": "is not included in the list"}]})


def _check_key(name: str, raw: str, size: int) -> str:
    padded = raw.strip().replace("-", "+").replace("_", "/")
    try:
        decoded = base64.b64decode(padded + "=" * (-len(padded) % 4), validate=True)
    except ValueError:
        decoded = b""
    if len(decoded) != size:
        raise ApiError(422, f"Validation failed: subscription keys {name} is invalid",
                       {f"keys.{name}": [{"error": "ERR_INVALID", "description": "is invalid"}]})
    return raw.strip()


async def _row(conn: AsyncConnection, tenant_id: int, token_id: int) -> Any:
    return (await conn.execute(select(push_subscriptions).where(
        push_subscriptions.c.tenant_id == tenant_id, push_subscriptions.c.token_id == token_id))).first()


def _entity(row: Any, server_key: str) -> Subscription:
    alerts = {name: bool(row.alerts.get(name, False)) for name in ALERTS}
    # `standard` (RFC 8291 rather than the legacy draft encoding) is kept beside the alert flags.
    return Subscription(row.id, row.endpoint, bool(row.alerts.get("_standard", False)), alerts, row.policy,
                        server_key)


async def subscribe(c: Container, tenant: Tenant, me: Account, token_id: int, *, endpoint_url: str, p256dh: str,
                    auth_secret: str, standard: bool, alerts: dict[str, bool], policy: str | None) -> Subscription:
    parts = urlsplit(endpoint_url)
    if parts.scheme != "https" or not parts.netloc:
        raise ApiError(422, "Validation failed: Endpoint must be an https URL",
                       {"endpoint": [{"error": "ERR_INVALID", "description": "must be an https URL"}]})
    p256dh, auth_secret = _check_key("p256dh", p256dh, 65), _check_key("auth", auth_secret, 16)
    policy = policy or "all"
    _check_policy(policy)
    server_key = await vapid_public_key(c, tenant)
    stored: dict[str, Any] = {**{name: bool(alerts.get(name, False)) for name in ALERTS}, "_standard": standard}
    async with c.db.write() as conn:
        # A token has one subscription; subscribing again replaces it, as Mastodon does.
        await conn.execute(delete(push_subscriptions).where(
            push_subscriptions.c.tenant_id == tenant.id, push_subscriptions.c.token_id == token_id))
        await conn.execute(push_subscriptions.insert().values(
            tenant_id=tenant.id, id=new_id(), token_id=token_id, account_id=me.id, endpoint=endpoint_url,
            key_p256dh=p256dh, key_auth=auth_secret, alerts=stored, policy=policy, created_at=utcnow()))
        row = await _row(conn, tenant.id, token_id)
    return _entity(row, server_key)


async def current(c: Container, tenant: Tenant, token_id: int) -> Subscription:
    async with c.db.read() as conn:
        row = await _row(conn, tenant.id, token_id)
    if row is None:
        raise not_found()
    return _entity(row, await vapid_public_key(c, tenant))


async def update_subscription(c: Container, tenant: Tenant, token_id: int, *, alerts: dict[str, bool],
                 policy: str | None) -> Subscription:
    _check_policy(policy)
    async with c.db.write() as conn:
        row = await _row(conn, tenant.id, token_id)
        if row is None:
            raise not_found()
        merged = {**row.alerts, **alerts}
        await conn.execute(update(push_subscriptions).where(
            push_subscriptions.c.tenant_id == tenant.id, push_subscriptions.c.id == row.id,
        ).values(alerts=merged, policy=policy or row.policy))
        row = await _row(conn, tenant.id, token_id)
    return _entity(row, await vapid_public_key(c, tenant))


async def unsubscribe(c: Container, tenant: Tenant, token_id: int) -> None:
    async with c.db.write() as conn:
        await conn.execute(delete(push_subscriptions).where(
            push_subscriptions.c.tenant_id == tenant.id, push_subscriptions.c.token_id == token_id))
