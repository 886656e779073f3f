"""Inbound federation throughput: signed activities POSTed to a real `steward serve`
process on loopback, then the `ap.inbox` jobs they queued processed by a
`steward worker` process.

    python bench/inbox.py --db sqlite
    python bench/inbox.py --db postgres --database-url postgresql://...   (or $PG_URL)
    python bench/inbox.py --kind follow --activities 5000 --actors 100

Set-up (not timed): a fresh database with one tenant and its user alice, N remote
actors stored with their public keys (so no key is fetched: the figure is
verify + parse + store), and every activity signed in advance (draft-cavage
rsa-sha256 over (request-target) host date digest, as Mastodon signs).

Phase 1, accept: C keep-alive connections from a separate client process POST
the activities to the shared inbox; each must answer 202 (signature verified,
activity parsed, deduplicated and stored as a job). Printed: activities/s by wall
clock and per CPU second of the server process (the per-core figure; the client
runs on another core), latency percentiles, non-202 answers.

Phase 2, process: `steward worker` runs the queued `ap.inbox` jobs (Create Note:
the status is stored for the tenant; Follow: the follow, its notification and the
Accept delivery job). Printed: jobs/s by wall clock and per worker CPU second.

Done jobs are deleted by the queue, so progress is read as the queued count falling.
Both processes' peak RSS (VmHWM) is printed. JSON goes to bench/results/."""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
TICKS = os.sysconf("SC_CLK_TCK")


def say(message: str) -> None:
    print(f"[inbox {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cli(env: dict[str, str], *args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "steward.cli", *args], env=env, capture_output=True, text=True,
                       timeout=300, check=False)
    if r.returncode != 0:
        raise SystemExit(f"steward {' '.join(args)} failed: {r.stderr}")
    return r.stdout


async def fresh_pg_database(url: str, name: str) -> str:
    from sqlalchemy import make_url, text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from steward.settings import normalise_database_url

    parsed = make_url(normalise_database_url(url))
    admin = create_async_engine(parsed, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


# -- set-up ----------------------------------------------------------------------------

def actor_doc(i: int, public_pem: str) -> dict[str, Any]:
    uri = f"https://peer{i}.bench.example/users/u{i}"
    return {"id": uri, "type": "Person", "preferredUsername": f"u{i}", "inbox": f"{uri}/inbox",
            "endpoints": {"sharedInbox": f"https://peer{i}.bench.example/inbox"}, "followers": f"{uri}/followers",
            "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_pem}}


async def seed_actors(env: dict[str, str], domain: str, actors: list[dict[str, Any]]) -> None:
    from steward.container import Container
    from steward.federation.actors import upsert_remote_actor
    from steward.settings import Settings

    c = Container(Settings.from_env(env))
    try:
        tenant = await c.tenants.by_domain(domain)
        assert tenant is not None
        async with c.db.write() as conn:
            for doc in actors:
                await upsert_remote_actor(conn, tenant, doc)
    finally:
        await c.close()


def activity(kind: str, n: int, actor: str, alice: str) -> dict[str, Any]:
    public = "https://www.w3.org/ns/activitystreams#Public"
    if kind == "follow":
        return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}/follows/{n}", "type": "Follow",
                "actor": actor, "object": alice}
    note = {"id": f"{actor}/statuses/{n}", "type": "Note", "attributedTo": actor,
            "content": f"<p>Bench note {n}: the quick brown fox jumps over the lazy dog.</p>",
            "published": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "to": [public],
            "cc": [f"{actor}/followers"], "url": f"{actor}/statuses/{n}", "sensitive": False, "tag": [],
            "attachment": []}
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}/statuses/{n}/activity",
            "type": "Create", "actor": actor, "published": note["published"], "to": note["to"], "cc": note["cc"],
            "object": note}


