"""A transport that carries federation between the tenants of the test app:
every signed GET and POST to a tenant's domain goes through the ASGI app (its
real inbox, signature checks and routes), so two tenants of one process talk
to each other as two servers would. Anything else answers 404."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from steward.activitypub.signatures import sign_request
from steward.activitypub.transport import AS2_ACCEPT, Sent, Signer, TransportError


class AppNetwork:
    def __init__(self, app: Any, hosts: set[str]) -> None:
        self.hosts = hosts
        self.sent: list[Sent] = []
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))

    def _local(self, url: str) -> str:
        parts = urlsplit(url)
        host = parts.netloc.lower()
        if host not in self.hosts:
            raise TransportError(f"{host} is not on this test network", 404)
        return f"http://{host}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")

    async def fetch_json(self, url: str, signer: Signer | None = None) -> dict[str, Any]:
        target = self._local(url)
        headers = sign_request("GET", target, signer.key_id, signer.private_pem) if signer else {}
        self.sent.append(Sent("GET", url, None, signer.key_id if signer else None, headers))
        r = await self._client.get(target, headers={**headers, "Accept": AS2_ACCEPT})
        if r.status_code != 200:
            raise TransportError(f"GET {url} answered {r.status_code}", r.status_code)
        doc = orjson.loads(r.content)
        if not isinstance(doc, dict):
            raise TransportError(f"GET {url} is not a JSON object")
        return doc

    async def post_signed(self, url: str, body: bytes, key_id: str, private_pem: str) -> int:
        target = self._local(url)
        headers = sign_request("POST", target, key_id, private_pem, body=body)
        self.sent.append(Sent("POST", url, body, key_id, headers))
        r = await self._client.post(target, content=body, headers={
            **headers, "Content-Type": "application/activity+json"})
        return r.status_code

    async def fetch_bytes(self, url: str, accept: str = "*/*") -> tuple[str, bytes]:
        self.sent.append(Sent("GET", url, headers={"Accept": accept}))
        r = await self._client.get(self._local(url), headers={"Accept": accept})
        if r.status_code != 200:
            raise TransportError(f"GET {url} answered {r.status_code}", r.status_code)
        return r.headers.get("content-type", ""), r.content

    async def close(self) -> None:
        await self._client.aclose()

    def posted(self, kind: str) -> list[dict[str, Any]]:
        return [a for a in (orjson.loads(s.body or b"") for s in self.sent if s.method == "POST")
                if a.get("type") == kind]
