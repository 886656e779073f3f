"""Delivering one activity to one inbox (the `ap.deliver` job): signed with the
local account's key, or the tenant's instance actor key when no account is
named.

Retries: a network failure, 5xx, 408 or 429 raises, and the queue retries with
its exponential backoff (15 s, 1 min, 4 min, ... then every 12 hours) for
`DELIVERY_ATTEMPTS` attempts, about five days. Any other 4xx (410 Gone, 403,
...) is final. A refused address is final.

Remote hosts are the tenant's `instances` rows: each failed delivery counts
against its host (`failure_count`, `last_failure_at`), and after
`UNAVAILABLE_AFTER` failures with no success between, the host is marked
unavailable (`unavailable_since`). Deliveries to an unavailable host are not
dropped: they wait `UNAVAILABLE_RETRY` between tries, while one delivery every
`PROBE_INTERVAL` still goes out as a probe. Any answer other than a failure marks
the host available again. The failing hosts of a tenant are read once per
`STATE_TTL` per process, so the happy path costs no extra query."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.activitypub.transport import BlockedAddress, TransportError
from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import instances
from steward.federation import policy
from steward.federation.keys import account_keys
from steward.jobs.queue import RetryAfter, enqueue, enqueue_many
from steward.model.entities import Tenant
from steward.social.accounts import get_account

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)

DELIVERY_ATTEMPTS = 16
UNAVAILABLE_AFTER = 10
UNAVAILABLE_RETRY = 3 * 3600.0
PROBE_INTERVAL = timedelta(minutes=10)
STATE_TTL = 30.0
KEY_TTL = 300.0
TENANT_TTL = 5.0


class DeliveryFailed(Exception):
    pass


def host_of(inbox: str) -> str:
    parts = urlsplit(inbox)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


async def queue_delivery(conn: AsyncConnection, tenant_id: int, account_id: int | None, inbox: str,
                         activity: dict[str, Any]) -> None:
    await enqueue(conn, "ap.deliver", {"tenant_id": tenant_id, "account_id": account_id, "inbox": inbox,
                                       "activity": activity}, tenant_id=tenant_id, max_attempts=DELIVERY_ATTEMPTS)


async def queue_deliveries(conn: AsyncConnection, tenant_id: int, account_id: int | None, inboxes: list[str],
                           activity: dict[str, Any]) -> int:
    """One job per inbox, inserted in one statement."""
    return await enqueue_many(conn, "ap.deliver", [
        {"tenant_id": tenant_id, "account_id": account_id, "inbox": inbox, "activity": activity}
        for inbox in inboxes], tenant_id=tenant_id, max_attempts=DELIVERY_ATTEMPTS)


# ------------------------------------------------------------ host availability

@dataclass(slots=True)
class HostState:
    failure_count: int
    last_failure_at: datetime | None
    unavailable_since: datetime | None


_states: dict[int, tuple[float, dict[str, HostState]]] = {}


async def _failing_hosts(c: Container, tenant_id: int) -> dict[str, HostState]:
    cached = _states.get(tenant_id)
    if cached is not None and time.monotonic() - cached[0] < STATE_TTL:
        return cached[1]
    async with c.db.read() as conn:
        rows = (await conn.execute(select(
            instances.c.domain, instances.c.failure_count, instances.c.last_failure_at,
            instances.c.unavailable_since).where(instances.c.tenant_id == tenant_id,
                                                 instances.c.failure_count > 0))).all()
    states = {r.domain: HostState(r.failure_count, _aware(r.last_failure_at), _aware(r.unavailable_since))
              for r in rows}
    if len(_states) > 10_000:
        _states.clear()
    _states[tenant_id] = (time.monotonic(), states)
    return states


def _aware(at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo is not None else at.replace(tzinfo=UTC)


async def _record_failure(c: Container, tenant_id: int, host: str) -> None:
    now = utcnow()
    async with c.db.write() as conn:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        await conn.execute(insert(instances).values(
            tenant_id=tenant_id, id=new_id(), domain=host, first_seen_at=now, failure_count=0
        ).on_conflict_do_nothing())
        row = (await conn.execute(update(instances).where(
            instances.c.tenant_id == tenant_id, instances.c.domain == host).values(
            failure_count=instances.c.failure_count + 1, last_failure_at=now,
        ).returning(instances.c.failure_count, instances.c.unavailable_since))).first()
        unavailable_since = _aware(row.unavailable_since) if row else None
        count = row.failure_count if row else 1
        if unavailable_since is None and count >= UNAVAILABLE_AFTER:
            unavailable_since = now
            await conn.execute(update(instances).where(
                instances.c.tenant_id == tenant_id, instances.c.domain == host).values(unavailable_since=now))
            log.warning("host %s marked unavailable for tenant %s after %d failed deliveries", host, tenant_id,
                        count)
    states = await _failing_hosts(c, tenant_id)
    states[host] = HostState(count, now, unavailable_since)


async def _record_success(c: Container, tenant_id: int, host: str) -> None:
    async with c.db.write() as conn:
        await conn.execute(update(instances).where(
            instances.c.tenant_id == tenant_id, instances.c.domain == host).values(
            failure_count=0, unavailable_since=None))
    (await _failing_hosts(c, tenant_id)).pop(host, None)


# ------------------------------------------------------------ signing keys

_keys: dict[tuple[int, int | None], tuple[float, str, str]] = {}


async def _signing_key(c: Container, tenant: Tenant, account_id: int | None) -> tuple[str, str]:
    """(key id, private PEM) of the sender, cached a few minutes per process."""
    cached = _keys.get((tenant.id, account_id))
    if cached is not None and time.monotonic() - cached[0] < KEY_TTL:
        return cached[1], cached[2]
    base = c.base_url(tenant)
    if account_id is None:
        key_id, private_pem = f"{base}/actor#main-key", tenant.private_key or ""
    else:
        async with c.db.read() as conn:
            account = await get_account(conn, tenant.id, account_id)
        private_pem, _ = await account_keys(c, tenant, account)
        key_id = f"{account.uri or f'{base}/users/{account.username}'}#main-key"
    if len(_keys) > 10_000:
        _keys.clear()
    _keys[(tenant.id, account_id)] = (time.monotonic(), key_id, private_pem)
    return key_id, private_pem


# ------------------------------------------------------------ the job

_tenants: dict[int, tuple[float, Tenant | None]] = {}


async def _tenant(c: Container, tenant_id: int) -> Tenant | None:
    """The tenant, read at most once per TENANT_TTL per process (a suspension
    stops deliveries within seconds)."""
    cached = _tenants.get(tenant_id)
    if cached is not None and time.monotonic() - cached[0] < TENANT_TTL:
        return cached[1]
    tenant = await c.tenants.get(tenant_id)
    if len(_tenants) > 10_000:
        _tenants.clear()
    _tenants[tenant_id] = (time.monotonic(), tenant)
    return tenant


async def deliver(c: Container, payload: dict[str, Any]) -> None:
    tenant = await _tenant(c, int(payload["tenant_id"]))
    if tenant is None or tenant.suspended_at is not None:
        return
    inbox = str(payload["inbox"])
    if await policy.refuses(c, tenant, inbox):
        log.info("delivery to %s dropped: the domain is blocked or not allowed", inbox)
        return
    host = host_of(inbox)
    state = (await _failing_hosts(c, tenant.id)).get(host)
    if state is not None and state.unavailable_since is not None and state.last_failure_at is not None \
            and state.last_failure_at > utcnow() - PROBE_INTERVAL:
        raise RetryAfter(f"{host} is unavailable", UNAVAILABLE_RETRY * (0.75 + random.random() / 2))
    account_id = payload.get("account_id")
    key_id, private_pem = await _signing_key(c, tenant, None if account_id is None else int(account_id))
    body = orjson.dumps(payload["activity"])
    try:
        status = await c.transport.post_signed(inbox, body, key_id, private_pem)
    except BlockedAddress as exc:
        log.warning("delivery to %s refused here: %s; not retried", inbox, exc)
        return
    except TransportError as exc:
        await _record_failure(c, tenant.id, host)
        raise DeliveryFailed(str(exc)) from exc
    if status >= 500 or status in {408, 429}:
        await _record_failure(c, tenant.id, host)
        raise DeliveryFailed(f"{inbox} answered {status}")
    if state is not None:
        await _record_success(c, tenant.id, host)
    if status >= 300:
        log.warning("delivery to %s refused with %s; not retried", inbox, status)
