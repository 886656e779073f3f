"""Load-test one `steward serve` process on the seeded bench database.

    python bench/run.py --db sqlite                      # home timeline, then posting
    python bench/run.py --db postgres --scenario home    # one scenario
    python bench/run.py --db sqlite --profile            # plus a py-spy profile of the home timeline

For each scenario: start (once) `steward serve` with --log-level warning and no
access log, warm up, then drive it with 32 concurrent clients (wrk, or
bench/loadgen.py when wrk is missing) for a fixed time. Prints requests/s,
p50/p99 latency, non-2xx responses, the server's CPU and peak RSS, and writes the
figures as JSON to bench/results/. The load generator shares the machine's cores
with the server."""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from seed import DOMAIN, Plan, Seeded, database_settings, ensure_seeded, plan_from_args  # noqa: E402

RESULTS_DIR = BENCH_DIR / "results"
TICKS = os.sysconf("SC_CLK_TCK")

SCENARIOS: dict[str, dict[str, str]] = {
    "home": {"method": "GET", "path": "/api/v1/timelines/home",
             "title": "GET /api/v1/timelines/home (following 500)"},
    "post": {"method": "POST", "path": "/api/v1/statuses", "title": "POST /api/v1/statuses"},
    # The harness check: an endpoint that exists from day one.
    "verify": {"method": "GET", "path": "/api/v1/accounts/verify_credentials",
               "title": "GET /api/v1/accounts/verify_credentials"},
}


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the server process --------------------------------------------------------------


PRIORITY = 0  # set by --priority: how far to lower the niceness of the server and the load generator


def _raise_priority() -> None:
    if PRIORITY:
        os.nice(-PRIORITY)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, seeded: Seeded, log_path: Path, *, experiments: dict[str, str] | None = None) -> None:
        self.seeded = seeded
        self.experiments = experiments or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "STEWARD_DATA_DIR": str(self.seeded.data_dir),
               "STEWARD_DATABASE_URL": self.seeded.database_url, **self.experiments}
        entry = [str(BENCH_DIR / "experiments.py")] if self.experiments else ["-m", "steward.cli"]
        cmd = [sys.executable, *entry, "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--log-level", "warning"]
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=_raise_priority)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with {self.proc.returncode}; see {self.log_path}")
            status, _ = self.request("GET", "/api/v1/accounts/verify_credentials")
            if status == 200:
                return
            time.sleep(0.2)
        raise SystemExit(f"the server did not answer within 90 s; see {self.log_path}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                token: str | None = None) -> tuple[int, Any]:
        headers = {"Host": DOMAIN, "Authorization": f"Bearer {token or self.seeded.tokens[0]}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            return 0, None
        finally:
            conn.close()
        try:
            return resp.status, json.loads(raw or b"null")
        except ValueError:
            return resp.status, None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the kernel's peak RSS) in kB."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                out[key] = int(value.split()[0])
    return out


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def machine_cpu_seconds() -> float:
    """CPU seconds used by everything on the machine (all cores), from /proc/stat."""
    with open("/proc/stat") as fh:
        fields = fh.readline().split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4))  # all but idle and iowait
    return busy / TICKS


def wait_until_quiet(max_wait: float, threshold: float = 0.15) -> float:
    """Wait (up to `max_wait` s) until the rest of the machine uses under `threshold` of its cores
    over a 2 s window; returns the busy fraction last seen. Other work on the machine (tests, builds)
    takes CPU from the server and skews every figure."""
    cores = os.cpu_count() or 1
    deadline = time.monotonic() + max_wait
    while True:
        before = machine_cpu_seconds()
        time.sleep(2.0)
        busy = (machine_cpu_seconds() - before) / (2.0 * cores)
        if busy < threshold or time.monotonic() >= deadline:
            return busy
        say(f"machine busy ({busy:.0%} of {cores} cores used by other processes); waiting")


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            try:
                self.peak_kb = max(self.peak_kb, proc_status(self.pid).get("VmRSS", 0))
            except OSError:
                return
            self._done.wait(self.interval)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak_kb


