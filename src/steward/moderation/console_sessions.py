"""Sign-in sessions of the HTML moderation console.

A session is a row of `console_sessions` for one tenant; the cookie holds
`<id>.<secret>` and only the secret's SHA-256 is stored, so a database leak gives
no usable cookie and a cookie cannot be forged. Every lookup is scoped by the
tenant, so a session opened on tenant A is worth nothing on tenant B. The user
is re-read on every request: a disabled, unapproved or suspended account, or a
demoted one, loses its access at once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import aware, utcnow
from steward.core.errors import ApiError
from steward.core.ids import new_id, parse_id
from steward.core.passwords import check_password
from steward.db.engine import Database
from steward.db.tables import accounts, console_sessions, users
from steward.model.entities import Account, Tenant, User, from_row
from steward.social.accounts import find_user_by_login

LIFETIME = timedelta(hours=12)
SIGN_IN_FAILED = "Invalid e-mail address, username or password."


@dataclass(slots=True)
class ConsoleSession:
    id: int
    csrf_token: str
    user: User
    account: Account


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _usable(user: User | None, account: Account | None) -> bool:
    return (user is not None and account is not None and not user.disabled and user.approved
            and account.suspended_at is None)


async def sign_in(db: Database, tenant: Tenant, login: str, password: str) -> tuple[str, ConsoleSession]:
    """Checks the credentials of one of this tenant's users and opens a session;
    returns the cookie value and the session. One answer for every failure, so
    the form does not tell which accounts exist."""
    found = await find_user_by_login(db, tenant, login.strip()) if login.strip() else None
    if found is None or not check_password(password, found[0].password_hash) or not _usable(*found):
        raise ApiError(401, SIGN_IN_FAILED)
    user, account = found
    secret = secrets.token_urlsafe(32)
    session_id, csrf, now = new_id(), secrets.token_urlsafe(32), utcnow()
    async with db.write() as conn:
        # Expired sessions of this tenant are swept on each sign-in.
        await conn.execute(delete(console_sessions).where(console_sessions.c.tenant_id == tenant.id,
                                                          console_sessions.c.expires_at < now))
        await conn.execute(console_sessions.insert().values(
            tenant_id=tenant.id, id=session_id, secret_hash=_digest(secret), user_id=user.id, csrf_token=csrf,
            created_at=now, expires_at=now + LIFETIME))
    return f"{session_id}.{secret}", ConsoleSession(session_id, csrf, user, account)


def _parse_cookie(cookie: str | None) -> tuple[int, str] | None:
    raw_id, sep, secret = (cookie or "").partition(".")
    session_id = parse_id(raw_id)
    if not sep or session_id is None or not secret or len(secret) > 100:
        return None
    return session_id, secret


async def load(conn: AsyncConnection, tenant: Tenant, cookie: str | None) -> ConsoleSession | None:
    """The live session the cookie names on this tenant, or None."""
    parsed = _parse_cookie(cookie)
    if parsed is None:
        return None
    row = (await conn.execute(select(console_sessions).where(
        console_sessions.c.tenant_id == tenant.id, console_sessions.c.id == parsed[0]))).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(parsed[1])):
        return None
    expires = aware(row.expires_at)
    if expires is None or expires < utcnow():
        return None
    found = (await conn.execute(select(users).where(users.c.tenant_id == tenant.id,
                                                    users.c.id == row.user_id))).first()
    if found is None:
        return None
    user = from_row(User, found)
    account = await _account(conn, tenant.id, user.account_id)
    if account is None or not _usable(user, account):
        return None
    return ConsoleSession(row.id, row.csrf_token, user, account)


async def _account(conn: AsyncConnection, tenant_id: int, account_id: int) -> Account | None:
    row = (await conn.execute(select(accounts).where(accounts.c.tenant_id == tenant_id,
                                                     accounts.c.id == account_id))).first()
    return from_row(Account, row) if row is not None else None


async def sign_out(db: Database, tenant: Tenant, cookie: str | None) -> None:
    parsed = _parse_cookie(cookie)
    if parsed is None:
        return
    async with db.write() as conn:
        await conn.execute(delete(console_sessions).where(console_sessions.c.tenant_id == tenant.id,
                                                          console_sessions.c.id == parsed[0]))

