"""Warning presets (Mastodon's account_warning_presets): canned texts an admin
keeps so moderators can cite them when they act on an account. Changes are
audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import not_found, unprocessable
from steward.core.ids import new_id
from steward.db.tables import account_warning_presets
from steward.moderation.audit import log_action

MAX_TITLE = 200
MAX_TEXT = 5000


def _clean(title: str | None, text: str | None, *, partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if title is not None:
        if len(title) > MAX_TITLE:
            raise unprocessable(f"Title is too long (maximum is {MAX_TITLE} characters)", "title", "ERR_TOO_LONG")
        values["title"] = title.strip()
    if text is not None or not partial:
        text = (text or "").strip()
        if not text:
            raise unprocessable("Text can't be blank", "text", "ERR_BLANK")
        if len(text) > MAX_TEXT:
            raise unprocessable(f"Text is too long (maximum is {MAX_TEXT} characters)", "text", "ERR_TOO_LONG")
        values["text"] = text
    return values


async def list_presets(conn: AsyncConnection, tenant_id: int) -> list[dict[str, Any]]:
    rows = (await conn.execute(select(account_warning_presets).where(
        account_warning_presets.c.tenant_id == tenant_id).order_by(account_warning_presets.c.title,
                                                                    account_warning_presets.c.id))).all()
    return [dict(r._mapping) for r in rows]


async def get_preset(conn: AsyncConnection, tenant_id: int, preset_id: int) -> dict[str, Any]:
    row = (await conn.execute(select(account_warning_presets).where(
        account_warning_presets.c.tenant_id == tenant_id, account_warning_presets.c.id == preset_id))).first()
    if row is None:
        raise not_found()
    return dict(row._mapping)


async def create_preset(conn: AsyncConnection, tenant_id: int, actor_id: int, *, title: str | None,
                        text: str | None) -> dict[str, Any]:
    values = _clean(title or "", text, partial=False)
    now = utcnow()
    preset_id = new_id()
    await conn.execute(account_warning_presets.insert().values(tenant_id=tenant_id, id=preset_id, created_at=now,
                                                               updated_at=now, **values))
    await log_action(conn, tenant_id, actor_id, "create", "AccountWarningPreset", preset_id, values["title"])
    return await get_preset(conn, tenant_id, preset_id)


async def update_preset(conn: AsyncConnection, tenant_id: int, actor_id: int, preset_id: int, *,
                        title: str | None, text: str | None) -> dict[str, Any]:
    await get_preset(conn, tenant_id, preset_id)
    values = _clean(title, text, partial=True)
    await conn.execute(update(account_warning_presets).where(
        account_warning_presets.c.tenant_id == tenant_id, account_warning_presets.c.id == preset_id)
        .values(updated_at=utcnow(), **values))
    await log_action(conn, tenant_id, actor_id, "update", "AccountWarningPreset", preset_id, changed=sorted(values))
    return await get_preset(conn, tenant_id, preset_id)


async def delete_preset(conn: AsyncConnection, tenant_id: int, actor_id: int, preset_id: int) -> None:
    row = await get_preset(conn, tenant_id, preset_id)
    await conn.execute(delete(account_warning_presets).where(
        account_warning_presets.c.tenant_id == tenant_id, account_warning_presets.c.id == preset_id))
    await log_action(conn, tenant_id, actor_id, "destroy", "AccountWarningPreset", preset_id, row["title"])


async def action_text(conn: AsyncConnection, tenant_id: int, preset_id: int | None, text: str) -> str:
    """The text of an action: the preset's, then the moderator's own words (as Mastodon joins them)."""
    if preset_id is None:
        return text
    preset = await get_preset(conn, tenant_id, preset_id)
    return "\n\n".join(t for t in (preset["text"], text.strip()) if t)