# -- the load generator --------------------------------------------------------------


def load(server: Server, scenario: str, duration: float, connections: int, threads: int,
         use_wrk: bool) -> dict[str, Any]:
    spec = SCENARIOS[scenario]
    tokens = server.seeded.tokens
    with tempfile.TemporaryDirectory() as tmp:
        if use_wrk:
            script = Path(tmp) / "bench.lua"
            prelude = (
                "bench_tokens = {" + ",".join(json.dumps(t) for t in tokens) + "}\n"
                f"bench_method = {json.dumps(spec['method'])}\n"
                f"bench_path = {json.dumps(spec['path'])}\n"
                f"bench_host = {json.dumps(DOMAIN)}\n"
            )
            script.write_text(prelude + (BENCH_DIR / "wrk.lua").read_text())
            cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s",
                   "--timeout", "10s", "-s", str(script), server.url]
        else:
            config = Path(tmp) / "load.json"
            config.write_text(json.dumps({"url": server.url, "host": DOMAIN, "method": spec["method"],
                                          "path": spec["path"], "tokens": tokens,
                                          "connections": connections, "duration": duration}))
            cmd = [sys.executable, str(BENCH_DIR / "loadgen.py"), str(config)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120, check=False,
                              preexec_fn=_raise_priority)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, Any] | None = None
    first_error = ""
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result = json.loads(line.removeprefix("BENCH_JSON "))
        elif line.startswith("BENCH_FIRST_ERROR "):
            first_error = line.removeprefix("BENCH_FIRST_ERROR ").strip()
    if result is None:
        raise SystemExit(f"the load generator failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result["first_error"] = first_error
    result["loadgen_cpu_s"] = round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2)
    return result


# -- checks and the job backlog -------------------------------------------------------


def check_endpoint(server: Server, scenario: str) -> str | None:
    """One request by hand; a reason when the endpoint is not there or answers wrong."""
    spec = SCENARIOS[scenario]
    body = {"status": "bench check", "visibility": "public"} if spec["method"] == "POST" else None
    status, data = server.request(spec["method"], spec["path"], body)
    if status != 200:
        return f"{spec['method']} {spec['path']} answered {status}: {json.dumps(data)[:300]}"
    if scenario == "home":
        if not isinstance(data, list) or not data:
            return f"the home timeline came back empty or not a list: {json.dumps(data)[:300]}"
        if not all(isinstance(s, dict) and "id" in s and "account" in s for s in data):
            return "the home timeline's items are not statuses"
    if scenario == "post" and not (isinstance(data, dict) and "id" in data):
        return f"posting answered no status: {json.dumps(data)[:300]}"
    return None


async def _job_backlog(database_url: str) -> int:
    from sqlalchemy import func, select

    from steward.db.engine import make_null_pool_engine
    from steward.db.tables import jobs

    engine = make_null_pool_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(jobs)
                                           .where(jobs.c.state.in_(["queued", "running"])))).scalar() or 0)
    finally:
        await engine.dispose()


async def _pg_backends(database_url: str) -> list[int]:
    from sqlalchemy import text

    from steward.db.engine import make_null_pool_engine

    engine = make_null_pool_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"))).all()
            return [int(r[0]) for r in rows]
    finally:
        await engine.dispose()


def pg_backend_cpu(database_url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the bench database (same machine)."""
    if database_url.startswith("sqlite"):
        return {}
    out = {}
    for pid in asyncio.run(_pg_backends(database_url)):
        try:
            out[pid] = proc_cpu_seconds(pid)
        except OSError:
            continue
    return out


def job_backlog(database_url: str) -> int:
    return asyncio.run(_job_backlog(database_url))


def wait_for_jobs(database_url: str, timeout: float) -> tuple[int, float, int]:
    """(backlog when the load stopped, seconds to drain it, what is left after `timeout`)."""
    started = time.monotonic()
    first = left = job_backlog(database_url)
    while left and time.monotonic() - started < timeout:
        time.sleep(0.5)
        left = job_backlog(database_url)
    return first, round(time.monotonic() - started, 1), left


# -- profiling ------------------------------------------------------------------------


def summarise_profile(raw_path: Path, top: int = 25) -> str:
    """py-spy's collapsed stacks -> where the time goes: by area, by function (inclusive), self time."""
    total = 0
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    for line in raw_path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f]
        total += count
        if frames:
            self_time[frames[-1]] += count
            areas[_area(frames)] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return "(no samples)"
    lines = [f"{total} samples", "", "By area (the innermost frame that belongs to a known library):"]
    lines += [f"  {n / total:6.1%}  {area}" for area, n in areas.most_common()]
    lines += ["", f"Top {top} functions by inclusive time:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    lines += ["", f"Top {top} functions by self time:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in self_time.most_common(top)]
    return "\n".join(lines)


