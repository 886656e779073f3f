"""The one way a domain service tells federation that something happened:
an `ap.outbox` job row in the same transaction as the change. Federation
(`steward.federation.outbox`) builds and delivers the activity later."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from steward.jobs.queue import enqueue


async def federate(conn: AsyncConnection, tenant_id: int, event: str, **fields: Any) -> None:
    """`fields` must be JSON-serialisable (ids as ints or strings)."""
    await enqueue(conn, "ap.outbox", {"tenant_id": tenant_id, "event": event, **fields}, tenant_id=tenant_id)
