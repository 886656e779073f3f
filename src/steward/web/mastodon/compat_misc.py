"""Endpoints no other module serves that real clients call: the Web Push
subscription of the current token, filing a report, the e-mail confirmation
endpoints, and annual reports.

Steward generates no annual reports ("Wrapstodon"), so the annual report endpoints
answer as Mastodon does for an account that has none and is not eligible for one.

Push subscriptions are stored (one per access token, as Mastodon keeps them) with
the tenant's VAPID public key as `server_key`; sending the pushes themselves is not
done yet."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import Route

from steward.core.clock import iso, utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.db.tables import accounts, instance_rules, push_subscriptions, reports, statuses
from steward.model.entities import Account, Tenant, from_row
from steward.web.base import Ctx, JSONResponse, endpoint
from steward.web.mastodon.serialize_accounts import account_to_api
from steward.web.params import Params

ALERTS = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update",
          "admin.sign_up", "admin.report", "quote", "quoted_update")
POLICIES = ("all", "followed", "follower", "none")
REPORT_CATEGORIES = ("spam", "legal", "violation", "other")
MAX_REPORT_COMMENT = 1000


# --- Web Push -----------------------------------------------------------------

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def vapid_public_key(ctx: Ctx) -> str:
    """The tenant's VAPID public key (uncompressed P-256 point), made on first use."""
    key = ctx.tenant.setting("vapid_public_key")
    if key:
        return str(key)
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    tenant = await ctx.c.tenants.update_settings(ctx.tenant.id, {"vapid_public_key": _b64url(public),
                                                                 "vapid_private_key": pem})
    return str(tenant.setting("vapid_public_key"))


def _alerts(p: Params, current: dict[str, bool] | None = None) -> dict[str, bool]:
    given = p.sub("data").sub("alerts")
    out = {name: bool((current or {}).get(name, False)) for name in ALERTS}
    for name in ALERTS:
        value = given.bool(name)
        if value is not None:
            out[name] = value
    return out


def _policy(p: Params, default: str | None) -> str | None:
    policy = p.sub("data").str("policy", max_len=16) or p.str("policy", max_len=16) or default
    if policy is not None and policy not in POLICIES:
        raise ApiError(422, f"Validation failed: Policy is not included in the list ({', '.join(POLICIES)})",
                       {"policy": [{"error": "ERR_INCLUSION", "description": "is not included in the list"}]})
    return policy


def _key(keys: Params, name: str, size: int) -> str:
    raw = keys.str(name, required=True, max_len=512) or ""
    padded = raw.strip().replace("-", "+").replace("_", "/")
    try:
        decoded = base64.b64decode(padded + "=" * (-len(padded) % 4), validate=True)
    except ValueError:
        decoded = b""
    if len(decoded) != size:
        raise ApiError(422, f"Validation failed: subscription keys {name} is invalid",
                       {f"keys.{name}": [{"error": "ERR_INVALID", "description": "is invalid"}]})
    return raw.strip()


def push_to_api(row: Any, server_key: str) -> dict[str, Any]:
    alerts = {name: bool(row.alerts.get(name, False)) for name in ALERTS}
    return {"id": str(row.id), "endpoint": row.endpoint, "standard": bool(row.alerts.get("_standard", False)),
            "alerts": alerts, "policy": row.policy, "server_key": server_key}


async def _current(conn: AsyncConnection, ctx: Ctx) -> Any:
    assert ctx.token is not None
    return (await conn.execute(select(push_subscriptions).where(
        push_subscriptions.c.tenant_id == ctx.tenant.id, push_subscriptions.c.token_id == ctx.token.id))).first()


