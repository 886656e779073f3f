"""The steward command, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def steward(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STEWARD_DATA_DIR": str(tmp)}
    if os.environ.get("STEWARD_TEST_DATABASE_URL"):
        # The CLI test keeps to SQLite: it needs an empty database of its own.
        env.pop("STEWARD_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "steward.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_cli_tenant_user_token(tmp_path: Path) -> None:
    r = steward(tmp_path, "migrate")
    assert r.returncode == 0, r.stderr
    r = steward(tmp_path, "tenant", "create", "example.test", "--name", "Example", "--web-domain", "social.example.test")
    assert r.returncode == 0 and "example.test" in r.stdout, r.stderr
    r = steward(tmp_path, "tenant", "create", "social.example.test", "--name", "Clash")
    assert r.returncode == 1 and "already hosted" in r.stderr
    r = steward(tmp_path, "tenant", "list")
    assert "social.example.test" in r.stdout
    r = steward(tmp_path, "user", "create", "example.test", "press", "--email", "press@example.test", "--role", "admin")
    assert r.returncode == 0 and "password:" in r.stdout, r.stderr
    r = steward(tmp_path, "user", "create", "nowhere.test", "x", "--email", "x@x.test")
    assert r.returncode == 1 and "no tenant" in r.stderr
    r = steward(tmp_path, "token", "create", "example.test", "press", "--scopes", "read")
    assert r.returncode == 0 and len(r.stdout.strip()) > 20
    r = steward(tmp_path, "token", "create", "example.test", "press", "--scopes", "sudo")
    assert r.returncode == 1


async def test_loopback_address_finds_the_localhost_tenant(container) -> None:  # type: ignore[no-untyped-def]
    import os as _os

    port = 40000 + _os.getpid() % 20000
    tenant = await container.tenants.create(f"localhost:{port}", "Local")
    assert (await container.tenants.resolve(f"127.0.0.1:{port}")).id == tenant.id
    assert (await container.tenants.resolve(f"[::1]:{port}")).id == tenant.id
    assert await container.tenants.resolve(f"127.0.0.1:{port + 1}") is None
