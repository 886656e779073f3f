"""A Python load generator for when `wrk` is not installed: N concurrent clients
(aiohttp, one connection each) for a fixed duration, run as its own process so
its CPU is not the server's. Prints the same `BENCH_JSON` line as bench/wrk.lua.

    python bench/loadgen.py CONFIG.json

CONFIG: {"url", "host", "method", "path", "tokens", "connections", "duration"}."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def client(cfg: dict[str, Any], tid: int, deadline: float, latencies: list[float],
                 stats: dict[str, Any]) -> None:
    tokens = cfg["tokens"]
    url = cfg["url"].rstrip("/") + cfg["path"]
    connector = aiohttp.TCPConnector(limit=1)
    counter = 0
    async with aiohttp.ClientSession(connector=connector) as session:
        while time.perf_counter() < deadline:
            counter += 1
            headers = {"Host": cfg["host"], "Authorization": f"Bearer {tokens[(counter + tid * 7) % len(tokens)]}"}
            body = None
            if cfg["method"] == "POST":
                body = json.dumps({"status": f"Bench post {tid}-{counter}: the quick brown fox jumps over "
                                             "the lazy dog.", "visibility": "public"})
                headers["Content-Type"] = "application/json"
            started = time.perf_counter()
            try:
                async with session.request(cfg["method"], url, headers=headers, data=body) as resp:
                    payload = await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError):
                stats["read_errors"] += 1
                continue
            latencies.append(time.perf_counter() - started)
            stats["bytes"] += len(payload)
            if not 200 <= status <= 299:
                stats["non2xx"] += 1
                if not stats["first_error"]:
                    stats["first_error"] = f"{status} {payload[:300].decode(errors='replace')}"


async def main(cfg: dict[str, Any]) -> None:
    latencies: list[float] = []
    stats: dict[str, Any] = {"bytes": 0, "non2xx": 0, "read_errors": 0, "first_error": ""}
    started = time.perf_counter()
    deadline = started + float(cfg["duration"])
    await asyncio.gather(*(client(cfg, tid, deadline, latencies, stats) for tid in range(cfg["connections"])))
    elapsed = time.perf_counter() - started
    latencies.sort()
    us = [v * 1e6 for v in latencies]
    result = {
        "requests": len(us) + stats["read_errors"], "duration_us": int(elapsed * 1e6), "bytes": stats["bytes"],
        "non2xx": stats["non2xx"], "connect_errors": 0, "read_errors": stats["read_errors"], "write_errors": 0,
        "timeouts": 0, "p50_us": percentile(us, 50), "p90_us": percentile(us, 90), "p99_us": percentile(us, 99),
        "p999_us": percentile(us, 99.9), "mean_us": sum(us) / len(us) if us else 0.0,
        "max_us": us[-1] if us else 0.0,
    }
    print("BENCH_JSON " + json.dumps(result))
    print("BENCH_FIRST_ERROR " + stats["first_error"].replace("\n", " "))


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        config = json.load(fh)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(config))
