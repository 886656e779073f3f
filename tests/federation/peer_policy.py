"""Fake remote actors on any domain, for the policy and hostile-input tests:
their documents are served by a FakeTransport, and activities are signed with
their key and POSTed through the real inbox route."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from steward.activitypub.keys import generate_key_pair
from steward.activitypub.signatures import sign_request
from steward.model.entities import Tenant
from tests.world import World

_n = itertools.count(1)


@functools.cache
def peer_keys() -> tuple[str, str]:
    return generate_key_pair()


@dataclass(frozen=True)
class Peer:
    """An actor at https://{domain}/users/{name}."""

    domain: str
    name: str = "rob"

    @property
    def uri(self) -> str:
        return f"https://{self.domain}/users/{self.name}"

    @property
    def key_id(self) -> str:
        return f"{self.uri}#main-key"

    def actor(self, **extra: Any) -> dict[str, Any]:
        return {"@context": "https://www.w3.org/ns/activitystreams", "id": self.uri, "type": "Person",
                "preferredUsername": self.name, "inbox": f"{self.uri}/inbox",
                "endpoints": {"sharedInbox": f"https://{self.domain}/inbox"},
                "followers": f"{self.uri}/followers",
                "icon": {"type": "Image", "url": f"https://{self.domain}/avatar.png"},
                "image": {"type": "Image", "url": f"https://{self.domain}/header.png"},
                "publicKey": {"id": self.key_id, "owner": self.uri, "publicKeyPem": peer_keys()[1]}, **extra}

    def follow(self, tenant: Tenant, username: str = "alice") -> dict[str, Any]:
        return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{self.uri}/follows/{next(_n)}",
                "type": "Follow", "actor": self.uri, "object": f"http://{tenant.web_domain}/users/{username}"}

    def note(self, tenant: Tenant, content: str = "hello", to: str = "https://www.w3.org/ns/activitystreams#Public",
             **extra: Any) -> dict[str, Any]:
        n = next(_n)
        note = {"id": f"{self.uri}/statuses/{n}", "type": "Note", "attributedTo": self.uri, "content": content,
                "to": [to], "cc": [f"{self.uri}/followers"], "published": "2026-01-01T00:00:00Z", **extra}
        return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{self.uri}/statuses/{n}/activity",
                "type": "Create", "actor": self.uri, "to": note["to"], "cc": note["cc"], "object": note}

    def signed_headers(self, url: str, body: bytes, *, private: str | None = None, **kw: Any) -> dict[str, str]:
        return {**sign_request("POST", url, self.key_id, private or peer_keys()[0], body=body, **kw),
                "Content-Type": "application/activity+json"}

    async def deliver(self, world: World, tenant: Tenant, activity: dict[str, Any] | None = None, *,
                      path: str = "/inbox", body: bytes | None = None, **kw: Any) -> httpx.Response:
        data = body if body is not None else orjson.dumps(activity)
        url = f"http://{tenant.web_domain}{path}"
        return await world.client(tenant).post(path, content=data, headers=self.signed_headers(url, data, **kw))
