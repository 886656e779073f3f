"""Outbound federation throughput: posts of a local account delivered, signed, to
remote followers' inboxes on a local sink, by `steward worker` processes.

    python bench/delivery.py --db postgres            ($PG_URL, or --database-url)
    python bench/delivery.py --db postgres --workers 1 --followers 1000 --hosts 100 --posts 5
    python bench/delivery.py --db postgres --fanout-followers 10000 --fanout-hosts 1000

Set-up (not timed): a fresh database with one tenant and its user alice, remote
followers stored as Steward stores fetched actors, spread evenly over host names
that the worker resolves to 127.0.0.1 (STEWARD_HOSTS_FILE, with
STEWARD_ALLOW_PRIVATE_ADDRESSES=1). The sink, in its own process, is a minimal
HTTP/1.1 keep-alive server answering 202 to every POST and counting them.

Phase 1, throughput: followers WITHOUT a shared inbox (so each follower is one
signed request), `--posts` statuses created at once through the status service
(the same code as POST /api/v1/statuses: the `ap.outbox` event is queued with the
post); the workers, already running and idle, build each Create, queue one
`ap.deliver` job per inbox and deliver them. Printed: signed requests/s from the
first post's commit to the last request received, per worker CPU second, and
the workers' peak RSS. Run with 1 and with 2 worker processes.

Phase 2, fan-out: one post to `--fanout-followers` followers on `--fanout-hosts`
hosts WITH shared inboxes, as Mastodon servers have (one request per host).
Printed: the seconds until every inbox has it (the post has left the server).

JSON goes to bench/results/."""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inbox import cli, cpu_seconds, free_port, fresh_pg_database, peak_rss_mb, stop

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def say(message: str) -> None:
    print(f"[delivery {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the sink ----------------------------------------------------------------------------

def run_sink(port: int, count: Any, last: Any, ready: Any) -> None:
    """A minimal keep-alive HTTP/1.1 server: reads each request's head and body
    (Content-Length), answers 202, counts POSTs and stamps the last one."""
    import asyncio

    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass

    answer = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"

    class Sink(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.buf = b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            while True:
                head_end = self.buf.find(b"\r\n\r\n")
                if head_end < 0:
                    return
                head = self.buf[:head_end].lower()
                length = 0
                at = head.find(b"content-length:")
                if at >= 0:
                    length = int(head[at + 15:head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0 else None])
                total = head_end + 4 + length
                if len(self.buf) < total:
                    return
                is_post = head.startswith(b"post")
                self.buf = self.buf[total:]
                self.transport.write(answer)
                if is_post:
                    with count.get_lock():
                        count.value += 1
                    last.value = time.time()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Sink, "127.0.0.1", port, backlog=4096)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- set-up ------------------------------------------------------------------------------

def host_name(i: int) -> str:
    return f"h{i}.sink.bench"


async def seed_followers(env: dict[str, str], domain: str, first: int, count: int, hosts: int, port: int,
                         shared: bool) -> None:
    """`count` remote followers of alice, numbered from `first`, on `hosts` hosts."""
    from sqlalchemy import select

    from steward.container import Container
    from steward.core.clock import utcnow
    from steward.core.ids import new_id
    from steward.db.tables import accounts, follows
    from steward.federation.actors import actor_columns
    from steward.settings import Settings

    c = Container(Settings.from_env(env))
    try:
        tenant = await c.tenants.by_domain(domain)
        assert tenant is not None
        async with c.db.write() as conn:
            alice = (await conn.execute(select(accounts.c.id).where(
                accounts.c.tenant_id == tenant.id, accounts.c.username == "alice",
                accounts.c.domain == ""))).scalar_one()
            rows, pairs = [], []
            now = utcnow()
            for n in range(first, first + count):
                base = f"http://{host_name(n % hosts)}:{port}"
                uri = f"{base}/users/f{n}"
                doc: dict[str, Any] = {"id": uri, "type": "Person", "preferredUsername": f"f{n}",
                                       "inbox": f"{uri}/inbox", "followers": f"{uri}/followers"}
                if shared:
                    doc["endpoints"] = {"sharedInbox": f"{base}/inbox"}
                account_id = new_id()
                rows.append({"tenant_id": tenant.id, "id": account_id, "note_source": "", "memorial": False,
                             "hide_collections": False, "statuses_count": 0, "followers_count": 0,
                             "following_count": 0, "created_at": now, **actor_columns(tenant, doc)})
                pairs.append({"tenant_id": tenant.id, "id": new_id(), "account_id": account_id,
                              "target_account_id": alice, "created_at": now, "show_reblogs": True, "notify": False})
            for i in range(0, len(rows), 1000):
                await conn.execute(accounts.insert(), rows[i:i + 1000])
                await conn.execute(follows.insert(), pairs[i:i + 1000])
    finally:
        await c.close()


async def unfollow_all(env: dict[str, str], domain: str) -> None:
    from steward.container import Container
    from steward.db.tables import follows
    from steward.settings import Settings

    c = Container(Settings.from_env(env))
    try:
        tenant = await c.tenants.by_domain(domain)
        assert tenant is not None
        async with c.db.write() as conn:
            await conn.execute(follows.delete().where(follows.c.tenant_id == tenant.id))
    finally:
        await c.close()


async def post(env: dict[str, str], domain: str, count: int) -> float:
    """`count` public posts by alice through the status service; returns the time
    the first one was committed."""
    from sqlalchemy import select

    from steward.container import Container
    from steward.db.tables import accounts
    from steward.model.entities import Account, from_row
    from steward.settings import Settings
    from steward.social.status_drafts import StatusDraft
    from steward.social.statuses import create_status

    c = Container(Settings.from_env(env))
    try:
        tenant = await c.tenants.by_domain(domain)
        assert tenant is not None
        async with c.db.read() as conn:
            alice = from_row(Account, (await conn.execute(select(accounts).where(
                accounts.c.tenant_id == tenant.id, accounts.c.username == "alice",
                accounts.c.domain == ""))).first())
        started = 0.0
        for n in range(count):
            await create_status(c, tenant, alice, None, StatusDraft(
                text=f"Bench post {n}: the quick brown fox jumps over the lazy dog. #bench", visibility="public"))
            if n == 0:
                started = time.time()
    finally:
        await c.close()
    return started


def workers_start(env: dict[str, str], n: int, log: Path) -> list[subprocess.Popen[bytes]]:
    out = []
    for i in range(n):
        with (log.parent / f"worker{i}.log").open("wb") as f:
            out.append(subprocess.Popen([sys.executable, "-m", "steward.cli", "worker"], env=env, stdout=f,
                                        stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 60
    for i, p in enumerate(out):
        path = log.parent / f"worker{i}.log"
        while "running" not in path.read_text():
            if p.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker did not start: {path.read_text()}")
            time.sleep(0.1)
    return out


def calibration() -> dict[str, float]:
    """RSA-2048 signs per CPU second here and the load average: the figures scale
    with how busy the machine is (shared/DESIGN.md measured 4,000 signs/s idle)."""
    from steward.activitypub.keys import generate_key_pair
    from steward.activitypub.signatures import sign_request

    private, _ = generate_key_pair()
    sign_request("POST", "http://x.example/inbox", "k", private, body=b"{}")
    t0 = time.process_time()
    for _ in range(300):
        sign_request("POST", "http://x.example/inbox", "k", private, body=b"{}")
    return {"signs_per_cpu_second": round(300 / (time.process_time() - t0)),
            "load_average": round(os.getloadavg()[0], 1)}


def wait_for(count: Any, target: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if count.value >= target:
            return True
        time.sleep(0.01)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--database-url", default=os.environ.get("PG_URL", ""))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--followers", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--posts", type=int, default=5)
    parser.add_argument("--fanout-followers", type=int, default=10_000)
    parser.add_argument("--fanout-hosts", type=int, default=1000)
    parser.add_argument("--fanout-workers", type=int, default=2)
    opts = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="steward-bench-delivery-"))
    sink_port = free_port()
    domain = f"localhost:{free_port()}"
    hosts_file = tmp / "hosts"
    hosts_file.write_text("".join(f"127.0.0.1 {host_name(i)}\n"
                                  for i in range(max(opts.hosts, opts.fanout_hosts))))
    env = {**os.environ, "STEWARD_DATA_DIR": str(tmp), "STEWARD_NO_INPROCESS_JOBS": "1", "PYTHONHASHSEED": "0",
           "STEWARD_ALLOW_PRIVATE_ADDRESSES": "1", "STEWARD_HOSTS_FILE": str(hosts_file)}
    if opts.db == "postgres":
        if not opts.database_url:
            raise SystemExit("--database-url or $PG_URL is needed for PostgreSQL")
        env["STEWARD_DATABASE_URL"] = asyncio.run(fresh_pg_database(opts.database_url, "steward_bench_delivery"))
    else:
        env["STEWARD_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp / 'steward.sqlite3'}"
    log = tmp / "steward.log"

    say(f"set-up in {tmp}: tenant {domain}, {opts.followers} followers on {opts.hosts} hosts (own inboxes)")
    cli(env, "migrate")
    cli(env, "tenant", "create", domain, "--name", "Bench")
    cli(env, "user", "create", domain, "alice", "--email", "alice@bench.test", "--password", "bench bench bench")
    asyncio.run(seed_followers(env, domain, 0, opts.followers, opts.hosts, sink_port, shared=False))

    ctx = multiprocessing.get_context("spawn")
    count, last, ready = ctx.Value("q", 0), ctx.Value("d", 0.0), ctx.Event()
    sink = ctx.Process(target=run_sink, args=(sink_port, count, last, ready), daemon=True)
    sink.start()
    ready.wait(10)
    result: dict[str, Any] = {"db": opts.db, "followers": opts.followers, "hosts": opts.hosts, "posts": opts.posts,
                              "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                              "at": datetime.now(UTC).isoformat(), "throughput": []}
    result["calibration"] = calibration()
    say(f"calibration: {result['calibration']['signs_per_cpu_second']} signs per CPU second, "
        f"load average {result['calibration']['load_average']}")
    try:
        # Warm-up: one post delivered by a worker that then exits (keys generated, caches and pools built).
        warm = workers_start(env, 1, log)
        asyncio.run(post(env, domain, 1))
        wait_for(count, opts.followers, 120)
        for p in warm:
            stop(p)
        for n_workers in opts.workers:
            procs = workers_start(env, n_workers, log)
            time.sleep(1.0)
            cpu0 = [cpu_seconds(p.pid) for p in procs]
            base_count = count.value
            target = base_count + opts.followers * opts.posts
            started = asyncio.run(post(env, domain, opts.posts))
            done = wait_for(count, target, 300)
            seconds = last.value - started
            cpu = sum(cpu_seconds(p.pid) - c0 for p, c0 in zip(procs, cpu0, strict=True))
            sent = count.value - base_count
            row = {"workers": n_workers, "requests": sent, "complete": done, "seconds": round(seconds, 2),
                   "per_second": round(sent / seconds, 1) if seconds > 0 else None,
                   "worker_cpu_seconds": round(cpu, 2), "per_cpu_second": round(sent / cpu, 1) if cpu else None,
                   "worker_peak_rss_mb": [round(peak_rss_mb(p.pid), 1) for p in procs]}
            result["throughput"].append(row)
            say(f"{n_workers} worker(s): {sent} signed requests in {row['seconds']} s = {row['per_second']}/s; "
                f"worker CPU {row['worker_cpu_seconds']} s = {row['per_cpu_second']} requests per CPU second; "
                f"peak RSS {row['worker_peak_rss_mb']} MB{'' if done else ' (INCOMPLETE)'}")
            for p in procs:
                stop(p)

        if opts.fanout_followers:
            say(f"fan-out set-up: {opts.fanout_followers} followers on {opts.fanout_hosts} hosts (shared inboxes)")
            asyncio.run(unfollow_all(env, domain))
            asyncio.run(seed_followers(env, domain, 10 ** 6, opts.fanout_followers, opts.fanout_hosts, sink_port,
                                       shared=True))
            procs = workers_start(env, opts.fanout_workers, log)
            time.sleep(1.0)
            base_count = count.value
            started = asyncio.run(post(env, domain, 1))
            done = wait_for(count, base_count + opts.fanout_hosts, 120)
            seconds = last.value - started
            fan = {"followers": opts.fanout_followers, "hosts": opts.fanout_hosts, "workers": opts.fanout_workers,
                   "requests": count.value - base_count, "complete": done, "seconds": round(seconds, 2),
                   "worker_peak_rss_mb": [round(peak_rss_mb(p.pid), 1) for p in procs]}
            result["fanout"] = fan
            say(f"fan-out: one post to {fan['followers']} followers on {fan['hosts']} hosts left in "
                f"{fan['seconds']} s ({fan['requests']} requests, {opts.fanout_workers} workers); "
                f"peak RSS {fan['worker_peak_rss_mb']} MB{'' if done else ' (INCOMPLETE)'}")
            for p in procs:
                stop(p)
    finally:
        sink.terminate()
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"delivery-{opts.db}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    say(f"wrote {out}")


if __name__ == "__main__":
    main()
