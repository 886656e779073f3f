"""A tenant's custom emojis as its admins manage them: upload (PNG, GIF or WebP,
kept as sent so animation survives), copy a remote server's emoji (fetched
through the guarded transport), change category and picker visibility,
disable, delete. Every change is audited."""

from __future__ import annotations

import asyncio
import io
import re
from typing import TYPE_CHECKING, Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError, not_found, unprocessable
from steward.core.ids import new_id
from steward.db.tables import custom_emojis
from steward.moderation.audit import log_action

if TYPE_CHECKING:
    from steward.container import Container
    from steward.model.entities import Tenant

MAX_BYTES = 256 * 1024
MAX_SIDE = 512
SHORTCODE = re.compile(r"^[A-Za-z0-9_]{2,64}$")
FORMATS = {"PNG": "png", "GIF": "gif", "WEBP": "webp"}


def _inspect(data: bytes) -> str:
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = FORMATS.get(image.format or "")
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise unprocessable("Image is not a PNG, GIF or WebP image", "image") from None
    if kind is None:
        raise unprocessable("Image must be a PNG, GIF or WebP image", "image")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise unprocessable(f"Image is larger than {MAX_SIDE}x{MAX_SIDE} pixels", "image")
    return kind


async def image_kind(data: bytes) -> str:
    """The file extension of an acceptable emoji image; 422 otherwise."""
    if len(data) > MAX_BYTES:
        raise unprocessable(f"Image is larger than {MAX_BYTES // 1024} KB", "image", "ERR_TOO_LARGE")
    return await asyncio.to_thread(_inspect, data)


def _check_shortcode(shortcode: str | None) -> str:
    value = (shortcode or "").strip().strip(":")
    if not SHORTCODE.match(value):
        raise unprocessable("Shortcode must be 2 to 64 letters, digits or underscores", "shortcode")
    return value


async def get_emoji(conn: AsyncConnection, tenant_id: int, emoji_id: int) -> Any:
    row = (await conn.execute(select(custom_emojis).where(
        custom_emojis.c.tenant_id == tenant_id, custom_emojis.c.id == emoji_id))).first()
    if row is None:
        raise not_found()
    return row


async def list_emojis(conn: AsyncConnection, tenant_id: int, *, remote: bool = False,
                      limit: int = 200) -> list[Any]:
    query = select(custom_emojis).where(custom_emojis.c.tenant_id == tenant_id)
    query = query.where(custom_emojis.c.domain != "" if remote else custom_emojis.c.domain == "")
    return list((await conn.execute(query.order_by(custom_emojis.c.shortcode).limit(limit))).all())


async def _store(c: Container, tenant: Tenant, actor_id: int, shortcode: str, data: bytes,
                 category: str | None, source: str | None) -> Any:
    kind = await image_kind(data)
    async with c.db.read() as conn:
        taken = (await conn.execute(select(custom_emojis.c.id).where(
            custom_emojis.c.tenant_id == tenant.id, custom_emojis.c.domain == "",
            custom_emojis.c.shortcode == shortcode))).first()
    if taken is not None:
        raise unprocessable("Shortcode has already been taken", "shortcode", "ERR_TAKEN")
    emoji_id = new_id()
    key = f"{tenant.id}/custom_emojis/{emoji_id}.{kind}"
    await c.media.put(key, data)
    try:
        async with c.db.write() as conn:
            await conn.execute(custom_emojis.insert().values(
                tenant_id=tenant.id, id=emoji_id, shortcode=shortcode, domain="", image_path=key, remote_url=None,
                category=(category or "").strip()[:128] or None, visible_in_picker=True, disabled=False,
                created_at=utcnow()))
            await log_action(conn, tenant.id, actor_id, "create", "CustomEmoji", emoji_id, shortcode,
                             copied_from=source)
            return await get_emoji(conn, tenant.id, emoji_id)
    except Exception:
        await c.media.delete(key)
        raise


async def upload(c: Container, tenant: Tenant, actor_id: int, shortcode: str | None, data: bytes | None,
                 category: str | None) -> Any:
    if not data:
        raise unprocessable("Image can't be blank", "image", "ERR_BLANK")
    return await _store(c, tenant, actor_id, _check_shortcode(shortcode), data, category, None)


async def copy_remote(c: Container, tenant: Tenant, actor_id: int, emoji_id: int,
                      shortcode: str | None = None) -> Any:
    """A local copy of a remote server's emoji (known to this tenant), under its
    shortcode or `shortcode`."""
    from steward.activitypub.transport import TransportError

    async with c.db.read() as conn:
        row = await get_emoji(conn, tenant.id, emoji_id)
    if not row.domain or not row.remote_url:
        raise ApiError(422, "Only a remote server's emoji can be copied")
    try:
        _type, data = await c.transport.fetch_bytes(row.remote_url, "image/png, image/gif, image/webp")
    except TransportError as exc:
        raise ApiError(502, f"The emoji could not be fetched: {exc}") from None
    code = _check_shortcode(shortcode or row.shortcode)
    return await _store(c, tenant, actor_id, code, data, row.category, f"{row.shortcode}@{row.domain}")


async def change(conn: AsyncConnection, tenant_id: int, actor_id: int, emoji_id: int,
                 fields: dict[str, Any]) -> Any:
    row = await get_emoji(conn, tenant_id, emoji_id)
    values = {k: v for k, v in fields.items() if v is not None}
    if "category" in values:
        values["category"] = str(values["category"]).strip()[:128] or None
    if values:
        await conn.execute(update(custom_emojis).where(
            custom_emojis.c.tenant_id == tenant_id, custom_emojis.c.id == emoji_id).values(**values))
    await log_action(conn, tenant_id, actor_id, "update", "CustomEmoji", emoji_id, row.shortcode,
                     changed=sorted(values))
    return await get_emoji(conn, tenant_id, emoji_id)


async def remove(c: Container, tenant_id: int, actor_id: int, emoji_id: int) -> None:
    async with c.db.write() as conn:
        row = await get_emoji(conn, tenant_id, emoji_id)
        await conn.execute(delete(custom_emojis).where(custom_emojis.c.tenant_id == tenant_id,
                                                       custom_emojis.c.id == emoji_id))
        await log_action(conn, tenant_id, actor_id, "destroy", "CustomEmoji", emoji_id, row.shortcode)
    if row.image_path:
        await c.media.delete(row.image_path)
