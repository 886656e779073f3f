"""Acceptance 4, "nothing lost": a real Steward process delivers a post to 100
remote inboxes on 10 hosts (a fake peer on loopback), is killed with SIGKILL
in the middle of delivering, and restarted; afterwards every inbox has the
Create, exactly once per activity id once the receiver deduplicates."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.federation.peer_inboxes import Peer, signed_follow
from tests.live import _create_pg_database, free_port

FOLLOWERS = 100
HOSTS = 10


def _cli(env: dict[str, str], *args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "steward.cli", *args], env=env, capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "steward.cli", "serve", "--host", "127.0.0.1", "--port",
                                 str(port), "--log-level", "warning"], env=env, stdout=out, stderr=subprocess.STDOUT)


async def _until(check, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    start = time.monotonic()
    while time.monotonic() < deadline:
        if await check():
            print(f"{what}: {time.monotonic() - start:.1f}s")
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    p = Peer()
    await p.start([f"peer{i}.test" for i in range(HOSTS)])
    yield p
    await p.stop()


async def test_killed_while_delivering_loses_nothing(tmp_path: Path, peer: Peer) -> None:
    port = free_port()
    domain = f"localhost:{port}"
    env = {**os.environ, "STEWARD_DATA_DIR": str(tmp_path), "STEWARD_ALLOW_PRIVATE_ADDRESSES": "1",
           "STEWARD_HOSTS_FILE": str(peer.write_hosts_file(tmp_path / "hosts"))}
    pg = os.environ.get("STEWARD_TEST_DATABASE_URL")
    if pg:
        env["STEWARD_DATABASE_URL"] = await _create_pg_database(pg, f"steward_crash_{uuid.uuid4().hex[:10]}")
    else:
        env.pop("STEWARD_DATABASE_URL", None)
    _cli(env, "tenant", "create", domain, "--name", "Crash", "--password-grant")
    _cli(env, "user", "create", domain, "alice", "--email", "alice@example.test", "--password", "correct horse b")
    token = _cli(env, "token", "create", domain, "alice", "--scopes", "read write follow")
    log = tmp_path / "server.log"
    server = _serve(env, port, log)
    base = f"http://{domain}"
    api = httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    try:
        async def up() -> bool:
            if server.poll() is not None:
                raise AssertionError(log.read_text())
            try:
                return (await api.get("/api/v1/instance")).status_code == 200
            except httpx.HTTPError:
                return False

        await _until(up, 60, "the server")
        # 100 followers on 10 hosts, each with its own inbox, through signed Follows.
        alice = f"{base}/users/alice"
        actors = peer.actors(FOLLOWERS)
        for n, actor in enumerate(actors):
            body, headers = signed_follow(actor, alice, f"{alice}/inbox", n)
            r = await api.post("/users/alice/inbox", content=body, headers=headers)
            assert r.status_code == 202, r.text

        async def followed() -> bool:
            me = (await api.get("/api/v1/accounts/verify_credentials")).json()
            return me["followers_count"] == FOLLOWERS

        await _until(followed, 120, "100 followers")
        inboxes = {f"{actor}/inbox" for actor in actors}
        await _until(lambda: _has_all(peer, inboxes, "Accept"), 60, "the Accepts")

        # Post, and kill the server while the Creates are on their way.
        peer.create_delay = 0.05
        r = await api.post("/api/v1/statuses", data={"status": "nothing lost"})
        assert r.status_code == 200, r.text
        create_id = f"{alice}/statuses/{r.json()['id']}/activity"

        async def some_arrived() -> bool:
            return sum(1 for i in inboxes if peer.ids_at(i, "Create")) >= 10

        await _until(some_arrived, 60, "the first deliveries")
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        before_restart = sum(1 for i in inboxes if peer.ids_at(i, "Create"))
        assert before_restart < FOLLOWERS, "killed too late: every delivery had already been made"

        peer.create_delay = 0.0
        server = _serve(env, port, log)
        await _until(up, 60, "the restarted server")
        await _until(lambda: _has_all(peer, inboxes, "Create"), 120, "every inbox to get the post")
        for inbox in inboxes:
            assert set(peer.ids_at(inbox, "Create")) == {create_id}, inbox
        repeats = sum(len(peer.ids_at(i, "Create")) for i in inboxes) - FOLLOWERS
        # At least once: only deliveries in flight at the kill may repeat.
        assert repeats <= 20, repeats
        assert set(peer.received) == inboxes
    finally:
        await api.aclose()
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


async def _has_all(peer: Peer, inboxes: set[str], kind: str) -> bool:
    return all(peer.ids_at(inbox, kind) for inbox in inboxes)