@endpoint("push")
async def push_subscribe(ctx: Ctx) -> Any:
    p = ctx.params
    sub = p.sub("subscription")
    endpoint_url = sub.str("endpoint", required=True, max_len=2000) or ""
    parts = urlsplit(endpoint_url)
    if parts.scheme != "https" or not parts.netloc:
        raise ApiError(422, "Validation failed: Endpoint must be an https URL",
                       {"endpoint": [{"error": "ERR_INVALID", "description": "must be an https URL"}]})
    keys = sub.sub("keys")
    p256dh, auth_secret = _key(keys, "p256dh", 65), _key(keys, "auth", 16)
    # `standard` (RFC 8291 vs the legacy draft encoding) is kept beside the alerts flags.
    alerts: dict[str, Any] = {**_alerts(p), "_standard": bool(sub.bool("standard", False))}
    policy = _policy(p, "all")
    server_key = await vapid_public_key(ctx)
    assert ctx.token is not None
    row = {"tenant_id": ctx.tenant.id, "id": new_id(), "token_id": ctx.token.id, "account_id": ctx.me.id,
           "endpoint": endpoint_url, "key_p256dh": p256dh, "key_auth": auth_secret, "alerts": alerts,
           "policy": policy, "created_at": utcnow()}
    async with ctx.c.db.write() as conn:
        # A token has one subscription; subscribing again replaces it, as Mastodon does.
        await conn.execute(delete(push_subscriptions).where(
            push_subscriptions.c.tenant_id == ctx.tenant.id, push_subscriptions.c.token_id == ctx.token.id))
        await conn.execute(push_subscriptions.insert().values(**row))
        created = await _current(conn, ctx)
    return push_to_api(created, server_key)


@endpoint("push")
async def push_show(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        row = await _current(conn, ctx)
    if row is None:
        raise not_found()
    return push_to_api(row, await vapid_public_key(ctx))


@endpoint("push")
async def push_update(ctx: Ctx) -> Any:
    async with ctx.c.db.write() as conn:
        row = await _current(conn, ctx)
        if row is None:
            raise not_found()
        alerts = {**_alerts(ctx.params, row.alerts), "_standard": bool(row.alerts.get("_standard", False))}
        policy = _policy(ctx.params, row.policy)
        await conn.execute(update(push_subscriptions).where(
            push_subscriptions.c.tenant_id == ctx.tenant.id, push_subscriptions.c.id == row.id,
        ).values(alerts=alerts, policy=policy))
        row = await _current(conn, ctx)
    return push_to_api(row, await vapid_public_key(ctx))


@endpoint("push")
async def push_unsubscribe(ctx: Ctx) -> Any:
    assert ctx.token is not None
    async with ctx.c.db.write() as conn:
        await conn.execute(delete(push_subscriptions).where(
            push_subscriptions.c.tenant_id == ctx.tenant.id, push_subscriptions.c.token_id == ctx.token.id))
    return {}


# --- Reports ------------------------------------------------------------------

async def _target(conn: AsyncConnection, tenant: Tenant, account_id: int) -> Account:
    row = (await conn.execute(select(accounts).where(
        accounts.c.tenant_id == tenant.id, accounts.c.id == account_id))).first()
    if row is None:
        raise not_found()
    return from_row(Account, row)


def report_to_api(base: str, tenant: Tenant, row: dict[str, Any], target: Account) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "action_taken": row["action_taken_at"] is not None,
        "action_taken_at": iso(row["action_taken_at"]) if row["action_taken_at"] else None,
        "category": row["category"], "comment": row["comment"], "forwarded": row["forwarded"],
        "created_at": iso(row["created_at"]),
        "status_ids": [str(i) for i in row["status_ids"]] or None,
        "rule_ids": [str(i) for i in row["rule_ids"]] or None,
        "target_account": account_to_api(base, tenant, target),
    }


