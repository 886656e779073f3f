"""Inbound Announce (a remote boost) and Like (a remote favourite of our
status), and their Undo. A boosted status that is not stored is fetched from
its own server, never taken from the copy the Announce may embed: a third
party cannot make us store an object its origin does not serve. `EmojiReact`
is accepted and ignored (no handler), as unknown types are."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, select

from steward.activitypub import vocab
from steward.activitypub.convert import parse_time
from steward.core.clock import utcnow
from steward.db.tables import accounts, follows, statuses
from steward.federation.fetch import ensure_actor, stored_actor
from steward.federation.notes import resolve_status
from steward.model.entities import Account, Status, Tenant, from_row
from steward.social.remote_statuses import (
    by_uri,
    remote_boost,
    remote_favourite,
    remote_unboost,
    remote_unfavourite,
)
from steward.social.status_visibility import filter_visible

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)


async def _followed_here(c: Container, tenant: Tenant, account: Account) -> bool:
    async with c.db.read() as conn:
        return bool((await conn.execute(select(exists().where(
            follows.c.tenant_id == tenant.id, follows.c.target_account_id == account.id,
            exists().where(accounts.c.tenant_id == tenant.id, accounts.c.id == follows.c.account_id,
                           accounts.c.domain == ""))))).scalar())


async def _status(c: Container, tenant: Tenant, status_id: int) -> Status | None:
    async with c.db.read() as conn:
        row = (await conn.execute(select(statuses).where(statuses.c.tenant_id == tenant.id,
                                                         statuses.c.id == status_id,
                                                         statuses.c.deleted_at.is_(None)))).first()
    return from_row(Status, row) if row is not None else None


async def on_announce(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    actor, activity_id = vocab.id_of(doc.get("actor")), vocab.id_of(doc.get("id"))
    target = vocab.id_of(doc.get("object"))
    if not actor or not activity_id or not target or vocab.host_of(target) is None:
        log.info("Announce %s names no usable object; ignored", activity_id)
        return
    booster = await ensure_actor(c, tenant, actor)
    if booster is None or booster.suspended_at is not None:
        return
    async with c.db.read() as conn:
        original = await by_uri(conn, tenant.id, target, by_url=False)
    # Mastodon's rule: a boost is stored when a local account follows the booster or it boosts our status.
    if not (original is not None and original.local) and not await _followed_here(c, tenant, booster):
        log.info("Announce %s concerns nobody on tenant %s; ignored", activity_id, tenant.id)
        return
    if original is None:
        found = await resolve_status(c, tenant, target, exact=True)
        original = await _status(c, tenant, found) if found is not None else None
    if original is None or original.reblog_of_id is not None:
        log.info("Announce %s: %s could not be fetched from its server; ignored", activity_id, target)
        return
    if original.visibility not in {"public", "unlisted"}:
        return
    visibility = vocab.visibility_of(doc, booster.followers_url)
    if visibility not in {"public", "unlisted", "private"}:
        visibility = "private"
    published = parse_time(vocab.get_str(doc, "published")) or utcnow()
    async with c.db.write() as conn:
        boost_id = await remote_boost(conn, tenant.id, booster, original, uri=activity_id, visibility=visibility,
                                      created_at=min(published, utcnow()))
    if boost_id is not None:
        c.jobs.wake()


async def on_like(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    actor, target = vocab.id_of(doc.get("actor")), vocab.id_of(doc.get("object"))
    if not actor or not target:
        return
    async with c.db.read() as conn:
        status = await by_uri(conn, tenant.id, target, by_url=False)
    if status is None or not status.local or status.reblog_of_id is not None:
        log.info("Like %s of %s: not one of our statuses; ignored", doc.get("id"), target)
        return
    liker = await ensure_actor(c, tenant, actor)
    if liker is None or liker.suspended_at is not None:
        return
    async with c.db.write() as conn:
        if not await filter_visible(conn, tenant.id, liker.id, [status]):
            log.info("Like %s of a status its actor may not see; ignored", doc.get("id"))
            return
        added = await remote_favourite(conn, tenant.id, liker.id, status, vocab.id_of(doc.get("id")))
    if added:
        c.jobs.wake()


async def _undo_announce(c: Container, tenant: Tenant, doc: dict[str, Any], inner: Any,
                         payload: dict[str, Any]) -> None:
    actor = await stored_actor(c, tenant, vocab.id_of(doc.get("actor")) or "")
    announce_id = vocab.id_of(inner)
    if actor is None or not announce_id:
        return
    async with c.db.write() as conn:
        removed = await remote_unboost(conn, tenant.id, actor.id, announce_id)
    if removed:
        c.jobs.wake()


async def _undo_like(c: Container, tenant: Tenant, doc: dict[str, Any], inner: Any,
                     payload: dict[str, Any]) -> None:
    actor = await stored_actor(c, tenant, vocab.id_of(doc.get("actor")) or "")
    like_id = vocab.id_of(inner)
    if actor is None:
        return
    async with c.db.write() as conn:
        removed = await remote_unfavourite(conn, tenant.id, actor.id, uri=like_id) if like_id else False
        target = vocab.id_of(inner.get("object")) if isinstance(inner, dict) else None
        if not removed and target:
            # Some servers undo a Like they never gave an id, or another id than they sent.
            status = await by_uri(conn, tenant.id, target, by_url=False)
            if status is not None:
                await remote_unfavourite(conn, tenant.id, actor.id, status_id=status.id)


async def _undo_by_id(c: Container, tenant: Tenant, doc: dict[str, Any], inner: Any,
                      payload: dict[str, Any]) -> None:
    await _undo_announce(c, tenant, doc, inner, payload)
    await _undo_like(c, tenant, doc, inner, payload)


HANDLERS = {"Announce": on_announce, "Like": on_like}
UNDO_HANDLERS = {"Announce": _undo_announce, "Like": _undo_like}
UNDO_BY_ID = [_undo_by_id]
