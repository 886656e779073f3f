"""Loading what our own statuses need to become AS2 objects, in batches (one
query per kind of part, whatever the number of statuses)."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.activitypub.convert import NoteParts, as2_time
from steward.db.tables import (
    accounts,
    custom_emojis,
    follows,
    media_attachments,
    mentions,
    status_tags,
    statuses,
    tags,
)
from steward.model.entities import Account, MediaAttachment, Status, Tenant, from_row

_SHORTCODE = re.compile(r":([a-zA-Z0-9_]{2,}):")
PUBLISHED = ("public", "unlisted")


async def load_note_parts(conn: AsyncConnection, tenant: Tenant, base: str,
                          items: list[Status]) -> dict[int, NoteParts]:
    """NoteParts for statuses that carry their own content (not boosts)."""
    tid = tenant.id
    items = [s for s in items if s.reblog_of_id is None]
    if not items:
        return {}
    ids = [s.id for s in items]
    account_ids = {s.account_id for s in items}
    parent_ids = [s.in_reply_to_id for s in items if s.in_reply_to_id]
    parent_uri: dict[int, str] = {}
    if parent_ids:
        parent_uri = {r.id: r.uri for r in (await conn.execute(select(statuses.c.id, statuses.c.uri).where(
            statuses.c.tenant_id == tid, statuses.c.id.in_(parent_ids)))).all()}
    mention_rows = (await conn.execute(
        select(mentions.c.status_id, accounts)
        .join(accounts, (accounts.c.tenant_id == mentions.c.tenant_id) & (accounts.c.id == mentions.c.account_id))
        .where(mentions.c.tenant_id == tid, mentions.c.status_id.in_(ids)).order_by(mentions.c.id))).all()
    mentioned: dict[int, list[Account]] = defaultdict(list)
    for r in mention_rows:
        mentioned[r.status_id].append(from_row(Account, r))
    tag_names: dict[int, list[str]] = defaultdict(list)
    for r in (await conn.execute(
            select(status_tags.c.status_id, tags.c.name)
            .join(tags, (tags.c.tenant_id == status_tags.c.tenant_id) & (tags.c.id == status_tags.c.tag_id))
            .where(status_tags.c.tenant_id == tid, status_tags.c.status_id.in_(ids)).order_by(tags.c.name))).all():
        tag_names[r.status_id].append(r.name)
    media: dict[int, list[MediaAttachment]] = defaultdict(list)
    for r in (await conn.execute(select(media_attachments).where(
            media_attachments.c.tenant_id == tid, media_attachments.c.status_id.in_(ids))
            .order_by(media_attachments.c.position, media_attachments.c.id))).all():
        media[r.status_id].append(from_row(MediaAttachment, r))
    authors = {r.id: from_row(Account, r) for r in (await conn.execute(select(accounts).where(
        accounts.c.tenant_id == tid, accounts.c.id.in_(account_ids)))).all()}
    emojis = await _emojis(conn, tid, base, items)
    out: dict[int, NoteParts] = {}
    for s in items:
        author = authors.get(s.account_id)
        if author is None:
            continue
        out[s.id] = NoteParts(
            status=s, author=author,
            parent_uri=parent_uri.get(s.in_reply_to_id) if s.in_reply_to_id else None,
            mentions=mentioned.get(s.id, []), tags=tag_names.get(s.id, []), media=media.get(s.id, []),
            emojis=[e for code, e in emojis.items() if f":{code}:" in f"{s.spoiler_text} {s.content}"])
    return out


async def _emojis(conn: AsyncConnection, tid: int, base: str, items: list[Status]) -> dict[str, dict[str, Any]]:
    codes = {m for s in items for m in _SHORTCODE.findall(f"{s.spoiler_text} {s.content}")}
    if not codes:
        return {}
    rows = (await conn.execute(select(custom_emojis).where(
        custom_emojis.c.tenant_id == tid, custom_emojis.c.domain == "", custom_emojis.c.disabled.is_(False),
        custom_emojis.c.shortcode.in_(codes)))).all()
    out = {}
    for r in rows:
        if not r.image_path:
            continue
        url = f"{base}/system/{r.image_path}"
        out[r.shortcode] = {"id": f"{base}/emojis/{r.id}", "type": "Emoji", "name": f":{r.shortcode}:",
                            "updated": as2_time(r.created_at),
                            "icon": {"type": "Image", "mediaType": "image/png", "url": url}}
    return out


async def published_status(conn: AsyncConnection, tenant_id: int, account_id: int, status_id: int) -> Status | None:
    """A public or unlisted, undeleted status of this account, else None."""
    row = (await conn.execute(select(statuses).where(
        statuses.c.tenant_id == tenant_id, statuses.c.id == status_id, statuses.c.account_id == account_id,
        statuses.c.deleted_at.is_(None), statuses.c.visibility.in_(PUBLISHED)))).first()
    return from_row(Status, row) if row else None


async def status_for_reader(conn: AsyncConnection, tenant_id: int, account_id: int, status_id: int,
                            reader_uri: str | None) -> Status | None:
    """A status of this account as a remote reader may see it: public and
    unlisted to anyone; followers-only to a verified follower; direct to a
    verified mentioned actor. None otherwise (answered as not found)."""
    row = (await conn.execute(select(statuses).where(
        statuses.c.tenant_id == tenant_id, statuses.c.id == status_id, statuses.c.account_id == account_id,
        statuses.c.deleted_at.is_(None)))).first()
    if row is None:
        return None
    status = from_row(Status, row)
    if status.visibility in PUBLISHED:
        return status
    if reader_uri is None:
        return None
    reader = (await conn.execute(select(accounts.c.id).where(
        accounts.c.tenant_id == tenant_id, accounts.c.uri == reader_uri, accounts.c.domain != ""))).scalar()
    if reader is None:
        return None
    if status.visibility == "private":
        allowed = await conn.execute(select(follows.c.id).where(
            follows.c.tenant_id == tenant_id, follows.c.account_id == reader,
            follows.c.target_account_id == account_id))
    else:
        allowed = await conn.execute(select(mentions.c.id).where(
            mentions.c.tenant_id == tenant_id, mentions.c.status_id == status_id, mentions.c.account_id == reader))
    return status if allowed.first() is not None else None
