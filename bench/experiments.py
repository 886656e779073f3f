"""Experiments, not configuration: run `steward` with one thing changed, to
measure what it costs. Set by environment variables, then the usual arguments:

    STEWARD_BENCH_INLINE_SQLITE=1 python bench/experiments.py serve --port 3000
    STEWARD_BENCH_SQLITE_CACHE_KIB=4000 python bench/experiments.py serve --port 3000
    python bench/run.py --db sqlite --inline-sqlite           # the benchmark with one
    python bench/run.py --db sqlite --sqlite-cache-kib 4000

STEWARD_BENCH_INLINE_SQLITE: aiosqlite's statements run inline on the event loop
instead of being handed to aiosqlite's per-connection thread. Every aiosqlite call (cursor, execute, fetch, BEGIN, ROLLBACK, ...) normally is
one round trip to a thread and back through the event loop; a one-row read by
primary key costs less than that trip. Inline, a statement blocks the loop for
as long as SQLite takes, which is fine for indexed reads in WAL mode (readers
never wait for the writer) and risky for anything that can wait on a lock
(busy_timeout): that is why this stays a benchmark experiment.

STEWARD_BENCH_SQLITE_CACHE_KIB: each SQLite connection's page cache
(`PRAGMA cache_size`), which `db/engine.py` sets to 32,000 KiB per connection;
the pool keeps up to 20 connections, each with its own cache."""

from __future__ import annotations

import os
import sys
from typing import Any

import aiosqlite.core


async def _execute(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
    if not self._running or self._connection is None:
        raise ValueError("Connection closed")
    return fn(*args, **kwargs)


async def _connect(self: Any) -> Any:
    if self._connection is None:
        self._connection = self._connector()
    return self


def _await(self: Any) -> Any:
    return self._connect().__await__()


async def _close(self: Any) -> None:
    if self._connection is None:
        return
    try:
        self._connection.close()
    finally:
        self._connection = None
        self._running = False


def _stop(self: Any) -> None:
    self._running = False
    if self._connection is not None:
        self._connection.close()
        self._connection = None


def set_sqlite_cache(kib: int) -> None:
    from sqlalchemy import event

    from steward.db import engine as engine_module

    original = engine_module._install_sqlite_hooks

    def hooks(engine: Any) -> None:
        original(engine)

        @event.listens_for(engine.sync_engine, "connect")
        def _cache(dbapi_conn: Any, _record: Any) -> None:  # runs after Steward's own hook
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA cache_size=-{int(kib)}")
            cur.close()

    engine_module._install_sqlite_hooks = hooks


def install() -> None:
    conn = aiosqlite.core.Connection
    conn._execute = _execute  # type: ignore[method-assign]
    conn._connect = _connect  # type: ignore[method-assign]
    conn.__await__ = _await  # type: ignore[method-assign]
    conn.close = _close  # type: ignore[method-assign]
    conn.stop = _stop  # type: ignore[method-assign,assignment]


if __name__ == "__main__":
    if os.environ.get("STEWARD_BENCH_INLINE_SQLITE"):
        install()
    if os.environ.get("STEWARD_BENCH_SQLITE_CACHE_KIB"):
        set_sqlite_cache(int(os.environ["STEWARD_BENCH_SQLITE_CACHE_KIB"]))
    from steward.cli import main

    sys.exit(main(sys.argv[1:]))
