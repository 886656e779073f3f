"""Account moderation as Mastodon's admin API does it: listing accounts with
their users, and actions (warn, sensitive, disable, silence, suspend and their
reversals, approve, reject, delete). Every action writes a strike the user can
see, an audit log row and a statement of reasons, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.db.tables import (
    account_warnings,
    accounts,
    follow_requests,
    follows,
    instance_rules,
    oauth_tokens,
    reports,
    statuses,
    users,
)
from steward.jobs.queue import enqueue
from steward.model.entities import Account, User, from_row
from steward.moderation.audit import log_action
from steward.moderation.presets import action_text
from steward.moderation.retention import schedule_purge
from steward.moderation.roles import CUSTOM_PREFIX, ROLE_BY_ID, STAFF, outranks
from steward.moderation.statements import record_statement
from steward.social.federate import federate

ACTION_TYPES = ("none", "sensitive", "disable", "silence", "suspend")
STATUSES = ("active", "pending", "disabled", "silenced", "suspended")


@dataclass(slots=True)
class AccountFilter:
    origin: str | None = None          # local | remote
    status: str | None = None          # one of STATUSES
    staff: bool = False
    role_names: tuple[str, ...] = ()
    by_domain: str | None = None
    username: str | None = None
    display_name: str | None = None
    email: str | None = None
    ip: str | None = None
    invited_by: int | None = None
    sensitized: bool = False


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_accounts(conn: AsyncConnection, tenant_id: int, f: AccountFilter, *, max_id: int | None,
                        since_id: int | None, min_id: int | None, limit: int
                        ) -> list[tuple[Account, User | None]]:
    joined = accounts.outerjoin(users, and_(users.c.tenant_id == accounts.c.tenant_id,
                                            users.c.account_id == accounts.c.id))
    conds: list[Any] = [accounts.c.tenant_id == tenant_id]
    if f.origin == "local":
        conds.append(accounts.c.domain == "")
    elif f.origin == "remote":
        conds.append(accounts.c.domain != "")
    if f.by_domain:
        conds.append(accounts.c.domain == f.by_domain.strip().lower())
    if f.status == "active":
        conds += [accounts.c.suspended_at.is_(None),
                  or_(users.c.id.is_(None), and_(users.c.approved.is_(True), users.c.disabled.is_(False)))]
    elif f.status == "pending":
        conds += [users.c.approved.is_(False), accounts.c.suspended_at.is_(None)]
    elif f.status == "disabled":
        conds.append(users.c.disabled.is_(True))
    elif f.status == "silenced":
        conds.append(accounts.c.silenced_at.is_not(None))
    elif f.status == "suspended":
        conds.append(accounts.c.suspended_at.is_not(None))
    if f.sensitized:
        conds.append(accounts.c.sensitized_at.is_not(None))
    if f.staff:
        conds.append(users.c.role.in_(STAFF))
    if f.role_names:
        conds.append(users.c.role.in_(f.role_names))
    if f.username:
        conds.append(accounts.c.username_lower.like(_like(f.username.lower()) + "%", escape="\\"))
    if f.display_name:
        conds.append(func.lower(accounts.c.display_name).like(
            "%" + _like(f.display_name.lower()) + "%", escape="\\"))
    if f.email:
        conds.append(func.lower(users.c.email).like("%" + _like(f.email.lower()) + "%", escape="\\"))
    if f.ip:
        conds.append(users.c.sign_up_ip == f.ip.strip())
    if f.invited_by is not None:
        # Steward has no invites yet, so nobody was invited by anyone.
        conds.append(false())
    query = select(accounts, users.c.id.label("user_id_")).select_from(joined).where(*conds)
    if max_id is not None:
        query = query.where(accounts.c.id < max_id)
    if since_id is not None:
        query = query.where(accounts.c.id > since_id)
    if min_id is not None:
        query = query.where(accounts.c.id > min_id).order_by(accounts.c.id.asc())
    else:
        query = query.order_by(accounts.c.id.desc())
    rows = (await conn.execute(query.limit(limit))).all()
    if min_id is not None:
        rows = list(reversed(rows))
    found = [from_row(Account, r) for r in rows]
    by_account = await users_of(conn, tenant_id, [a.id for a in found])
    return [(a, by_account.get(a.id)) for a in found]


async def users_of(conn: AsyncConnection, tenant_id: int, account_ids: list[int]) -> dict[int, User]:
    if not account_ids:
        return {}
    rows = (await conn.execute(select(users).where(
        users.c.tenant_id == tenant_id, users.c.account_id.in_(list(set(account_ids)))))).all()
    return {r.account_id: from_row(User, r) for r in rows}


async def get_with_user(conn: AsyncConnection, tenant_id: int, account_id: int) -> tuple[Account, User | None]:
    row = (await conn.execute(select(accounts).where(
        accounts.c.tenant_id == tenant_id, accounts.c.id == account_id))).first()
    if row is None:
        raise not_found()
    account = from_row(Account, row)
    return account, (await users_of(conn, tenant_id, [account.id])).get(account.id)


def role_names_for(role_ids: list[str]) -> tuple[str, ...]:
    names = [ROLE_BY_ID.get(r) or (f"{CUSTOM_PREFIX}{r}" if r.isdigit() else None) for r in role_ids]
    return tuple(n for n in names if n) or ("__none__",)


def _check_rank(actor: User, target_user: User | None) -> None:
    if (target_user is not None and target_user.role != "user"
            and not outranks(actor, target_user.role, target_user.role_spec)):
        raise ApiError(403, "This action is not allowed")


async def _set_account(conn: AsyncConnection, tenant_id: int, account_id: int, **values: Any) -> None:
    await conn.execute(update(accounts).where(accounts.c.tenant_id == tenant_id, accounts.c.id == account_id)
                       .values(**values))


async def _set_user(conn: AsyncConnection, tenant_id: int, account_id: int, **values: Any) -> None:
    await conn.execute(update(users).where(users.c.tenant_id == tenant_id, users.c.account_id == account_id)
                       .values(**values))


async def _strike(conn: AsyncConnection, tenant_id: int, actor: Account, target: Account, action: str,
                  text: str, status_ids: list[int], report: dict[str, Any] | None) -> int:
    warning_id = new_id()
    await conn.execute(account_warnings.insert().values(
        tenant_id=tenant_id, id=warning_id, account_id=actor.id, target_account_id=target.id, action=action,
        text=text, status_ids=status_ids, report_id=report["id"] if report else None, created_at=utcnow()))
    return warning_id


async def _rule_texts(conn: AsyncConnection, tenant_id: int, rule_ids: list[int]) -> list[str]:
    if not rule_ids:
        return []
    return list((await conn.execute(select(instance_rules.c.text).where(
        instance_rules.c.tenant_id == tenant_id, instance_rules.c.id.in_(rule_ids)))).scalars())


async def _content_date(conn: AsyncConnection, tenant_id: int, status_ids: list[int]) -> Any:
    if not status_ids:
        return None
    return (await conn.execute(select(func.min(statuses.c.created_at)).where(
        statuses.c.tenant_id == tenant_id, statuses.c.id.in_(status_ids)))).scalar()


async def settle_reports(conn: AsyncConnection, tenant_id: int, actor_id: int, report_id: int, target_id: int, *,
                         every_open: bool) -> list[int]:
    """Mark a report acted on; with `every_open`, every open report about the
    same account too (an action settles them all, as Mastodon does). Audited."""
    now = utcnow()
    resolved = reports.c.id == report_id
    if every_open:
        resolved = or_(resolved, and_(reports.c.target_account_id == target_id, reports.c.action_taken_at.is_(None)))
    ids = list((await conn.execute(select(reports.c.id).where(reports.c.tenant_id == tenant_id, resolved))).scalars())
    await conn.execute(update(reports).where(reports.c.tenant_id == tenant_id, reports.c.id.in_(ids)).values(
        action_taken_at=now, action_taken_by_account_id=actor_id, updated_at=now))
    for rid in ids:
        await log_action(conn, tenant_id, actor_id, "resolve", "Report", rid)
    return ids

async def take_action(conn: AsyncConnection, tenant_id: int, actor: Account, actor_user: User, target_id: int, *,
                      action: str, report_id: int | None, text: str, warning_preset_id: int | None = None) -> int:
    """POST /api/v1/admin/accounts/:id/action; returns the strike's id. A local
    account's user is told with a moderation_warning notification."""
    if action not in ACTION_TYPES:
        raise ApiError(422, "Validation failed: Type is not included in the list",
                       {"type": [{"error": "ERR_INCLUSION", "description": "is not included in the list"}]})
    target, target_user = await get_with_user(conn, tenant_id, target_id)
    _check_rank(actor_user, target_user)
    if action == "disable" and target_user is None:
        raise ApiError(422, "Only local accounts can be disabled")
    report: dict[str, Any] | None = None
    if report_id is not None:
        row = (await conn.execute(select(reports).where(reports.c.tenant_id == tenant_id,
                                                        reports.c.id == report_id))).first()
        if row is None:
            raise not_found()
        if row.target_account_id != target.id:
            raise ApiError(422, "Validation failed: the report is about another account")
        report = dict(row._mapping)
    now = utcnow()
    if action == "sensitive":
        await _set_account(conn, tenant_id, target.id, sensitized_at=now)
    elif action == "silence":
        await _set_account(conn, tenant_id, target.id, silenced_at=now)
    elif action == "suspend":
        await _set_account(conn, tenant_id, target.id, suspended_at=now)
        await schedule_purge(conn, tenant_id, target.id, actor.id)
        if target.local:  # followers' servers see the suspended actor, as Mastodon distributes it
            await federate(conn, tenant_id, "account.updated", account_id=target.id)
    elif action == "disable":
        await _set_user(conn, tenant_id, target.id, disabled=True)
    if report is not None:
        await settle_reports(conn, tenant_id, actor.id, int(report["id"]), target.id, every_open=action != "none")
    status_ids = list(report["status_ids"]) if report else []
    text = await action_text(conn, tenant_id, warning_preset_id, text)
    warning_id = await _strike(conn, tenant_id, actor, target, action, text, status_ids, report)
    if target_user is not None:
        # Mastodon names the warned account itself as the notification's account.
        await enqueue(conn, "notify", {"tenant_id": tenant_id, "account_id": target.id, "from_account_id": target.id,
                                       "type": "moderation_warning", "account_warning_id": warning_id},
                      tenant_id=tenant_id)
    await log_action(conn, tenant_id, actor.id, "warn" if action == "none" else action, "Account", target.id,
                     target.acct(), warning_id=warning_id, report_id=report["id"] if report else None)
    await record_statement(
        conn, tenant_id, action=action, target_account_id=target.id, target_created_at=target.created_at,
        warning_id=warning_id, report=report,
        rule_texts=await _rule_texts(conn, tenant_id, list(report["rule_ids"]) if report else []),
        status_ids=status_ids, content_date=await _content_date(conn, tenant_id, status_ids))
    return warning_id


