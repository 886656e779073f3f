"""Runs the Mastodon.py test suite (from its PyPI sdist) against a freshly seeded
Steward on http://localhost:3000. `scripts/compat-mastodon-py` is the entry point.

Steps: download and unpack the sdist of the installed Mastodon.py version, install
the suite's test dependencies, make an empty database (SQLite in a scratch folder, or
a new database on the PostgreSQL server STEWARD_DATABASE_URL names), migrate, seed,
serve, run the suite with --disable-recording (test_entities.py excluded), write
FAILING.md-style results, stop the server, and print the pytest summary line last."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.compat import report

PINNED_VERSION = "2.3.3"
PORT = 3000
TARGET_RATE = 0.70
PER_TEST_TIMEOUT = 90
# The suite's test extras (its pyproject: test, webpush, websocket_streaming, magic), plus
# pytest-timeout so a hanging streaming test cannot block the run. pytest-cov is left out:
# its addopts are overridden.
SUITE_DEPS = ["vcrpy", "pytest-recording", "pytest-mock", "requests-mock", "pytz", "pytest-retry",
              "pytest-timeout", "http_ece>=1.0.5", "cryptography>=1.6.0", "websocket-client>=1.0.0",
              "python-magic", "graphemeu>=0.7.2"]
# The suite's `blurhash` (pure Python) shares its import name with Steward's blurhash-python,
# so it goes into a folder of its own, on the suite's PYTHONPATH only.
SIDE_DEPS = ["blurhash>=1.1.4"]
REPO = Path(__file__).resolve().parents[2]


def log(msg: str) -> None:
    print(f"[compat] {msg}", flush=True)


def run(cmd: list[str], **kw: object) -> None:
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


def pip(py: str, *args: str) -> None:
    """pip, with its chatter shown only when it fails."""
    done = subprocess.run([py, "-m", "pip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"pip {args[0]} failed")


def ensure_client_version(py: str) -> str:
    try:
        installed = importlib.metadata.version("Mastodon.py")
    except importlib.metadata.PackageNotFoundError:
        installed = ""
    if installed != PINNED_VERSION:
        log(f"installing Mastodon.py=={PINNED_VERSION} (found {installed or 'none'})")
        pip(py, "install", "-q", f"Mastodon.py=={PINNED_VERSION}")
    return PINNED_VERSION


def fetch_suite(py: str, version: str, scratch: Path) -> Path:
    dl = scratch / "sdist"
    dl.mkdir()
    log(f"downloading the Mastodon.py {version} sdist from PyPI")
    pip(py, "download", "-q", "--no-deps", "--no-binary", ":all:", "-d", str(dl), f"Mastodon.py=={version}")
    archives = sorted(dl.glob("*.tar.gz"))
    if not archives:
        raise SystemExit("no sdist was downloaded")
    with tarfile.open(archives[0]) as tar:
        tar.extractall(scratch, filter="data")
    roots = [p for p in scratch.iterdir() if p.is_dir() and (p / "tests" / "conftest.py").exists()]
    if not roots:
        raise SystemExit("the sdist holds no tests/ folder")
    return roots[0]


def install_suite_deps(py: str, side_dir: Path) -> None:
    log("installing the suite's test dependencies")
    pip(py, "install", "-q", *SUITE_DEPS)
    pip(py, "install", "-q", "--no-deps", "--target", str(side_dir), *SIDE_DEPS)
    shutil.copy(Path(__file__).with_name("suite_plugin.py"), side_dir / "steward_compat_plugin.py")


def fresh_database(scratch: Path) -> tuple[dict[str, str], str | None]:
    """Environment for an empty database; the second value is a PostgreSQL database to drop after."""
    env = dict(os.environ)
    env["STEWARD_DATA_DIR"] = str(scratch / "data")
    base = os.environ.get("STEWARD_DATABASE_URL")
    if not base:
        env.pop("STEWARD_DATABASE_URL", None)
        return env, None
    from sqlalchemy import make_url

    from steward.settings import normalise_database_url

    url = make_url(normalise_database_url(base))
    name = f"{url.database}_compat_{os.getpid()}"
    asyncio.run(_pg_admin(url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
    env["STEWARD_DATABASE_URL"] = url.set(database=name).render_as_string(hide_password=False)
    return env, name


async def _pg_admin(url: object, *statements: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)  # type: ignore[arg-type]
    async with engine.connect() as conn:
        for sql in statements:
            await conn.execute(text(sql))
    await engine.dispose()


def drop_database(name: str) -> None:
    from sqlalchemy import make_url

    from steward.settings import normalise_database_url

    url = make_url(normalise_database_url(os.environ["STEWARD_DATABASE_URL"]))
    asyncio.run(_pg_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def wait_ready(proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    req = urllib.request.Request(f"http://localhost:{PORT}/api/v1/instance", headers={"Host": f"localhost:{PORT}"})
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"steward serve exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(req, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except OSError:
            time.sleep(0.3)
    raise SystemExit("steward serve did not answer within a minute")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder for logs and results (default: the scratch folder)")
    parser.add_argument("--write-failing", action="store_true",
                        help="rewrite tests/compat/FAILING.md from this run")
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for pytest (e.g. -k expression)")
    args = parser.parse_args(argv)

    py = sys.executable
    steward_bin = str(Path(py).with_name("steward"))
    scratch = Path(tempfile.mkdtemp(prefix="steward-compat-"))
    out = (args.out or scratch).resolve()
    out.mkdir(parents=True, exist_ok=True)
    log(f"scratch folder {scratch}")
    if not port_free(PORT):
        log(f"port {PORT} is already in use; the suite needs http://localhost:{PORT}. Stop that server first.")
        return 2

    version = ensure_client_version(py)
    suite = fetch_suite(py, version, scratch)
    side = scratch / "side-packages"
    install_suite_deps(py, side)

    env, pg_db = fresh_database(scratch)
    server = None
    server_log = out / "server.log"
    pytest_log = out / "pytest.log"
    junit = out / "junit.xml"
    try:
        run([steward_bin, "migrate"], env=env, stdout=subprocess.DEVNULL)
        run([py, "-m", "tests.compat.seed"], env=env, cwd=REPO)
        log(f"starting steward serve on 127.0.0.1:{PORT} (log: {server_log})")
        with server_log.open("wb") as fh:
            server = subprocess.Popen(
                [steward_bin, "serve", "--host", "127.0.0.1", "--port", str(PORT), "--access-log",
                 "--log-level", "info"], env=env, stdout=fh, stderr=subprocess.STDOUT)
        wait_ready(server)
        suite_env = dict(os.environ)
        suite_env["PYTHONPATH"] = str(side)
        cmd = [py, "-m", "pytest", "tests", "--disable-recording", "--ignore=tests/test_entities.py",
               "-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "steward_compat_plugin", "-q", "-rfE",
               "-o", "addopts=", f"--timeout={PER_TEST_TIMEOUT}", f"--junitxml={junit}", *args.pytest_args]
        log(f"running the suite in {suite} (log: {pytest_log})")
        with pytest_log.open("wb") as fh:
            subprocess.run(cmd, cwd=suite, env=suite_env, stdout=fh, stderr=subprocess.STDOUT, check=False)
    finally:
        if server is not None:
            stop(server)
        if pg_db:
            drop_database(pg_db)

    results = report.parse_junit(junit)
    counts = report.count(results)
    if args.write_failing:
        target = REPO / "tests" / "compat" / "FAILING.md"
        target.write_text(report.failing_markdown(results, version))
        log(f"wrote {target}")
    (out / "FAILING.md").write_text(report.failing_markdown(results, version))
    unexplained = [r.nodeid for r in results if r.outcome in {"failed", "error"} and not report.reason_for(r.nodeid)]
    if unexplained:
        log(f"{len(unexplained)} failing tests have no reason in tests/compat/reasons.py yet")
    stale = report.stale_reasons(results)
    if stale:
        log(f"reasons.py entries no failing test uses any more (fixed?): {', '.join(stale)}")
    passed, ran, rate = report.pass_rate(counts)
    s_passed, s_ran, s_rate = report.pass_rate(report.count(results, server_only=True))
    log(f"logs: {pytest_log} and {server_log}; results: {out / 'FAILING.md'}")
    log(f"all tests: {passed}/{ran} passed ({rate:.1%}), {counts['skipped']} skipped")
    log(f"server tests: {s_passed}/{s_ran} passed = {s_rate:.1%} (target {TARGET_RATE:.0%})")
    print(report.summary_line(pytest_log), flush=True)
    return 0 if s_ran and s_rate >= TARGET_RATE else 1


if __name__ == "__main__":
    sys.exit(main())
