"""Mastodon's streaming API: one WebSocket at /api/v1/streaming (subscribe and
unsubscribe messages) and the server-sent-event endpoints. Events come from the
hub as references; each connection renders the payload for its own viewer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from steward.core.errors import ApiError
from steward.core.ids import parse_id
from steward.model.entities import Tenant
from steward.social.lists import owned_list
from steward.social.notifications import get_notification
from steward.social.stream_access import blocked_or_muted, own_conversation
from steward.social.timelines import normalise_tag
from steward.web.base import Ctx, JSONResponse, Viewer, endpoint, load_viewer, scopes_allow_any
from steward.web.mastodon.conversations import render_conversations
from steward.web.mastodon.notifications import render_notifications
from steward.web.mastodon.serialize_statuses import load_statuses, render_statuses
from steward.web.mastodon.timelines import apply_filters

if TYPE_CHECKING:
    from steward.container import Container

HEARTBEAT_SECONDS = 15.0
PUBLIC_STREAMS = {"public", "public:media", "public:local", "public:local:media", "public:remote",
                  "public:remote:media"}
USER_STREAMS = {"user", "user:notification", "direct", "list"}
STREAMS = PUBLIC_STREAMS | USER_STREAMS | {"hashtag", "hashtag:local"}
ANON_RENDER = "_anonymous_rendering"
MAX_SUBSCRIPTIONS = 100


@dataclass(slots=True)
class Subscription:
    label: list[str]  # what the client sees in "stream"
    hub_key: str
    only_notifications: bool = False
    only_media: bool = False
    filter_authors: bool = False  # public and hashtag streams hide blocked and muted authors


async def resolve_stream(c: Container, tenant: Tenant, viewer: Viewer | None, name: str, tag: str | None,
                         list_id: str | None) -> Subscription:
    """A stream name as Mastodon spells it -> the hub key; raises ApiError for a bad
    name, missing parameter, missing authentication or scope."""
    if name not in STREAMS:
        raise ApiError(400, "Unknown stream type")
    me = viewer.account if viewer else None
    if viewer is not None:
        needed = "read:notifications" if name == "user:notification" else "read:statuses"
        if not scopes_allow_any(viewer.token.scope_set, needed):
            raise ApiError(403, "This action is outside the authorized scopes")
    if name in USER_STREAMS and me is None:
        raise ApiError(401, "Missing access token")
    if me is None and not tenant.setting("timeline_preview", True):
        raise ApiError(401, "Missing access token")
    if name in {"user", "user:notification"}:
        assert me is not None
        return Subscription([name], f"user:{me.id}", only_notifications=name == "user:notification")
    if name == "direct":
        assert me is not None
        return Subscription([name], f"direct:{me.id}")
    if name == "list":
        assert me is not None
        parsed = parse_id(list_id)
        if parsed is None:
            raise ApiError(400, "Missing or invalid list parameter")
        async with c.db.read() as conn:
            await owned_list(conn, tenant.id, parsed, me.id)
        return Subscription([name, str(parsed)], f"list:{parsed}")
    if name in {"hashtag", "hashtag:local"}:
        if not tag:
            raise ApiError(400, "Missing tag name parameter")
        norm = normalise_tag(tag)
        key = f"hashtag:{norm}" if name == "hashtag" else f"hashtag:local:{norm}"
        return Subscription([name, tag], key, filter_authors=True)
    base = name.removesuffix(":media")
    return Subscription([name], base, only_media=name.endswith(":media"), filter_authors=True)


class Renderer:
    """Turns hub events into Mastodon frames for one viewer."""

    def __init__(self, c: Container, tenant: Tenant, viewer_id: int | None) -> None:
        self.c = c
        self.tenant = tenant
        self.viewer_id = viewer_id

    async def frames(self, data: dict[str, Any], subs: list[Subscription]) -> list[dict[str, Any]]:
        name = data.get("e")
        wanted = [s for s in subs if not s.only_notifications or name == "notification"]
        if not wanted:
            return []
        payload: str | None = None
        if name == "delete":
            payload = str(data.get("p", ""))
        else:
            rendered = await self._render(str(name), data, wanted)
            if rendered is None:
                return []
            body, has_media = rendered
            wanted = [s for s in wanted if not s.only_media or has_media]
            if name in {"update", "status.update"} and self.viewer_id is not None:
                return await self._filtered(str(name), body, wanted)
            payload = orjson.dumps(body).decode()
        return [{"stream": s.label, "event": name, "payload": payload} for s in wanted]

    async def _filtered(self, name: str, body: dict[str, Any], subs: list[Subscription]) -> list[dict[str, Any]]:
        """The viewer's content filters, in the context of each stream."""
        payloads: dict[str, str | None] = {}
        out = []
        async with self.c.db.read() as conn:
            for sub in subs:
                context = "public" if sub.filter_authors else "home"
                if context not in payloads:
                    kept = await apply_filters(conn, self.tenant.id, self.viewer_id, context,
                                               [orjson.loads(orjson.dumps(body))])
                    payloads[context] = orjson.dumps(kept[0]).decode() if kept else None
                payload = payloads[context]
                if payload is not None:
                    out.append({"stream": sub.label, "event": name, "payload": payload})
        return out

    async def _render(self, name: str, data: dict[str, Any],
                      subs: list[Subscription]) -> tuple[dict[str, Any], bool] | None:
        ref = data.get("r")
        if not isinstance(ref, int):
            return None
        tid = self.tenant.id
        if self.viewer_id is None and name in {"update", "status.update"} and ANON_RENDER in data:
            # One event object reaches every local subscriber: anonymous ones share one rendering.
            cached: tuple[dict[str, Any], bool] | None = data[ANON_RENDER]
            return cached
        async with self.c.db.read() as conn:
            if name in {"update", "status.update"}:
                found = await load_statuses(conn, tid, [ref])
                status = found.get(ref)
                if status is None:
                    return None
                if self.viewer_id is not None and any(s.filter_authors for s in subs):
                    authors = {status.account_id}
                    if status.reblog_of_id:
                        original = (await load_statuses(conn, tid, [status.reblog_of_id])).get(status.reblog_of_id)
                        if original is not None:
                            authors.add(original.account_id)
                    if await blocked_or_muted(conn, tid, self.viewer_id, authors):
                        return None
                out = await render_statuses(self.c, conn, self.tenant, self.viewer_id, [status])
                result = (out[0], bool((out[0]["reblog"] or out[0])["media_attachments"])) if out else None
                if self.viewer_id is None:
                    data[ANON_RENDER] = result
                return result
            if name == "notification" and self.viewer_id is not None:
                try:
                    found_notification = await get_notification(conn, tid, self.viewer_id, ref)
                except ApiError:
                    return None
                rendered = await render_notifications(self.c, conn, self.tenant, self.viewer_id,
                                                      [found_notification])
                return (rendered[0], False) if rendered else None
            if name == "conversation" and self.viewer_id is not None:
                row = await own_conversation(conn, tid, self.viewer_id, ref)
                if row is None:
                    return None
                convs = await render_conversations(self.c, conn, self.tenant, self.viewer_id, [row])
                return convs[0], False
        return None


