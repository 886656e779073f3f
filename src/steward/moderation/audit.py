"""The admin audit log: one append-only row per staff action (who, what, which
object, when), always inside the same transaction as the action itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import admin_action_logs


async def log_action(conn: AsyncConnection, tenant_id: int, actor_account_id: int, action: str,
                     target_type: str, target_id: int | None, human_identifier: str | None = None,
                     **details: Any) -> int:
    row_id = new_id()
    await conn.execute(admin_action_logs.insert().values(
        tenant_id=tenant_id, id=row_id, account_id=actor_account_id, action=action, target_type=target_type,
        target_id=target_id, human_identifier=human_identifier, details=details, created_at=utcnow()))
    return row_id


async def list_actions(conn: AsyncConnection, tenant_id: int, *, target_type: str | None = None,
                       target_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    query = select(admin_action_logs).where(admin_action_logs.c.tenant_id == tenant_id)
    if target_type is not None:
        query = query.where(admin_action_logs.c.target_type == target_type)
    if target_id is not None:
        query = query.where(admin_action_logs.c.target_id == target_id)
    rows = (await conn.execute(query.order_by(admin_action_logs.c.id.desc()).limit(limit))).all()
    return [dict(r._mapping) for r in rows]
