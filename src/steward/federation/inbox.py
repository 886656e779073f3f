"""Accepting an inbound activity: strict signature checks, then the raw
activity is stored as an `ap.inbox` job (deduplicated per tenant by activity
id) for `federation.dispatch`."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from steward.activitypub import vocab
from steward.activitypub.signatures import Request, SignatureError, verify_request
from steward.core.errors import ApiError
from steward.db.tables import jobs
from steward.federation import inbox_batch, policy
from steward.federation.keys import RemoteKeys
from steward.jobs.queue import enqueue
from steward.model.entities import Tenant

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)
# Activities whose embedded object must come from the actor's own server.
_OWN_OBJECT_TYPES = {"Create", "Update"}


@dataclass(frozen=True, slots=True)
class Received:
    queued: bool  # False when the activity had been received before (or was dropped)


def _check_shape(doc: dict[str, Any]) -> tuple[str, str | None, str]:
    actor = vocab.id_of(doc.get("actor"))
    kind = vocab.type_of(doc)
    activity_id = vocab.id_of(doc.get("id"))
    if not actor or not kind or vocab.host_of(actor) is None:
        raise ApiError(400, "The activity needs an actor and a type")
    if activity_id is not None and not vocab.same_origin(activity_id, actor):
        raise ApiError(400, "The activity's id is not on its actor's server")
    embedded = vocab.object_of(doc)
    if kind in _OWN_OBJECT_TYPES and embedded is not None:
        object_id = vocab.id_of(embedded.get("id"))
        if object_id is None or not vocab.same_origin(object_id, actor):
            raise ApiError(400, "The object's id is not on its actor's server")
    return actor, activity_id, kind


def _is_self_delete(doc: dict[str, Any], actor: str) -> bool:
    return vocab.type_of(doc) == "Delete" and vocab.id_of(doc.get("object")) == actor


async def _queue_gone_check(c: Container, tenant: Tenant, actor: str) -> Received:
    from steward.federation.fetch import stored_actor

    if await stored_actor(c, tenant, actor) is None:
        return Received(False)  # nothing of theirs is stored here, as Mastodon skips unknown actors' Deletes
    dedupe = f"ap.actor_gone:{tenant.id}:" + hashlib.sha256(actor.encode()).hexdigest()
    try:
        async with c.db.write() as conn:
            if (await conn.execute(select(jobs.c.id).where(jobs.c.dedupe_key == dedupe))).first() is not None:
                return Received(False)
            await enqueue(conn, "ap.actor_gone", {"tenant_id": tenant.id, "actor": actor}, tenant_id=tenant.id,
                          dedupe_key=dedupe)
    except IntegrityError:
        return Received(False)
    c.jobs.wake()
    return Received(True)


async def receive(c: Container, tenant: Tenant, req: Request, doc: dict[str, Any], *,
                  recipient: str | None) -> Received:
    """401 when the signature does not hold or its key is not the actor's; 400
    for an unusable activity. `recipient` is the local username of a personal
    inbox (None for the shared and instance inboxes)."""
    actor, activity_id, kind = _check_shape(doc)
    if await policy.refuses(c, tenant, actor):
        # Before any key fetch: nothing goes out to a refused domain. Mastodon answers 403 too.
        raise ApiError(403, "The domain is not allowed to federate with this server")
    try:
        verified = await verify_request(req, RemoteKeys(c, tenant), require_owner=actor)
    except SignatureError as exc:
        if _is_self_delete(doc, actor):
            # A deleted actor's key is gone with it: believe the Delete once its server confirms (404/410).
            return await _queue_gone_check(c, tenant, actor)
        raise ApiError(401, f"Verification failed: {exc}") from exc
    dedupe = f"ap.inbox:{tenant.id}:" + (activity_id or hashlib.sha256(req.body).hexdigest())
    if len(dedupe) > 255:
        dedupe = f"ap.inbox:{tenant.id}:" + hashlib.sha256(dedupe.encode()).hexdigest()
    payload = {"tenant_id": tenant.id, "activity": doc, "signed_by": verified.owner, "recipient": recipient}
    # Stored with whatever else arrived meanwhile, in one transaction (inbox_batch); a duplicate still
    # waiting in the queue is skipped.
    if not await inbox_batch.store(c, tenant.id, dedupe, payload):
        return Received(False)
    log.info("inbox: %s %s from %s queued for tenant %s", kind, activity_id, actor, tenant.id)
    return Received(True)
