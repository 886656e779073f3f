"""Tenants: creation, listing, and Host -> tenant resolution with a short cache."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import or_, select

from steward.activitypub.keys import generate_key_pair
from steward.core.clock import utcnow
from steward.core.errors import ApiError
from steward.core.ids import new_id
from steward.db.engine import Database
from steward.db.tables import tenants
from steward.model.entities import Tenant, from_row

DEFAULT_SETTINGS: dict[str, Any] = {
    "title": "",
    "description": "",
    "contact_email": "",
    "registration_mode": "open",  # open | approval | closed
    "password_grant": False,
    "max_toot_chars": 500,
    "max_media_attachments": 4,
    "max_poll_options": 4,
    "languages": ["en"],
}


LOOPBACK_NAMES = ("127.0.0.1", "[::1]")


def normalise_domain(domain: str) -> str:
    domain = domain.strip().lower().rstrip(".")
    if not domain or len(domain) > 253 or any(c.isspace() or c in "/@?#" for c in domain):
        raise ApiError(422, f"Validation failed: invalid domain {domain!r}")
    return domain


class TenantDirectory:
    """Resolves a request's Host to its tenant. Cached per process for a few seconds."""

    def __init__(self, db: Database, ttl: float = 10.0) -> None:
        self.db = db
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Tenant | None]] = {}

    def invalidate(self) -> None:
        self._cache.clear()

    async def resolve(self, host: str) -> Tenant | None:
        host = host.strip().lower()
        hit = self._cache.get(host)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        tenant = await self._lookup(host)
        if tenant is None and ":" in host:
            tenant = await self._lookup(host.rsplit(":", 1)[0])
        if tenant is None and host.startswith(LOOPBACK_NAMES):
            # A browser pointed at 127.0.0.1 finds the server made for localhost.
            after_address = host.partition("]")[2] if host.startswith("[") else host[len("127.0.0.1"):]
            port = after_address.removeprefix(":")
            tenant = await self._lookup(f"localhost:{port}" if port else "localhost")
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[host] = (now + self.ttl, tenant)
        return tenant

    async def _lookup(self, host: str) -> Tenant | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(tenants).where(or_(tenants.c.web_domain == host, tenants.c.domain == host))
                )
            ).first()
        return from_row(Tenant, row) if row else None

    async def get(self, tenant_id: int) -> Tenant | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(tenants).where(tenants.c.id == tenant_id))).first()
        return from_row(Tenant, row) if row else None

    async def by_domain(self, domain: str) -> Tenant | None:
        return await self._lookup(normalise_domain(domain))

    async def list(self) -> list[Tenant]:
        async with self.db.read() as conn:
            rows = (await conn.execute(select(tenants).order_by(tenants.c.id))).all()
        return [from_row(Tenant, r) for r in rows]

    async def create(self, domain: str, name: str, web_domain: str | None = None,
                     settings: dict[str, Any] | None = None, key_pair: tuple[str, str] | None = None) -> Tenant:
        domain = normalise_domain(domain)
        web = normalise_domain(web_domain) if web_domain else domain
        merged = {**DEFAULT_SETTINGS, "title": name, **(settings or {})}
        async with self.db.write() as conn:
            clash = (
                await conn.execute(
                    select(tenants.c.id).where(
                        or_(tenants.c.domain.in_([domain, web]), tenants.c.web_domain.in_([domain, web]))
                    )
                )
            ).first()
            if clash:
                raise ApiError(422, f"Validation failed: domain {domain} is already hosted")
            private_pem, public_pem = key_pair or generate_key_pair()
            row = {
                "id": new_id(), "domain": domain, "web_domain": web, "name": name,
                "settings": merged, "created_at": utcnow(),
                "private_key": private_pem, "public_key": public_pem,
            }
            await conn.execute(tenants.insert().values(**row))
        self.invalidate()
        return from_row(Tenant, row)

    async def update_settings(self, tenant_id: int, changes: dict[str, Any]) -> Tenant:
        async with self.db.write() as conn:
            row = (await conn.execute(select(tenants).where(tenants.c.id == tenant_id))).first()
            if row is None:
                raise ApiError(404, "Record not found")
            settings = {**row.settings, **changes}
            await conn.execute(tenants.update().where(tenants.c.id == tenant_id).values(settings=settings))
        self.invalidate()
        tenant = await self.get(tenant_id)
        assert tenant is not None
        return tenant
