"""Streaming over a real uvicorn server on 127.0.0.1 (random port), served in
the test's event loop from the same app and container, so posting through the
test world reaches the sockets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from steward.social.streaming import StreamingHub, event
from tests.web.test_timelines_helpers import delete_status, follow, post
from tests.world import Person, World


@pytest.fixture
async def port(app: Any) -> AsyncIterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    config = uvicorn.Config(app, lifespan="off", log_level="warning", ws_ping_interval=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


def _ws(port: int, person: Person | None, query: str = "", *, token: str | None = None,
        subprotocols: list[str] | None = None, tenant: Any = None) -> Any:
    tenant = tenant or (person.tenant if person else None)
    params = []
    if query:
        params.append(query)
    if token or (person and subprotocols is None):
        params.append(f"access_token={token or person.token}")  # type: ignore[union-attr]
    url = f"ws://127.0.0.1:{port}/api/v1/streaming?{'&'.join(params)}"
    return connect(url, additional_headers={"X-Forwarded-Host": tenant.web_domain},
                   subprotocols=subprotocols, open_timeout=5)  # type: ignore[arg-type]


async def _next(ws: ClientConnection, wait: float = 5.0) -> dict[str, Any]:
    return orjson.loads(await asyncio.wait_for(ws.recv(), wait))


async def _nothing(ws: ClientConnection, wait: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), wait)


async def test_websocket_user_stream_receives_updates_notifications_and_deletes(world: World, port: int) -> None:
    alice, bob = world.local_alice, world.local_bob
    await follow(world, alice, bob)
    async with _ws(port, alice, "stream=user") as ws:
        await asyncio.sleep(0.05)
        sid = await post(world, bob, "hello @alice")
        frames = [await _next(ws), await _next(ws)]
        by_event = {f["event"]: f for f in frames}
        assert set(by_event) == {"update", "notification"}
        update = by_event["update"]
        assert update["stream"] == ["user"]
        status = orjson.loads(update["payload"])
        assert status["id"] == str(sid) and status["account"]["id"] == bob.account_id
        assert status["favourited"] is False  # rendered for alice
        note = orjson.loads(by_event["notification"]["payload"])
        assert note["type"] == "mention" and note["status"]["id"] == str(sid)
        await delete_status(world, bob, sid)
        deleted = await _next(ws)
        assert deleted == {"stream": ["user"], "event": "delete", "payload": str(sid)}


async def test_websocket_subscribe_public_and_hashtag_with_subprotocol_token(world: World, port: int) -> None:
    alice = world.local_alice
    async with _ws(port, alice, subprotocols=[alice.token]) as ws:
        assert ws.subprotocol == alice.token
        await ws.send(orjson.dumps({"type": "subscribe", "stream": "public:local"}).decode())
        await ws.send(orjson.dumps({"type": "subscribe", "stream": "hashtag", "tag": "Tea"}).decode())
        await asyncio.sleep(0.1)
        sid = await post(world, world.local_bob, "about #tea")
        frames = [await _next(ws), await _next(ws)]
        assert sorted(f["stream"][0] for f in frames) == ["hashtag", "public:local"]
        assert all(orjson.loads(f["payload"])["id"] == str(sid) for f in frames)
        assert next(f for f in frames if f["stream"][0] == "hashtag")["stream"] == ["hashtag", "Tea"]
        await ws.send(orjson.dumps({"type": "unsubscribe", "stream": "public:local"}).decode())
        await asyncio.sleep(0.1)
        await post(world, world.local_bob, "no tag here")
        await _nothing(ws)


async def test_websocket_bad_input(world: World, port: int) -> None:
    with pytest.raises(InvalidStatus) as err:
        async with _ws(port, None, "stream=user", token="garbage", tenant=world.a):
            pass
    assert err.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as err:
        async with _ws(port, None, "stream=user", tenant=world.a):
            pass
    assert err.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as err:
        async with _ws(port, world.local_alice, "stream=nonsense"):
            pass
    assert err.value.response.status_code == 400
    async with _ws(port, world.local_alice) as ws:
        await ws.send("{not json")
        assert (await _next(ws))["status"] == 400
        await ws.send(b"\x00binary")
        assert (await _next(ws))["status"] == 400
        await ws.send(orjson.dumps({"type": "subscribe", "stream": "everything"}).decode())
        reply = await _next(ws)
        assert reply["status"] == 400 and reply["error"]
        await ws.send(orjson.dumps({"type": "subscribe", "stream": "hashtag"}).decode())
        assert (await _next(ws))["status"] == 400
        await ws.send(orjson.dumps({"type": "subscribe", "stream": "list", "list": "123"}).decode())
        assert (await _next(ws))["status"] == 404
        await ws.send(orjson.dumps({"type": "dance"}).decode())
        assert (await _next(ws))["status"] == 400
        await ws.send(orjson.dumps({"type": "subscribe", "stream": ["user"]}).decode())
        assert (await _next(ws))["status"] == 400
        from steward.web.mastodon.streaming import MAX_SUBSCRIPTIONS
        for i in range(MAX_SUBSCRIPTIONS):
            await ws.send(orjson.dumps({"type": "subscribe", "stream": "hashtag", "tag": f"t{i}"}).decode())
        await ws.send(orjson.dumps({"type": "subscribe", "stream": "hashtag", "tag": "onemore"}).decode())
        assert (await _next(ws))["status"] == 429


async def test_websocket_tenant_isolation(world: World, port: int) -> None:
    # Carol's token is not valid on tenant a's host.
    with pytest.raises(InvalidStatus) as err:
        async with _ws(port, None, "stream=user", token=world.local_carol.token, tenant=world.a):
            pass
    assert err.value.response.status_code == 401
    async with _ws(port, world.local_carol, "stream=public") as carol_ws, \
            _ws(port, world.local_carol, "stream=user") as carol_user, \
            _ws(port, world.local_alice, "stream=public") as alice_ws:
        await asyncio.sleep(0.05)
        sid = await post(world, world.local_alice, "tenant a news")
        assert orjson.loads((await _next(alice_ws))["payload"])["id"] == str(sid)
        await delete_status(world, world.local_alice, sid)
        await _nothing(carol_ws)
        await _nothing(carol_user, 0.1)


async def _sse_lines(response: httpx.Response) -> AsyncIterator[str]:
    async for line in response.aiter_lines():
        yield line


async def _sse_event(lines: AsyncIterator[str], wait: float = 5.0) -> tuple[str, str]:
    async def read() -> tuple[str, str]:
        name = ""
        async for line in lines:
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name:
                return name, line[6:]
        raise AssertionError("stream ended")

    return await asyncio.wait_for(read(), wait)


def _sse_client(port: int, person: Person | None, tenant: Any = None, token: str | None = None) -> httpx.AsyncClient:
    headers = {"X-Forwarded-Host": (tenant or person.tenant).web_domain}  # type: ignore[union-attr]
    if token or person:
        headers["Authorization"] = f"Bearer {token or person.token}"  # type: ignore[union-attr]
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10)


async def test_sse_user_public_and_heartbeat(world: World, port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from steward.web.mastodon import streaming as web_streaming

    monkeypatch.setattr(web_streaming, "HEARTBEAT_SECONDS", 0.2)
    alice = world.local_alice
    async with _sse_client(port, alice) as client, \
            client.stream("GET", "/api/v1/streaming/user") as user, \
            client.stream("GET", "/api/v1/streaming/public/local") as public:
        assert user.status_code == 200 and user.headers["content-type"].startswith("text/event-stream")
        lines = _sse_lines(user)
        saw_heartbeat = False
        while not saw_heartbeat:
            saw_heartbeat = (await asyncio.wait_for(anext(lines), 5)) == ":thump"
        sid = await post(world, alice, "to my own feed and the local timeline")
        name, data = await _sse_event(lines)
        assert name == "update" and orjson.loads(data)["id"] == str(sid)
        name, data = await _sse_event(_sse_lines(public))
        assert name == "update" and orjson.loads(data)["id"] == str(sid)
    async with _sse_client(port, None, tenant=world.a) as anon, \
            anon.stream("GET", "/api/v1/streaming/hashtag", params={"tag": "Owls"}) as tagged, \
            anon.stream("GET", "/api/v1/streaming/public") as everyone:
        assert tagged.status_code == 200
        lines = _sse_lines(tagged)
        await asyncio.sleep(0.05)
        sid = await post(world, world.local_bob, "#owls at night")
        name, data = await _sse_event(lines)
        assert name == "update" and orjson.loads(data)["id"] == str(sid)
        assert "favourited" not in orjson.loads(data)  # anonymous rendering
        name, again = await _sse_event(_sse_lines(everyone))  # the second anonymous reader shares it
        assert name == "update" and orjson.loads(again) == orjson.loads(data)


async def test_sse_notifications_only(world: World, port: int) -> None:
    alice = world.local_alice
    async with _sse_client(port, alice) as client, \
            client.stream("GET", "/api/v1/streaming/user/notification") as stream:
        lines = _sse_lines(stream)
        await asyncio.sleep(0.05)
        await post(world, alice, "my own post, not a notification")
        sid = await post(world, world.local_bob, "@alice ping")
        name, data = await _sse_event(lines)
        assert name == "notification" and orjson.loads(data)["status"]["id"] == str(sid)


async def test_sse_bad_input_and_isolation(world: World, port: int) -> None:
    async with _sse_client(port, world.local_alice) as client:
        r = await client.get("/api/v1/streaming/health")
        assert r.status_code == 200 and r.text == "OK"
        r = await client.get("/api/v1/streaming/hashtag")
        assert r.status_code == 400 and "error" in r.json()
        r = await client.get("/api/v1/streaming/list", params={"list": "abc"})
        assert r.status_code == 400 and "error" in r.json()
        r = await client.get("/api/v1/streaming/list", params={"list": "12345"})
        assert r.status_code == 404
        r = await client.get("/api/v1/streaming/public", params={"only_media": "perhaps"})
        assert r.status_code == 422
    async with _sse_client(port, None, tenant=world.a) as anon:
        r = await anon.get("/api/v1/streaming/user")
        assert r.status_code == 401 and "error" in r.json()
    async with _sse_client(port, None, tenant=world.a, token=world.local_carol.token) as wrong:
        r = await wrong.get("/api/v1/streaming/user")
        assert r.status_code == 401
    async with _sse_client(port, world.local_carol) as carol, \
            carol.stream("GET", "/api/v1/streaming/public") as stream:
        lines = _sse_lines(stream)
        assert await asyncio.wait_for(anext(lines), 5) == ":)"
        await post(world, world.local_alice, "tenant a only")
        with pytest.raises(TimeoutError):
            await _sse_event(lines, 0.5)


async def test_hub_reaches_another_process_through_postgres(world: World) -> None:
    """A second hub with its own LISTEN connection stands for another process."""
    if world.c.db.is_sqlite:
        pytest.skip("SQLite runs as one process; events are delivered in-process")

    class _C:
        db = world.c.db

    other = StreamingHub()
    await other.start(_C())  # type: ignore[arg-type]
    try:
        assert other.listening.is_set()
        queue = other.subscribe([(world.a.id, "public")])
        await world.c.hub.emit(world.c.db, [event(world.a.id, "public", "update", ref=42)])
        key, data = await asyncio.wait_for(queue.get(), 5)
        assert key == "public" and data["r"] == 42 and data["e"] == "update"
        other_tenant = other.subscribe([(world.b.id, "public")])
        sid = await post(world, world.local_alice, "from a worker")
        key, data = await asyncio.wait_for(queue.get(), 5)
        assert data["r"] == sid
        assert other_tenant.empty()
    finally:
        await other.stop()


async def test_websocket_list_direct_and_edits(world: World, port: int) -> None:
    alice, bob = world.local_alice, world.local_bob
    await follow(world, alice, bob)
    r = await alice.post("/api/v1/lists", json={"title": "close friends"})
    assert r.status_code == 200, r.text
    list_id = r.json()["id"]
    r = await alice.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [bob.account_id]})
    assert r.status_code == 200, r.text
    async with _ws(port, alice) as ws:
        await ws.send(orjson.dumps({"type": "subscribe", "stream": "list", "list": list_id}).decode())
        await ws.send(orjson.dumps({"type": "subscribe", "stream": "direct"}).decode())
        await asyncio.sleep(0.1)
        sid = await post(world, bob, "for my followers")
        frame = await _next(ws)
        assert frame["stream"] == ["list", list_id] and frame["event"] == "update"
        assert orjson.loads(frame["payload"])["id"] == str(sid)
        r = await bob.put(f"/api/v1/statuses/{sid}", data={"status": "for my followers, edited"})
        assert r.status_code == 200, r.text
        await world.run_jobs()
        frame = await _next(ws)
        assert frame["event"] == "status.update" and frame["stream"] == ["list", list_id]
        assert "edited" in orjson.loads(frame["payload"])["content"]
        dm = await post(world, bob, "@alice a secret", visibility="direct")
        frames = [await _next(ws), await _next(ws)]
        by_stream = {f["stream"][0]: f for f in frames}
        conversation = orjson.loads(by_stream["direct"]["payload"])
        assert by_stream["direct"]["event"] == "conversation"
        assert conversation["last_status"]["id"] == str(dm) and conversation["unread"] is True
        assert by_stream["list"]["event"] == "update"  # a direct mention reaches alice's feed, and bob is listed


async def test_exclusive_list_members_stay_off_the_user_stream(world: World, port: int) -> None:
    alice, bob = world.local_alice, world.local_bob
    await follow(world, alice, bob)
    r = await alice.post("/api/v1/lists", json={"title": "bob only", "exclusive": True})
    list_id = r.json()["id"]
    await alice.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [bob.account_id]})
    async with _ws(port, alice, "stream=user") as user_ws, _ws(port, alice, f"stream=list&list={list_id}") as list_ws:
        await asyncio.sleep(0.05)
        sid = await post(world, bob, "only in the list")
        frame = await _next(list_ws)
        assert frame["stream"] == ["list", list_id] and orjson.loads(frame["payload"])["id"] == str(sid)
        await _nothing(user_ws)
