"""The named test world: two tenants on one server, each with its people.

Tenant A (`a`): local_alice (user), local_bob (user), admin_ann (admin).
Tenant B (`b`): local_carol (user), mod_mike (moderator).
Every test gets fresh tenants with unique domains on one shared database, so
tests never see each other's rows (which is the tenancy model at work)."""

from __future__ import annotations

import functools
import itertools
import os
from dataclasses import dataclass
from typing import Any

import httpx

from steward.activitypub.keys import generate_key_pair
from steward.container import Container
from steward.core.passwords import hash_password
from steward.model.entities import Tenant
from steward.social.accounts import create_local_account
from steward.social.oauth import OAuthService

_counter = itertools.count(1)
RUN = os.getpid()
PASSWORD = "correct horse battery"


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


@functools.cache
def _tenant_keys() -> tuple[str, str]:
    # Key generation costs ~0.1 s; the world's tenants may share one pair.
    return generate_key_pair()


@dataclass
class Person:
    tenant: Tenant
    username: str
    account_id: str
    token: str
    client: httpx.AsyncClient

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(path, **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.post(path, **kw)

    async def put(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.put(path, **kw)

    async def patch(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.patch(path, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.delete(path, **kw)


class World:
    def __init__(self, c: Container, app: Any) -> None:
        self.c = c
        self.app = app
        self._clients: list[httpx.AsyncClient] = []

    def client(self, tenant: Tenant, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                   base_url=f"http://{tenant.web_domain}", headers=headers)
        self._clients.append(client)
        return client

    async def tenant(self, label: str, **settings: Any) -> Tenant:
        n = next(_counter)
        return await self.c.tenants.create(f"{label}{n}-{RUN}.test", f"Tenant {label.upper()} {n}",
                                           settings={"password_grant": True, **settings}, key_pair=_tenant_keys())

    async def person(self, tenant: Tenant, username: str, role: str = "user",
                     scopes: str = "read write follow push") -> Person:
        async with self.c.db.write() as conn:
            account, user = await create_local_account(
                conn, tenant, self.c.base_url(tenant), username=username, email=f"{username}@{tenant.domain}",
                password=None, password_hash=_password_hash(), role=role, allow_reserved=True)
        svc = OAuthService(self.c.db)
        app = await svc.create_app(tenant, "test app", ["urn:ietf:wg:oauth:2.0:oob"], scopes.split(), None)
        raw, _, _ = await svc.issue_token(tenant, app.id, user.id, scopes, with_refresh=False)
        return Person(tenant, username, str(account.id), raw, self.client(tenant, raw))

    async def build(self) -> None:
        self.a = await self.tenant("a")
        self.b = await self.tenant("b")
        self.local_alice = await self.person(self.a, "alice")
        self.local_bob = await self.person(self.a, "bob")
        self.admin_ann = await self.person(self.a, "ann", role="admin",
                                           scopes="read write follow push admin:read admin:write")
        self.local_carol = await self.person(self.b, "carol")
        self.mod_mike = await self.person(self.b, "mike", role="moderator",
                                          scopes="read write follow push admin:read admin:write")
        self.anon_a = self.client(self.a)
        self.anon_b = self.client(self.b)

    async def run_jobs(self) -> int:
        """Run every queued job now (tests run jobs explicitly, not in the background)."""
        total = 0
        while True:
            ran = await self.c.jobs.run_pending()
            total += ran
            if ran == 0:
                return total

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()
