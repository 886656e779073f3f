"""Inbound Create, Update and Delete of statuses (Note, Question, and the types
Mastodon converts: Article, Page, ...), and poll votes (a Create of a Note with
a `name` replying to one of our Questions). The author is always the activity's
actor (the inbox checked the signature and that the object's id is on the
actor's server; these handlers recheck the author). Anything unusable is a
logged no-op: an inbox job is retried only when something failed that may work
later."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from steward.activitypub import vocab
from steward.db.tables import accounts, polls, statuses
from steward.federation.fetch import FetchError, ensure_actor, fetch_object, stored_actor
from steward.federation.notes import ingest_note, is_status_object, prepare
from steward.model.entities import Status, Tenant, from_row
from steward.social.polls import record_remote_vote, schedule_poll_update
from steward.social.remote_statuses import by_uri, edit_remote_status, remove_remote_status
from steward.social.status_visibility import filter_visible

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)


def _object(doc: dict[str, Any]) -> dict[str, Any] | None:
    obj = vocab.object_of(doc)
    if obj is None or not is_status_object(obj):
        return None
    return obj


async def _vote(c: Container, tenant: Tenant, doc: dict[str, Any], obj: dict[str, Any]) -> bool:
    """A vote on one of our polls; True when the Note was one (counted or not)."""
    name = vocab.get_str(obj, "name", max_len=1000)
    parent_uri = vocab.id_of(obj.get("inReplyTo"))
    if not name or not parent_uri or not vocab.has_type(obj, "Note"):
        return False
    async with c.db.read() as conn:
        parent = await by_uri(conn, tenant.id, parent_uri, by_url=False)
    if parent is None or not parent.local or parent.poll_id is None:
        return False
    voter = await ensure_actor(c, tenant, vocab.id_of(doc.get("actor")))
    if voter is None or voter.suspended_at is not None:
        return True
    async with c.db.write() as conn:
        if not await filter_visible(conn, tenant.id, voter.id, [parent]):
            log.info("vote %s on a poll its voter may not see; ignored", vocab.id_of(obj.get("id")))
            return True
        options = (await conn.execute(select(polls.c.options).where(
            polls.c.tenant_id == tenant.id, polls.c.id == parent.poll_id))).scalar() or []
        if name not in options:
            return True
        counted = await record_remote_vote(conn, tenant.id, parent.poll_id, voter.id, list(options).index(name),
                                           vocab.id_of(obj.get("id")))
        if counted:
            # Remote servers showing the poll hear the new counts (an Update of the Question).
            await schedule_poll_update(conn, tenant.id, parent.poll_id)
    log.info("vote %s on poll %s %s", vocab.id_of(obj.get("id")), parent.poll_id,
             "counted" if counted else "not counted")
    if counted:
        c.jobs.wake()
    return True


async def _referenced(c: Container, tenant: Tenant, doc: dict[str, Any]) -> dict[str, Any] | None:
    """The object of a Create that names it by id only, fetched from the
    actor's own server (the only server that may speak for it)."""
    ref, actor = doc.get("object"), vocab.id_of(doc.get("actor"))
    if not isinstance(ref, str) or not vocab.same_origin(ref, actor):
        return None
    try:
        fetched = await fetch_object(c, tenant, ref)
    except FetchError as exc:
        log.info("Create %s: its object %s could not be fetched: %s", doc.get("id"), ref, exc)
        return None
    return fetched if vocab.id_of(fetched.get("id")) == ref and is_status_object(fetched) else None


async def on_create(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    obj = _object(doc) or await _referenced(c, tenant, doc)
    if obj is None:
        log.info("Create %s of something that is not a status; ignored", doc.get("id"))
        return
    actor = vocab.id_of(doc.get("actor"))
    if vocab.id_of(obj.get("attributedTo")) != actor:
        log.info("Create %s: its object is attributed to someone else; ignored", doc.get("id"))
        return
    if await _vote(c, tenant, doc, obj):
        return
    await ingest_note(c, tenant, obj, fetched=False)


async def _authored(c: Container, tenant: Tenant, actor: str | None, object_id: str | None) -> Status | None:
    """The stored remote status (or boost) `object_id` when `actor` wrote it."""
    if not actor or not object_id or not vocab.same_origin(actor, object_id):
        return None
    async with c.db.read() as conn:
        found = await by_uri(conn, tenant.id, object_id, by_url=False)
        if found is None or found.local:
            return None
        author_uri = (await conn.execute(select(accounts.c.uri).where(
            accounts.c.tenant_id == tenant.id, accounts.c.id == found.account_id))).scalar()
    return found if author_uri == actor else None


async def on_update(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    obj = _object(doc)
    if obj is None:
        return  # an actor's Update, or something else another handler owns
    actor = vocab.id_of(doc.get("actor"))
    status = await _authored(c, tenant, actor, vocab.id_of(obj.get("id")))
    if status is None or status.reblog_of_id is not None or vocab.id_of(obj.get("attributedTo")) != actor:
        log.info("Update %s: no stored status of its actor; ignored", doc.get("id"))
        return
    prepared = await prepare(c, tenant, obj)
    if prepared is None or prepared.author.id != status.account_id:
        return
    async with c.db.write() as conn:
        row = (await conn.execute(select(statuses).where(statuses.c.tenant_id == tenant.id,
                                                         statuses.c.id == status.id))).first()
        current = from_row(Status, row) if row is not None else None
        if current is None or current.deleted_at is not None:
            return
        edited = await edit_remote_status(conn, tenant.id, current, prepared.draft)
    if edited:
        c.jobs.wake()


async def on_delete(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    actor = vocab.id_of(doc.get("actor"))
    object_id = vocab.id_of(doc.get("object"))
    if not object_id or object_id == actor:
        return  # an actor deleting itself is handled with the actors
    status = await _authored(c, tenant, actor, object_id)
    if status is None:
        log.info("Delete %s: no stored status of its actor named %s; ignored", doc.get("id"), object_id)
        return
    author = await stored_actor(c, tenant, actor or "")
    if author is None or author.id != status.account_id:
        return
    async with c.db.write() as conn:
        row = (await conn.execute(select(statuses).where(statuses.c.tenant_id == tenant.id,
                                                         statuses.c.id == status.id,
                                                         statuses.c.deleted_at.is_(None)))).first()
        if row is None:
            return
        await remove_remote_status(conn, tenant.id, from_row(Status, row))
    c.jobs.wake()


HANDLERS = {"Create": on_create, "Update": on_update, "Delete": on_delete}
