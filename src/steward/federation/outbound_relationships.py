"""Relationship and actor activities sent for what local accounts do: Follow
and Undo Follow, Block and Undo Block, Reject of a removed follower's Follow,
Update of the actor after a profile change, Delete of the actor, and Move.

Shaped as Mastodon sends them (ids under the actor: `#follows/<id>/undo`,
`#blocks/<id>/undo`, `#rejects/follows/<id>`, `#updates/<time>`, `#moves/<id>`,
`#delete`). Each handler reads what is stored now, so an event whose subject
is gone by the time it runs sends nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.activitypub import convert
from steward.activitypub.convert import PUBLIC, actor_uri, with_context
from steward.core.clock import utcnow
from steward.db.tables import accounts, blocks, follow_requests, follows
from steward.federation.audience import account_inboxes, follower_inboxes, queue_to
from steward.federation.keys import account_keys
from steward.model.entities import Account, Tenant
from steward.social.accounts import get_accounts

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)


async def _pair(conn: AsyncConnection, tenant: Tenant, local_id: Any, remote_id: Any) -> tuple[Account, Account] | None:
    """The local actor and the remote account of an event, or None when either is gone or misplaced."""
    found = await get_accounts(conn, tenant.id, [int(local_id), int(remote_id)])
    local, remote = found.get(int(local_id)), found.get(int(remote_id))
    if local is None or remote is None or not local.local or remote.local:
        return None
    return local, remote


def _inbox(remote: Account) -> list[str]:
    inbox = remote.inbox_url or remote.shared_inbox_url
    return [inbox] if inbox else []


def follow_activity(uri: str, me: str, target: str) -> dict[str, Any]:
    return {"id": uri, "type": "Follow", "actor": me, "object": target}


async def _send_follow(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    base = c.base_url(tenant)
    async with c.db.write() as conn:
        pair = await _pair(conn, tenant, payload["account_id"], payload["target_id"])
        if pair is None:
            return
        local, remote = pair
        row = (await conn.execute(select(follow_requests.c.id, follow_requests.c.uri).where(
            follow_requests.c.tenant_id == tenant.id, follow_requests.c.account_id == local.id,
            follow_requests.c.target_account_id == remote.id))).first()
        if row is None:
            return  # withdrawn before it left
        me = actor_uri(base, local)
        uri = row.uri or f"{me}#follows/{row.id}"
        if not row.uri:
            await conn.execute(follow_requests.update().where(
                follow_requests.c.tenant_id == tenant.id, follow_requests.c.id == row.id).values(uri=uri))
        await queue_to(conn, tenant.id, local.id, _inbox(remote),
                       with_context(follow_activity(uri, me, remote.uri)))
    c.jobs.wake()


async def _send_one(c: Container, tenant: Tenant, local_id: Any, remote_id: Any,
                    build: Callable[[str, Account], dict[str, Any]]) -> None:
    """Queue one activity from a local account to one remote account's inbox;
    `build(my actor URI, remote)` makes it. Nothing when either is gone."""
    async with c.db.write() as conn:
        pair = await _pair(conn, tenant, local_id, remote_id)
        if pair is None:
            return
        local, remote = pair
        activity = build(actor_uri(c.base_url(tenant), local), remote)
        await queue_to(conn, tenant.id, local.id, _inbox(remote), with_context(activity))
    c.jobs.wake()


async def _send_undo_follow(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    def build(me: str, remote: Account) -> dict[str, Any]:
        follow_uri = payload.get("uri") or f"{me}#follows/{payload['follow_id']}"
        return {"id": f"{me}#follows/{payload['follow_id']}/undo", "type": "Undo", "actor": me,
                "object": follow_activity(follow_uri, me, remote.uri)}

    await _send_one(c, tenant, payload["account_id"], payload["target_id"], build)


async def _send_reject_follower(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    def build(me: str, remote: Account) -> dict[str, Any]:
        follow_uri = payload.get("uri")
        return {"id": f"{me}#rejects/follows/{payload['follower_id']}-{int(utcnow().timestamp())}",
                "type": "Reject", "actor": me,
                "object": follow_activity(follow_uri, remote.uri, me) if follow_uri
                else {"type": "Follow", "actor": remote.uri, "object": me}}

    await _send_one(c, tenant, payload["account_id"], payload["follower_id"], build)


def block_activity(uri: str, me: str, target: str) -> dict[str, Any]:
    return {"id": uri, "type": "Block", "actor": me, "object": target}


async def _send_block(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    base = c.base_url(tenant)
    async with c.db.write() as conn:
        pair = await _pair(conn, tenant, payload["account_id"], payload["target_id"])
        if pair is None:
            return
        local, remote = pair
        row = (await conn.execute(select(blocks.c.id, blocks.c.uri).where(
            blocks.c.tenant_id == tenant.id, blocks.c.id == int(payload["block_id"])))).first()
        if row is None:
            return  # unblocked before it left; the Undo is not needed either
        me = actor_uri(base, local)
        uri = row.uri or f"{me}#blocks/{row.id}"
        if not row.uri:
            await conn.execute(blocks.update().where(blocks.c.tenant_id == tenant.id, blocks.c.id == row.id)
                               .values(uri=uri))
        await queue_to(conn, tenant.id, local.id, _inbox(remote), with_context(block_activity(uri, me, remote.uri)))
    c.jobs.wake()


async def _send_undo_block(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    def build(me: str, remote: Account) -> dict[str, Any]:
        uri = payload.get("uri") or f"{me}#blocks/{payload['block_id']}"
        return {"id": f"{me}#blocks/{payload['block_id']}/undo", "type": "Undo", "actor": me,
                "object": block_activity(uri, me, remote.uri)}

    await _send_one(c, tenant, payload["account_id"], payload["target_id"], build)


async def actor_document(c: Container, tenant: Tenant, account: Account) -> dict[str, Any]:
    """The actor as the actor route serves it, without its `@context`."""
    base = c.base_url(tenant)
    _, public_pem = await account_keys(c, tenant, account)
    if account.suspended_at is not None:
        doc = convert.suspended_actor(base, account, public_pem)
    else:
        moved_to = None
        if account.moved_to_account_id is not None:
            async with c.db.read() as conn:
                moved_to = (await conn.execute(select(accounts.c.uri).where(
                    accounts.c.tenant_id == tenant.id, accounts.c.id == account.moved_to_account_id))).scalar()
        doc = convert.account_to_actor(base, tenant, account, public_pem, moved_to=moved_to or None)
    return {k: v for k, v in doc.items() if k != "@context"}


async def _local(c: Container, tenant: Tenant, account_id: Any) -> Account | None:
    async with c.db.read() as conn:
        account = (await get_accounts(conn, tenant.id, [int(account_id)])).get(int(account_id))
    return account if account is not None and account.local else None


async def _send_update(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    account = await _local(c, tenant, payload["account_id"])
    if account is None:
        return
    obj = await actor_document(c, tenant, account)
    me = obj["id"]
    update = {"id": f"{me}#updates/{int(utcnow().timestamp())}", "type": "Update", "actor": me,
              "to": [PUBLIC], "object": obj}
    async with c.db.write() as conn:
        inboxes = await follower_inboxes(conn, tenant.id, account.id)
        await queue_to(conn, tenant.id, account.id, inboxes, with_context(update))
    c.jobs.wake()


async def _known_inboxes(conn: AsyncConnection, tenant_id: int, account_id: int) -> set[str]:
    """Followers, and the remote accounts followed, asked, or blocked: whoever
    should hear that the account is gone."""
    def others(table: Any) -> Any:
        return select(table.c.target_account_id.label("other")).where(
            table.c.tenant_id == tenant_id, table.c.account_id == account_id)

    rows = (await conn.execute(union(others(follows), others(follow_requests), others(blocks),
                                     select(follows.c.account_id).where(
                                         follows.c.tenant_id == tenant_id,
                                         follows.c.target_account_id == account_id)))).scalars().all()
    return await account_inboxes(conn, tenant_id, [int(r) for r in rows])


async def _send_delete(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    account = await _local(c, tenant, payload["account_id"])
    if account is None:
        return
    me = actor_uri(c.base_url(tenant), account)
    delete = {"id": f"{me}#delete", "type": "Delete", "actor": me, "to": [PUBLIC], "object": me}
    async with c.db.write() as conn:
        # `account_ids`: whoever it followed or was followed by, named when the event was
        # recorded (an erased account's follows are gone by the time this runs).
        named = [int(i) for i in payload.get("account_ids") or []]
        inboxes = (await follower_inboxes(conn, tenant.id, account.id)
                   | await _known_inboxes(conn, tenant.id, account.id)
                   | await account_inboxes(conn, tenant.id, named))
        await queue_to(conn, tenant.id, account.id, inboxes, with_context(delete))
    c.jobs.wake()


async def _send_move(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    account = await _local(c, tenant, payload["account_id"])
    if account is None or account.moved_to_account_id is None:
        return
    me = actor_uri(c.base_url(tenant), account)
    async with c.db.write() as conn:
        target = (await conn.execute(select(accounts.c.id, accounts.c.uri).where(
            accounts.c.tenant_id == tenant.id, accounts.c.id == account.moved_to_account_id))).first()
        if target is None:
            return
        move = {"id": f"{me}#moves/{payload.get('move_id') or target.id}", "type": "Move", "actor": me,
                "object": me, "target": target.uri}
        inboxes = await follower_inboxes(conn, tenant.id, account.id)
        await queue_to(conn, tenant.id, account.id, inboxes, with_context(move))
    c.jobs.wake()


EVENTS = {
    "follow.requested": _send_follow,
    "follow.undone": _send_undo_follow,
    "follower.removed": _send_reject_follower,
    "block": _send_block,
    "block.undone": _send_undo_block,
    "account.updated": _send_update,
    "account.deleted": _send_delete,
    "account.moved": _send_move,
}
