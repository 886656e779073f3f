"""Search: accounts by handle or display-name prefix, hashtags by prefix, and
statuses by their words and Mastodon's search operators; plus hashtags
(lookup, usage history, following, featuring on a profile) and resolving this
server's own account/status URLs.

Statuses are matched with PostgreSQL full-text search (`simple` configuration,
whole words) or, on SQLite, a case-insensitive substring match per word (LIKE).
Neither has an index yet (a GIN expression index / an FTS5 table would need
hand-written migration steps), so a search scans the tenant's statuses.
Which statuses are searchable follows Mastodon 4.x: public posts of accounts
that opted into indexing, and any post the viewer wrote, was mentioned in,
favourited or bookmarked (still subject to who may see it). Remote servers are
not asked (resolving remote URLs and handles belongs to federation)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import BigInteger, Select, and_, case, delete, func, literal, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import aware, utcnow
from steward.core.errors import not_found, unprocessable
from steward.core.ids import id_floor_for_time, new_id
from steward.db.tables import (
    accounts,
    blocks,
    bookmarks,
    favourites,
    featured_tags,
    follows,
    media_attachments,
    mentions,
    mutes,
    status_tags,
    statuses,
    tag_follows,
    tags,
)
from steward.model.entities import Account, Status, Tenant, from_row
from steward.social.relationships import PageLike, insert_ignore, paginate

if TYPE_CHECKING:
    from steward.container import Container

TAG_NAME_RE = re.compile(r"[\w_]*[^\W\d_][\w_]*")
MAX_TERMS = 10
MAX_FEATURED_TAGS = 10
HISTORY_DAYS = 7
_DAY_OF_ID = 65536 * 86_400_000  # ids are milliseconds << 16


def like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---------------------------------------------------------------- hashtags

def normalize_tag(name: str) -> str | None:
    """The stored form of a hashtag name (lower case, no '#'), None when it is not one."""
    name = name.strip().lstrip("#")
    if not name or len(name) > 256 or not TAG_NAME_RE.fullmatch(name):
        return None
    return name.lower()


async def find_tag(conn: AsyncConnection, tenant_id: int, name: str) -> Any:
    return (await conn.execute(select(tags).where(tags.c.tenant_id == tenant_id, tags.c.name == name))).first()


async def ensure_tag(conn: AsyncConnection, tenant_id: int, name: str) -> Any:
    """The tag row, created when missing (safe against a concurrent creator)."""
    row = await find_tag(conn, tenant_id, name)
    if row is None:
        await insert_ignore(conn, tags, {"tenant_id": tenant_id, "id": new_id(), "name": name, "display_name": name,
                                         "usable": True, "trendable": True, "created_at": utcnow()})
        row = await find_tag(conn, tenant_id, name)
    return row


def _history_days(now: datetime | None) -> list[datetime]:
    today = (now or utcnow()).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=i) for i in range(HISTORY_DAYS)]


def empty_history(now: datetime | None = None) -> list[dict[str, str]]:
    return [{"day": str(int(d.timestamp())), "uses": "0", "accounts": "0"} for d in _history_days(now)]


async def tag_histories(conn: AsyncConnection, tenant_id: int, tag_ids: list[int],
                        now: datetime | None = None) -> dict[int, list[dict[str, str]]]:
    """Mastodon's `history` of each tag: uses and distinct authors per UTC day,
    newest day first, over the last week of public and unlisted posts. One query."""
    if not tag_ids:
        return {}
    days = _history_days(now)
    day = status_tags.c.status_id.op("/")(literal(_DAY_OF_ID, BigInteger))
    query = select(status_tags.c.tag_id, day.label("day"), func.count(), func.count(statuses.c.account_id.distinct())
                   ).join(statuses, (statuses.c.tenant_id == status_tags.c.tenant_id)
                          & (statuses.c.id == status_tags.c.status_id)).where(
        status_tags.c.tenant_id == tenant_id, status_tags.c.tag_id.in_(tag_ids),
        status_tags.c.status_id >= id_floor_for_time(days[-1]), statuses.c.deleted_at.is_(None),
        statuses.c.visibility.in_(("public", "unlisted"))).group_by(status_tags.c.tag_id, day)
    counts = {(tag_id, int(n)): (uses, authors) for tag_id, n, uses, authors in (await conn.execute(query)).all()}
    out = {}
    for tag_id in tag_ids:
        history = []
        for d in days:
            uses, authors = counts.get((tag_id, int(d.timestamp()) // 86_400), (0, 0))
            history.append({"day": str(int(d.timestamp())), "uses": str(uses), "accounts": str(authors)})
        out[tag_id] = history
    return out


async def search_tags(conn: AsyncConnection, tenant_id: int, q: str, *, limit: int, offset: int) -> list[Any]:
    """Usable hashtags starting with `q`, exact match first, then shortest."""
    name = normalize_tag(q)
    if name is None:
        return []
    query = select(tags).where(
        tags.c.tenant_id == tenant_id, tags.c.usable.is_(True),
        tags.c.name.like(like_escape(name) + "%", escape="\\"),
    ).order_by(case((tags.c.name == name, 0), else_=1), func.length(tags.c.name), tags.c.name)
    return list((await conn.execute(query.limit(limit).offset(offset))).all())


def valid_tag_name(raw: str) -> str:
    """The stored form of a hashtag named in a URL; 404 when it cannot be a hashtag."""
    name = normalize_tag(raw)
    if name is None or raw.startswith("#"):
        raise not_found()
    return name


async def follow_tag(c: Container, tenant: Tenant, me: Account, raw_name: str) -> Any:
    """Follow a hashtag (created if nobody used it yet); returns the tag row."""
    name = valid_tag_name(raw_name)
    async with c.db.write() as conn:
        tag = await ensure_tag(conn, tenant.id, name)
        await insert_ignore(conn, tag_follows, {"tenant_id": tenant.id, "id": new_id(), "account_id": me.id,
                                                "tag_id": tag.id, "created_at": utcnow()})
        return tag


async def unfollow_tag(c: Container, tenant: Tenant, me: Account, raw_name: str) -> Any:
    """Stop following; returns the tag row, or None when no such tag was ever stored."""
    name = valid_tag_name(raw_name)
    async with c.db.write() as conn:
        tag = await find_tag(conn, tenant.id, name)
        if tag is not None:
            await conn.execute(delete(tag_follows).where(
                tag_follows.c.tenant_id == tenant.id, tag_follows.c.account_id == me.id,
                tag_follows.c.tag_id == tag.id))
        return tag


async def followed_tags(conn: AsyncConnection, tenant_id: int, me: int, page: PageLike) -> list[tuple[int, Any]]:
    query = select(tags, tag_follows.c.id.label("page_key")).join(
        tag_follows, (tag_follows.c.tenant_id == tags.c.tenant_id) & (tag_follows.c.tag_id == tags.c.id)).where(
        tag_follows.c.tenant_id == tenant_id, tag_follows.c.account_id == me)
    query, ascending = paginate(query, tag_follows.c.id, page)
    rows = [(r.page_key, r) for r in (await conn.execute(query)).all()]
    return rows[::-1] if ascending else rows


async def followed_tag_ids(conn: AsyncConnection, tenant_id: int, me: int | None, tag_ids: list[int]) -> set[int]:
    if not tag_ids or me is None:
        return set()
    return set((await conn.execute(select(tag_follows.c.tag_id).where(
        tag_follows.c.tenant_id == tenant_id, tag_follows.c.account_id == me,
        tag_follows.c.tag_id.in_(tag_ids)))).scalars())


# ---------------------------------------------------------------- featured hashtags

@dataclass(slots=True)
class FeaturedTag:
    id: int
    tag_id: int
    name: str
    statuses_count: int = 0
    last_status_at: datetime | None = None


def _tag_use(tenant_id: int, author_id: int) -> Any:
    return and_(status_tags.c.tenant_id == tenant_id, statuses.c.account_id == author_id,
                statuses.c.deleted_at.is_(None), statuses.c.reblog_of_id.is_(None),
                statuses.c.visibility.in_(("public", "unlisted")))


def _with_statuses(query: Select[Any]) -> Select[Any]:
    return query.select_from(status_tags).join(statuses, (statuses.c.tenant_id == status_tags.c.tenant_id)
                                               & (statuses.c.id == status_tags.c.status_id))


async def featured_tags_of(conn: AsyncConnection, tenant_id: int, account_id: int) -> list[FeaturedTag]:
    """An account's featured hashtags with its public post count and last use: two queries."""
    rows = (await conn.execute(select(featured_tags.c.id, featured_tags.c.tag_id, tags.c.name, tags.c.display_name)
                               .join(tags, (tags.c.tenant_id == featured_tags.c.tenant_id)
                                     & (tags.c.id == featured_tags.c.tag_id))
                               .where(featured_tags.c.tenant_id == tenant_id,
                                      featured_tags.c.account_id == account_id))).all()
    if not rows:
        return []
    stats_query = _with_statuses(select(status_tags.c.tag_id, func.count(), func.max(statuses.c.created_at))).where(
        _tag_use(tenant_id, account_id), status_tags.c.tag_id.in_([r.tag_id for r in rows])
    ).group_by(status_tags.c.tag_id)
    stats = {tag_id: (n, aware(last)) for tag_id, n, last in (await conn.execute(stats_query)).all()}
    out = [FeaturedTag(r.id, r.tag_id, r.display_name or r.name, *stats.get(r.tag_id, (0, None))) for r in rows]
    out.sort(key=lambda f: (-f.statuses_count, f.name))
    return out


