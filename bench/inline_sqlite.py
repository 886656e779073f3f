"""An experiment, not a configuration: run `steward` with aiosqlite's statements
executed inline on the event loop instead of being handed to aiosqlite's
per-connection thread, to measure what the thread hops cost.

    python bench/inline_sqlite.py serve --port 3000      # same arguments as `steward`
    python bench/run.py --db sqlite --inline-sqlite      # the benchmark with it

Every aiosqlite call (cursor, execute, fetch, BEGIN, ROLLBACK, ...) normally is
one round trip to a thread and back through the event loop; a one-row read by
primary key costs less than that trip. Inline, a statement blocks the loop for
as long as SQLite takes, which is fine for indexed reads in WAL mode (readers
never wait for the writer) and risky for anything that can wait on a lock
(busy_timeout): that is why this stays a benchmark experiment."""

from __future__ import annotations

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


def install() -> None:
    conn = aiosqlite.core.Connection
    conn._execute = _execute  # type: ignore[method-assign]
    conn._connect = _connect  # type: ignore[method-assign]
    conn.__await__ = _await  # type: ignore[method-assign]
    conn.close = _close  # type: ignore[method-assign]
    conn.stop = _stop  # type: ignore[method-assign,assignment]


if __name__ == "__main__":
    install()
    from steward.cli import main

    sys.exit(main(sys.argv[1:]))
