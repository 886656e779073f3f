"""Turning what local accounts do into deliveries (the `ap.outbox` job).

Domain services record an outbound event in the same transaction as the change
(`steward.social.federate.federate`): `{"tenant_id", "event", ...ids}`. This
job builds the activity from what is stored now and queues one `ap.deliver`
per target inbox. Each `outbound_*` module exposes `EVENTS` (event name ->
handler). An event nobody handles is logged and dropped."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from steward.model.entities import Tenant

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)

EventHandler = Callable[["Container", Tenant, dict[str, Any]], Awaitable[None]]


def _modules() -> list[ModuleType]:
    from steward.federation import outbound_flags, outbound_relationships, outbound_statuses

    return [outbound_relationships, outbound_statuses, outbound_flags]


@cache
def events() -> dict[str, EventHandler]:
    table: dict[str, EventHandler] = {}
    for module in _modules():
        table.update(getattr(module, "EVENTS", {}))
    return table


async def process(c: Container, payload: dict[str, Any]) -> None:
    tenant = await c.tenants.get(int(payload["tenant_id"]))
    if tenant is None or tenant.suspended_at is not None:
        return
    handler = events().get(str(payload.get("event")))
    if handler is None:
        log.warning("outbox: no handler for event %r; dropped", payload.get("event"))
        return
    await handler(c, tenant, payload)
