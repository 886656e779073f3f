"""Local accounts and users: creation, lookup, profile updates."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.core.passwords import hash_password
from steward.db.engine import Database
from steward.db.tables import accounts, users
from steward.model.entities import Account, Tenant, User, from_row

USERNAME_RE = re.compile(r"^[a-z0-9_]{1,30}$", re.IGNORECASE)
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
ROLES = ("owner", "admin", "moderator", "user")
RESERVED = {"admin", "support", "help", "root", "webmaster", "administrator", "mod", "moderator",
            "actor", "instance", "steward"}


def validation(field: str, code: str, description: str) -> ApiError:
    return ApiError(422, f"Validation failed: {field.capitalize()} {description}",
                    {field: [{"error": code, "description": description}]})


def account_urls(base: str, username: str) -> dict[str, str]:
    uri = f"{base}/users/{username}"
    return {
        "uri": uri, "url": f"{base}/@{username}", "inbox_url": f"{uri}/inbox",
        "outbox_url": f"{uri}/outbox", "followers_url": f"{uri}/followers",
        "featured_url": f"{uri}/collections/featured", "shared_inbox_url": f"{base}/inbox",
    }


async def create_local_account(
    conn: AsyncConnection, tenant: Tenant, base_url: str, *, username: str, email: str,
    password: str | None, role: str = "user", approved: bool = True, confirmed: bool = True,
    locale: str = "en", reason: str | None = None, display_name: str = "", allow_reserved: bool = False,
    password_hash: str | None = None, sign_up_ip: str | None = None,
) -> tuple[Account, User]:
    """`password_hash` (bcrypt) stands in for `password` when importing users."""
    if not USERNAME_RE.match(username):
        raise validation("username", "ERR_INVALID", "must contain only letters, numbers and underscores")
    if username.lower() in RESERVED and not allow_reserved:
        raise validation("username", "ERR_RESERVED", "is reserved")
    if not EMAIL_RE.match(email):
        raise validation("email", "ERR_INVALID", "is invalid")
    if role not in ROLES:
        raise validation("role", "ERR_INVALID", f"must be one of {', '.join(ROLES)}")
    if password is not None and not 8 <= len(password) <= 72:
        raise validation("password", "ERR_TOO_SHORT" if len(password) < 8 else "ERR_TOO_LONG",
                         "must be between 8 and 72 characters")
    taken = (
        await conn.execute(
            select(accounts.c.id).where(
                accounts.c.tenant_id == tenant.id, accounts.c.username_lower == username.lower(),
                accounts.c.domain == "",
            )
        )
    ).first()
    if taken:
        raise validation("username", "ERR_TAKEN", "is already taken")
    email_taken = (
        await conn.execute(
            select(users.c.id).where(users.c.tenant_id == tenant.id, func.lower(users.c.email) == email.lower())
        )
    ).first()
    if email_taken:
        raise validation("email", "ERR_TAKEN", "is already taken")
    now = utcnow()
    account_id = new_id()
    account_row: dict[str, Any] = {
        "tenant_id": tenant.id, "id": account_id, "username": username, "username_lower": username.lower(),
        "domain": "", "display_name": display_name, "note": "", "note_source": "", "fields": [],
        "created_at": now, "updated_at": now, "also_known_as": [], "locked": False, "bot": False,
        "group": False, "discoverable": True, "indexable": True, "hide_collections": False,
        "memorial": False, "statuses_count": 0, "followers_count": 0, "following_count": 0,
        "actor_type": "Person", **account_urls(base_url, username),
    }
    await conn.execute(accounts.insert().values(**account_row))
    user_row: dict[str, Any] = {
        "tenant_id": tenant.id, "id": new_id(), "account_id": account_id, "email": email,
        "password_hash": password_hash or (hash_password(password) if password else None),
        "role": role, "locale": locale,
        "approved": approved, "confirmed_at": now if confirmed else None, "disabled": False,
        "sign_up_reason": reason, "sign_up_ip": sign_up_ip[:64] if sign_up_ip else None, "settings": {},
        "created_at": now,
    }
    await conn.execute(users.insert().values(**user_row))
    return from_row(Account, account_row), from_row(User, user_row)


async def get_account(conn: AsyncConnection, tenant_id: int, account_id: int) -> Account:
    row = (
        await conn.execute(select(accounts).where(accounts.c.tenant_id == tenant_id, accounts.c.id == account_id))
    ).first()
    if row is None:
        raise not_found()
    return from_row(Account, row)


async def get_accounts(conn: AsyncConnection, tenant_id: int, ids: set[int] | list[int]) -> dict[int, Account]:
    if not ids:
        return {}
    rows = (
        await conn.execute(select(accounts).where(accounts.c.tenant_id == tenant_id, accounts.c.id.in_(list(ids))))
    ).all()
    return {r.id: from_row(Account, r) for r in rows}


async def find_by_acct(conn: AsyncConnection, tenant: Tenant, acct: str) -> Account | None:
    acct = acct.strip().lstrip("@")
    username, _, domain = acct.partition("@")
    domain = domain.lower()
    if domain in {tenant.domain, tenant.web_domain}:
        domain = ""
    row = (
        await conn.execute(
            select(accounts).where(
                accounts.c.tenant_id == tenant.id, accounts.c.username_lower == username.lower(),
                accounts.c.domain == domain,
            )
        )
    ).first()
    return from_row(Account, row) if row else None


async def get_user_for_account(conn: AsyncConnection, tenant_id: int, account_id: int) -> User | None:
    row = (
        await conn.execute(select(users).where(users.c.tenant_id == tenant_id, users.c.account_id == account_id))
    ).first()
    return from_row(User, row) if row else None


async def find_user_by_login(db: Database, tenant: Tenant, login: str) -> tuple[User, Account] | None:
    """A user by email or username, for the sign-in form and the password grant."""
    async with db.read() as conn:
        query = select(users, accounts.c.username).join(
            accounts, (accounts.c.tenant_id == users.c.tenant_id) & (accounts.c.id == users.c.account_id)
        ).where(users.c.tenant_id == tenant.id)
        if "@" in login:
            query = query.where(func.lower(users.c.email) == login.lower())
        else:
            query = query.where(accounts.c.username_lower == login.lower(), accounts.c.domain == "")
        row = (await conn.execute(query)).first()
        if row is None:
            return None
        user = from_row(User, row)
        return user, await get_account(conn, tenant.id, user.account_id)


async def touch_counts(conn: AsyncConnection, tenant_id: int, account_id: int, **deltas: int) -> None:
    """Adjust denormalised counters, never below zero."""
    values: dict[str, Any] = {}
    for column, delta in deltas.items():
        col = accounts.c[column]
        values[column] = func.max(col + delta, 0) if conn.dialect.name == "sqlite" else func.greatest(col + delta, 0)
    if values:
        await conn.execute(
            update(accounts).where(accounts.c.tenant_id == tenant_id, accounts.c.id == account_id).values(**values)
        )