# Reversals: (column on accounts or users, audit action)
_UNDO = {
    "enable": ("users", "disabled", False),
    "unsilence": ("accounts", "silenced_at", None),
    "unsuspend": ("accounts", "suspended_at", None),
    "unsensitive": ("accounts", "sensitized_at", None),
}


async def undo_action(conn: AsyncConnection, tenant_id: int, actor: Account, actor_user: User, target_id: int,
                      kind: str) -> None:
    target, target_user = await get_with_user(conn, tenant_id, target_id)
    _check_rank(actor_user, target_user)
    table, column, value = _UNDO[kind]
    if table == "users":
        if target_user is None:
            raise ApiError(422, "Only local accounts can be enabled")
        await _set_user(conn, tenant_id, target.id, **{column: value})
    else:
        if kind == "unsuspend" and target_user is not None and target_user.email.endswith(".deleted.invalid"):
            raise ApiError(403, "This account's data was deleted; it cannot be unsuspended")
        await _set_account(conn, tenant_id, target.id, **{column: value})
        if kind == "unsuspend" and target.local:
            await federate(conn, tenant_id, "account.updated", account_id=target.id)
    await log_action(conn, tenant_id, actor.id, kind, "Account", target.id, target.acct())


async def approve(conn: AsyncConnection, tenant_id: int, actor: Account, target_id: int) -> None:
    target, target_user = await get_with_user(conn, tenant_id, target_id)
    if target_user is None or target_user.approved:
        raise ApiError(403, "This action is not allowed")
    await _set_user(conn, tenant_id, target.id, approved=True)
    await log_action(conn, tenant_id, actor.id, "approve_user", "User", target_user.id, target.acct())


