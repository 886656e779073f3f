"""What a streaming connection may receive: checks made per event for one
viewer (blocks and mutes between the viewer and a status's authors, and
ownership of the notification or conversation an event names)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.db.tables import account_conversations, blocks, mutes


async def blocked_or_muted(conn: AsyncConnection, tenant_id: int, viewer_id: int, authors: set[int]) -> bool:
    """True when the viewer blocks, is blocked by, or mutes any of `authors`."""
    now = utcnow()
    row = (await conn.execute(
        select(blocks.c.id).where(blocks.c.tenant_id == tenant_id, or_(
            (blocks.c.account_id == viewer_id) & blocks.c.target_account_id.in_(authors),
            (blocks.c.target_account_id == viewer_id) & blocks.c.account_id.in_(authors)))
        .union_all(select(mutes.c.id).where(
            mutes.c.tenant_id == tenant_id, mutes.c.account_id == viewer_id, mutes.c.target_account_id.in_(authors),
            or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > now)))
        .limit(1))).first()
    return row is not None


async def own_conversation(conn: AsyncConnection, tenant_id: int, viewer_id: int, conversation_id: int) -> Any:
    """The viewer's account_conversations row with this id, or None."""
    return (await conn.execute(select(account_conversations).where(
        account_conversations.c.tenant_id == tenant_id, account_conversations.c.id == conversation_id,
        account_conversations.c.account_id == viewer_id))).first()
