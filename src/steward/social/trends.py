"""Trends, computed on request from recent public activity of one tenant.

Tags trend by how many different people used them in public posts over the last
week; statuses by boosts and favourites in the last two days. There is no review
queue yet: a tag marked not trendable, and authors that are suspended, silenced
or not discoverable, never trend. Links are not tracked (no preview cards yet)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, or_, select

from steward.core.clock import utcnow
from steward.core.ids import id_floor_for_time
from steward.db.tables import accounts, blocks, mutes, status_tags, statuses, tags
from steward.model.entities import Status, Tenant, from_row

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

TAG_WINDOW = timedelta(days=7)
STATUS_WINDOW = timedelta(days=2)
MIN_TAG_ACCOUNTS = 2
MIN_STATUS_SCORE = 2


def enabled(tenant: Tenant) -> bool:
    return bool(tenant.setting("trends", True))


def _trendable_author() -> Any:
    return select(accounts.c.id).where(
        accounts.c.tenant_id == statuses.c.tenant_id, accounts.c.id == statuses.c.account_id,
        accounts.c.suspended_at.is_(None), accounts.c.silenced_at.is_(None),
        accounts.c.discoverable.is_(True)).exists()


async def trending_tags(conn: AsyncConnection, tenant_id: int, *, limit: int, offset: int) -> list[Any]:
    """Tag rows, most widely used first."""
    floor = id_floor_for_time(utcnow() - TAG_WINDOW)
    people = func.count(statuses.c.account_id.distinct())
    ranked = (select(status_tags.c.tag_id, people.label("people"), func.count().label("uses"))
              .join(statuses, (statuses.c.tenant_id == status_tags.c.tenant_id)
                    & (statuses.c.id == status_tags.c.status_id))
              .where(status_tags.c.tenant_id == tenant_id, status_tags.c.status_id >= floor,
                     statuses.c.visibility == "public", statuses.c.deleted_at.is_(None), _trendable_author())
              .group_by(status_tags.c.tag_id).having(people >= MIN_TAG_ACCOUNTS).subquery())
    query = (select(tags).join(ranked, ranked.c.tag_id == tags.c.id)
             .where(tags.c.tenant_id == tenant_id, tags.c.usable.is_(True), tags.c.trendable.is_(True))
             .order_by(ranked.c.people.desc(), ranked.c.uses.desc(), tags.c.id.desc())
             .offset(offset).limit(limit))
    return list((await conn.execute(query)).all())


def _not_shunned(tenant_id: int, viewer_id: int | None) -> list[Any]:
    """Leave out authors the viewer blocks or mutes, and authors who block the viewer."""
    if viewer_id is None:
        return []
    author = statuses.c.account_id
    return [
        ~exists().where(blocks.c.tenant_id == tenant_id, blocks.c.account_id == viewer_id,
                        blocks.c.target_account_id == author),
        ~exists().where(blocks.c.tenant_id == tenant_id, blocks.c.account_id == author,
                        blocks.c.target_account_id == viewer_id),
        ~exists().where(mutes.c.tenant_id == tenant_id, mutes.c.account_id == viewer_id,
                        mutes.c.target_account_id == author,
                        or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > utcnow())),
    ]


async def trending_statuses(conn: AsyncConnection, tenant_id: int, viewer_id: int | None, *, limit: int,
                            offset: int) -> list[Status]:
    """Recent public statuses, most boosted and favourited first."""
    floor = id_floor_for_time(utcnow() - STATUS_WINDOW)
    score = statuses.c.reblogs_count + statuses.c.favourites_count
    query = (select(statuses).where(
        statuses.c.tenant_id == tenant_id, statuses.c.id >= floor, statuses.c.visibility == "public",
        statuses.c.deleted_at.is_(None), statuses.c.reblog_of_id.is_(None), statuses.c.sensitive.is_(False),
        score >= MIN_STATUS_SCORE, _trendable_author(), *_not_shunned(tenant_id, viewer_id))
        .order_by(score.desc(), statuses.c.id.desc()).offset(offset).limit(limit))
    return [from_row(Status, r) for r in (await conn.execute(query)).all()]
