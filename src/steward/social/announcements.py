"""Server announcements shown in clients: publishing, per-user dismissal and emoji
reactions (a unicode emoji or one of the tenant's custom emojis)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select

from steward.core.clock import aware, utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.core.text import render_plain
from steward.db.tables import announcement_dismissals, announcement_reactions, announcements, custom_emojis

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from steward.model.entities import Tenant

# Mastodon's limit on distinct reactions to one announcement.
MAX_DISTINCT_REACTIONS = 8
MAX_TEXT = 10_000


@dataclass(slots=True)
class Reaction:
    name: str
    count: int
    me: bool
    emoji_path: str | None = None


@dataclass(slots=True)
class Announcement:
    id: int
    content: str
    starts_at: datetime | None
    ends_at: datetime | None
    all_day: bool
    published_at: datetime | None
    updated_at: datetime | None
    read: bool = False
    reactions: list[Reaction] = field(default_factory=list)


async def create_announcement(conn: AsyncConnection, tenant: Tenant, base_url: str, text: str, *,
                              starts_at: datetime | None = None, ends_at: datetime | None = None,
                              all_day: bool = False, published: bool = True) -> int:
    """For the admin console: record (and by default publish) an announcement."""
    if not text.strip() or len(text) > MAX_TEXT:
        raise ApiError(422, f"Validation failed: Text must be between 1 and {MAX_TEXT} characters")
    if starts_at and ends_at and ends_at < starts_at:
        raise ApiError(422, "Validation failed: Ends at must be after starts at")
    now = utcnow()
    announcement_id = new_id()
    await conn.execute(announcements.insert().values(
        tenant_id=tenant.id, id=announcement_id, text=text, content=render_plain(text, tag_url=base_url),
        starts_at=starts_at, ends_at=ends_at, all_day=all_day, published=published,
        published_at=now if published else None, created_at=now, updated_at=now))
    return announcement_id


async def _published(conn: AsyncConnection, tenant_id: int, announcement_id: int) -> None:
    found = (await conn.execute(select(announcements.c.id).where(
        announcements.c.tenant_id == tenant_id, announcements.c.id == announcement_id,
        announcements.c.published.is_(True)))).first()
    if found is None:
        raise not_found()


async def list_for(conn: AsyncConnection, tenant_id: int, account_id: int, *,
                   with_dismissed: bool) -> list[Announcement]:
    rows = (await conn.execute(select(announcements).where(
        announcements.c.tenant_id == tenant_id, announcements.c.published.is_(True))
        .order_by(announcements.c.published_at.desc(), announcements.c.id.desc()))).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    dismissed = {r.announcement_id for r in (await conn.execute(select(announcement_dismissals.c.announcement_id)
                 .where(announcement_dismissals.c.tenant_id == tenant_id,
                        announcement_dismissals.c.account_id == account_id,
                        announcement_dismissals.c.announcement_id.in_(ids)))).all()}
    counts = (await conn.execute(select(
        announcement_reactions.c.announcement_id, announcement_reactions.c.name, func.count(),
        func.max(case((announcement_reactions.c.account_id == account_id, 1), else_=0)))
        .where(announcement_reactions.c.tenant_id == tenant_id, announcement_reactions.c.announcement_id.in_(ids))
        .group_by(announcement_reactions.c.announcement_id, announcement_reactions.c.name)
        .order_by(func.min(announcement_reactions.c.created_at)))).all()
    names = {c[1] for c in counts}
    emoji_paths = {}
    if names:
        emoji_paths = {r.shortcode: r.image_path for r in (await conn.execute(select(
            custom_emojis.c.shortcode, custom_emojis.c.image_path).where(
            custom_emojis.c.tenant_id == tenant_id, custom_emojis.c.domain == "",
            custom_emojis.c.shortcode.in_(list(names))))).all()}
    reactions: dict[int, list[Reaction]] = defaultdict(list)
    for announcement_id, name, count, mine in counts:
        reactions[announcement_id].append(Reaction(name, int(count), bool(mine), emoji_paths.get(name)))
    return [Announcement(r.id, r.content, aware(r.starts_at), aware(r.ends_at), bool(r.all_day),
                         aware(r.published_at), aware(r.updated_at), r.id in dismissed, reactions[r.id])
            for r in rows if with_dismissed or r.id not in dismissed]


async def dismiss(conn: AsyncConnection, tenant_id: int, account_id: int, announcement_id: int) -> None:
    await _published(conn, tenant_id, announcement_id)
    already = (await conn.execute(select(announcement_dismissals.c.account_id).where(
        announcement_dismissals.c.tenant_id == tenant_id, announcement_dismissals.c.announcement_id == announcement_id,
        announcement_dismissals.c.account_id == account_id))).first()
    if already is None:
        await conn.execute(announcement_dismissals.insert().values(
            tenant_id=tenant_id, announcement_id=announcement_id, account_id=account_id))


def _looks_like_emoji(name: str) -> bool:
    return 0 < len(name) <= 16 and all(not ch.isascii() or ch in "\u200d\ufe0f" for ch in name)


async def add_reaction(conn: AsyncConnection, tenant_id: int, account_id: int, announcement_id: int,
                       name: str) -> None:
    await _published(conn, tenant_id, announcement_id)
    if not _looks_like_emoji(name):
        custom = (await conn.execute(select(custom_emojis.c.id).where(
            custom_emojis.c.tenant_id == tenant_id, custom_emojis.c.domain == "", custom_emojis.c.shortcode == name,
            custom_emojis.c.disabled.is_(False)))).first()
        if custom is None:
            raise ApiError(422, "Validation failed: Name is not a recognized emoji",
                           {"name": [{"error": "ERR_INVALID", "description": "is not a recognized emoji"}]})
    where = (announcement_reactions.c.tenant_id == tenant_id) & \
            (announcement_reactions.c.announcement_id == announcement_id)
    existing = {r.name for r in (await conn.execute(select(announcement_reactions.c.name).distinct()
                                                    .where(where))).all()}
    if name not in existing and len(existing) >= MAX_DISTINCT_REACTIONS:
        raise ApiError(422, f"Validation failed: at most {MAX_DISTINCT_REACTIONS} different reactions are allowed")
    mine = (await conn.execute(select(announcement_reactions.c.name).where(
        where, announcement_reactions.c.account_id == account_id, announcement_reactions.c.name == name))).first()
    if mine is None:
        await conn.execute(announcement_reactions.insert().values(
            tenant_id=tenant_id, announcement_id=announcement_id, account_id=account_id, name=name,
            created_at=utcnow()))


async def remove_reaction(conn: AsyncConnection, tenant_id: int, account_id: int, announcement_id: int,
                          name: str) -> None:
    await _published(conn, tenant_id, announcement_id)
    await conn.execute(announcement_reactions.delete().where(
        announcement_reactions.c.tenant_id == tenant_id, announcement_reactions.c.announcement_id == announcement_id,
        announcement_reactions.c.account_id == account_id, announcement_reactions.c.name == name))

