"""fediverse-pasture's `verify_actor` (PyPI `fediverse-pasture`) against a Steward
account, both real processes on loopback (issue #3, acceptance 2).

verify_actor serves six test actors and, for each, GETs our actor and POSTs a
`Like` to its inbox: alice posts unsigned (must be refused), bob signs (must be
accepted), claire signs and serves her key only to signed GETs (we must sign
our key fetch to accept her). dean, emily and frank are the same three without
a WebFinger account and without preferredUsername. It finally checks the WebFinger round trip for our actor."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import LiveServer, free_port


@pytest.fixture(scope="module")
def verify_actor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The pasture's verify_actor application on its own port (it keeps its
    generated actor keys in data.toml in its working directory)."""
    tmp: Path = tmp_path_factory.mktemp("pasture")
    port = free_port()
    log = tmp / "verify_actor.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "fediverse_pasture.verify_actor", "--port", str(port),
                                    "--domain", f"localhost:{port}", "--timeout", "10"],
                                   cwd=tmp, stdout=out, stderr=subprocess.STDOUT, env={**os.environ})
    base = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"verify_actor exited: {log.read_text()}")
        try:
            if httpx.get(f"{base}/bob", timeout=2, headers={"Accept": "application/activity+json"}).status_code < 500:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        process.kill()
        raise RuntimeError(f"verify_actor did not start: {log.read_text()}")
    yield base
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def run_verify(base: str, actor_uri: str) -> dict[str, Any]:
    r = httpx.post(base + "/", data={"actor_uri": actor_uri}, headers={"Accept": "application/json"}, timeout=120)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_verify_actor_against_a_steward_account(live_server: LiveServer, verify_actor: str) -> None:
    live_server.user("pasture")
    actor_uri = f"{live_server.base_url}/users/pasture"
    data = run_verify(verify_actor, actor_uri)
    result, messages = data["result"], data["messages"]
    # Every persona could read our actor (it is public).
    for name in ("alice", "bob", "claire", "dean", "emily", "frank"):
        assert result[name]["get_actor"] is True, (name, messages)
    # Unsigned POSTs are refused; signed ones accepted, also from an actor whose key needs a signed fetch.
    assert result["alice"]["post_inbox"] is False, messages
    assert result["dean"]["post_inbox"] is False, messages
    assert result["bob"]["post_inbox"] is True, messages
    assert result["claire"]["post_inbox"] is True, messages
    # emily and frank have no preferredUsername. Mastodon refuses such actors ("has no 'preferredUsername',
    # which is a requirement for Mastodon compatibility": app/services/activitypub/fetch_remote_actor_service.rb),
    # so their key is never stored and their POST is refused: Steward does the same.
    assert result["emily"]["post_inbox"] is False, messages
    assert result["frank"]["post_inbox"] is False, messages
    # The WebFinger round trip: acct:pasture@localhost:PORT names this very actor.
    assert result["webfinger"] is True, messages


def test_verify_actor_by_handle(live_server: LiveServer, verify_actor: str) -> None:
    live_server.user("pasture2")
    data = run_verify(verify_actor, f"acct:pasture2@{live_server.domain}")
    assert data["result"]["bob"]["post_inbox"] is True, data["messages"]
    assert data["result"]["webfinger"] is True, data["messages"]
