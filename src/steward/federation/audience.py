"""Whom an activity goes to: the inboxes of remote followers (one per shared
inbox) and of named remote accounts, and the delivery jobs for them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.db.tables import accounts, follows
from steward.federation.delivery import queue_delivery


async def follower_inboxes(conn: AsyncConnection, tenant_id: int, account_id: int) -> set[str]:
    """Distinct inboxes of the remote followers of a local account: the shared
    inbox where a server has one, else each follower's own inbox."""
    inbox = func.coalesce(accounts.c.shared_inbox_url, accounts.c.inbox_url)
    rows = await conn.execute(
        select(inbox.label("inbox")).distinct()
        .select_from(follows.join(accounts, (accounts.c.tenant_id == follows.c.tenant_id)
                                  & (accounts.c.id == follows.c.account_id)))
        .where(follows.c.tenant_id == tenant_id, follows.c.target_account_id == account_id,
               accounts.c.domain != "", inbox.is_not(None)))
    return {r.inbox for r in rows}


async def account_inboxes(conn: AsyncConnection, tenant_id: int, account_ids: Iterable[int]) -> set[str]:
    """Inboxes of the remote accounts among `account_ids` (local ones are skipped)."""
    ids = list(set(account_ids))
    if not ids:
        return set()
    inbox = func.coalesce(accounts.c.shared_inbox_url, accounts.c.inbox_url)
    rows = await conn.execute(select(inbox.label("inbox")).where(
        accounts.c.tenant_id == tenant_id, accounts.c.id.in_(ids), accounts.c.domain != "", inbox.is_not(None)))
    return {r.inbox for r in rows}


async def queue_to(conn: AsyncConnection, tenant_id: int, account_id: int | None, inboxes: Iterable[str],
                   activity: dict[str, Any]) -> int:
    """One `ap.deliver` job per distinct inbox; returns how many were queued."""
    targets = sorted(set(inboxes))
    for inbox in targets:
        await queue_delivery(conn, tenant_id, account_id, inbox, activity)
    return len(targets)
