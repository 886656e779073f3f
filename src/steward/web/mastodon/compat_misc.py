"""Endpoints no other module serves that real clients call: the Web Push
subscription of the current token, filing a report, the e-mail confirmation
endpoints, and annual reports.

Steward generates no annual reports ("Wrapstodon"), so the annual report endpoints
answer as Mastodon does for an account that has none and is not eligible for one.

Push subscriptions live in social/push.py, report filing in moderation/reports.py;
these are their routes."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.core.clock import iso
from steward.core.errors import ApiError, not_found
from steward.model.entities import Account, Tenant
from steward.moderation.reports import file_report
from steward.social import push
from steward.social.push import ALERTS
from steward.web.base import Ctx, JSONResponse, endpoint
from steward.web.mastodon.serialize_accounts import account_to_api
from steward.web.params import Params

MAX_REPORT_COMMENT = 1000


# --- Web Push -----------------------------------------------------------------

def _alerts(p: Params) -> dict[str, bool]:
    given = p.sub("data").sub("alerts")
    return {name: value for name in ALERTS if (value := given.bool(name)) is not None}


def _policy(p: Params) -> str | None:
    return p.sub("data").str("policy", max_len=16) or p.str("policy", max_len=16)


def push_to_api(sub: push.Subscription) -> dict[str, Any]:
    return {"id": str(sub.id), "endpoint": sub.endpoint, "standard": sub.standard,
            "alerts": {name: bool(sub.alerts.get(name, False)) for name in ALERTS}, "policy": sub.policy,
            "server_key": sub.server_key}


@endpoint("push")
async def push_subscribe(ctx: Ctx) -> Any:
    p = ctx.params
    sub = p.sub("subscription")
    keys = sub.sub("keys")
    assert ctx.token is not None
    created = await push.subscribe(
        ctx.c, ctx.tenant, ctx.me, ctx.token.id, endpoint_url=sub.str("endpoint", required=True, max_len=2000) or "",
        p256dh=keys.str("p256dh", required=True, max_len=512) or "",
        auth_secret=keys.str("auth", required=True, max_len=512) or "",
        standard=bool(sub.bool("standard", False)), alerts=_alerts(p), policy=_policy(p))
    return push_to_api(created)


@endpoint("push")
async def push_show(ctx: Ctx) -> Any:
    assert ctx.token is not None
    return push_to_api(await push.current(ctx.c, ctx.tenant, ctx.token.id))


@endpoint("push")
async def push_update(ctx: Ctx) -> Any:
    assert ctx.token is not None
    updated = await push.update_subscription(ctx.c, ctx.tenant, ctx.token.id, alerts=_alerts(ctx.params),
                                             policy=_policy(ctx.params))
    return push_to_api(updated)


@endpoint("push")
async def push_unsubscribe(ctx: Ctx) -> Any:
    assert ctx.token is not None
    await push.unsubscribe(ctx.c, ctx.tenant, ctx.token.id)
    return {}


# --- Reports ------------------------------------------------------------------

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
    row, target = await file_report(
        ctx.c, ctx.tenant, ctx.me, target_id=account_id, status_ids=p.id_list("status_ids", max_items=100),
        rule_ids=p.id_list("rule_ids", max_items=100), category=p.str("category", "other", max_len=16) or "other",
        comment=p.str("comment", "", max_len=MAX_REPORT_COMMENT) or "", forward=bool(p.bool("forward", False)))
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