@endpoint("write:reports")
async def create_report(ctx: Ctx) -> Any:
    p = ctx.params
    account_id = p.id("account_id")
    if account_id is None:
        raise ApiError(422, "Validation failed: Account can't be blank",
                       {"account_id": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
    status_ids = p.id_list("status_ids", max_items=100)
    rule_ids = p.id_list("rule_ids", max_items=100)
    comment = p.str("comment", "", max_len=MAX_REPORT_COMMENT) or ""
    category = p.str("category", "other", max_len=16) or "other"
    if category not in REPORT_CATEGORIES:
        raise ApiError(422, "Validation failed: Category is not included in the list",
                       {"category": [{"error": "ERR_INCLUSION", "description": "is not included in the list"}]})
    p.bool("forward", False)
    if rule_ids:
        category = "violation"
    async with ctx.c.db.write() as conn:
        target = await _target(conn, ctx.tenant, account_id)
        if status_ids:
            found = {r.id for r in (await conn.execute(select(statuses.c.id).where(
                statuses.c.tenant_id == ctx.tenant.id, statuses.c.account_id == target.id,
                statuses.c.id.in_(status_ids)))).all()}
            if found != set(status_ids):
                raise not_found()
        if rule_ids:
            known = {r.id for r in (await conn.execute(select(instance_rules.c.id).where(
                instance_rules.c.tenant_id == ctx.tenant.id, instance_rules.c.id.in_(rule_ids)))).all()}
            if known != set(rule_ids):
                raise ApiError(422, "Validation failed: Rule ids contain a rule this server does not have",
                               {"rule_ids": [{"error": "ERR_INVALID", "description": "is invalid"}]})
        now = utcnow()
        # Forwarding to a remote server needs federation delivery, which Steward does not
        # do yet: the report stays local and says so (forwarded false).
        row: dict[str, Any] = {
            "tenant_id": ctx.tenant.id, "id": new_id(), "account_id": ctx.me.id, "target_account_id": target.id,
            "status_ids": list(dict.fromkeys(status_ids)), "rule_ids": list(dict.fromkeys(rule_ids)),
            "category": category, "comment": comment, "forwarded": False, "action_taken_at": None,
            "created_at": now, "updated_at": now,
        }
        await conn.execute(reports.insert().values(**row))
    return report_to_api(ctx.base_url, ctx.tenant, row, target)


# --- E-mail confirmation --------------------------------------------------------

@endpoint("write:accounts")
async def resend_confirmation(ctx: Ctx) -> Any:
    ctx.params.str("email", max_len=320)
    assert ctx.user is not None
    if ctx.user.confirmed_at is not None:
        raise ApiError(403, "This method is only available while the e-mail is awaiting confirmation")
    # Sign-ups are confirmed when they are made; a user left unconfirmed has no
    # e-mail to resend, since Steward does not send e-mail.
    raise ApiError(501, "This server does not send confirmation e-mails")


@endpoint("read:accounts")
async def check_confirmation(ctx: Ctx) -> Any:
    assert ctx.user is not None
    return JSONResponse(ctx.user.confirmed_at is not None)


# --- Annual reports ---------------------------------------------------------------

def _year(ctx: Ctx) -> int:
    raw = ctx.request.path_params.get("year", "")
    if not raw.isdigit() or len(raw) > 4:
        raise not_found()
    return int(raw)


@endpoint("read:accounts")
async def annual_reports(ctx: Ctx) -> Any:
    return {"annual_reports": [], "accounts": [], "statuses": []}


@endpoint("read:accounts")
async def annual_report(ctx: Ctx) -> Any:
    _year(ctx)
    raise not_found()


@endpoint("read:accounts")
async def annual_report_state(ctx: Ctx) -> Any:
    _year(ctx)
    return {"state": "ineligible"}


@endpoint("write:accounts")
async def annual_report_generate(ctx: Ctx) -> Any:
    # Mastodon answers an ineligible account's request with an empty body and makes nothing.
    _year(ctx)
    return {}


@endpoint("write:accounts")
async def annual_report_read(ctx: Ctx) -> Any:
    _year(ctx)
    raise not_found()


routes = [
    Route("/api/v1/annual_reports", annual_reports, methods=["GET"]),
    Route("/api/v1/annual_reports/{year}", annual_report, methods=["GET"]),
    Route("/api/v1/annual_reports/{year}/state", annual_report_state, methods=["GET"]),
    Route("/api/v1/annual_reports/{year}/generate", annual_report_generate, methods=["POST"]),
    Route("/api/v1/annual_reports/{year}/read", annual_report_read, methods=["POST"]),
    Route("/api/v1/emails/confirmations", resend_confirmation, methods=["POST"]),
    Route("/api/v1/emails/check_confirmation", check_confirmation, methods=["GET"]),
    Route("/api/v1/push/subscription", push_subscribe, methods=["POST"]),
    Route("/api/v1/push/subscription", push_show, methods=["GET"]),
    Route("/api/v1/push/subscription", push_update, methods=["PUT"]),
    Route("/api/v1/push/subscription", push_unsubscribe, methods=["DELETE"]),
    Route("/api/v1/reports", create_report, methods=["POST"]),
]
