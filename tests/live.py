"""A real Steward server process on loopback, driven by real clients.

The server gets its own data dir, and on PostgreSQL its own database. The
`live_server` fixture (one per session) is registered in tests/conftest.py."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from steward.settings import normalise_database_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _create_pg_database(url: str, name: str) -> str:
    parsed = make_url(normalise_database_url(url))
    admin = create_async_engine(parsed, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@dataclass
class LiveServer:
    base_url: str
    domain: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def cli(self, *args: str) -> str:
        r = subprocess.run([sys.executable, "-m", "steward.cli", *args], env=self.env, capture_output=True,
                           text=True, timeout=120, check=False)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def user(self, username: str, role: str = "user") -> str:
        """Creates a user and returns an access token for it."""
        self.cli("user", "create", self.domain, username, "--email", f"{username}@example.test",
                 "--password", "correct horse battery", "--role", role)
        return self.cli("token", "create", self.domain, username, "--scopes", "read write follow push")


def _start(tmp: Path, port: int, env: dict[str, str]) -> LiveServer:
    log = tmp / "server.log"
    domain = f"localhost:{port}"
    pre = subprocess.run([sys.executable, "-m", "steward.cli", "tenant", "create", domain, "--name", "Live",
                          "--password-grant"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert pre.returncode == 0, pre.stderr
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "steward.cli", "serve", "--host", "127.0.0.1",
                                    "--port", str(port), "--log-level", "warning"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    base = f"http://{domain}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"{base}/api/v1/instance", timeout=2).status_code < 500:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"server did not start: {log.read_text()}")
    return LiveServer(base, domain, env, process, log)


def live_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live")
    port = free_port()
    env = {**os.environ, "STEWARD_DATA_DIR": str(tmp), "STEWARD_ALLOW_PRIVATE_ADDRESSES": "1"}
    pg = os.environ.get("STEWARD_TEST_DATABASE_URL")
    if pg:
        env["STEWARD_DATABASE_URL"] = asyncio.run(_create_pg_database(pg, f"steward_live_{os.getpid()}_{uuid.uuid4().hex[:8]}"))
    else:
        env.pop("STEWARD_DATABASE_URL", None)
    server = _start(tmp, port, env)
    yield server
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
