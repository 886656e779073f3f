"""Inbound Accept and Reject of our Follow, and Block / Undo Block by remote
accounts, with Mastodon's rules:

- Accept turns the local account's follow request into a follow; the request
  is found by the Follow's id, else by (local follower, the accepting actor).
  Only the followed account itself can accept; an Accept of a Follow we never
  sent changes nothing.
- Reject drops the request, or ends the follow when it had been accepted (a
  remote account removing a local follower sends this).
- Block by a remote account ends follows and requests both ways and is
  recorded, so the local account sees `blocked_by`; Undo Block removes it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.activitypub import vocab
from steward.db.tables import accounts, blocks, follow_requests, follows
from steward.model.entities import Account, Tenant, from_row
from steward.social.relationships import blocked_by_remote, follow_ended, follow_request_accepted

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)


async def account_by_uri(conn: AsyncConnection, tenant_id: int, uri: str | None, *, local: bool) -> Account | None:
    if not uri:
        return None
    query = select(accounts).where(accounts.c.tenant_id == tenant_id, accounts.c.uri == uri)
    query = query.where(accounts.c.domain == "") if local else query.where(accounts.c.domain != "")
    row = (await conn.execute(query)).first()
    return from_row(Account, row) if row else None


async def _our_follow(conn: AsyncConnection, tenant: Tenant, table: Any, remote: Account,
                      follow: Any) -> Any:
    """The row of `table` (follows or follow_requests) for a local account's
    Follow of `remote` named by an Accept/Reject object: by the Follow's id,
    else by its actor (when the object is a whole Follow of the remote)."""
    follow_id = vocab.id_of(follow)
    if follow_id:
        row = (await conn.execute(select(table).where(
            table.c.tenant_id == tenant.id, table.c.target_account_id == remote.id,
            table.c.uri == follow_id))).first()
        if row is not None:
            return row
    if not isinstance(follow, dict) or not vocab.has_type(follow, "Follow"):
        return None
    if vocab.id_of(follow.get("object")) not in {None, remote.uri}:
        return None
    local = await account_by_uri(conn, tenant.id, vocab.id_of(follow.get("actor")), local=True)
    if local is None:
        return None
    return (await conn.execute(select(table).where(
        table.c.tenant_id == tenant.id, table.c.account_id == local.id,
        table.c.target_account_id == remote.id))).first()


async def _accept(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    follow = vocab.first(doc.get("object"))
    if isinstance(follow, dict) and not vocab.has_type(follow, "Follow"):
        return  # an Accept of something else (a quote request, ...) is another module's
    async with c.db.write() as conn:
        remote = await account_by_uri(conn, tenant.id, vocab.id_of(doc.get("actor")), local=False)
        if remote is None:
            return
        request = await _our_follow(conn, tenant, follow_requests, remote, follow)
        if request is None:
            log.info("Accept %s names no follow request of ours to %s; ignored", doc.get("id"), remote.uri)
            return
        await follow_request_accepted(conn, tenant.id, request)


async def _reject(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    follow = vocab.first(doc.get("object"))
    if isinstance(follow, dict) and not vocab.has_type(follow, "Follow"):
        return
    async with c.db.write() as conn:
        remote = await account_by_uri(conn, tenant.id, vocab.id_of(doc.get("actor")), local=False)
        if remote is None:
            return
        row = (await _our_follow(conn, tenant, follow_requests, remote, follow)
               or await _our_follow(conn, tenant, follows, remote, follow))
        if row is None:
            log.info("Reject %s names no follow of ours to %s; ignored", doc.get("id"), remote.uri)
            return
        await follow_ended(conn, tenant.id, row.account_id, remote.id)


async def _block(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    async with c.db.write() as conn:
        remote = await account_by_uri(conn, tenant.id, vocab.id_of(doc.get("actor")), local=False)
        local = await account_by_uri(conn, tenant.id, vocab.id_of(doc.get("object")), local=True)
        if remote is None or local is None:
            return
        await blocked_by_remote(conn, tenant.id, remote.id, local.id, vocab.id_of(doc.get("id")))


async def _unblock(conn: AsyncConnection, tenant: Tenant, doc: dict[str, Any], block: Any) -> None:
    remote = await account_by_uri(conn, tenant.id, vocab.id_of(doc.get("actor")), local=False)
    if remote is None:
        return
    match = []
    block_id = vocab.id_of(block)
    if block_id:
        match.append(blocks.c.uri == block_id)
    if isinstance(block, dict):
        local = await account_by_uri(conn, tenant.id, vocab.id_of(block.get("object")), local=True)
        if local is not None:
            match.append(blocks.c.target_account_id == local.id)
    if match:
        await conn.execute(delete(blocks).where(blocks.c.tenant_id == tenant.id, blocks.c.account_id == remote.id,
                                                or_(*match)))


async def _undo_block(c: Container, tenant: Tenant, doc: dict[str, Any], inner: Any,
                      payload: dict[str, Any]) -> None:
    async with c.db.write() as conn:
        await _unblock(conn, tenant, doc, inner)


HANDLERS = {"Accept": _accept, "Reject": _reject, "Block": _block}
UNDO_HANDLERS = {"Block": _undo_block}
UNDO_BY_ID = [_undo_block]
