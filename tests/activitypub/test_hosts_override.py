"""The test-only hosts override of the guarded resolver (STEWARD_HOSTS_FILE)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from steward.activitypub.transport import (
    AS2_TYPES,
    BlockedAddress,
    GuardedResolver,
    HttpTransport,
    TransportError,
    read_hosts_file,
)
from steward.container import outbound_hosts
from steward.settings import Settings

AS2 = sorted(AS2_TYPES)[0]


@pytest.fixture
async def peer() -> AsyncIterator[int]:
    """A tiny ActivityPub-ish server on 127.0.0.1; yields its port."""

    async def actor(request: web.Request) -> web.Response:
        return web.json_response({"id": str(request.url), "type": "Person", "host": request.host},
                                 content_type=AS2)

    app = web.Application()
    app.add_routes([web.get("/actor", actor)])
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield int(runner.addresses[0][1])
    await runner.cleanup()


def _hosts(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hosts"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_hosts_format(tmp_path: Path) -> None:
    path = _hosts(tmp_path, "# test names\n127.0.0.2  alpha.test Alpha.Test.  # the first\n"
                            "::1 beta.test\n127.0.0.3 beta.test\nnot-an-address gamma.test\n\n127.0.0.9\n")
    assert read_hosts_file(path) == {"alpha.test": ("127.0.0.2", "127.0.0.2"),
                                     "beta.test": ("::1", "127.0.0.3")}


async def test_resolver_answers_from_the_override_and_still_checks() -> None:
    allowed = GuardedResolver(True, {"alpha.test": ("127.0.0.2", "::1")})
    try:
        v4 = await allowed.resolve("alpha.test", 443, socket.AF_INET)
        assert [(r["host"], r["port"], r["family"]) for r in v4] == [("127.0.0.2", 443, socket.AF_INET)]
        both = await allowed.resolve("ALPHA.test.", 443, socket.AF_UNSPEC)
        assert [r["host"] for r in both] == ["127.0.0.2", "::1"]
        with pytest.raises(OSError, match=r"alpha\.test"):
            await GuardedResolver(True, {"alpha.test": ("::1",)}).resolve("alpha.test", 443, socket.AF_INET)
    finally:
        await allowed.close()
    # The override does not bypass the address rules: loopback is still refused
    # without allow_private, and link-local always.
    refused = GuardedResolver(False, {"alpha.test": ("127.0.0.2",)})
    never = GuardedResolver(True, {"meta.test": ("169.254.169.254",)})
    try:
        with pytest.raises(BlockedAddress):
            await refused.resolve("alpha.test", 443, socket.AF_INET)
        with pytest.raises(BlockedAddress):
            await never.resolve("meta.test", 80, socket.AF_INET)
    finally:
        await refused.close()
        await never.close()


def test_setting_is_read_and_honoured_only_with_private_addresses(tmp_path: Path) -> None:
    path = _hosts(tmp_path, "127.0.0.2 alpha.test\n")
    on = Settings.from_env({"STEWARD_DATA_DIR": str(tmp_path), "STEWARD_HOSTS_FILE": str(path),
                            "STEWARD_ALLOW_PRIVATE_ADDRESSES": "1"})
    assert on.hosts_file == path.resolve()
    assert outbound_hosts(on) == {"alpha.test": ("127.0.0.2",)}
    off = Settings.from_env({"STEWARD_DATA_DIR": str(tmp_path), "STEWARD_HOSTS_FILE": str(path)})
    assert off.hosts_file == path.resolve()
    assert outbound_hosts(off) is None
    unset = Settings.from_env({"STEWARD_DATA_DIR": str(tmp_path), "STEWARD_ALLOW_PRIVATE_ADDRESSES": "1"})
    assert unset.hosts_file is None and outbound_hosts(unset) is None


async def test_transport_reaches_an_overridden_name(peer: int) -> None:
    url = f"http://peer.test:{peer}/actor"
    with_hosts = HttpTransport(allow_private=True, hosts={"peer.test": ("127.0.0.1",)})
    without = HttpTransport(allow_private=True)
    try:
        doc = await with_hosts.fetch_json(url)
        assert doc["type"] == "Person"
        assert doc["host"] == f"peer.test:{peer}"  # the name, not the address, went out as Host
        with pytest.raises(TransportError):
            await without.fetch_json(url)  # .test names do not exist in real DNS
    finally:
        await with_hosts.close()
        await without.close()
