"""Processing a stored inbound activity (the `ap.inbox` job): routed by type
to the handler tables of the `inbound_*` modules. Each module exposes
`HANDLERS` (activity type -> handler; several modules may handle one
type, e.g. Update of an actor and Update of a Note, and each is called in turn
and ignores objects that are not its own), and may expose `UNDO_HANDLERS` (type of
the undone object -> handler) and `UNDO_BY_ID` (handlers for an Undo whose
object is a bare id; each matches the id against what it stores). Unknown
types are accepted and ignored. Handlers are idempotent by activity id."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from steward.activitypub import vocab
from steward.federation import policy
from steward.model.entities import Tenant

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)

Handler = Callable[["Container", Tenant, dict[str, Any], dict[str, Any]], Awaitable[None]]
UndoHandler = Callable[["Container", Tenant, dict[str, Any], Any, dict[str, Any]], Awaitable[None]]


def _modules() -> list[ModuleType]:
    from steward.federation import (
        inbound_actors,
        inbound_flags,
        inbound_follows,
        inbound_notes,
        inbound_reactions,
        inbound_relationships,
    )

    return [inbound_follows, inbound_relationships, inbound_actors, inbound_flags, inbound_notes, inbound_reactions]


@cache
def tables() -> tuple[dict[str, list[Handler]], dict[str, UndoHandler], tuple[UndoHandler, ...]]:
    handlers: dict[str, list[Handler]] = {}
    undo: dict[str, UndoHandler] = {}
    by_id: list[UndoHandler] = []
    for module in _modules():
        for kind, handler in getattr(module, "HANDLERS", {}).items():
            handlers.setdefault(kind, []).append(handler)
        undo.update(getattr(module, "UNDO_HANDLERS", {}))
        by_id.extend(getattr(module, "UNDO_BY_ID", []))
    return handlers, undo, tuple(by_id)


async def _undo(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    _, undo, by_id = tables()
    inner = vocab.first(doc.get("object"))
    if isinstance(inner, dict):
        if vocab.id_of(inner.get("actor")) not in {None, vocab.id_of(doc.get("actor"))}:
            log.warning("Undo %s undoes someone else's activity; ignored", doc.get("id"))
            return
        handler = undo.get(vocab.type_of(inner) or "")
        if handler is not None:
            await handler(c, tenant, doc, inner, payload)
            return
        inner = vocab.id_of(inner)
    if isinstance(inner, str):
        for each in by_id:
            await each(c, tenant, doc, inner, payload)
        return
    log.info("inbox: Undo %s of nothing we know; ignored", doc.get("id"))


async def process(c: Container, payload: dict[str, Any]) -> None:
    tenant = await c.tenants.get(int(payload["tenant_id"]))
    if tenant is None or tenant.suspended_at is not None:
        return
    doc: dict[str, Any] = payload["activity"]
    kind = vocab.type_of(doc) or ""
    if await policy.refuses(c, tenant, vocab.id_of(doc.get("actor"))):
        log.info("inbox: %s %s dropped, its domain was blocked after it arrived", kind, doc.get("id"))
        return
    if kind == "Undo":
        await _undo(c, tenant, doc, payload)
        return
    handlers = tables()[0].get(kind)
    if not handlers:
        log.info("inbox: %s %s accepted and ignored (no handler for this type)", kind, doc.get("id"))
        return
    for handler in handlers:
        await handler(c, tenant, doc, payload)
