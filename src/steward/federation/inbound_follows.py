"""Inbound Follow (a follow, or a follow request for a locked account, answered
with Accept or, when the account blocks the follower, Reject) and Undo of a
Follow; and the Accept/Reject we send when a local account answers a remote
follow request. Idempotent: a replayed activity changes nothing twice."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.activitypub import vocab
from steward.activitypub.convert import actor_uri, with_context
from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import blocks, follow_requests, follows
from steward.federation.delivery import queue_delivery
from steward.federation.inbound_relationships import account_by_uri
from steward.jobs.queue import enqueue
from steward.model.entities import Account, Tenant
from steward.social.accounts import get_accounts, touch_counts
from steward.social.relationships import create_follow, insert_ignore

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)


def _inbox_of(remote: Account) -> str | None:
    return remote.inbox_url or remote.shared_inbox_url


async def _answer(conn: AsyncConnection, tenant: Tenant, base: str, local: Account, remote: Account,
                  follow: dict[str, Any], kind: str) -> None:
    inbox = _inbox_of(remote)
    if inbox is None:
        return
    me = actor_uri(base, local)
    answer = with_context({"id": f"{me}#{kind.lower()}s/follows/{new_id()}", "type": kind, "actor": me,
                           "object": {"id": follow.get("id"), "type": "Follow", "actor": remote.uri,
                                      "object": me}})
    await queue_delivery(conn, tenant.id, local.id, inbox, answer)


async def on_follow(c: Container, tenant: Tenant, doc: dict[str, Any]) -> None:
    base = c.base_url(tenant)
    async with c.db.write() as conn:
        remote = await account_by_uri(conn, tenant.id, vocab.id_of(doc.get("actor")), local=False)
        local = await account_by_uri(conn, tenant.id, vocab.id_of(doc.get("object")), local=True)
        if remote is None or local is None or local.suspended_at is not None:
            log.info("Follow %s names no local account or unknown actor; ignored", doc.get("id"))
            return
        blocked = (await conn.execute(select(blocks.c.id).where(
            blocks.c.tenant_id == tenant.id, blocks.c.account_id == local.id,
            blocks.c.target_account_id == remote.id))).first()
        if blocked is not None:
            await _answer(conn, tenant, base, local, remote, doc, "Reject")
            return
        already = (await conn.execute(select(follows.c.id).where(
            follows.c.tenant_id == tenant.id, follows.c.account_id == remote.id,
            follows.c.target_account_id == local.id))).first()
        if already is not None:
            # Following already: the remote server lost our Accept; send it again.
            await _answer(conn, tenant, base, local, remote, doc, "Accept")
            return
        if local.locked:
            inserted = await insert_ignore(conn, follow_requests, {
                "tenant_id": tenant.id, "id": new_id(), "account_id": remote.id, "target_account_id": local.id,
                "created_at": utcnow(), "show_reblogs": True, "notify": False, "uri": vocab.id_of(doc.get("id"))})
            kind = "follow_request"
        else:
            inserted = await create_follow(conn, tenant.id, remote.id, local.id, show_reblogs=True, notify=False,
                                           languages=None)
            if inserted:
                await conn.execute(follows.update().where(
                    follows.c.tenant_id == tenant.id, follows.c.account_id == remote.id,
                    follows.c.target_account_id == local.id).values(uri=vocab.id_of(doc.get("id"))))
            await _answer(conn, tenant, base, local, remote, doc, "Accept")
            kind = "follow"
        if inserted:
            await enqueue(conn, "notify", {"tenant_id": tenant.id, "account_id": local.id,
                                           "from_account_id": remote.id, "type": kind}, tenant_id=tenant.id)
    c.jobs.wake()


async def on_undo_follow(c: Container, tenant: Tenant, doc: dict[str, Any], follow: Any) -> None:
    actor = vocab.id_of(doc.get("actor"))
    follow_id = vocab.id_of(follow)
    target_uri = vocab.id_of(follow.get("object")) if isinstance(follow, dict) else None
    async with c.db.write() as conn:
        remote = await account_by_uri(conn, tenant.id, actor, local=False)
        if remote is None:
            return
        for table in (follows, follow_requests):
            match = [table.c.uri == follow_id] if follow_id else []
            if target_uri:
                local = await account_by_uri(conn, tenant.id, target_uri, local=True)
                if local is not None:
                    match.append(table.c.target_account_id == local.id)
            if not match:
                continue
            gone = (await conn.execute(delete(table).where(
                table.c.tenant_id == tenant.id, table.c.account_id == remote.id, or_(*match))
                .returning(table.c.target_account_id))).all()
            if table is follows:
                for row in gone:
                    await touch_counts(conn, tenant.id, remote.id, following_count=-1)
                    await touch_counts(conn, tenant.id, row.target_account_id, followers_count=-1)


async def on_follow_request_answered(c: Container, payload: dict[str, Any]) -> None:
    """A local account accepted or rejected a remote account's follow request."""
    tenant = await c.tenants.get(int(payload["tenant_id"]))
    if tenant is None:
        return
    async with c.db.write() as conn:
        found = await get_accounts(conn, tenant.id, [int(payload["follower_id"]), int(payload["target_id"])])
        remote, local = found.get(int(payload["follower_id"])), found.get(int(payload["target_id"]))
        if remote is None or local is None or remote.local:
            return
        await _answer(conn, tenant, c.base_url(tenant), local, remote, {"id": payload["follow_uri"]},
                      "Accept" if payload["accepted"] else "Reject")
    c.jobs.wake()


async def _follow(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    await on_follow(c, tenant, doc)


async def _undo_follow(c: Container, tenant: Tenant, doc: dict[str, Any], inner: Any,
                       payload: dict[str, Any]) -> None:
    await on_undo_follow(c, tenant, doc, inner)


HANDLERS = {"Follow": _follow}
# Undo of a Follow given whole; UNDO_BY_ID handlers get an Undo whose object is a bare id.
UNDO_HANDLERS = {"Follow": _undo_follow}
UNDO_BY_ID = [_undo_follow]
