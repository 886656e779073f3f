"""Durable jobs: rows written in the same transaction as the change that needs
them, claimed by a runner (FOR UPDATE SKIP LOCKED on PostgreSQL), retried with
backoff, never lost on a crash: a job locked by a dead worker is reclaimed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import traceback
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.engine import Database
from steward.db.tables import jobs

log = logging.getLogger("steward.jobs")

JobHandler = Callable[[dict[str, Any]], Awaitable[None]]

# A job locked longer than this is taken to belong to a dead worker.
LOCK_TIMEOUT = timedelta(minutes=5)


async def enqueue(conn: AsyncConnection, kind: str, payload: dict[str, Any], *, tenant_id: int | None = None,
                  delay: float = 0.0, max_attempts: int = 8, dedupe_key: str | None = None) -> int:
    job_id = new_id()
    now = utcnow()
    await conn.execute(
        jobs.insert().values(
            id=job_id, tenant_id=tenant_id, kind=kind, payload=payload, state="queued",
            run_at=now + timedelta(seconds=delay), attempts=0, max_attempts=max_attempts,
            dedupe_key=dedupe_key, created_at=now,
        )
    )
    return job_id


async def enqueue_once(conn: AsyncConnection, kind: str, payload: dict[str, Any], *, dedupe_key: str,
                       tenant_id: int | None = None, delay: float = 0.0, max_attempts: int = 8) -> bool:
    """A job unless one with `dedupe_key` is still waiting (finished jobs are
    deleted, so the key is free again once it ran). False when one was waiting."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    result = await conn.execute(insert(jobs).values(
        id=new_id(), tenant_id=tenant_id, kind=kind, payload=payload, state="queued",
        run_at=now + timedelta(seconds=delay), attempts=0, max_attempts=max_attempts, dedupe_key=dedupe_key,
        created_at=now).on_conflict_do_nothing())
    return bool(result.rowcount)


async def enqueue_many(conn: AsyncConnection, kind: str, payloads: list[dict[str, Any]], *,
                       tenant_id: int | None = None, max_attempts: int = 8) -> int:
    """Many jobs of one kind in one statement (a post to a thousand inboxes)."""
    if not payloads:
        return 0
    now = utcnow()
    await conn.execute(jobs.insert(), [
        {"id": new_id(), "tenant_id": tenant_id, "kind": kind, "payload": payload, "state": "queued",
         "run_at": now, "attempts": 0, "max_attempts": max_attempts, "dedupe_key": None, "created_at": now}
        for payload in payloads])
    return len(payloads)


