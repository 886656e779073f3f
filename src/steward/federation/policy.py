"""Per-tenant federation policy, in one place: which remote domains this
tenant talks to at all (suspended domains and, in limited federation mode,
domains not on the allow list are refused both ways), which are silenced, and
whose media or reports are rejected.

The rules come from `domain_blocks` / `domain_allows` (moderation/domain_policy.py)
and the tenant setting `limited_federation`. They are read for every inbound
POST, delivery and fetch, so each process keeps one small snapshot per tenant:
reloaded after `TTL` seconds, or at once when `domain_policy` reports a change
in this process (its `generation` counter). Another process sees a change
within `TTL`.

A block covers its subdomains (a block of example.com covers a.example.com), as
Mastodon's; an allow names exactly one domain, as Mastodon's. Ports are ignored:
rules are about host names."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.db.tables import domain_allows, domain_blocks
from steward.model.entities import Tenant
from steward.moderation import domain_policy

if TYPE_CHECKING:
    from steward.container import Container

TTL = 10.0
LIMITED_SETTING = "limited_federation"


@dataclass(frozen=True, slots=True)
class Rule:
    domain: str
    severity: str  # noop | silence | suspend
    reject_media: bool
    reject_reports: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Snapshot:
    blocks: dict[str, Rule]
    allows: frozenset[str]
    limited: bool
    generation: int
    loaded_at: float

    def rule_for(self, host: str) -> Rule | None:
        """The block on `host` or its nearest parent domain."""
        labels = host.split(".")
        for i in range(len(labels) - 1):
            rule = self.blocks.get(".".join(labels[i:]))
            if rule is not None:
                return rule
        return None

    def refuses(self, host: str) -> bool:
        """True when this tenant exchanges nothing with `host`."""
        if self.limited and host not in self.allows:
            return True
        rule = self.rule_for(host)
        return rule is not None and rule.severity == "suspend"


def host_of(url_or_domain: str | None) -> str:
    """The lower-case host name of a URL or of a `host[:port]` domain ('' if none)."""
    value = (url_or_domain or "").strip()
    if "://" not in value:
        value = f"https://{value}"
    try:
        host = urlsplit(value).hostname or ""
    except ValueError:
        return ""
    return host.lower().rstrip(".")


async def load(conn: AsyncConnection, tenant: Tenant) -> Snapshot:
    generation = domain_policy.generation(tenant.id)
    blocks = (await conn.execute(select(
        domain_blocks.c.domain, domain_blocks.c.severity, domain_blocks.c.reject_media,
        domain_blocks.c.reject_reports, domain_blocks.c.created_at).where(
        domain_blocks.c.tenant_id == tenant.id))).all()
    allows: frozenset[str] = frozenset()
    limited = bool(tenant.setting(LIMITED_SETTING, False))
    if limited:
        allows = frozenset((await conn.execute(select(domain_allows.c.domain).where(
            domain_allows.c.tenant_id == tenant.id))).scalars().all())
    return Snapshot({b.domain: Rule(b.domain, b.severity, bool(b.reject_media), bool(b.reject_reports),
                                    b.created_at) for b in blocks},
                    allows, limited, generation, time.monotonic())


class PolicyCache:
    """One snapshot per tenant for this process (held by the container)."""

    def __init__(self) -> None:
        self._snapshots: dict[int, Snapshot] = {}

    def fresh(self, tenant: Tenant) -> Snapshot | None:
        snap = self._snapshots.get(tenant.id)
        if snap is None or time.monotonic() - snap.loaded_at > TTL:
            return None
        if snap.generation != domain_policy.generation(tenant.id):
            return None
        if snap.limited != bool(tenant.setting(LIMITED_SETTING, False)):
            return None
        return snap

    def keep(self, tenant_id: int, snap: Snapshot) -> None:
        if len(self._snapshots) > 10_000:
            self._snapshots.clear()
        self._snapshots[tenant_id] = snap

    def invalidate(self, tenant_id: int | None = None) -> None:
        if tenant_id is None:
            self._snapshots.clear()
        else:
            self._snapshots.pop(tenant_id, None)


_cache = PolicyCache()


def cache_of(c: Any) -> PolicyCache:
    """The container's cache when it has one (tests get a fresh one per world), else the process's."""
    found = getattr(c, "policy_cache", None)
    return found if isinstance(found, PolicyCache) else _cache


async def snapshot(c: Container, tenant: Tenant, conn: AsyncConnection | None = None) -> Snapshot:
    cache = cache_of(c)
    snap = cache.fresh(tenant)
    if snap is not None:
        return snap
    if conn is not None:
        snap = await load(conn, tenant)
    else:
        async with c.db.read() as own:
            snap = await load(own, tenant)
    cache.keep(tenant.id, snap)
    return snap


async def refuses(c: Container, tenant: Tenant, url_or_domain: str | None) -> bool:
    """True when `tenant` must neither accept from nor send to nor fetch from this host."""
    host = host_of(url_or_domain)
    if not host:
        return False
    return (await snapshot(c, tenant)).refuses(host)


async def rule_for(c: Container, tenant: Tenant, url_or_domain: str | None,
                   conn: AsyncConnection | None = None) -> Rule | None:
    host = host_of(url_or_domain)
    return (await snapshot(c, tenant, conn)).rule_for(host) if host else None


async def silences(c: Container, tenant: Tenant, url_or_domain: str | None) -> bool:
    rule = await rule_for(c, tenant, url_or_domain)
    return rule is not None and rule.severity == "silence"


async def rejects_media(c: Container, tenant: Tenant, url_or_domain: str | None) -> bool:
    """True when media (attachments, avatars, headers, emoji) from this host is
    neither fetched nor shown. A suspended host's media is rejected too."""
    rule = await rule_for(c, tenant, url_or_domain)
    return rule is not None and (rule.reject_media or rule.severity == "suspend")


