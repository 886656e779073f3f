"""Group commit for the inbox: verified activities that arrive together are
stored as `ap.inbox` jobs in one transaction.

A commit costs far more than an insert (SQLite serialises writers and hands
every statement to its thread; PostgreSQL waits for the WAL flush), so under
load one transaction per activity bounds the inbox. Here the first activity to
arrive starts a flush task; whatever arrives while that transaction runs waits
for the next one, which takes all of it (up to `MAX_BATCH`). An idle server
therefore writes at once, and a busy one writes in batches of about as many
activities as there are requests in flight. Each request still gets its answer
only after its own row is committed."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import jobs

if TYPE_CHECKING:
    from steward.container import Container

MAX_BATCH = 200
MAX_ATTEMPTS = 8


@dataclass(slots=True)
class _Item:
    tenant_id: int
    dedupe_key: str
    payload: dict[str, Any]
    done: asyncio.Future[bool]


@dataclass(slots=True)
class _Batcher:
    pending: list[_Item] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


_batchers: weakref.WeakKeyDictionary[Any, _Batcher] = weakref.WeakKeyDictionary()


async def store(c: Container, tenant_id: int, dedupe_key: str, payload: dict[str, Any]) -> bool:
    """Queue one `ap.inbox` job; False when a job with this key is still waiting."""
    batcher = _batchers.get(c)
    if batcher is None:
        batcher = _batchers[c] = _Batcher()
    done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    batcher.pending.append(_Item(tenant_id, dedupe_key, payload, done))
    if batcher.task is None or batcher.task.done():
        # A task of its own: a request that goes away must not strand the others' rows.
        batcher.task = asyncio.ensure_future(_flush(c, batcher))
    return await asyncio.shield(done)


async def _flush(c: Container, batcher: _Batcher) -> None:
    while batcher.pending:
        batch, batcher.pending = batcher.pending[:MAX_BATCH], batcher.pending[MAX_BATCH:]
        try:
            fresh = await _write(c, batch)
        except Exception as exc:  # noqa: BLE001 - every waiting request gets the error, none hangs
            for item in batch:
                if not item.done.done():
                    item.done.set_exception(exc)
            continue
        for item in batch:
            if not item.done.done():
                item.done.set_result(id(item) in fresh)
        c.jobs.wake()


async def _write(c: Container, batch: list[_Item]) -> set[int]:
    """The ids (of the _Item objects) that were inserted."""
    now = utcnow()
    async with c.db.write() as conn:
        keys = list({item.dedupe_key for item in batch})
        waiting = set((await conn.execute(select(jobs.c.dedupe_key).where(
            jobs.c.dedupe_key.in_(keys)))).scalars().all())
        chosen: dict[str, _Item] = {}
        for item in batch:
            if item.dedupe_key not in waiting and item.dedupe_key not in chosen:
                chosen[item.dedupe_key] = item
        if chosen:
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            # Another process may insert the same key meanwhile: its row wins, ours is skipped.
            await conn.execute(insert(jobs).on_conflict_do_nothing(), [
                {"id": new_id(), "tenant_id": item.tenant_id, "kind": "ap.inbox", "payload": item.payload,
                 "state": "queued", "run_at": now + timedelta(seconds=0), "attempts": 0,
                 "max_attempts": MAX_ATTEMPTS, "dedupe_key": key, "created_at": now}
                for key, item in chosen.items()])
    return {id(item) for item in chosen.values()}