async def featured_tag_ids(conn: AsyncConnection, tenant_id: int, me: int | None, tag_ids: list[int]) -> set[int]:
    if not tag_ids or me is None:
        return set()
    return set((await conn.execute(select(featured_tags.c.tag_id).where(
        featured_tags.c.tenant_id == tenant_id, featured_tags.c.account_id == me,
        featured_tags.c.tag_id.in_(tag_ids)))).scalars())


async def feature_tag(c: Container, tenant: Tenant, me: Account, name: str, *, strict: bool) -> Any:
    """Feature a hashtag on my profile; returns the tag row. `strict` (POST
    /featured_tags) makes an already featured tag a 422, as Mastodon's validation does."""
    async with c.db.write() as conn:
        tag = await ensure_tag(conn, tenant.id, name)
        count = (await conn.execute(select(func.count()).select_from(featured_tags).where(
            featured_tags.c.tenant_id == tenant.id, featured_tags.c.account_id == me.id))).scalar() or 0
        already = tag.id in await featured_tag_ids(conn, tenant.id, me.id, [tag.id])
        if already and strict:
            raise unprocessable("Tag has already been taken", "name", "ERR_TAKEN")
        if not already:
            if count >= MAX_FEATURED_TAGS:
                raise unprocessable(f"You cannot feature more than {MAX_FEATURED_TAGS} hashtags", "base",
                                    "ERR_LIMIT")
            await insert_ignore(conn, featured_tags, {"tenant_id": tenant.id, "id": new_id(), "account_id": me.id,
                                                      "tag_id": tag.id, "created_at": utcnow()})
        return tag


