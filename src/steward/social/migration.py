"""Account migration, local rules: aliases (`alsoKnownAs`), moving a local
account to another one, and moving followers when an account moves.

As Mastodon: a move needs the target to list the origin among its aliases;
the origin keeps existing with `moved_to_account_id` set; local followers of
the origin follow the target (straight away when the target is local, as a
request that its server answers when it is remote) and stop following the
origin; who blocked or muted the origin blocks or mutes the target too.
Remote followers move themselves when their servers get our Move."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError, unprocessable
from steward.core.ids import new_id
from steward.core.passwords import check_password
from steward.db.tables import accounts, blocks, follow_requests, follows, mutes, users
from steward.model.entities import Account, Tenant, from_row
from steward.social.accounts import get_account, get_accounts
from steward.social.federate import federate
from steward.social.relationships import create_follow, follow_ended, insert_ignore

if TYPE_CHECKING:
    from steward.container import Container

MAX_ALIASES = 16


async def moved_targets(conn: AsyncConnection, tenant_id: int, items: list[Account]) -> dict[int, Account]:
    """For each moved account among `items`, the account it moved to (one query)."""
    wanted = {a.moved_to_account_id for a in items if a.moved_to_account_id is not None}
    return await get_accounts(conn, tenant_id, wanted) if wanted else {}


async def aliases_of(conn: AsyncConnection, tenant_id: int, me: Account) -> list[tuple[str, Account | None]]:
    """(uri, the account stored for it or None) of each alias, in order."""
    fresh = await get_account(conn, tenant_id, me.id)
    uris = list(fresh.also_known_as or [])
    if not uris:
        return []
    rows = (await conn.execute(select(accounts).where(accounts.c.tenant_id == tenant_id,
                                                      accounts.c.uri.in_(uris)))).all()
    known = {r.uri: from_row(Account, r) for r in rows}
    return [(u, known.get(u)) for u in uris]


async def _set_aliases(conn: AsyncConnection, tenant_id: int, me: Account, uris: list[str]) -> None:
    await conn.execute(update(accounts).where(accounts.c.tenant_id == tenant_id, accounts.c.id == me.id)
                       .values(also_known_as=uris, updated_at=utcnow()))
    await federate(conn, tenant_id, "account.updated", account_id=me.id)


async def add_alias(c: Container, tenant: Tenant, me: Account, target: Account) -> None:
    """List `target` as another account of mine, so it may move to me."""
    if target.id == me.id:
        raise unprocessable("You cannot add your own account as an alias", "acct")
    async with c.db.write() as conn:
        uris = list((await get_account(conn, tenant.id, me.id)).also_known_as or [])
        if target.uri in uris:
            return
        if len(uris) >= MAX_ALIASES:
            raise unprocessable(f"You can have at most {MAX_ALIASES} aliases", "acct")
        await _set_aliases(conn, tenant.id, me, [*uris, target.uri])
    c.jobs.wake()


async def remove_alias(c: Container, tenant: Tenant, me: Account, uri: str) -> None:
    async with c.db.write() as conn:
        uris = list((await get_account(conn, tenant.id, me.id)).also_known_as or [])
        if uri not in uris:
            raise ApiError(404, "Record not found")
        await _set_aliases(conn, tenant.id, me, [u for u in uris if u != uri])
    c.jobs.wake()


async def move_to(c: Container, tenant: Tenant, me: Account, target: Account, password: str) -> Account:
    """Move a local account to `target` (which must list it as an alias),
    after checking the password. Returns the origin, now showing `moved`."""
    async with c.db.write() as conn:
        user = (await conn.execute(select(users.c.password_hash).where(
            users.c.tenant_id == tenant.id, users.c.account_id == me.id))).first()
        if user is None or not check_password(password, user.password_hash):
            raise unprocessable("Current password is invalid", "current_password", "ERR_INVALID")
        origin = await get_account(conn, tenant.id, me.id)
        if target.id == origin.id:
            raise unprocessable("You cannot move to your own account", "acct")
        if target.suspended_at is not None or target.moved_to_account_id is not None:
            raise unprocessable("The target account cannot be moved to (it is suspended or has moved)", "acct")
        if origin.moved_to_account_id == target.id:
            raise unprocessable("This account has already moved there", "acct")
        if origin.uri not in (target.also_known_as or []):
            raise unprocessable("The target account must list this account as an alias first", "acct")
        await conn.execute(update(accounts).where(accounts.c.tenant_id == tenant.id, accounts.c.id == origin.id)
                           .values(moved_to_account_id=target.id, updated_at=utcnow()))
        await federate(conn, tenant.id, "account.moved", account_id=origin.id, move_id=new_id())
        await transfer_followers(conn, tenant.id, origin, target)
        moved = await get_account(conn, tenant.id, origin.id)
    c.jobs.wake()
    return moved


async def cancel_move(c: Container, tenant: Tenant, me: Account) -> Account:
    """Stop redirecting to the account moved to (followers stay where they went)."""
    async with c.db.write() as conn:
        await conn.execute(update(accounts).where(accounts.c.tenant_id == tenant.id, accounts.c.id == me.id)
                           .values(moved_to_account_id=None, updated_at=utcnow()))
        await federate(conn, tenant.id, "account.updated", account_id=me.id)
        account = await get_account(conn, tenant.id, me.id)
    c.jobs.wake()
    return account


async def _blocked_between(conn: AsyncConnection, tenant_id: int, a: int, b: int) -> bool:
    rows = await conn.execute(select(blocks.c.id).where(blocks.c.tenant_id == tenant_id, (
        ((blocks.c.account_id == a) & (blocks.c.target_account_id == b))
        | ((blocks.c.account_id == b) & (blocks.c.target_account_id == a)))).limit(1))
    return rows.first() is not None


async def _follow_target(conn: AsyncConnection, tenant_id: int, follower: int, target: Account, row: Any) -> None:
    if target.local:
        await create_follow(conn, tenant_id, follower, target.id, show_reblogs=row.show_reblogs,
                            notify=row.notify, languages=row.languages)
        return
    already = (await conn.execute(select(follows.c.id).where(
        follows.c.tenant_id == tenant_id, follows.c.account_id == follower,
        follows.c.target_account_id == target.id))).first()
    if already is not None:
        return
    if await insert_ignore(conn, follow_requests, {
            "tenant_id": tenant_id, "id": new_id(), "account_id": follower, "target_account_id": target.id,
            "created_at": utcnow(), "show_reblogs": row.show_reblogs, "notify": row.notify,
            "languages": row.languages}):
        await federate(conn, tenant_id, "follow.requested", account_id=follower, target_id=target.id)


async def transfer_followers(conn: AsyncConnection, tenant_id: int, origin: Account, target: Account) -> int:
    """Local followers of `origin` follow `target` instead; blocks and mutes of
    `origin` by local accounts carry over. Returns how many followers moved."""
    local_followers = (await conn.execute(
        select(follows).join(accounts, (accounts.c.tenant_id == follows.c.tenant_id)
                             & (accounts.c.id == follows.c.account_id))
        .where(follows.c.tenant_id == tenant_id, follows.c.target_account_id == origin.id,
               accounts.c.domain == "", follows.c.account_id != target.id))).all()
    moved = 0
    for row in local_followers:
        if await _blocked_between(conn, tenant_id, row.account_id, target.id):
            continue
        await _follow_target(conn, tenant_id, row.account_id, target, row)
        await follow_ended(conn, tenant_id, row.account_id, origin.id)
        if not origin.local:
            await federate(conn, tenant_id, "follow.undone", account_id=row.account_id, target_id=origin.id,
                           follow_id=row.id, uri=row.uri)
        moved += 1
    await _carry_over(conn, tenant_id, origin, target)
    return moved


async def _carry_over(conn: AsyncConnection, tenant_id: int, origin: Account, target: Account) -> None:
    local = select(accounts.c.id).where(accounts.c.tenant_id == tenant_id, accounts.c.domain == "")
    for table in (blocks, mutes):
        rows = (await conn.execute(select(table).where(
            table.c.tenant_id == tenant_id, table.c.target_account_id == origin.id,
            table.c.account_id.in_(local.scalar_subquery()), table.c.account_id != target.id))).all()
        for row in rows:
            values: dict[str, Any] = {"tenant_id": tenant_id, "id": new_id(), "account_id": row.account_id,
                                      "target_account_id": target.id, "created_at": utcnow()}
            if table is mutes:
                values.update(hide_notifications=row.hide_notifications, expires_at=row.expires_at)
            inserted = await insert_ignore(conn, table, values)
            if table is blocks:
                await follow_ended(conn, tenant_id, row.account_id, target.id)
                if inserted and not target.local:
                    await federate(conn, tenant_id, "block", account_id=row.account_id, target_id=target.id,
                                   block_id=values["id"])
