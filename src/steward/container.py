"""Explicit wiring: settings, database, tenant directory, job runner and the
services that route handlers reach through `ctx.c`."""

from __future__ import annotations

import ipaddress

from steward.core.clock import Clock, SystemClock
from steward.db.engine import Database
from steward.jobs.queue import JobRunner
from steward.model.entities import Tenant
from steward.settings import Settings
from steward.tenancy.service import TenantDirectory
from steward.web.base import AuthCache


def _is_local_host(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name in {"localhost"} or name.endswith(".localhost") or name.endswith(".test"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def outbound_hosts(settings: Settings) -> dict[str, tuple[str, ...]] | None:
    """The test hosts override (STEWARD_HOSTS_FILE); ignored unless private addresses
    are allowed, so a production server never answers names from a file."""
    from steward.activitypub.transport import read_hosts_file

    if settings.hosts_file is None or not settings.allow_private_addresses:
        return None
    return read_hosts_file(settings.hosts_file)


class Container:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        from steward.activitypub.transport import HttpTransport, Transport
        from steward.social.media_store import LocalMediaStore
        from steward.social.streaming import StreamingHub

        self.settings = settings
        self.clock = clock or SystemClock()
        self.db = Database(settings.database_url)
        self.tenants = TenantDirectory(self.db)
        self.auth_cache = AuthCache()
        self.jobs = JobRunner(self.db)
        self.media = LocalMediaStore(settings.media_dir)
        self.hub = StreamingHub()
        # Outbound federation HTTP; tests swap in activitypub.transport.FakeTransport.
        self.transport: Transport = HttpTransport(allow_private=settings.allow_private_addresses,
                                                  hosts=outbound_hosts(settings))
        register_job_handlers(self)

    def scheme_for(self, tenant: Tenant) -> str:
        if self.settings.default_scheme != "auto":
            return self.settings.default_scheme
        return "http" if _is_local_host(tenant.web_domain) else "https"

    def base_url(self, tenant: Tenant) -> str:
        return f"{self.scheme_for(tenant)}://{tenant.web_domain}"

    async def close(self) -> None:
        await self.jobs.stop()
        await self.transport.close()
        await self.db.dispose()


def register_job_handlers(c: Container) -> None:
    from steward.federation import jobs as federation_jobs
    from steward.social import jobs as social_jobs

    social_jobs.register(c)
    federation_jobs.register(c)

    from steward.moderation import blocklist_subscriptions, retention

    blocklist_subscriptions.register(c)
    retention.register(c)
