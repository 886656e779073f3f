"""Account migration as clients drive it: aliases and moving out name the
other account by handle, which is resolved here (freshly, so its current
`alsoKnownAs` counts) before the local rules in `social.migration` apply."""

from __future__ import annotations

from typing import TYPE_CHECKING

from steward.core.errors import unprocessable
from steward.federation.resolve import ResolveError, resolve_account
from steward.model.entities import Account, Tenant
from steward.social import migration

if TYPE_CHECKING:
    from steward.container import Container


async def _target(c: Container, tenant: Tenant, acct: str) -> Account:
    try:
        account = await resolve_account(c, tenant, acct, refresh=True)
    except ResolveError as exc:
        raise unprocessable(f"The account {acct} could not be found: {exc}", "acct") from exc
    if account.suspended_at is not None:
        raise unprocessable(f"The account {acct} could not be found", "acct")
    return account


async def add_alias(c: Container, tenant: Tenant, me: Account, acct: str) -> None:
    await migration.add_alias(c, tenant, me, await _target(c, tenant, acct))


async def remove_alias(c: Container, tenant: Tenant, me: Account, acct_or_uri: str) -> None:
    """By the alias's URI, or by a handle stored here."""
    if "://" in acct_or_uri:
        await migration.remove_alias(c, tenant, me, acct_or_uri)
        return
    async with c.db.read() as conn:
        listed = await migration.aliases_of(conn, tenant.id, me)
    wanted = acct_or_uri.strip().lstrip("@").lower()
    for uri, account in listed:
        if account is not None and account.acct().lower() in {wanted, f"{wanted}@{tenant.domain}"}:
            await migration.remove_alias(c, tenant, me, uri)
            return
    await migration.remove_alias(c, tenant, me, acct_or_uri)  # answers 404


async def move_out(c: Container, tenant: Tenant, me: Account, acct: str, password: str) -> Account:
    return await migration.move_to(c, tenant, me, await _target(c, tenant, acct), password)
