"""Inbound activities about actors themselves, with Mastodon's rules:

- Update of an actor refreshes the stored account, only when sent by that
  actor (the object's id is the activity's actor).
- Delete of an actor (object = the actor itself) forgets the account here:
  follows, statuses, notifications; the row stays, suspended. A self-Delete
  whose signature cannot be checked (the key went with the actor) is acted on
  only once the actor's own server answers 404/410 for it (`ap.actor_gone`).
- Move: the target must list the origin in `alsoKnownAs` (checked on a fresh
  copy of the target); then local followers of the origin follow the target.
  A target on this server must have listed the origin among its aliases.
- Add/Remove to the actor's `featured` collection pin and unpin its statuses."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from steward.activitypub import vocab
from steward.activitypub.transport import TransportError
from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import accounts, status_pins, statuses
from steward.federation.actors import ActorError, upsert_remote_actor
from steward.federation.fetch import ensure_actor, stored_actor
from steward.federation.inbound_relationships import account_by_uri
from steward.federation.keys import instance_signer
from steward.model.entities import Account, Tenant
from steward.social.migration import transfer_followers
from steward.social.relationships import insert_ignore
from steward.social.remote_accounts import forget_remote_account

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)


async def _update(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    obj = vocab.object_of(doc)
    if obj is None or not vocab.has_type(obj, *vocab.ACTOR_TYPES):
        return  # an Update of a Note or Question is another module's
    actor = vocab.id_of(doc.get("actor"))
    if vocab.id_of(obj.get("id")) != actor:
        log.warning("Update %s of actor %s sent by someone else; ignored", doc.get("id"), obj.get("id"))
        return
    known = await stored_actor(c, tenant, actor or "")
    if known is None:
        return  # Mastodon stores actors it has a use for; an Update alone is not one
    try:
        async with c.db.write() as conn:
            await upsert_remote_actor(conn, tenant, obj, domain=known.domain)
    except ActorError as exc:
        log.info("Update %s: the actor is not usable: %s", doc.get("id"), exc)


async def _delete(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    actor = vocab.id_of(doc.get("actor"))
    if not actor or vocab.id_of(doc.get("object")) != actor:
        return  # a Delete of a Note is another module's
    async with c.db.write() as conn:
        remote = await account_by_uri(conn, tenant.id, actor, local=False)
        if remote is not None:
            await forget_remote_account(conn, tenant.id, remote.id)
    c.jobs.wake()


async def on_actor_gone(c: Container, payload: dict[str, Any]) -> None:
    """An unverifiable self-Delete arrived: believe it only if the actor's
    server no longer serves the actor (404 or 410), as Mastodon checks."""
    tenant = await c.tenants.get(int(payload["tenant_id"]))
    actor = str(payload.get("actor") or "")
    if tenant is None or await stored_actor(c, tenant, actor) is None:
        return
    try:
        await c.transport.fetch_json(actor, signer=instance_signer(c.base_url(tenant), tenant))
        log.info("self-Delete of %s not confirmed: the actor is still served", actor)
        return
    except TransportError as exc:
        if exc.status not in {404, 410}:
            log.info("self-Delete of %s not confirmed: %s", actor, exc)
            return
    await _delete(c, tenant, {"actor": actor, "object": actor}, payload)


async def _local_by_uri(c: Container, tenant: Tenant, uri: str) -> Account | None:
    async with c.db.read() as conn:
        return await account_by_uri(conn, tenant.id, uri, local=True)


async def _move(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    actor = vocab.id_of(doc.get("actor"))
    target_uri = vocab.id_of(doc.get("target"))
    if not actor or vocab.id_of(doc.get("object")) != actor or not target_uri or target_uri == actor:
        log.info("Move %s is not a move of its actor; ignored", doc.get("id"))
        return
    origin = await stored_actor(c, tenant, actor)
    if origin is None:
        return
    if vocab.host_of(target_uri) in {tenant.domain, tenant.web_domain}:
        target = await _local_by_uri(c, tenant, target_uri)
    else:
        target = await ensure_actor(c, tenant, target_uri, refresh=True)
    if target is None or target.suspended_at is not None:
        log.info("Move %s: the target %s is not usable; ignored", doc.get("id"), target_uri)
        return
    if origin.uri not in (target.also_known_as or []):
        log.info("Move %s: %s does not list %s in alsoKnownAs; ignored", doc.get("id"), target_uri, actor)
        return
    async with c.db.write() as conn:
        await conn.execute(update(accounts).where(accounts.c.tenant_id == tenant.id, accounts.c.id == origin.id)
                           .values(moved_to_account_id=target.id))
        origin.moved_to_account_id = target.id
        moved = await transfer_followers(conn, tenant.id, origin, target)
    log.info("Move %s: %s followers here now follow %s", doc.get("id"), moved, target_uri)
    c.jobs.wake()


async def _featured_target(c: Container, tenant: Tenant, doc: dict[str, Any]) -> Account | None:
    actor = await stored_actor(c, tenant, vocab.id_of(doc.get("actor")) or "")
    target = vocab.id_of(doc.get("target"))
    if actor is None or not target or target != actor.featured_url:
        return None
    return actor


async def _status_of(c: Container, tenant: Tenant, account: Account, uri: str) -> int | None:
    async with c.db.read() as conn:
        found = (await conn.execute(select(statuses.c.id).where(
            statuses.c.tenant_id == tenant.id, statuses.c.uri == uri, statuses.c.account_id == account.id,
            statuses.c.deleted_at.is_(None)))).scalar()
    if found is not None:
        return int(found)
    try:
        from steward.federation import notes  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    resolver = getattr(notes, "resolve_status", None)
    if resolver is None or not vocab.same_origin(uri, account.uri):
        return None
    found = await resolver(c, tenant, uri)
    if found is None:
        return None
    status_id = int(found if isinstance(found, int) else found.id)
    async with c.db.read() as conn:
        owner = (await conn.execute(select(statuses.c.account_id).where(
            statuses.c.tenant_id == tenant.id, statuses.c.id == status_id))).scalar()
    return status_id if owner == account.id else None


async def _add(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    account = await _featured_target(c, tenant, doc)
    uri = vocab.id_of(doc.get("object"))
    if account is None or not uri:
        return
    status_id = await _status_of(c, tenant, account, uri)
    if status_id is None:
        log.info("Add %s: status %s unknown and not fetchable; ignored", doc.get("id"), uri)
        return
    async with c.db.write() as conn:
        await insert_ignore(conn, status_pins, {"tenant_id": tenant.id, "id": new_id(), "account_id": account.id,
                                                "status_id": status_id, "created_at": utcnow()})


async def _remove(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    account = await _featured_target(c, tenant, doc)
    uri = vocab.id_of(doc.get("object"))
    if account is None or not uri:
        return
    async with c.db.write() as conn:
        found = (await conn.execute(select(statuses.c.id).where(
            statuses.c.tenant_id == tenant.id, statuses.c.uri == uri,
            statuses.c.account_id == account.id))).scalar()
        if found is not None:
            await conn.execute(delete(status_pins).where(
                status_pins.c.tenant_id == tenant.id, status_pins.c.account_id == account.id,
                status_pins.c.status_id == found))


HANDLERS = {"Update": _update, "Delete": _delete, "Move": _move, "Add": _add, "Remove": _remove}