class RetryAfter(Exception):
    """Raised by a handler that chooses its own retry delay (deliveries back off
    over days, not hours); counts as a failed attempt like any other error."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


def backoff_seconds(attempt: int) -> float:
    """Exponential with jitter: ~15 s, 1 min, 4 min, ... capped at 12 hours."""
    base = min(15 * (4 ** (attempt - 1)), 12 * 3600)
    return base * (0.75 + random.random() / 2)


def _alive(worker_id: str) -> bool:
    """Whether the local process named in a worker id (`host:pid:n`) still runs."""
    try:
        pid = int(worker_id.split(":")[1])
    except (IndexError, ValueError):
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobRunner:
    def __init__(self, db: Database, *, concurrency: int = 16, poll_interval: float = 0.5) -> None:
        self.db = db
        self.handlers: dict[str, JobHandler] = {}
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{new_id() & 0xFFFF}"
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._running: set[asyncio.Task[None]] = set()
        self._done: list[int] = []

    def register(self, kind: str, handler: JobHandler) -> None:
        self.handlers[kind] = handler

    def wake(self) -> None:
        """Called after a commit that queued jobs, so in-process work starts at once."""
        self._wake.set()

    async def claim(self, limit: int) -> list[Any]:
        now = utcnow()
        ready = and_(
            jobs.c.run_at <= now,
            or_(
                jobs.c.state == "queued",
                and_(jobs.c.state == "running", jobs.c.locked_at < now - LOCK_TIMEOUT),
            ),
        )
        async with self.db.write() as conn:
            query = select(jobs).where(ready).order_by(jobs.c.run_at).limit(limit)
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = list((await conn.execute(query)).all())
            if rows:
                await conn.execute(
                    update(jobs)
                    .where(jobs.c.id.in_([r.id for r in rows]))
                    .values(state="running", locked_by=self.worker_id, locked_at=now,
                            attempts=jobs.c.attempts + 1)
                )
        return rows

    async def run_one(self, row: Any, *, finish: bool = True) -> bool:
        """Run one claimed job; True when it succeeded. A succeeded job is deleted
        here unless `finish` is False (the loop deletes them in batches)."""
        handler = self.handlers.get(row.kind)
        attempt = row.attempts + 1
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {row.kind!r}")
            await handler(row.payload)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failing job is recorded and retried, never fatal
            log.warning("job %s (%s) failed on attempt %d: %s", row.id, row.kind, attempt, exc)
            failed = attempt >= row.max_attempts or handler is None
            async with self.db.write() as conn:
                await conn.execute(
                    update(jobs).where(jobs.c.id == row.id).values(
                        state="failed" if failed else "queued",
                        run_at=utcnow() + timedelta(seconds=exc.delay if isinstance(exc, RetryAfter)
                                                    else backoff_seconds(attempt)),
                        locked_by=None, locked_at=None,
                        last_error="".join(traceback.format_exception_only(exc))[-2000:],
                        finished_at=utcnow() if failed else None,
                    )
                )
            return False
        if finish:
            async with self.db.write() as conn:
                await conn.execute(jobs.delete().where(jobs.c.id == row.id))
        return True

    async def run_pending(self, limit: int = 100) -> int:
        """Run what is ready now, in this task; returns how many ran. Tests use this."""
        done = 0
        while True:
            rows = await self.claim(min(limit - done, 50))
            if not rows:
                return done
            for row in rows:
                await self.run_one(row)
            done += len(rows)
            if done >= limit:
                return done

    async def reclaim_dead_local(self) -> int:
        """Jobs locked by a worker process of this machine that no longer exists
        (killed, crashed) are queued again at once, instead of after
        LOCK_TIMEOUT. Returns how many were released."""
        host = socket.gethostname()
        async with self.db.read() as conn:
            owners = (await conn.execute(select(jobs.c.locked_by).distinct().where(
                jobs.c.state == "running", jobs.c.locked_by.like(f"{host}:%")))).scalars().all()
        dead = [owner for owner in owners if owner and not _alive(owner)]
        if not dead:
            return 0
        async with self.db.write() as conn:
            result = await conn.execute(update(jobs).where(jobs.c.state == "running", jobs.c.locked_by.in_(dead))
                                        .values(state="queued", locked_by=None, locked_at=None))
        log.warning("released %d jobs of dead workers %s", result.rowcount, ", ".join(dead))
        return int(result.rowcount)

    async def _loop(self) -> None:
        """Keeps up to `concurrency` jobs running: claims as many as there are free
        slots, and deletes the jobs that succeeded in one statement per turn."""
        try:
            await self.reclaim_dead_local()
        except Exception:  # the lock timeout still frees them later
            log.exception("releasing jobs of dead workers failed")
        while not self._stopping:
            room = self.concurrency - len(self._running)
            rows: list[Any] = []
            if room > 0:
                try:
                    rows = await self.claim(room)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database may be briefly unavailable; keep polling
                    log.exception("claiming jobs failed")
            for row in rows:
                task = asyncio.create_task(self._run_collect(row))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            await self._flush_done()
            if rows and len(self._running) < self.concurrency:
                continue
            if self._running:
                await asyncio.wait(set(self._running), timeout=self.poll_interval,
                                   return_when=asyncio.FIRST_COMPLETED)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)

    async def _run_collect(self, row: Any) -> None:
        if await self.run_one(row, finish=False):
            self._done.append(row.id)

    async def _flush_done(self) -> None:
        if not self._done:
            return
        done, self._done = self._done, []
        try:
            async with self.db.write() as conn:
                await conn.execute(jobs.delete().where(jobs.c.id.in_(done)))
        except Exception:  # they run again later: at least once, never lost
            log.exception("deleting %d finished jobs failed", len(done))

    def start(self) -> None:
        self._stopping = False
        self._tasks.append(asyncio.create_task(self._loop(), name="steward-jobs"))

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._running:
            # Jobs under way get a moment to finish; the rest stay claimed and run again later.
            _, pending = await asyncio.wait(set(self._running), timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._flush_done()
