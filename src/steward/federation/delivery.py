"""Delivering one activity to one inbox (the `ap.deliver` job): signed with the
local account's key, or the tenant's instance actor key when no account is
named. Remote 5xx and network failures retry with the queue's backoff; a 4xx
other than 408/429 is final."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.activitypub.transport import TransportError
from steward.federation import policy
from steward.federation.keys import account_keys
from steward.jobs.queue import enqueue
from steward.social.accounts import get_account

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    pass


async def queue_delivery(conn: AsyncConnection, tenant_id: int, account_id: int | None, inbox: str,
                         activity: dict[str, Any]) -> None:
    await enqueue(conn, "ap.deliver", {"tenant_id": tenant_id, "account_id": account_id, "inbox": inbox,
                                       "activity": activity}, tenant_id=tenant_id)


async def deliver(c: Container, payload: dict[str, Any]) -> None:
    tenant = await c.tenants.get(int(payload["tenant_id"]))
    if tenant is None or tenant.suspended_at is not None:
        return
    if await policy.refuses(c, tenant, payload["inbox"]):
        log.info("delivery to %s dropped: the domain is blocked or not allowed", payload["inbox"])
        return
    base = c.base_url(tenant)
    if payload.get("account_id") is None:
        key_id, private_pem = f"{base}/actor#main-key", tenant.private_key or ""
    else:
        async with c.db.read() as conn:
            account = await get_account(conn, tenant.id, int(payload["account_id"]))
        private_pem, _ = await account_keys(c, tenant, account)
        key_id = f"{account.uri or f'{base}/users/{account.username}'}#main-key"
    body = orjson.dumps(payload["activity"])
    try:
        status = await c.transport.post_signed(payload["inbox"], body, key_id, private_pem)
    except TransportError as exc:
        raise DeliveryFailed(str(exc)) from exc
    if 200 <= status < 300:
        return
    if 400 <= status < 500 and status not in {408, 429}:
        log.warning("delivery to %s refused with %s; not retried", payload["inbox"], status)
        return
    raise DeliveryFailed(f"{payload['inbox']} answered {status}")