async def unfeature_tag(c: Container, tenant: Tenant, me: Account, *, featured_id: int | None = None,
                        name: str | None = None) -> Any:
    """Stop featuring, by featured-tag id (404 when not mine) or by name; returns the tag row or None."""
    async with c.db.write() as conn:
        if featured_id is not None:
            row = (await conn.execute(select(featured_tags.c.tag_id).where(
                featured_tags.c.tenant_id == tenant.id, featured_tags.c.id == featured_id,
                featured_tags.c.account_id == me.id))).first()
            if row is None:
                raise not_found()
            tag_id = row.tag_id
        else:
            tag = await find_tag(conn, tenant.id, name or "")
            if tag is None:
                return None
            tag_id = tag.id
        await conn.execute(delete(featured_tags).where(
            featured_tags.c.tenant_id == tenant.id, featured_tags.c.account_id == me.id,
            featured_tags.c.tag_id == tag_id))
        return (await conn.execute(select(tags).where(tags.c.tenant_id == tenant.id, tags.c.id == tag_id))).first()


async def featured_tag_suggestions(conn: AsyncConnection, tenant_id: int, me: int, limit: int = 10) -> list[Any]:
    """The hashtags I used most in my public posts that I do not feature yet."""
    used = _with_statuses(select(status_tags.c.tag_id, func.count().label("uses"))).where(
        _tag_use(tenant_id, me), ~status_tags.c.tag_id.in_(select(featured_tags.c.tag_id).where(
            featured_tags.c.tenant_id == tenant_id, featured_tags.c.account_id == me))
    ).group_by(status_tags.c.tag_id).order_by(func.count().desc(), status_tags.c.tag_id.desc()).limit(limit)
    ranked = [r.tag_id for r in (await conn.execute(used)).all()]
    if not ranked:
        return []
    rows = {r.id: r for r in (await conn.execute(select(tags).where(tags.c.tenant_id == tenant_id,
                                                                    tags.c.id.in_(ranked)))).all()}
    return [rows[i] for i in ranked if i in rows]


