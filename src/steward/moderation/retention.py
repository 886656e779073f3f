"""What a suspension keeps, and for how long: a suspended account's data stays
30 days (so an appeal or a mistake can be undone), then a job erases it, as
Mastodon does. Unsuspending in between makes the job a no-op; suspending again
starts a new 30 days."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import aware, utcnow
from steward.core.errors import ApiError
from steward.jobs.queue import enqueue

if TYPE_CHECKING:
    from steward.container import Container

PURGE_AFTER = timedelta(days=30)
PURGE_JOB = "account.purge_suspended"
# A job may run a little early (clock steps, a worker's poll interval).
_SLACK = timedelta(minutes=5)


async def schedule_purge(conn: AsyncConnection, tenant_id: int, account_id: int, actor_id: int) -> None:
    await enqueue(conn, PURGE_JOB, {"tenant_id": tenant_id, "account_id": account_id, "actor_id": actor_id},
                  tenant_id=tenant_id, delay=PURGE_AFTER.total_seconds())


async def purge_suspended(c: Container, payload: dict[str, Any]) -> bool:
    """Erase the account's data when it has stayed suspended for PURGE_AFTER;
    True when something was erased."""
    from steward.moderation.admin_accounts import erase_account_data, get_with_user

    tenant_id, account_id = int(payload["tenant_id"]), int(payload["account_id"])
    async with c.db.write() as conn:
        try:
            target, user = await get_with_user(conn, tenant_id, account_id)
        except ApiError:  # the account is gone
            return False
        suspended_at = aware(target.suspended_at)
        if suspended_at is None or suspended_at > utcnow() - PURGE_AFTER + _SLACK:
            return False  # unsuspended since, or suspended again more recently (that one has its own job)
        if user is not None and user.email.endswith(".deleted.invalid"):
            return False  # erased already
        await erase_account_data(conn, tenant_id, int(payload["actor_id"]), target, user)
    return True


def register(c: Container) -> None:
    async def run(payload: dict[str, Any]) -> None:
        await purge_suspended(c, payload)

    c.jobs.register(PURGE_JOB, run)
