"""Lists: named sets of followed accounts, each with its own timeline.

Rules as in Mastodon 4.x: a list belongs to one account and is invisible to
everyone else; only accounts the owner follows can be members (unfollowing
removes them, see `relationships._drop_follow`); `replies_policy` is one of
followed | list | none; `exclusive` lists keep their members out of the home
timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError, not_found, unprocessable
from steward.core.ids import new_id
from steward.db.tables import accounts, follows, list_accounts, lists
from steward.model.entities import Account, Tenant, from_row
from steward.social.relationships import PageLike, insert_ignore, paginate

if TYPE_CHECKING:
    from steward.container import Container

REPLIES_POLICIES = ("followed", "list", "none")
MAX_LISTS = 50
MAX_TITLE = 256
MAX_MEMBERS_PER_CALL = 250


@dataclass(slots=True)
class UserList:
    tenant_id: int
    id: int
    account_id: int
    title: str
    replies_policy: str = "list"
    exclusive: bool = False
    created_at: datetime | None = None


def _check_title(title: str | None) -> str:
    if title is None or not title.strip():
        raise ApiError(422, "Validation failed: Title can't be blank",
                       {"title": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
    if len(title) > MAX_TITLE:
        raise unprocessable(f"Title is too long (maximum is {MAX_TITLE} characters)", "title", "ERR_TOO_LONG")
    return title.strip()


def _check_policy(policy: str) -> str:
    if policy not in REPLIES_POLICIES:
        raise unprocessable(f"Replies policy must be one of {', '.join(REPLIES_POLICIES)}", "replies_policy",
                            "ERR_INCLUSION")
    return policy


async def owned_list(conn: AsyncConnection, tenant_id: int, list_id: int, owner_id: int) -> UserList:
    """The list when `owner_id` owns it; 404 otherwise (other people's lists do not exist for you)."""
    row = (await conn.execute(select(lists).where(
        lists.c.tenant_id == tenant_id, lists.c.id == list_id, lists.c.account_id == owner_id))).first()
    if row is None:
        raise not_found()
    return from_row(UserList, row)


async def list_member_ids(conn: AsyncConnection, tenant_id: int, list_id: int, owner_id: int) -> list[int]:
    """Account ids on the list, for the list timeline. 404 when `owner_id` does not own it."""
    await owned_list(conn, tenant_id, list_id, owner_id)
    rows = await conn.execute(select(list_accounts.c.account_id).where(
        list_accounts.c.tenant_id == tenant_id, list_accounts.c.list_id == list_id))
    return list(rows.scalars())


async def exclusive_member_ids(conn: AsyncConnection, tenant_id: int, owner_id: int) -> set[int]:
    """Accounts on any of the owner's exclusive lists: their posts stay out of the home timeline."""
    query = select(list_accounts.c.account_id).join(
        lists, (lists.c.tenant_id == list_accounts.c.tenant_id) & (lists.c.id == list_accounts.c.list_id)).where(
        lists.c.tenant_id == tenant_id, lists.c.account_id == owner_id, lists.c.exclusive.is_(True))
    return set((await conn.execute(query)).scalars())


async def lists_of(conn: AsyncConnection, tenant_id: int, owner_id: int) -> list[UserList]:
    rows = await conn.execute(select(lists).where(lists.c.tenant_id == tenant_id, lists.c.account_id == owner_id)
                              .order_by(lists.c.id))
    return [from_row(UserList, r) for r in rows.all()]


async def lists_containing(conn: AsyncConnection, tenant_id: int, owner_id: int, account_id: int) -> list[UserList]:
    query = select(lists).join(
        list_accounts, (list_accounts.c.tenant_id == lists.c.tenant_id) & (list_accounts.c.list_id == lists.c.id)
    ).where(lists.c.tenant_id == tenant_id, lists.c.account_id == owner_id,
            list_accounts.c.account_id == account_id).order_by(lists.c.id)
    return [from_row(UserList, r) for r in (await conn.execute(query)).all()]


async def create_list(c: Container, tenant: Tenant, me: Account, *, title: str | None, replies_policy: str,
                      exclusive: bool) -> UserList:
    values: dict[str, Any] = {
        "tenant_id": tenant.id, "id": new_id(), "account_id": me.id, "title": _check_title(title),
        "replies_policy": _check_policy(replies_policy), "exclusive": exclusive, "created_at": utcnow()}
    async with c.db.write() as conn:
        count = (await conn.execute(select(func.count()).select_from(lists).where(
            lists.c.tenant_id == tenant.id, lists.c.account_id == me.id))).scalar() or 0
        if count >= MAX_LISTS:
            raise unprocessable(f"You cannot have more than {MAX_LISTS} lists", "base", "ERR_LIMIT")
        await conn.execute(lists.insert().values(**values))
    return from_row(UserList, values)


async def update_list(c: Container, tenant: Tenant, me: Account, list_id: int, *, title: str | None,
                      replies_policy: str | None, exclusive: bool | None) -> UserList:
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = _check_title(title)
    if replies_policy is not None:
        changes["replies_policy"] = _check_policy(replies_policy)
    if exclusive is not None:
        changes["exclusive"] = exclusive
    async with c.db.write() as conn:
        await owned_list(conn, tenant.id, list_id, me.id)
        if changes:
            await conn.execute(update(lists).where(lists.c.tenant_id == tenant.id, lists.c.id == list_id)
                               .values(**changes))
        return await owned_list(conn, tenant.id, list_id, me.id)


async def delete_list(c: Container, tenant: Tenant, me: Account, list_id: int) -> None:
    async with c.db.write() as conn:
        await owned_list(conn, tenant.id, list_id, me.id)
        await conn.execute(delete(list_accounts).where(
            list_accounts.c.tenant_id == tenant.id, list_accounts.c.list_id == list_id))
        await conn.execute(delete(lists).where(lists.c.tenant_id == tenant.id, lists.c.id == list_id))


async def members(conn: AsyncConnection, tenant_id: int, owner_id: int, list_id: int,
                  page: PageLike | None) -> list[tuple[int, Account]]:
    """Members (suspended ones left out), paged by account id; `page=None` for all of them."""
    await owned_list(conn, tenant_id, list_id, owner_id)
    query = select(accounts).join(
        list_accounts, (list_accounts.c.tenant_id == accounts.c.tenant_id)
        & (list_accounts.c.account_id == accounts.c.id)).where(
        list_accounts.c.tenant_id == tenant_id, list_accounts.c.list_id == list_id,
        accounts.c.suspended_at.is_(None))
    ascending = False
    if page is None:
        query = query.order_by(accounts.c.id.desc())
    else:
        query, ascending = paginate(query, accounts.c.id, page)
    items = [(r.id, from_row(Account, r)) for r in (await conn.execute(query)).all()]
    return items[::-1] if ascending else items


async def add_members(c: Container, tenant: Tenant, me: Account, list_id: int, account_ids: list[int]) -> None:
    """Add accounts I follow. Unknown accounts are 404; ones I do not follow, or
    already on the list, are 422 (as Mastodon's validations answer)."""
    wanted = list(dict.fromkeys(account_ids))
    if not wanted:
        raise unprocessable("account_ids can't be blank", "account_ids", "ERR_BLANK")
    if len(wanted) > MAX_MEMBERS_PER_CALL:
        raise unprocessable(f"at most {MAX_MEMBERS_PER_CALL} accounts at a time", "account_ids")
    async with c.db.write() as conn:
        await owned_list(conn, tenant.id, list_id, me.id)
        known = set((await conn.execute(select(accounts.c.id).where(
            accounts.c.tenant_id == tenant.id, accounts.c.id.in_(wanted),
            accounts.c.suspended_at.is_(None)))).scalars())
        if len(known) != len(wanted):
            raise not_found()
        followed = set((await conn.execute(select(follows.c.target_account_id).where(
            follows.c.tenant_id == tenant.id, follows.c.account_id == me.id,
            follows.c.target_account_id.in_(wanted)))).scalars())
        if followed != known:
            raise unprocessable("You can only add accounts you follow to a list", "account_ids", "ERR_INVALID")
        present = set((await conn.execute(select(list_accounts.c.account_id).where(
            list_accounts.c.tenant_id == tenant.id, list_accounts.c.list_id == list_id,
            list_accounts.c.account_id.in_(wanted)))).scalars())
        if present:
            raise unprocessable("Account has already been taken", "account_id", "ERR_TAKEN")
        for account_id in wanted:  # a concurrent add of the same account is not an error
            await insert_ignore(conn, list_accounts, {"tenant_id": tenant.id, "list_id": list_id,
                                                      "account_id": account_id})


async def remove_members(c: Container, tenant: Tenant, me: Account, list_id: int, account_ids: list[int]) -> None:
    async with c.db.write() as conn:
        await owned_list(conn, tenant.id, list_id, me.id)
        if account_ids:
            await conn.execute(delete(list_accounts).where(
                list_accounts.c.tenant_id == tenant.id, list_accounts.c.list_id == list_id,
                list_accounts.c.account_id.in_(account_ids)))
