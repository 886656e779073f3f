"""Where one endpoint's time goes, statement by statement: drive the app in
process (httpx's ASGI transport, no server) against the seeded bench database
and charge every `AsyncConnection.execute` to the line that called it.

    python bench/statements.py --db sqlite --path /api/v1/timelines/home
    python bench/statements.py --db postgres --post /api/v1/statuses
    python bench/statements.py --db sqlite --path /api/v1/timelines/home --inline-sqlite

CPU is the calling thread's (`time.thread_time`): exact for reads, where nothing
else runs meanwhile; with background jobs (posting) concurrent tasks' CPU lands
on whichever statement was awaiting, so read those figures as an upper bound.
With --inline-sqlite (bench/experiments.py) SQLite's own work is on this thread
too; without it, it is in aiosqlite's threads and not counted."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from seed import database_settings, ensure_seeded  # noqa: E402


async def measure(args: argparse.Namespace) -> None:
    import httpx
    from sqlalchemy.ext.asyncio import AsyncConnection

    from steward.app import create_app

    stats: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    original = AsyncConnection.execute

    async def execute(self: Any, statement: Any, *a: Any, **k: Any) -> Any:
        frame = sys._getframe(1)
        key = f"{frame.f_code.co_filename.split('/src/')[-1]}:{frame.f_lineno} {frame.f_code.co_name}"
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return await original(self, statement, *a, **k)
        finally:
            entry = stats[key]
            entry[0] += 1
            entry[1] += time.perf_counter() - wall
            entry[2] += time.thread_time() - cpu

    AsyncConnection.execute = execute  # type: ignore[method-assign]
    settings = database_settings(args.db, args.database_url)
    seeded = await ensure_seeded(settings)
    app = create_app(settings)
    path = args.post or args.path

    async def one(client: httpx.AsyncClient, i: int) -> None:
        if args.post:
            r = await client.post(path, json={"status": f"Measured post {i}", "visibility": "public"})
        else:
            r = await client.get(path)
        if r.status_code != 200:
            raise SystemExit(f"{path} answered {r.status_code}: {r.text[:300]}")

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench.test",
                               headers={"Authorization": f"Bearer {seeded.tokens[0]}"})
    async with app.router.lifespan_context(app), client:
        for i in range(10):
            await one(client, i)
        stats.clear()
        profiler = None
        if args.cprofile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        wall, cpu = time.perf_counter(), time.thread_time()
        for i in range(args.requests):
            await one(client, i)
        if profiler is not None:
            import pstats

            profiler.disable()
            stats_view = pstats.Stats(profiler).sort_stats("tottime")
            stats_view.print_stats(args.cprofile)
            if args.callers:
                stats_view.print_callers(args.callers)
        n = args.requests
        print(f"\n{path} on {args.db}: {(time.perf_counter() - wall) / n * 1000:.2f} ms wall, "
              f"{(time.thread_time() - cpu) / n * 1000:.2f} ms CPU of this thread per request "
              "(including the in-process httpx client)")
        total = 0.0
        for key, (count, w, c) in sorted(stats.items(), key=lambda kv: -kv[1][2]):
            total += c
            print(f"  {count / n:5.2f}/request  {w / count * 1000:6.2f} ms wall  {c / count * 1000:6.2f} ms CPU  {key}")
        print(f"  execute() CPU per request: {total / n * 1000:.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--path", default="/api/v1/timelines/home", help="GET this path")
    target.add_argument("--post", metavar="PATH", help="POST a new status to this path")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--inline-sqlite", action="store_true", help="see bench/experiments.py")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N",
                        help="also print the N functions with the most own time (cProfile)")
    parser.add_argument("--callers", metavar="REGEX", help="with --cprofile: who calls the functions matching it")
    args = parser.parse_args(argv)
    if args.inline_sqlite:
        import experiments

        experiments.install()
    asyncio.run(measure(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
