"""What happens here when a remote account is deleted on its server: its
follows and requests both ways end, its statuses go (with their boosts and
feed rows, through the usual `status.removed` jobs), the notifications it
caused go, and the row stays marked suspended so references keep resolving
while the account shows as gone, as a Mastodon server shows it."""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.db.tables import accounts, follow_requests, follows, notifications, status_pins, statuses
from steward.jobs.queue import enqueue
from steward.social.relationships import follow_ended


async def forget_remote_account(conn: AsyncConnection, tenant_id: int, account_id: int) -> bool:
    """False when the account is not a remote account of this tenant or was already gone."""
    row = (await conn.execute(select(accounts.c.id, accounts.c.suspended_at).where(
        accounts.c.tenant_id == tenant_id, accounts.c.id == account_id, accounts.c.domain != ""))).first()
    if row is None:
        return False
    for table in (follows, follow_requests):
        pairs = (await conn.execute(select(table.c.account_id, table.c.target_account_id).where(
            table.c.tenant_id == tenant_id,
            or_(table.c.account_id == account_id, table.c.target_account_id == account_id)))).all()
        for source, target in pairs:
            await follow_ended(conn, tenant_id, source, target)
    now = utcnow()
    gone = (await conn.execute(select(statuses.c.id).where(
        statuses.c.tenant_id == tenant_id, statuses.c.account_id == account_id,
        statuses.c.deleted_at.is_(None)))).scalars().all()
    if gone:
        await conn.execute(update(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id.in_(gone))
                           .values(deleted_at=now))
        for status_id in gone:
            await enqueue(conn, "status.removed", {"tenant_id": tenant_id, "status_id": status_id,
                                                   "account_id": account_id}, tenant_id=tenant_id)
    await conn.execute(delete(status_pins).where(status_pins.c.tenant_id == tenant_id,
                                                 status_pins.c.account_id == account_id))
    await conn.execute(delete(notifications).where(notifications.c.tenant_id == tenant_id,
                                                   notifications.c.from_account_id == account_id))
    await conn.execute(update(accounts).where(accounts.c.tenant_id == tenant_id, accounts.c.id == account_id)
                       .values(suspended_at=row.suspended_at or now, statuses_count=0, followers_count=0,
                               following_count=0, updated_at=now))
    return row.suspended_at is None