class Connection:
    """One client's subscriptions on the hub."""

    def __init__(self, c: Container, tenant: Tenant, viewer: Viewer | None) -> None:
        self.c = c
        self.tenant = tenant
        self.viewer = viewer
        self.queue = c.hub.subscribe([])
        self.subs: dict[str, list[Subscription]] = {}
        self.renderer = Renderer(c, tenant, viewer.account.id if viewer and viewer.account else None)

    def add(self, sub: Subscription) -> None:
        current = self.subs.setdefault(sub.hub_key, [])
        if all(s.label != sub.label for s in current):
            current.append(sub)
        self.c.hub.add(self.queue, (self.tenant.id, sub.hub_key))

    def remove(self, sub: Subscription) -> None:
        current = [s for s in self.subs.get(sub.hub_key, []) if s.label != sub.label]
        if current:
            self.subs[sub.hub_key] = current
        else:
            self.subs.pop(sub.hub_key, None)
            self.c.hub.remove(self.queue, (self.tenant.id, sub.hub_key))

    def close(self) -> None:
        self.c.hub.unsubscribe(self.queue)

    async def next_frames(self, wait: float | None = None) -> list[dict[str, Any]]:
        hub_key, data = await asyncio.wait_for(self.queue.get(), wait)
        return await self.renderer.frames(data, list(self.subs.get(hub_key, [])))


# -- WebSocket ---------------------------------------------------------------------------------

async def _deny(ws: WebSocket, status: int, message: str) -> None:
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(JSONResponse({"error": message}, status_code=status))
    else:
        await ws.close(code=4000 + status, reason=message)


async def websocket_endpoint(ws: WebSocket) -> None:
    c: Container = ws.app.state.container
    tenant: Tenant = ws.scope["state"]["tenant"]
    protocol = ws.headers.get("sec-websocket-protocol")
    raw = ws.query_params.get("access_token") or (protocol.split(",")[0].strip() if protocol else None)
    auth = ws.headers.get("authorization", "")
    if not raw and auth.lower().startswith("bearer "):
        raw = auth[7:].strip()
    viewer = await load_viewer(c, tenant, raw) if raw else None
    if raw and viewer is None:
        await _deny(ws, 401, "Invalid access token")
        return
    if viewer is None and not tenant.setting("timeline_preview", True):
        await _deny(ws, 401, "Missing access token")
        return
    conn = Connection(c, tenant, viewer)
    try:
        initial = ws.query_params.get("stream")
        if initial:
            try:
                conn.add(await resolve_stream(c, tenant, viewer, initial, ws.query_params.get("tag"),
                                              ws.query_params.get("list")))
            except ApiError as err:
                await _deny(ws, err.status, err.message)
                return
        await ws.accept(subprotocol=protocol.split(",")[0].strip() if protocol and viewer else None)
        reader = asyncio.create_task(_ws_reader(ws, conn))
        writer = asyncio.create_task(_ws_writer(ws, conn))
        done, pending = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for task in done:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                task.result()
    finally:
        conn.close()