async def reject(conn: AsyncConnection, tenant_id: int, actor: Account, target_id: int) -> None:
    """A pending sign-up is removed altogether, as Mastodon does."""
    target, target_user = await get_with_user(conn, tenant_id, target_id)
    if target_user is None or target_user.approved:
        raise ApiError(403, "This action is not allowed")
    await conn.execute(delete(oauth_tokens).where(oauth_tokens.c.tenant_id == tenant_id,
                                                  oauth_tokens.c.user_id == target_user.id))
    await conn.execute(delete(users).where(users.c.tenant_id == tenant_id, users.c.id == target_user.id))
    await conn.execute(delete(accounts).where(accounts.c.tenant_id == tenant_id, accounts.c.id == target.id))
    await log_action(conn, tenant_id, actor.id, "reject_user", "User", target_user.id, target.acct())


async def delete_data(conn: AsyncConnection, tenant_id: int, actor: Account, actor_user: User,
                      target_id: int) -> tuple[Account, User | None]:
    """DELETE /api/v1/admin/accounts/:id: erase a suspended account's content and
    sign-in, keeping the account row (so its handle is never reused) suspended."""
    target, target_user = await get_with_user(conn, tenant_id, target_id)
    _check_rank(actor_user, target_user)
    if target.suspended_at is None:
        raise ApiError(403, "This action is not allowed")
    await erase_account_data(conn, tenant_id, actor.id, target, target_user)
    return await get_with_user(conn, tenant_id, target.id)


