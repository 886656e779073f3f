"""Mastodon.py's streaming client against a real uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from mastodon import Mastodon, StreamListener

from tests.web.test_streaming import port  # noqa: F401 - the live-server fixture
from tests.web.test_timelines_helpers import post
from tests.world import World


class _Collect(StreamListener):  # type: ignore[misc]
    def __init__(self) -> None:
        self.updates: list[Any] = []
        self.notifications: list[Any] = []
        self.got = threading.Event()

    def on_update(self, status: Any) -> None:
        self.updates.append(status)
        self.got.set()

    def on_notification(self, notification: Any) -> None:
        self.notifications.append(notification)
        self.got.set()


async def test_mastodon_py_stream_user(world: World, port: int) -> None:  # noqa: F811
    tenant = await world.c.tenants.create(f"localhost:{port}", "Live", settings={"password_grant": True})
    alice = await world.person(tenant, "alice")
    bob = await world.person(tenant, "bob")
    api = await asyncio.to_thread(Mastodon, api_base_url=f"http://localhost:{port}", access_token=alice.token,
                                  version_check_mode="none")
    listener = _Collect()
    handle = await asyncio.to_thread(api.stream_user, listener, run_async=True, reconnect_async=False)
    try:
        for _ in range(100):
            if handle.is_receiving():
                break
            await asyncio.sleep(0.05)
        sid = await post(world, alice, "hello from the test")
        await asyncio.to_thread(listener.got.wait, 10)
        assert [int(s["id"]) for s in listener.updates] == [sid]
        assert listener.updates[0]["account"]["username"] == "alice"
        listener.got.clear()
        await post(world, bob, "@alice ping")
        await asyncio.to_thread(listener.got.wait, 10)
        assert [n["type"] for n in listener.notifications] == ["mention"]
    finally:
        await asyncio.to_thread(handle.close)
    if not listener.updates:
        pytest.fail("no update arrived")