# ---------------------------------------------------------------- accounts

def _split_acct(tenant: Tenant, q: str) -> tuple[str, str | None]:
    q = q.strip().lstrip("@").lower()
    username, at, domain = q.partition("@")
    if not at:
        return username, None
    if domain in {tenant.domain, tenant.web_domain}:
        domain = ""
    return username, domain


async def search_accounts(conn: AsyncConnection, tenant: Tenant, viewer_id: int | None, q: str, *, limit: int,
                          offset: int = 0, following: bool = False) -> list[Account]:
    """Accounts whose username (or `user@domain`), or a word of whose display
    name, starts with `q`, case-insensitively; exact handles first, then the
    most followed. Accounts blocking the viewer or blocked by it are left out."""
    username, domain = _split_acct(tenant, q)
    if not username and not domain:
        return []
    prefix = like_escape(username) + "%"
    conds = [accounts.c.tenant_id == tenant.id, accounts.c.suspended_at.is_(None)]
    if domain is not None:
        conds.append(accounts.c.username_lower.like(prefix, escape="\\"))
        conds.append(accounts.c.domain == "" if domain == "" else
                     accounts.c.domain.like(like_escape(domain) + "%", escape="\\"))
        exact = and_(accounts.c.username_lower == username, accounts.c.domain == domain)
    else:
        display = func.lower(accounts.c.display_name)
        conds.append(or_(accounts.c.username_lower.like(prefix, escape="\\"), display.like(prefix, escape="\\"),
                         display.like("% " + prefix, escape="\\")))
        exact = accounts.c.username_lower == username
    if viewer_id is not None:
        conds.append(~accounts.c.id.in_(select(blocks.c.target_account_id).where(
            blocks.c.tenant_id == tenant.id, blocks.c.account_id == viewer_id)))
        conds.append(~accounts.c.id.in_(select(blocks.c.account_id).where(
            blocks.c.tenant_id == tenant.id, blocks.c.target_account_id == viewer_id)))
        if following:
            conds.append(accounts.c.id.in_(select(follows.c.target_account_id).where(
                follows.c.tenant_id == tenant.id, follows.c.account_id == viewer_id)))
    query = select(accounts).where(*conds).order_by(
        case((exact, 0), else_=1), case((accounts.c.domain == "", 0), else_=1),
        accounts.c.followers_count.desc(), accounts.c.id).limit(limit).offset(offset)
    return [from_row(Account, r) for r in (await conn.execute(query)).all()]


# ---------------------------------------------------------------- statuses

_OPERATOR = re.compile(r"^(-?)(from|has|is|language|before|after|during|in):(\S+)$", re.IGNORECASE)


@dataclass(slots=True)
class StatusQuery:
    """A status search split into its words and Mastodon's operators."""
    words: list[str]
    conditions: list[Any]
    library_only: bool = False
    impossible: bool = False


def _day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


