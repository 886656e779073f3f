"""Sign-up through the client API: the tenant's registration mode, e-mail and IP
blocks, then the account and its user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from steward.core.errors import ApiError
from steward.model.entities import Account, Tenant, User
from steward.moderation.blocks import sign_up_verdict
from steward.moderation.server_settings import redeem_invite
from steward.social.accounts import create_local_account

if TYPE_CHECKING:
    from steward.container import Container


def _blank(field: str) -> dict[str, list[dict[str, str]]]:
    return {field: [{"error": "ERR_BLANK", "description": "can't be blank"}]}


async def register(c: Container, tenant: Tenant, *, username: str | None, email: str | None,
                   password: str | None, agreement: bool, locale: str, reason: str | None,
                   ip: str | None, invite_code: str | None = None) -> tuple[Account, User]:
    """A valid `invite_code` signs up even when registrations are closed or by
    invitation only, and skips approval (as in Mastodon)."""
    mode = tenant.setting("registration_mode", "open")
    invited = bool((invite_code or "").strip())
    if mode == "closed" and not invited:
        raise ApiError(403, "Registrations are closed on this server")
    if mode == "invite" and not invited:
        raise ApiError(403, "This server accepts sign-ups by invitation only")
    if not agreement:
        raise ApiError(422, "Validation failed: Agreement must be accepted",
                       {"agreement": [{"error": "ERR_ACCEPTED", "description": "must be accepted"}]})
    if mode == "approval" and not invited and not (reason or "").strip():
        raise ApiError(422, "Validation failed: Reason can't be blank", _blank("reason"))
    given = {"username": username, "email": email, "password": password}
    missing = [k for k, v in given.items() if not v]
    if missing:
        details = {k: v for m in missing for k, v in _blank(m).items()}
        raise ApiError(422, f"Validation failed: {', '.join(m.capitalize() for m in missing)} can't be blank",
                       details)
    assert username and email
    async with c.db.write() as conn:
        verdict = await sign_up_verdict(conn, tenant.id, email, ip)
        if verdict == "block":
            # Mastodon answers a blocked e-mail domain as an invalid address, telling nothing more.
            raise ApiError(422, "Validation failed: Email is not allowed",
                           {"email": [{"error": "ERR_BLOCKED", "description": "is not allowed"}]})
        if invited:
            await redeem_invite(conn, tenant.id, (invite_code or "").strip())
        account, user = await create_local_account(
            conn, tenant, c.base_url(tenant), username=username, email=email, password=password,
            approved=(invited or mode != "approval") and verdict != "approval", confirmed=True, locale=locale,
            reason=reason, sign_up_ip=ip,
        )
    return account, user