async def _ws_reader(ws: WebSocket, conn: Connection) -> None:
    while True:
        received = await ws.receive()
        if received["type"] == "websocket.disconnect":
            return
        text = received.get("text")
        if text is None:
            await ws.send_text(orjson.dumps({"error": "Messages must be text", "status": 400}).decode())
            continue
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            await ws.send_text(orjson.dumps({"error": "Invalid JSON", "status": 400}).decode())
            continue
        if not isinstance(message, dict) or message.get("type") not in {"subscribe", "unsubscribe"}:
            await ws.send_text(orjson.dumps({"error": "Unknown message type", "status": 400}).decode())
            continue
        stream, tag, list_id = message.get("stream"), message.get("tag"), message.get("list")
        if not isinstance(stream, str) or not isinstance(tag, str | None) or not isinstance(list_id, str | int | None):
            await ws.send_text(orjson.dumps({"error": "Unknown stream type", "status": 400}).decode())
            continue
        try:
            sub = await resolve_stream(conn.c, conn.tenant, conn.viewer, stream, tag,
                                       str(list_id) if list_id is not None else None)
        except ApiError as err:
            await ws.send_text(orjson.dumps({"error": err.message, "status": err.status}).decode())
            continue
        if message["type"] == "subscribe":
            if sum(len(v) for v in conn.subs.values()) >= MAX_SUBSCRIPTIONS:
                await ws.send_text(orjson.dumps({"error": f"At most {MAX_SUBSCRIPTIONS} streams per connection",
                                                 "status": 429}).decode())
                continue
            conn.add(sub)
        else:
            conn.remove(sub)


async def _ws_writer(ws: WebSocket, conn: Connection) -> None:
    while True:
        for frame in await conn.next_frames():
            await ws.send_text(orjson.dumps(frame).decode())


# -- server-sent events --------------------------------------------------------------------------

def _sse(stream: str) -> Any:
    @endpoint(None, auth="optional")
    async def handler(ctx: Ctx) -> Response:
        viewer = Viewer(ctx.token, ctx.user, ctx.account) if ctx.token is not None else None
        name = stream
        if stream == "public" and ctx.params.bool("only_media", False):
            name = "public:media"
        elif stream in {"public:local", "public:remote"} and ctx.params.bool("only_media", False):
            name = f"{stream}:media"
        sub = await resolve_stream(ctx.c, ctx.tenant, viewer, name, ctx.params.str("tag", max_len=256),
                                   ctx.params.str("list", max_len=20))
        conn = Connection(ctx.c, ctx.tenant, viewer)
        conn.add(sub)
        return StreamingResponse(_sse_body(ctx.request, conn), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    handler.__name__ = f"sse_{stream.replace(':', '_')}"
    return handler


async def _sse_body(request: Request, conn: Connection) -> AsyncIterator[bytes]:
    try:
        yield b":)\n\n"
        while True:
            try:
                frames = await conn.next_frames(HEARTBEAT_SECONDS)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield b":thump\n\n"
                continue
            for frame in frames:
                yield f"event: {frame['event']}\ndata: {frame['payload']}\n\n".encode()
    finally:
        conn.close()


async def health(_request: Request) -> Response:
    return PlainTextResponse("OK")


routes = [
    WebSocketRoute("/api/v1/streaming", websocket_endpoint),
    WebSocketRoute("/api/v1/streaming/", websocket_endpoint),
    Route("/api/v1/streaming/health", health, methods=["GET", "HEAD"]),
    Route("/api/v1/streaming/user", _sse("user"), methods=["GET"]),
    Route("/api/v1/streaming/user/notification", _sse("user:notification"), methods=["GET"]),
    Route("/api/v1/streaming/public", _sse("public"), methods=["GET"]),
    Route("/api/v1/streaming/public/local", _sse("public:local"), methods=["GET"]),
    Route("/api/v1/streaming/public/remote", _sse("public:remote"), methods=["GET"]),
    Route("/api/v1/streaming/hashtag", _sse("hashtag"), methods=["GET"]),
    Route("/api/v1/streaming/hashtag/local", _sse("hashtag:local"), methods=["GET"]),
    Route("/api/v1/streaming/list", _sse("list"), methods=["GET"]),
    Route("/api/v1/streaming/direct", _sse("direct"), methods=["GET"]),
]