async def parse_status_query(conn: AsyncConnection, tenant: Tenant, viewer_id: int, q: str) -> StatusQuery:
    """Words, plus the operators Mastodon 4.2 understands: from:(me|user|user@domain),
    has:(media|poll), is:(reply|sensitive), language:xx, before:/after:/during:YYYY-MM-DD
    and in:library; has/is may be negated with '-'. Anything else is a word."""
    from steward.social.accounts import find_by_acct

    out = StatusQuery([], [])
    s = statuses.c
    for token in re.split(r"\s+", q.strip()):
        m = _OPERATOR.match(token)
        if not token:
            continue
        if m is None:
            out.words.append(token)
            continue
        negate, name, value = m[1] == "-", m[2].lower(), m[3]
        condition: Any = None
        if name == "from" and not negate:
            if value.lower() == "me":
                condition = s.account_id == viewer_id
            else:
                author = await find_by_acct(conn, tenant, value)
                out.impossible = out.impossible or author is None
                condition = s.account_id == (author.id if author else 0)
        elif name == "has" and value.lower() in {"media", "poll"}:
            condition = s.poll_id.is_not(None) if value.lower() == "poll" else s.id.in_(
                select(media_attachments.c.status_id).where(media_attachments.c.tenant_id == tenant.id,
                                                            media_attachments.c.status_id.is_not(None)))
        elif name == "is" and value.lower() in {"reply", "sensitive"}:
            condition = s.in_reply_to_id.is_not(None) if value.lower() == "reply" else s.sensitive.is_(True)
        elif name == "language" and not negate:
            condition = s.language == value.lower()
        elif name in {"before", "after", "during"} and not negate and _day(value) is not None:
            day = _day(value)
            assert day is not None
            condition = {"before": s.created_at < day, "after": s.created_at >= day + timedelta(days=1),
                         "during": and_(s.created_at >= day, s.created_at < day + timedelta(days=1))}[name]
        elif name == "in" and value.lower() in {"library", "all"} and not negate:
            out.library_only = out.library_only or value.lower() == "library"
            continue
        if condition is None:
            out.words.append(token)
        else:
            out.conditions.append(~condition if negate else condition)
    out.words = out.words[:MAX_TERMS]
    return out


def _text_match(conn: AsyncConnection, words: list[str]) -> Any:
    body = func.coalesce(func.nullif(statuses.c.text, ""), statuses.c.content)
    if conn.dialect.name == "postgresql":
        config: Any = literal_column("'simple'::regconfig")
        document = func.to_tsvector(config, body + " " + statuses.c.spoiler_text)
        return document.op("@@")(func.plainto_tsquery(config, " ".join(words)))
    return and_(*[or_(body.like(f"%{like_escape(t)}%", escape="\\"),
                      statuses.c.spoiler_text.like(f"%{like_escape(t)}%", escape="\\")) for t in words])


def _searchable(tenant_id: int, viewer_id: int, *, library_only: bool) -> Any:
    """Posts a viewer may find by their words (before the visibility check); the
    "library" is what the viewer wrote, was mentioned in, favourited or bookmarked."""
    def mine(table: Any, column: str = "status_id") -> Any:
        return statuses.c.id.in_(select(table.c[column]).where(table.c.tenant_id == tenant_id,
                                                                 table.c.account_id == viewer_id))

    indexable_public = and_(statuses.c.visibility == "public", statuses.c.account_id.in_(
        select(accounts.c.id).where(accounts.c.tenant_id == tenant_id, accounts.c.indexable.is_(True))))
    library = [statuses.c.account_id == viewer_id, mine(mentions), mine(favourites), mine(bookmarks)]
    return or_(*library) if library_only else or_(indexable_public, *library)


def _not_shunned(tenant_id: int, viewer_id: int) -> list[Any]:
    """Leave out authors the viewer blocks or mutes, or who block the viewer."""
    def ids(table: Any, source: Any, target: Any) -> Select[Any]:
        return select(target).where(table.c.tenant_id == tenant_id, source == viewer_id)

    return [
        ~statuses.c.account_id.in_(ids(blocks, blocks.c.account_id, blocks.c.target_account_id)),
        ~statuses.c.account_id.in_(ids(blocks, blocks.c.target_account_id, blocks.c.account_id)),
        ~statuses.c.account_id.in_(ids(mutes, mutes.c.account_id, mutes.c.target_account_id)),
    ]