async def erase_account_data(conn: AsyncConnection, tenant_id: int, actor_id: int, target: Account,
                             target_user: User | None) -> None:
    """Erase a suspended account's statuses, follows, profile and sign-in; the
    row stays, suspended, so the handle is never reused. Audited as `destroy`."""
    now = utcnow()
    await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.account_id == target.id,
                                              statuses.c.deleted_at.is_(None)).values(deleted_at=now))
    if target.local:
        # The Delete of the actor goes to everyone it followed or was followed by, named before they go.
        others: set[int] = set()
        for table in (follows, follow_requests):
            rows = await conn.execute(select(table.c.account_id, table.c.target_account_id).where(
                table.c.tenant_id == tenant_id, or_(table.c.account_id == target.id,
                                                    table.c.target_account_id == target.id)))
            others.update(a if a != target.id else b for a, b in rows.all())
        await federate(conn, tenant_id, "account.deleted", account_id=target.id, account_ids=sorted(others))
    for table in (follows, follow_requests):
        await conn.execute(delete(table).where(table.c.tenant_id == tenant_id, or_(
            table.c.account_id == target.id, table.c.target_account_id == target.id)))
    await _set_account(conn, tenant_id, target.id, display_name="", note="", note_source="", fields=[],
                       avatar_media_path=None, header_media_path=None, statuses_count=0, followers_count=0,
                       following_count=0, updated_at=now)
    if target_user is not None:
        await conn.execute(delete(oauth_tokens).where(oauth_tokens.c.tenant_id == tenant_id,
                                                      oauth_tokens.c.user_id == target_user.id))
        await _set_user(conn, tenant_id, target.id, email=f"{target_user.id}@{tenant_id}.deleted.invalid",
                        password_hash=None, disabled=True, sign_up_ip=None, sign_up_reason=None)
    # No strike: the user can no longer sign in to read it (Mastodon records none either).
    await log_action(conn, tenant_id, actor_id, "destroy", "Account", target.id, target.acct())
    await record_statement(conn, tenant_id, action="delete", target_account_id=target.id,
                           target_created_at=target.created_at, warning_id=None, report=None,
                           rule_texts=[], status_ids=[])


async def strikes_of(conn: AsyncConnection, tenant_id: int, account_id: int) -> list[dict[str, Any]]:
    """The strikes on an account, newest first (what its user is shown)."""
    rows = (await conn.execute(select(account_warnings).where(
        account_warnings.c.tenant_id == tenant_id, account_warnings.c.target_account_id == account_id)
        .order_by(account_warnings.c.id.desc()))).all()
    return [dict(r._mapping) for r in rows]
