"""What the admin routes share: the permission check and the Admin::Account entity."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import iso
from steward.model.entities import Account, Tenant, User
from steward.moderation.admin_accounts import users_of
from steward.moderation.roles import Permission, require, role_to_api
from steward.social.accounts import get_accounts
from steward.web.base import Ctx
from steward.web.mastodon.serialize_accounts import account_to_api


def require_permission(ctx: Ctx, flag: Permission) -> User:
    """The acting user when their role (on this tenant) holds `flag`; 403 otherwise."""
    ctx.me  # noqa: B018 - an app token without a user is a 422, as everywhere
    return require(ctx.user, flag)


def admin_account_to_api(base: str, tenant: Tenant, account: Account, user: User | None) -> dict[str, Any]:
    ips = [{"ip": user.sign_up_ip, "used_at": iso(user.created_at)}] \
        if user is not None and user.sign_up_ip else []
    return {
        "id": str(account.id),
        "username": account.username,
        "domain": account.domain or None,
        "created_at": iso(account.created_at),
        "email": user.email if user else None,
        "ip": ips[0]["ip"] if ips else None,
        "ips": ips,
        "locale": user.locale if user else None,
        "invite_request": user.sign_up_reason if user else None,
        "role": role_to_api(user.role if user else None, user.role_spec if user else None),
        "confirmed": bool(user and user.confirmed_at is not None),
        "approved": bool(user.approved) if user else True,
        "disabled": bool(user.disabled) if user else False,
        "silenced": account.silenced_at is not None,
        "suspended": account.suspended_at is not None,
        "sensitized": account.sensitized_at is not None,
        "account": account_to_api(base, tenant, account),
        "created_by_application_id": None,
        "invited_by_account_id": None,
    }


def warning_to_api(base: str, tenant: Tenant, warning: dict[str, Any], target: Account) -> dict[str, Any]:
    """Mastodon's AccountWarning (a strike), as its user sees it (e.g. in a
    moderation_warning notification). Steward has no appeals yet."""
    return {
        "id": str(warning["id"]), "action": warning["action"], "text": warning["text"],
        "status_ids": [str(i) for i in warning["status_ids"]] or None, "created_at": iso(warning["created_at"]),
        "target_account": account_to_api(base, tenant, target), "appeal": None,
    }


async def admin_accounts_by_id(conn: AsyncConnection, ctx: Ctx, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Admin::Account entities for `ids` of this tenant (two queries)."""
    wanted = [i for i in set(ids) if i is not None]
    found = await get_accounts(conn, ctx.tenant.id, wanted)
    owners = await users_of(conn, ctx.tenant.id, list(found))
    return {i: admin_account_to_api(ctx.base_url, ctx.tenant, a, owners.get(i)) for i, a in found.items()}
