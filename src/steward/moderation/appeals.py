"""Strikes as their user sees them, and appeals: the user appeals a strike once
(within APPEAL_WINDOW); a moderator approves (the strike's action is reversed,
as Mastodon's AppealService does, and the strike is overruled) or rejects.
Decisions are audited; the user sees the decision on the strike itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import aware, utcnow
from steward.core.errors import ApiError, not_found, unprocessable
from steward.core.ids import new_id
from steward.db.tables import account_warnings, appeals, statements_of_reasons
from steward.model.entities import Account, User
from steward.moderation.admin_accounts import get_with_user, undo_action
from steward.moderation.audit import log_action

APPEAL_WINDOW = timedelta(days=20)  # as Mastodon's
MAX_APPEAL = 2000
STATES = ("pending", "approved", "rejected")
# The reversal of each strike action (None: nothing to reverse).
_REVERSAL = {"none": None, "sensitive": "unsensitive", "silence": "unsilence", "suspend": "unsuspend",
             "disable": "enable"}


def appeal_state(row: Any) -> str:
    if row is None:
        return "none"
    if row.approved_at is not None:
        return "approved"
    return "rejected" if row.rejected_at is not None else "pending"


async def _appeals_of(conn: AsyncConnection, tenant_id: int, warning_ids: list[int]) -> dict[int, Any]:
    if not warning_ids:
        return {}
    rows = (await conn.execute(select(appeals).where(appeals.c.tenant_id == tenant_id,
                                                     appeals.c.account_warning_id.in_(warning_ids)))).all()
    return {r.account_warning_id: r for r in rows}


async def _statements_of(conn: AsyncConnection, tenant_id: int, warning_ids: list[int]) -> dict[int, int]:
    if not warning_ids:
        return {}
    rows = (await conn.execute(select(statements_of_reasons.c.id, statements_of_reasons.c.account_warning_id)
                               .where(statements_of_reasons.c.tenant_id == tenant_id,
                                      statements_of_reasons.c.account_warning_id.in_(warning_ids)))).all()
    return {r.account_warning_id: r.id for r in rows}


async def strikes(conn: AsyncConnection, tenant_id: int, account_id: int, *, strike_id: int | None = None
                  ) -> list[dict[str, Any]]:
    """The strikes on an account (newest first) with their appeal and statement of reasons."""
    query = select(account_warnings).where(account_warnings.c.tenant_id == tenant_id,
                                           account_warnings.c.target_account_id == account_id)
    if strike_id is not None:
        query = query.where(account_warnings.c.id == strike_id)
    rows = [dict(r._mapping) for r in (await conn.execute(query.order_by(account_warnings.c.id.desc()))).all()]
    ids = [r["id"] for r in rows]
    found, statements = await _appeals_of(conn, tenant_id, ids), await _statements_of(conn, tenant_id, ids)
    for r in rows:
        r["appeal"] = found.get(r["id"])
        r["statement_id"] = statements.get(r["id"])
    return rows


async def strike(conn: AsyncConnection, tenant_id: int, account_id: int, strike_id: int) -> dict[str, Any]:
    """One strike on the user's own account (404 for anyone else's)."""
    found = await strikes(conn, tenant_id, account_id, strike_id=strike_id)
    if not found:
        raise not_found()
    return found[0]


async def file_appeal(conn: AsyncConnection, tenant_id: int, account: Account, strike_id: int,
                      text: str) -> dict[str, Any]:
    text = (text or "").strip()
    if not text:
        raise unprocessable("Text can't be blank", "text", "ERR_BLANK")
    if len(text) > MAX_APPEAL:
        raise unprocessable(f"Text is too long (maximum is {MAX_APPEAL} characters)", "text", "ERR_TOO_LONG")
    warning = await strike(conn, tenant_id, account.id, strike_id)
    if warning["appeal"] is not None:
        raise ApiError(422, "Validation failed: This strike has already been appealed")
    if warning["overruled_at"] is not None:
        raise ApiError(422, "Validation failed: This strike was already overruled")
    created = aware(warning["created_at"])
    if created is not None and utcnow() - created > APPEAL_WINDOW:
        raise ApiError(422, "Validation failed: This strike is too old to be appealed")
    now = utcnow()
    row = {"tenant_id": tenant_id, "id": new_id(), "account_id": account.id, "account_warning_id": strike_id,
           "text": text, "created_at": now, "updated_at": now}
    try:
        await conn.execute(appeals.insert().values(**row))
    except IntegrityError:
        # The same appeal sent twice at once: the unique key keeps one.
        raise ApiError(422, "Validation failed: This strike has already been appealed") from None
    return await strike(conn, tenant_id, account.id, strike_id)


async def list_appeals(conn: AsyncConnection, tenant_id: int, *, state: str | None = "pending",
                       limit: int = 100) -> list[dict[str, Any]]:
    if state is not None and state not in STATES:
        raise ApiError(422, f"Unknown state: {state}")
    joined = appeals.join(account_warnings, (account_warnings.c.tenant_id == appeals.c.tenant_id)
                          & (account_warnings.c.id == appeals.c.account_warning_id))
    query = select(appeals, account_warnings.c.action, account_warnings.c.text.label("strike_text"),
                   account_warnings.c.target_account_id, account_warnings.c.created_at.label("strike_created_at"),
                   account_warnings.c.overruled_at).select_from(joined).where(appeals.c.tenant_id == tenant_id)
    if state == "pending":
        query = query.where(appeals.c.approved_at.is_(None), appeals.c.rejected_at.is_(None))
    elif state == "approved":
        query = query.where(appeals.c.approved_at.is_not(None))
    elif state == "rejected":
        query = query.where(appeals.c.rejected_at.is_not(None))
    rows = (await conn.execute(query.order_by(appeals.c.id.desc()).limit(limit))).all()
    return [{**dict(r._mapping), "state": appeal_state(r)} for r in rows]


async def get_appeal(conn: AsyncConnection, tenant_id: int, appeal_id: int) -> dict[str, Any]:
    row = (await conn.execute(select(appeals).where(appeals.c.tenant_id == tenant_id,
                                                    appeals.c.id == appeal_id))).first()
    if row is None:
        raise not_found()
    return {**dict(row._mapping), "state": appeal_state(row)}


async def _pending(conn: AsyncConnection, tenant_id: int, appeal_id: int) -> tuple[dict[str, Any], Any]:
    appeal = await get_appeal(conn, tenant_id, appeal_id)
    if appeal["state"] != "pending":
        raise ApiError(422, f"Validation failed: This appeal was already {appeal['state']}")
    warning = (await conn.execute(select(account_warnings).where(
        account_warnings.c.tenant_id == tenant_id, account_warnings.c.id == appeal["account_warning_id"]))).first()
    if warning is None:
        raise not_found()
    return appeal, warning


async def approve(conn: AsyncConnection, tenant_id: int, actor: Account, actor_user: User,
                  appeal_id: int) -> dict[str, Any]:
    """Reverse the strike's action (its own audit row, e.g. `unsuspend`), mark the
    strike overruled and the appeal approved."""
    _, warning = await _pending(conn, tenant_id, appeal_id)
    reversal = _REVERSAL.get(warning.action)
    target, _ = await get_with_user(conn, tenant_id, warning.target_account_id)
    if reversal is not None:
        await undo_action(conn, tenant_id, actor, actor_user, target.id, reversal)
    else:
        from steward.moderation.status_moderation import reverse

        reversal = await reverse(conn, tenant_id, actor, warning)
    now = utcnow()
    await conn.execute(update(account_warnings).where(account_warnings.c.tenant_id == tenant_id,
                                                      account_warnings.c.id == warning.id).values(overruled_at=now))
    await conn.execute(update(appeals).where(appeals.c.tenant_id == tenant_id, appeals.c.id == appeal_id).values(
        approved_at=now, approved_by_account_id=actor.id, updated_at=now))
    await log_action(conn, tenant_id, actor.id, "approve", "Appeal", appeal_id, target.acct(),
                     warning_id=warning.id, reversed=reversal)
    return await get_appeal(conn, tenant_id, appeal_id)


async def reject(conn: AsyncConnection, tenant_id: int, actor: Account, appeal_id: int) -> dict[str, Any]:
    _, warning = await _pending(conn, tenant_id, appeal_id)
    target, _ = await get_with_user(conn, tenant_id, warning.target_account_id)
    now = utcnow()
    await conn.execute(update(appeals).where(appeals.c.tenant_id == tenant_id, appeals.c.id == appeal_id).values(
        rejected_at=now, rejected_by_account_id=actor.id, updated_at=now))
    await log_action(conn, tenant_id, actor.id, "reject", "Appeal", appeal_id, target.acct(),
                     warning_id=warning.id)
    return await get_appeal(conn, tenant_id, appeal_id)