def presign(kind: str, count: int, actors: list[tuple[str, str]], url: str, alice: str) -> list[bytes]:
    """Whole HTTP/1.1 requests, ready to write to a socket."""
    from urllib.parse import urlsplit

    import orjson

    from steward.activitypub.signatures import sign_request

    parts = urlsplit(url)
    out = []
    for n in range(count):
        actor, pem = actors[n % len(actors)]
        body = orjson.dumps(activity(kind, n, actor, alice))
        headers = {k.lower(): v for k, v in sign_request("POST", url, f"{actor}#main-key", pem, body=body).items()}
        head = [f"POST {parts.path} HTTP/1.1", f"Host: {headers.pop('host')}",
                "Content-Type: application/activity+json", f"Content-Length: {len(body)}"]
        head += [f"{k.title()}: {v}" for k, v in headers.items()]
        out.append(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    return out


def calibrate() -> dict[str, Any]:
    """How fast this machine is right now, in CPU time: the figures below scale with it
    (shared/DESIGN.md measured about 4,000 signs and 50,000 verifies per CPU second here)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from steward.activitypub.keycache import load_private_key, load_public_key
    from steward.activitypub.keys import generate_key_pair

    private_pem, public_pem = generate_key_pair()
    private, public = load_private_key(private_pem), load_public_key(public_pem)
    data = b"x" * 256
    start = time.process_time()
    for _ in range(200):
        signature = private.sign(data, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg]
    sign = 200 / (time.process_time() - start)
    start = time.process_time()
    for _ in range(2000):
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg]
    verify = 2000 / (time.process_time() - start)
    return {"rsa_sign_per_cpu_second": round(sign), "rsa_verify_per_cpu_second": round(verify),
            "load_average": round(os.getloadavg()[0], 1)}


# -- the client (its own process) ------------------------------------------------------

async def _connection(host: str, port: int, requests: list[bytes], latencies: list[float],
                      statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for raw in requests:
            start = time.perf_counter()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def run_client(host: str, port: int, requests: list[bytes], connections: int, queue: Any) -> None:
    async def main() -> dict[str, Any]:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        shares = [requests[i::connections] for i in range(connections)]
        start = time.perf_counter()
        await asyncio.gather(*(_connection(host, port, s, latencies, statuses) for s in shares if s))
        return {"seconds": time.perf_counter() - start, "latencies": sorted(latencies), "statuses": statuses}

    queue.put(asyncio.run(main()))


# -- the server and the worker ---------------------------------------------------------

def start(env: dict[str, str], args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "steward.cli", *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def wait_ready(port: int, domain: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/instance", headers={"Host": domain})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not start")


async def job_counts(env: dict[str, str]) -> dict[str, int]:
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from steward.db.tables import jobs

    engine = create_async_engine(env["STEWARD_DATABASE_URL"], poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(jobs.c.state, func.count()).where(
                jobs.c.kind == "ap.inbox").group_by(jobs.c.state))).all()
    finally:
        await engine.dispose()
    return {str(state): int(n) for state, n in rows}


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000 if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default=os.environ.get("PG_URL", ""))
    parser.add_argument("--kind", choices=["create", "follow"], default="create")
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--actors", type=int, default=50)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-process", action="store_true", help="skip phase 2")
    parser.add_argument("--py-spy", metavar="FILE", help="record the server during phase 1 (collapsed stacks)")
    opts = parser.parse_args()

    from steward.activitypub.keys import generate_key_pair

    tmp = Path(tempfile.mkdtemp(prefix="steward-bench-inbox-"))
    port = free_port()
    domain = f"localhost:{port}"
    env = {**os.environ, "STEWARD_DATA_DIR": str(tmp), "STEWARD_NO_INPROCESS_JOBS": "1", "PYTHONHASHSEED": "0"}
    env.pop("STEWARD_ALLOW_PRIVATE_ADDRESSES", None)
    if opts.db == "postgres":
        if not opts.database_url:
            raise SystemExit("--database-url or $PG_URL is needed for PostgreSQL")
        env["STEWARD_DATABASE_URL"] = asyncio.run(fresh_pg_database(opts.database_url, "steward_bench_inbox"))
    else:
        env["STEWARD_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp / 'steward.sqlite3'}"
    log = tmp / "steward.log"

    say(f"set-up in {tmp}: tenant {domain}, {opts.actors} remote actors, {opts.activities} signed {opts.kind}s")
    cli(env, "migrate")
    cli(env, "tenant", "create", domain, "--name", "Bench")
    cli(env, "user", "create", domain, "alice", "--email", "alice@bench.test", "--password", "bench bench bench")
    keys = [generate_key_pair() for _ in range(opts.actors)]
    docs = [actor_doc(i, public) for i, (_, public) in enumerate(keys)]
    asyncio.run(seed_actors(env, domain, docs))
    url = f"http://{domain}/inbox"
    alice = f"http://{domain}/users/alice"
    t0 = time.perf_counter()
    requests = presign(opts.kind, opts.activities, [(d["id"], k[0]) for d, k in zip(docs, keys, strict=True)],
                       url, alice)
    result_calibration = calibrate()
    say(f"calibration: RSA-2048 sign {result_calibration['rsa_sign_per_cpu_second']}/CPU s, verify "
        f"{result_calibration['rsa_verify_per_cpu_second']}/CPU s in this process (load average "
        f"{result_calibration['load_average']})")
    say(f"signed {len(requests)} activities in {time.perf_counter() - t0:.1f} s "
        f"(mean body {sum(len(r) for r in requests) / len(requests):.0f} bytes with headers)")

    server = start(env, ["serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], log)
    result: dict[str, Any] = {"db": opts.db, "kind": opts.kind, "activities": opts.activities,
                              "actors": opts.actors, "connections": opts.connections,
                              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                          **result_calibration},
                              "at": datetime.now(UTC).isoformat()}
    try:
        wait_ready(port, domain, server, log)
        # Warm-up: a few requests of a throwaway kind through the same path (imports, pools, caches).
        warm = presign("follow", 50, [(docs[0]["id"], keys[0][0])], url, alice)
        q: Any = multiprocessing.get_context("spawn").Queue()
        run_client("127.0.0.1", port, warm, 4, q)
        q.get()
        spy = None
        if opts.py_spy:
            spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(server.pid),
                                    "-o", opts.py_spy, "--format", "raw", "-r", "250", "--nonblocking"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
        cpu0 = cpu_seconds(server.pid)
        proc = multiprocessing.get_context("spawn").Process(
            target=run_client, args=("127.0.0.1", port, requests, opts.connections, q))
        proc.start()
        client = q.get()
        proc.join()
        server_cpu = cpu_seconds(server.pid) - cpu0
        if spy is not None:
            spy.send_signal(2)
            spy.wait(timeout=30)
        ok = client["statuses"].get(202, 0)
        accept = {"seconds": round(client["seconds"], 2), "accepted": ok,
                  "per_second": round(ok / client["seconds"], 1),
                  "server_cpu_seconds": round(server_cpu, 2),
                  "per_cpu_second": round(ok / server_cpu, 1) if server_cpu else None,
                  "p50_ms": round(pct(client["latencies"], 50), 2), "p99_ms": round(pct(client["latencies"], 99), 2),
                  "statuses": {str(k): v for k, v in client["statuses"].items()},
                  "server_peak_rss_mb": round(peak_rss_mb(server.pid), 1)}
        result["accept"] = accept
        say(f"accept: {ok} of {opts.activities} answered 202 in {accept['seconds']} s = {accept['per_second']}/s; "
            f"server CPU {accept['server_cpu_seconds']} s = {accept['per_cpu_second']} activities per CPU second; "
            f"p50 {accept['p50_ms']} ms p99 {accept['p99_ms']} ms; answers {accept['statuses']}; "
            f"server peak RSS {accept['server_peak_rss_mb']} MB")
    finally:
        stop(server)

    if not opts.no_process:
        counts = asyncio.run(job_counts(env))
        queued = counts.get("queued", 0)
        worker = start(env, ["worker"], log)
        try:
            begin = time.perf_counter()
            cpu_begin = 0.0
            started_at = None
            while True:
                time.sleep(0.25)
                counts = asyncio.run(job_counts(env))
                if started_at is None and counts.get("queued", 0) < queued:
                    started_at, cpu_begin = time.perf_counter(), 0.0
                if counts.get("queued", 0) == 0 and counts.get("running", 0) == 0:
                    break
                if time.perf_counter() - begin > 900:
                    say("processing did not finish in 15 minutes")
                    break
            seconds = time.perf_counter() - (started_at or begin)
            worker_cpu = cpu_seconds(worker.pid) - cpu_begin
            done = queued - counts.get("queued", 0) - counts.get("running", 0) - counts.get("failed", 0)
            result["process"] = {"jobs": queued, "done": done, "failed": counts.get("failed", 0),
                                 "seconds": round(seconds, 2), "per_second": round(done / seconds, 1),
                                 "worker_cpu_seconds_incl_startup": round(worker_cpu, 2),
                                 "worker_peak_rss_mb": round(peak_rss_mb(worker.pid), 1)}
            say(f"process: {done} ap.inbox jobs done ({counts.get('failed', 0)} failed) in {seconds:.1f} s = "
                f"{result['process']['per_second']}/s; worker CPU {worker_cpu:.1f} s (with start-up); "
                f"worker peak RSS {result['process']['worker_peak_rss_mb']} MB")
        finally:
            stop(worker)
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"inbox-{opts.db}-{opts.kind}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    say(f"wrote {out.relative_to(BENCH_DIR.parent)}")


if __name__ == "__main__":
    main()
