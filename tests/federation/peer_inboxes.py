"""A fake ActivityPub peer on loopback for end-to-end delivery tests: one aiohttp
server answering for many host names (the hosts file given to Steward maps them
all to 127.0.0.1), serving actors with one shared key and recording every
activity POSTed to their inboxes. Receivers deduplicate by activity id, so the
test reads distinct ids per inbox."""

from __future__ import annotations

import asyncio
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from steward.activitypub.keys import generate_key_pair
from steward.activitypub.signatures import sign_request


@functools.cache
def peer_keys() -> tuple[str, str]:
    return generate_key_pair()


@dataclass
class Peer:
    port: int = 0
    hosts: list[str] = field(default_factory=list)
    # inbox URL -> activity ids received (with repeats), by activity type
    received: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    create_delay: float = 0.0
    _runner: web.AppRunner | None = None

    def actor_url(self, host: str, name: str) -> str:
        return f"http://{host}:{self.port}/users/{name}"

    def actors(self, count: int) -> list[str]:
        """`count` actor URLs spread evenly over the peer's hosts."""
        return [self.actor_url(self.hosts[i % len(self.hosts)], f"u{i}") for i in range(count)]

    def write_hosts_file(self, path: Path) -> Path:
        path.write_text("".join(f"127.0.0.1 {host}\n" for host in self.hosts))
        return path

    def ids_at(self, inbox: str, kind: str) -> list[str]:
        return [activity_id for t, activity_id in self.received.get(inbox, []) if t == kind]

    async def _actor(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        uri = f"http://{request.host}/users/{name}"
        doc = {"@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
               "id": uri, "type": "Person", "preferredUsername": name, "inbox": f"{uri}/inbox",
               "outbox": f"{uri}/outbox", "followers": f"{uri}/followers",
               "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": peer_keys()[1]}}
        return web.Response(body=orjson.dumps(doc), content_type="application/activity+json")

    async def _inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        if "signature" not in {k.lower() for k in request.headers}:
            return web.Response(status=401)
        activity = orjson.loads(body)
        kind = str(activity.get("type"))
        if kind == "Create" and self.create_delay:
            await asyncio.sleep(self.create_delay)
        inbox = f"http://{request.host}{request.path}"
        self.received[inbox].append((kind, str(activity.get("id"))))
        return web.Response(status=202)

    async def start(self, hosts: list[str]) -> None:
        self.hosts = hosts
        app = web.Application()
        app.router.add_get("/users/{name}", self._actor)
        app.router.add_post("/users/{name}/inbox", self._inbox)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def signed_follow(actor: str, target: str, target_inbox: str, n: int) -> tuple[bytes, dict[str, str]]:
    """A Follow from one of the peer's actors, signed as its server would sign it."""
    body = orjson.dumps({"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}/follows/{n}",
                         "type": "Follow", "actor": actor, "object": target})
    headers = sign_request("POST", target_inbox, f"{actor}#main-key", peer_keys()[0], body=body)
    return body, {**headers, "Content-Type": "application/activity+json"}


def parse(body: bytes) -> dict[str, Any]:
    return dict(orjson.loads(body))
