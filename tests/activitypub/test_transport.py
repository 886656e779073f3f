"""The guarded outbound client against a real loopback server."""

from __future__ import annotations

import asyncio
import functools
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ThreadedResolver, web

from steward.activitypub.keys import generate_key_pair
from steward.activitypub.signatures import KeyInfo, Request, verify_request
from steward.activitypub.transport import (
    BlockedAddress,
    HttpTransport,
    Limits,
    Signer,
    TooLarge,
    TransportError,
    TransportTimeout,
    address_allowed,
    check_url,
)

AS2 = "application/activity+json"


@functools.cache
def keys() -> tuple[str, str]:
    return generate_key_pair()


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def actor(request: web.Request) -> web.Response:
        seen.append({"headers": dict(request.headers), "path": request.path_qs})
        return web.json_response({"id": str(request.url), "type": "Person"}, content_type=AS2)

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        req = Request("POST", str(request.url), {k.lower(): v for k, v in request.headers.items()}, body)

        async def lookup(key_id: str, refresh: bool) -> KeyInfo:
            return KeyInfo(key_id, keys()[1], "https://me.example/actor")

        verified = await verify_request(req, lookup)
        seen.append({"verified": verified.owner, "body": body})
        return web.Response(status=202)

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<p>hi</p>", content_type="text/html")

    async def big(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": AS2})
        await resp.prepare(request)
        for _ in range(64):
            await resp.write(b" " * 1024)
        return resp

    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    app = web.Application()
    app.add_routes([web.get("/actor", actor), web.post("/inbox", inbox), web.get("/html", html),
                    web.get("/big", big), web.get("/hang", hang), web.get("/redirect", redirect),
                    web.get("/loop", loop)])
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


def test_address_rules() -> None:
    for bad in ("127.0.0.1", "::1", "10.1.2.3", "192.168.0.1", "172.16.0.1", "100.64.0.1", "fd00::1",
                "::ffff:127.0.0.1"):
        assert not address_allowed(bad, False), bad
        assert address_allowed(bad, True), bad
    for never in ("169.254.169.254", "fe80::1", "0.0.0.0", "::", "224.0.0.1", "240.0.0.1", "ff02::1"):  # noqa: S104
        assert not address_allowed(never, True), never
    assert address_allowed("93.184.216.34", False) and address_allowed("2606:4700::1111", False)
    for url in ("https://127.0.0.1/x", "https://[::1]/x", "https://10.0.0.8/", "https://169.254.169.254/latest",
                "http://example.com/", "ftp://example.com/", "https://localhost/", "https:///nohost"):
        with pytest.raises(BlockedAddress):
            check_url(url, False)
    assert check_url("https://example.com/users/a", False)


async def test_refuses_loopback_when_private_not_allowed(server: tuple[str, list[Any]]) -> None:
    base, seen = server
    transport = HttpTransport(allow_private=False)
    try:
        with pytest.raises(BlockedAddress):
            await transport.fetch_json(f"{base}/actor")
        with pytest.raises(BlockedAddress):
            await transport.fetch_json(f"{base.replace('http:', 'https:')}/actor")
    finally:
        await transport.close()
    assert seen == []


async def test_refuses_names_resolving_inside(server: tuple[str, list[Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    base, seen = server
    port = int(base.rsplit(":", 1)[1])
    real = ThreadedResolver.resolve

    async def fake_resolve(self: ThreadedResolver, host: str, port: int = 0,
                           family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        if host == "inside.example":
            return await real(self, "127.0.0.1", port, family)
        return await real(self, host, port, family)

    monkeypatch.setattr(ThreadedResolver, "resolve", fake_resolve)
    transport = HttpTransport(allow_private=False)
    try:
        with pytest.raises(BlockedAddress, match=r"inside\.example"):
            await transport.fetch_json(f"https://inside.example:{port}/actor")
    finally:
        await transport.close()
    assert seen == []


async def test_fetch_and_post_when_private_allowed(server: tuple[str, list[Any]]) -> None:
    base, seen = server
    transport = HttpTransport(allow_private=True)
    try:
        doc = await transport.fetch_json(f"{base}/actor", signer=Signer("https://me.example/actor#main-key",
                                                                          keys()[0]))
        assert doc["type"] == "Person"
        sent = seen[-1]["headers"]
        assert sent["Accept"].startswith(AS2) and 'headers="(request-target) host date"' in sent["Signature"]
        # A redirect to an allowed place is followed (and the new request signed anew).
        doc = await transport.fetch_json(f"{base}/redirect?to=/actor")
        assert doc["type"] == "Person"
        status = await transport.post_signed(f"{base}/inbox", b'{"type":"Follow"}',
                                             "https://me.example/actor#main-key", keys()[0])
        assert status == 202 and seen[-1]["verified"] == "https://me.example/actor"
        with pytest.raises(TransportError, match="not ActivityStreams"):
            await transport.fetch_json(f"{base}/html")
        with pytest.raises(TransportError, match="404"):
            await transport.fetch_json(f"{base}/missing")
    finally:
        await transport.close()


async def test_redirects_are_checked_again(server: tuple[str, list[Any]]) -> None:
    base, _ = server
    transport = HttpTransport(allow_private=True)
    try:
        for target in ("http://169.254.169.254/latest/meta-data/", "http://0.0.0.0/", "file:///etc/passwd"):
            with pytest.raises(BlockedAddress):
                await transport.fetch_json(f"{base}/redirect?to={target}")
        with pytest.raises(TransportError, match="too many redirects"):
            await transport.fetch_json(f"{base}/loop")
    finally:
        await transport.close()


async def test_size_and_time_limits(server: tuple[str, list[Any]]) -> None:
    base, _ = server
    transport = HttpTransport(allow_private=True, limits=Limits(max_bytes=16 * 1024, total_timeout=0.5))
    try:
        with pytest.raises(TooLarge):
            await transport.fetch_json(f"{base}/big")
        with pytest.raises(TransportTimeout):
            await transport.fetch_json(f"{base}/hang")
    finally:
        await transport.close()
