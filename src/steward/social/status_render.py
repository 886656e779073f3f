"""Status text as Mastodon treats it: counted length, mentions resolved to
accounts the tenant already knows, hashtags turned into `tags` rows, and the
HTML content rendered from the plain source."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError
from steward.core.ids import new_id
from steward.core.text import MENTION_RE, URL_RE, extract, render_plain
from steward.db.tables import accounts, status_tags, tags
from steward.model.entities import Tenant

# Mastodon counts every link as this many characters, whatever its length.
URL_PLACEHOLDER_LENGTH = 23


def counted_length(text: str) -> int:
    """Length as Mastodon counts it: links as 23 characters, remote mentions
    without their domain."""
    counted = URL_RE.sub("x" * URL_PLACEHOLDER_LENGTH, text)
    counted = MENTION_RE.sub(lambda m: "@" + m.group(1), counted)
    return len(counted)


@dataclass
class RenderedText:
    content: str
    mention_ids: list[int] = field(default_factory=list)
    tag_names: list[str] = field(default_factory=list)


async def render_text(conn: AsyncConnection, tenant: Tenant, base: str, text: str) -> RenderedText:
    """HTML for `text`, with the accounts it mentions (local, or remote ones this
    tenant already knows; unknown handles stay plain text) and its hashtags."""
    parsed = extract(text)
    own_domains = {tenant.domain.lower(), tenant.web_domain.lower()}
    wanted: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
    for m in parsed.mentions:
        domain = "" if m.domain is None or m.domain in own_domains else m.domain
        wanted.setdefault((m.username.lower(), domain), []).append((m.username.lower(), m.domain))
    mention_url: dict[tuple[str, str | None], tuple[str, str]] = {}
    mention_ids: list[int] = []
    if wanted:
        conditions = [and_(accounts.c.username_lower == u, accounts.c.domain == d) for u, d in wanted]
        rows = (await conn.execute(
            select(accounts.c.id, accounts.c.username, accounts.c.username_lower, accounts.c.domain,
                   accounts.c.url)
            .where(accounts.c.tenant_id == tenant.id, accounts.c.suspended_at.is_(None), or_(*conditions))
        )).all()
        for r in rows:
            url = r.url or f"{base}/@{r.username}"
            for key in wanted.get((r.username_lower, r.domain), []):
                mention_url[key] = (url, r.username)
            mention_ids.append(r.id)
    content = render_plain(text, mention_url=mention_url, tag_url=base)
    return RenderedText(content, mention_ids, [t.lower() for t in parsed.tags])


async def ensure_tags(conn: AsyncConnection, tenant_id: int, names: list[str]) -> dict[str, int]:
    """Tag ids by (lower-case) name, creating the missing ones; safe against a
    concurrent writer creating the same tag."""
    names = sorted(set(names))
    if not names:
        return {}
    query = select(tags.c.id, tags.c.name).where(tags.c.tenant_id == tenant_id, tags.c.name.in_(names))
    found = {r.name: r.id for r in (await conn.execute(query)).all()}
    missing = [n for n in names if n not in found]
    if missing:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        now = utcnow()
        stmt = insert(tags).values([
            {"tenant_id": tenant_id, "id": new_id(), "name": n, "display_name": n, "usable": True,
             "trendable": True, "created_at": now} for n in missing
        ]).on_conflict_do_nothing()
        await conn.execute(stmt)
        found = {r.name: r.id for r in (await conn.execute(query)).all()}
    for name in names:
        if name not in found:
            raise ApiError(422, f"Validation failed: the hashtag #{name} cannot be used")
    return found


async def set_status_tags(conn: AsyncConnection, tenant_id: int, status_id: int, names: list[str], *,
                          new_status: bool = False) -> None:
    ids = await ensure_tags(conn, tenant_id, names)
    if not new_status:
        await conn.execute(status_tags.delete().where(status_tags.c.tenant_id == tenant_id,
                                                      status_tags.c.status_id == status_id))
    if ids:
        await conn.execute(status_tags.insert(), [
            {"tenant_id": tenant_id, "status_id": status_id, "tag_id": tag_id} for tag_id in set(ids.values())
        ])