_AREAS = [
    ("sqlite3", "sqlite3 (the C library, in aiosqlite's thread)"), ("aiosqlite", "aiosqlite (thread hop)"),
    ("asyncpg", "asyncpg"), ("sqlalchemy", "SQLAlchemy"), ("orjson", "orjson"),
    ("steward/web/mastodon/serialize", "steward serializers"), ("steward", "steward (other)"),
    ("starlette", "Starlette"), ("uvicorn", "uvicorn/httptools"), ("httptools", "uvicorn/httptools"),
    ("uvloop", "event loop"), ("asyncio", "event loop"), ("threading", "threads (idle/queue)"),
    ("queue", "threads (idle/queue)"),
]


def _area(frames: list[str]) -> str:
    for frame in reversed(frames):
        for needle, label in _AREAS:
            if needle in frame:
                return label
    return "other"


def profile(server: Server, scenario: str, duration: float, connections: int, threads: int,
            use_wrk: bool, out_dir: Path, db: str, args_wait_quiet: float = 0.0) -> dict[str, Any]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed (pip install py-spy)")
    raw = out_dir / f"profile-{scenario}-{db}.txt"
    svg = out_dir / f"profile-{scenario}-{db}.svg"
    if args_wait_quiet:
        wait_until_quiet(args_wait_quiet)
    spy_raw = subprocess.Popen([py_spy, "record", "--pid", str(server.pid), "--duration", f"{int(duration)}",
                                "--rate", "250", "--format", "raw", "--nonblocking", "--function",
                                "--output", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    figures = load(server, scenario, duration, connections, threads, use_wrk)
    _, err = spy_raw.communicate(timeout=60)
    if spy_raw.returncode != 0 or not raw.exists():
        raise SystemExit(f"py-spy failed: {err.decode(errors='replace')}")
    summary = summarise_profile(raw)
    (out_dir / f"profile-{scenario}-{db}-summary.txt").write_text(summary + "\n")
    # A flame graph too, for a browser (a short second recording; best effort).
    spy_svg = subprocess.Popen([py_spy, "record", "--pid", str(server.pid), "--duration", "5", "--rate", "250",
                                "--nonblocking", "--output", str(svg)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    load(server, scenario, 5, connections, threads, use_wrk)
    spy_svg.wait(timeout=60)
    return {"requests_per_s_while_profiled": round(figures["requests"] / (figures["duration_us"] / 1e6), 1),
            "raw": str(raw), "svg": str(svg), "summary": summary}


# -- the run --------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=BENCH_DIR, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "kernel": platform.release(), "commit": commit}


def run_scenario(server: Server, scenario: str, args: argparse.Namespace, use_wrk: bool) -> dict[str, Any]:
    spec = SCENARIOS[scenario]
    problem = check_endpoint(server, scenario)
    if problem:
        say(f"{scenario}: not measured: {problem}")
        return {"scenario": scenario, "title": spec["title"], "skipped": problem}
    say(f"{scenario}: warming up {args.warmup:g}s")
    load(server, scenario, args.warmup, args.connections, args.threads, use_wrk)
    if scenario == "post":
        wait_for_jobs(server.seeded.database_url, args.drain_timeout)
    if args.wait_quiet:
        wait_until_quiet(args.wait_quiet)
    say(f"{scenario}: {args.connections} clients for {args.duration:g}s")
    sampler = RssSampler(server.pid)
    sampler.start()
    load_average = os.getloadavg()[0]
    db_before = pg_backend_cpu(server.seeded.database_url)
    machine_before = machine_cpu_seconds()
    cpu_before = proc_cpu_seconds(server.pid)
    figures = load(server, scenario, args.duration, args.connections, args.threads, use_wrk)
    cpu_after = proc_cpu_seconds(server.pid)
    machine_used = machine_cpu_seconds() - machine_before
    db_after = pg_backend_cpu(server.seeded.database_url)
    db_cpu = sum(v - db_before.get(pid, 0.0) for pid, v in db_after.items())
    peak_sampled = sampler.stop()
    status = proc_status(server.pid)
    seconds = figures["duration_us"] / 1e6
    errors = (figures["non2xx"] + figures["connect_errors"] + figures["read_errors"] + figures["write_errors"]
              + figures["timeouts"])
    out: dict[str, Any] = {
        "scenario": scenario, "title": spec["title"], "connections": args.connections,
        "duration_s": round(seconds, 2), "requests": figures["requests"],
        "requests_per_s": round(figures["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(figures["p50_us"] / 1000, 2), "p90_ms": round(figures["p90_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2), "p999_ms": round(figures["p999_us"] / 1000, 2),
        "max_ms": round(figures["max_us"] / 1000, 2), "mean_ms": round(figures["mean_us"] / 1000, 2),
        "errors": errors, "non2xx": figures["non2xx"], "first_error": figures["first_error"],
        "server_cpu_s": round(cpu_after - cpu_before, 2),
        "server_cpu_ms_per_request": round((cpu_after - cpu_before) * 1000 / max(1, figures["requests"]), 3),
        "loadgen_cpu_s": figures["loadgen_cpu_s"],
        # Whatever else ran on the machine meanwhile (other work shares the cores too).
        "database_cpu_s": round(db_cpu, 2),
        "other_cpu_s": round(max(0.0, machine_used - (cpu_after - cpu_before) - figures["loadgen_cpu_s"] - db_cpu), 2),
        "contended": machine_used - (cpu_after - cpu_before) - figures["loadgen_cpu_s"] - db_cpu
        > 0.1 * seconds * (os.cpu_count() or 1),
        "load_average_before": round(load_average, 2),
        "peak_rss_mb_during": round(peak_sampled / 1024, 1),
        "peak_rss_mb_process": round(status.get("VmHWM", 0) / 1024, 1),
    }
    if scenario == "post":
        backlog, drained_in, left = wait_for_jobs(server.seeded.database_url, args.drain_timeout)
        out.update({"job_backlog_after": backlog, "job_drain_s": drained_in, "jobs_left": left})
        out["peak_rss_mb_process"] = round(proc_status(server.pid).get("VmHWM", 0) / 1024, 1)
    return out


def print_table(db: str, results: list[dict[str, Any]]) -> None:
    print()
    print(f"{db}: {results[0]['connections'] if results and 'connections' in results[0] else ''} clients")
    header = f"{'scenario':<44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'cpu ms/req':>10} " \
             f"{'peak RSS MB':>11}"
    print(header)
    print("-" * len(header))
    for r in results:
        if "skipped" in r:
            print(f"{r['title']:<44} not measured: {r['skipped']}")
            continue
        print(f"{r['title']:<44} {r['requests_per_s']:>8.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
              f"{r['errors']:>7} {r['server_cpu_ms_per_request']:>10.3f} {r['peak_rss_mb_process']:>11.1f}")
        if r["contended"]:
            print(f"{'':<44} WARNING: other processes used the CPU during this run; the figures are low")
        print(f"{'':<44} server {r['server_cpu_s']:.1f} CPU-s, load generator {r['loadgen_cpu_s']:.1f}, "
              f"PostgreSQL backends {r['database_cpu_s']:.1f}, "
              f"other processes {r['other_cpu_s']:.1f} (of {r['duration_s'] * (os.cpu_count() or 1):.0f} "
              "available)")
        if r["errors"]:
            print(f"{'':<44} first error: {r['first_error'][:200]}")
        if "job_backlog_after" in r:
            print(f"{'':<44} jobs queued when the load stopped: {r['job_backlog_after']}, drained in "
                  f"{r['job_drain_s']}s, left {r['jobs_left']}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", help="overrides the default database of --db")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS),
                        help="repeatable; default: home then post")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of measured load per scenario")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (each one takes CPU from the server)")
    parser.add_argument("--drain-timeout", type=float, default=60.0,
                        help="how long to wait for fan-out jobs after the posting load")
    parser.add_argument("--python-loadgen", action="store_true", help="use bench/loadgen.py even when wrk exists")
    parser.add_argument("--wait-quiet", type=float, default=120.0, metavar="SECONDS",
                        help="before measuring, wait up to this long for other processes to go quiet (0: don't)")
    parser.add_argument("--priority", type=int, default=0, metavar="N",
                        help="run the server and the load generator N nice levels above other processes "
                             "(needs root); on a shared machine this keeps other work from starving them")
    parser.add_argument("--profile", action="store_true", help="also record a py-spy profile of each scenario")
    parser.add_argument("--reset", action="store_true", help="seed a fresh database first")
    parser.add_argument("--inline-sqlite", action="store_true",
                        help="experiment: run the server with aiosqlite's thread hops removed (bench/experiments.py)")
    parser.add_argument("--sqlite-cache-kib", type=int,
                        help="experiment: each SQLite connection's page cache, in KiB (bench/experiments.py)")
    parser.add_argument("--accounts", type=int, default=Plan.accounts)
    parser.add_argument("--statuses", type=int, default=Plan.statuses)
    parser.add_argument("--bench-accounts", type=int, default=Plan.bench_accounts)
    parser.add_argument("--following", type=int, default=Plan.following)
    args = parser.parse_args(argv)
    scenarios = args.scenario or ["home", "post"]
    global PRIORITY
    PRIORITY = args.priority
    use_wrk = shutil.which("wrk") is not None and not args.python_loadgen
    if not use_wrk:
        say("wrk not found: using bench/loadgen.py (Python; it takes more CPU from the server than wrk would)")

    settings = database_settings(args.db, args.database_url)
    seeded = asyncio.run(ensure_seeded(settings, plan_from_args(args), reset=args.reset))
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    experiments: dict[str, str] = {}
    if args.inline_sqlite:
        experiments["STEWARD_BENCH_INLINE_SQLITE"] = "1"
    if args.sqlite_cache_kib is not None:
        experiments["STEWARD_BENCH_SQLITE_CACHE_KIB"] = str(args.sqlite_cache_kib)
    server = Server(seeded, RESULTS_DIR / f"server-{args.db}-{stamp}.log", experiments=experiments)
    say(f"starting steward serve on {server.url} ({args.db})")
    server.start()
    results: list[dict[str, Any]] = []
    profiles: dict[str, Any] = {}
    try:
        say(f"server pid {server.pid}, RSS after start {proc_status(server.pid).get('VmRSS', 0) / 1024:.1f} MB")
        for scenario in scenarios:
            results.append(run_scenario(server, scenario, args, use_wrk))
            if args.profile and "skipped" not in results[-1]:
                say(f"{scenario}: profiling with py-spy")
                profiles[scenario] = profile(server, scenario, args.duration, args.connections, args.threads,
                                             use_wrk, RESULTS_DIR, args.db, args.wait_quiet)
                print(profiles[scenario]["summary"])
    finally:
        server.stop()
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "db": args.db,
        "database": "sqlite" if settings.is_sqlite else "postgresql", "machine": machine(),
        "load_generator": "wrk" if use_wrk else "bench/loadgen.py", "wrk_threads": args.threads,
        "experiments": experiments, "priority": args.priority,
        "seed": plan_from_args(args).marker(), "results": results,
        "profiles": {k: {kk: vv for kk, vv in v.items() if kk != "summary"} for k, v in profiles.items()},
    }
    out = RESULTS_DIR / f"{stamp}-{args.db}{'-experiment' if experiments else ''}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(args.db, results)
    say(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