async def search_statuses(conn: AsyncConnection, tenant: Tenant, viewer_id: int, q: str, *, limit: int,
                          offset: int = 0, account_id: int | None = None, max_id: int | None = None,
                          min_id: int | None = None) -> list[Status]:
    """Newest first (see `parse_status_query` for the operators). Anonymous
    viewers get none (as in Mastodon), so this takes a viewer."""
    from steward.social.status_visibility import filter_visible

    parsed = await parse_status_query(conn, tenant, viewer_id, q)
    if parsed.impossible or not (parsed.words or parsed.conditions):
        return []
    tenant_id = tenant.id
    query = select(statuses).where(
        statuses.c.tenant_id == tenant_id, statuses.c.deleted_at.is_(None), statuses.c.reblog_of_id.is_(None),
        _searchable(tenant_id, viewer_id, library_only=parsed.library_only), *parsed.conditions,
        *_not_shunned(tenant_id, viewer_id))
    if parsed.words:
        query = query.where(_text_match(conn, parsed.words))
    if account_id is not None:
        query = query.where(statuses.c.account_id == account_id)
    if max_id is not None:
        query = query.where(statuses.c.id < max_id)
    if min_id is not None:
        query = query.where(statuses.c.id > min_id)
    rows = (await conn.execute(query.order_by(statuses.c.id.desc()).limit(limit).offset(offset))).all()
    return await filter_visible(conn, tenant_id, viewer_id, [from_row(Status, r) for r in rows])


# ---------------------------------------------------------------- this server's URLs

_ACCOUNT_PATHS = (re.compile(r"^/@(?P<user>[A-Za-z0-9_]+)/?$"), re.compile(r"^/users/(?P<user>[A-Za-z0-9_]+)/?$"))
_STATUS_PATHS = (re.compile(r"^/@(?P<user>[A-Za-z0-9_]+)/(?P<id>\d{1,19})/?$"),
                 re.compile(r"^/users/(?P<user>[A-Za-z0-9_]+)/statuses/(?P<id>\d{1,19})/?$"))


def is_url(q: str) -> bool:
    return bool(re.match(r"^https?://", q.strip(), re.IGNORECASE))


async def resolve_local_url(conn: AsyncConnection, tenant: Tenant, viewer_id: int | None,
                            url: str) -> tuple[Account | None, Status | None]:
    """An account or status of this server named by its URL (`/@user`,
    `/users/user`, `/@user/<id>`, `/users/user/statuses/<id>`); (None, None) for
    anything else, including other servers' URLs."""
    from steward.core.errors import ApiError
    from steward.social.status_visibility import get_visible

    parts = urlsplit(url.strip())
    if (parts.hostname or "").lower() not in {tenant.web_domain, tenant.domain}:
        return None, None
    for pattern in _ACCOUNT_PATHS:
        m = pattern.match(parts.path)
        if m:
            return await _local_account(conn, tenant.id, m["user"]), None
    for pattern in _STATUS_PATHS:
        m = pattern.match(parts.path)
        if m:
            author = await _local_account(conn, tenant.id, m["user"])
            if author is None:
                return None, None
            try:
                status = await get_visible(conn, tenant.id, viewer_id, int(m["id"]))
            except ApiError:
                return None, None
            if status.account_id != author.id or status.reblog_of_id is not None:
                return None, None
            return None, status
    return None, None


async def _local_account(conn: AsyncConnection, tenant_id: int, username: str) -> Account | None:
    row = (await conn.execute(select(accounts).where(
        accounts.c.tenant_id == tenant_id, accounts.c.username_lower == username.lower(), accounts.c.domain == "",
        accounts.c.suspended_at.is_(None)))).first()
    return from_row(Account, row) if row else None