async def stored_rule(conn: AsyncConnection, tenant_id: int, domain: str | None) -> Rule | None:
    """The block on `domain` or its nearest parent, read inside the caller's
    transaction (for writers that must see exactly what is stored)."""
    host = host_of(domain)
    labels = host.split(".")
    parents = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    if not parents:
        return None
    rows = (await conn.execute(select(
        domain_blocks.c.domain, domain_blocks.c.severity, domain_blocks.c.reject_media,
        domain_blocks.c.reject_reports, domain_blocks.c.created_at).where(
        domain_blocks.c.tenant_id == tenant_id, domain_blocks.c.domain.in_(parents)))).all()
    if not rows:
        return None
    b = min(rows, key=lambda r: parents.index(r.domain))
    return Rule(b.domain, b.severity, bool(b.reject_media), bool(b.reject_reports), b.created_at)


async def rejects_reports(conn_or_c: Any, tenant_id: int, domain: str | None) -> bool:
    """True when Flag activities (remote reports) from this host are dropped
    (a suspended host's too). Takes a connection (inside a handler's
    transaction) or the container (cached)."""
    if isinstance(conn_or_c, AsyncConnection):
        rule = await stored_rule(conn_or_c, tenant_id, domain)
    else:
        tenant = await conn_or_c.tenants.get(tenant_id)
        if tenant is None:
            return True
        rule = await rule_for(conn_or_c, tenant, domain)
    return rule is not None and (rule.reject_reports or rule.severity == "suspend")


def account_marks(rule: Rule | None) -> dict[str, Any]:
    """What a newly stored account from a blocked domain gets: `silenced_at` or
    `suspended_at` dated as the block (so lifting the block lifts them), and no
    avatar or header when the domain's media is rejected."""
    if rule is None:
        return {}
    marks: dict[str, Any] = {}
    column = {"silence": "silenced_at", "suspend": "suspended_at"}.get(rule.severity)
    if column:
        marks[column] = rule.created_at
    if rule.reject_media or rule.severity == "suspend":
        marks["avatar_remote_url"] = marks["header_remote_url"] = None
    return marks
