"""Content filters (Mastodon's v2 model: a filter holds keywords and statuses; the
v1 API sees one filter per keyword), and matching them against statuses."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, or_, select, update

from steward.core.clock import aware, utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.db.tables import filter_keywords, filter_statuses, filters, statuses
from steward.model.entities import Account, Tenant

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

CONTEXTS = ("home", "notifications", "public", "thread", "account")
ACTIONS = ("warn", "hide", "blur")
MAX_TITLE = 256
MAX_KEYWORD = 512
MAX_KEYWORDS = 200
MAX_FILTERS = 1000


@dataclass(slots=True)
class Keyword:
    id: int
    filter_id: int
    keyword: str
    whole_word: bool


@dataclass(slots=True)
class FilteredStatus:
    id: int
    filter_id: int
    status_id: int


@dataclass(slots=True)
class Filter:
    id: int
    account_id: int
    title: str
    context: list[str]
    action: str
    expires_at: datetime | None
    keywords: list[Keyword] = field(default_factory=list)
    statuses: list[FilteredStatus] = field(default_factory=list)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def _invalid(field_name: str, message: str) -> ApiError:
    return ApiError(422, f"Validation failed: {field_name.replace('_', ' ').capitalize()} {message}",
                    {field_name: [{"error": "ERR_INVALID", "description": message}]})


def check_title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, "Validation failed: Title can't be blank",
                       {"title": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
    if len(value) > MAX_TITLE:
        raise _invalid("title", f"is too long (maximum is {MAX_TITLE} characters)")
    return value.strip()


def check_context(values: list[Any]) -> list[str]:
    if not values:
        raise ApiError(422, "Validation failed: Context can't be blank",
                       {"context": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
    out: list[str] = []
    for value in values:
        if not isinstance(value, str) or value not in CONTEXTS:
            raise _invalid("context", f"must be among {', '.join(CONTEXTS)}")
        if value not in out:
            out.append(value)
    return out


def check_action(value: Any) -> str:
    if value not in ACTIONS:
        raise _invalid("filter_action", f"must be one of {', '.join(ACTIONS)}")
    return str(value)


def check_keyword(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, "Validation failed: Keyword can't be blank",
                       {"keyword": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
    if len(value) > MAX_KEYWORD:
        raise _invalid("keyword", f"is too long (maximum is {MAX_KEYWORD} characters)")
    return value.strip()


def expires_from(seconds: int | None, now: datetime | None = None) -> datetime | None:
    if seconds is None:
        return None
    return (now or utcnow()) + timedelta(seconds=seconds)


def _bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "t", "on", "yes"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "0", "f", "off", "no"}:
        return False
    if isinstance(value, int):
        return value != 0
    raise _invalid("whole_word", "must be a boolean")


# Loading

async def _load(conn: AsyncConnection, tenant_id: int, rows: list[Any]) -> list[Filter]:
    ids = [r.id for r in rows]
    by_filter_kw: dict[int, list[Keyword]] = defaultdict(list)
    by_filter_st: dict[int, list[FilteredStatus]] = defaultdict(list)
    if ids:
        for k in (await conn.execute(select(filter_keywords).where(
                filter_keywords.c.tenant_id == tenant_id, filter_keywords.c.filter_id.in_(ids))
                .order_by(filter_keywords.c.id))).all():
            by_filter_kw[k.filter_id].append(Keyword(k.id, k.filter_id, k.keyword, bool(k.whole_word)))
        for s in (await conn.execute(select(filter_statuses).where(
                filter_statuses.c.tenant_id == tenant_id, filter_statuses.c.filter_id.in_(ids))
                .order_by(filter_statuses.c.id))).all():
            by_filter_st[s.filter_id].append(FilteredStatus(s.id, s.filter_id, s.status_id))
    return [Filter(r.id, r.account_id, r.title, list(r.context or []), r.action, aware(r.expires_at),
                   by_filter_kw[r.id], by_filter_st[r.id]) for r in rows]


async def list_filters(conn: AsyncConnection, tenant_id: int, account_id: int) -> list[Filter]:
    rows = (await conn.execute(select(filters).where(
        filters.c.tenant_id == tenant_id, filters.c.account_id == account_id).order_by(filters.c.id))).all()
    return await _load(conn, tenant_id, list(rows))


async def get_filter(conn: AsyncConnection, tenant_id: int, account_id: int, filter_id: int) -> Filter:
    row = (await conn.execute(select(filters).where(
        filters.c.tenant_id == tenant_id, filters.c.account_id == account_id, filters.c.id == filter_id))).first()
    if row is None:
        raise not_found()
    return (await _load(conn, tenant_id, [row]))[0]


# Most accounts have no filters; remembering that for a few seconds saves a query
# on every timeline page. A filter created in this process clears the entry; one
# created in another process is seen within NO_FILTERS_TTL seconds.
_NO_FILTERS: dict[tuple[int, int], float] = {}
NO_FILTERS_TTL = 5.0


async def active_filters(conn: AsyncConnection, tenant_id: int, account_id: int, context: str) -> list[Filter]:
    """The unexpired filters of an account that apply in `context`, with keywords and statuses."""
    key = (tenant_id, account_id)
    if _NO_FILTERS.get(key, 0.0) > time.monotonic():
        return []
    now = utcnow()
    rows = (await conn.execute(select(filters).where(
        filters.c.tenant_id == tenant_id, filters.c.account_id == account_id,
        or_(filters.c.expires_at.is_(None), filters.c.expires_at > now)).order_by(filters.c.id))).all()
    if not rows:
        if len(_NO_FILTERS) > 100_000:
            _NO_FILTERS.clear()
        _NO_FILTERS[key] = time.monotonic() + NO_FILTERS_TTL
        return []
    return [f for f in await _load(conn, tenant_id, list(rows)) if context in f.context]


@lru_cache(maxsize=4096)
def _pattern(keyword: str, whole_word: bool) -> re.Pattern[str]:
    text = re.escape(keyword)
    if whole_word:
        text = rf"(?<![\w]){text}(?![\w])"
    return re.compile(text, re.IGNORECASE)


def _keyword_regex(keyword: Keyword) -> re.Pattern[str]:
    return _pattern(keyword.keyword, keyword.whole_word)


def match_filters(active: list[Filter], status_id: int, text: str) -> list[tuple[Filter, list[str], list[str]]]:
    """(filter, keyword_matches, status_matches) for each filter that matches a
    status, `text` being its plain text, spoiler and media descriptions joined."""
    out = []
    for f in active:
        words = [k.keyword for k in f.keywords if _keyword_regex(k).search(text)]
        by_status = [str(s.id) for s in f.statuses if s.status_id == status_id]
        if words or by_status:
            out.append((f, words, by_status))
    return out


# Writing

async def _owned_filter_row(conn: AsyncConnection, tenant_id: int, account_id: int, filter_id: int) -> Any:
    row = (await conn.execute(select(filters.c.id).where(
        filters.c.tenant_id == tenant_id, filters.c.account_id == account_id, filters.c.id == filter_id))).first()
    if row is None:
        raise not_found()
    return row


async def create_filter(conn: AsyncConnection, tenant: Tenant, me: Account, *, title: str, context: list[str],
                        action: str, expires_at: datetime | None,
                        keywords: list[tuple[str, bool]]) -> int:
    count = (await conn.execute(select(func.count()).select_from(filters).where(
        filters.c.tenant_id == tenant.id, filters.c.account_id == me.id))).scalar() or 0
    if count >= MAX_FILTERS:
        raise ApiError(422, f"Validation failed: You cannot have more than {MAX_FILTERS} filters")
    if len(keywords) > MAX_KEYWORDS:
        raise _invalid("keywords_attributes", f"must have at most {MAX_KEYWORDS} entries")
    filter_id = new_id()
    _NO_FILTERS.pop((tenant.id, me.id), None)
    await conn.execute(filters.insert().values(
        tenant_id=tenant.id, id=filter_id, account_id=me.id, title=title, context=context, action=action,
        expires_at=expires_at, created_at=utcnow()))
    for word, whole in keywords:
        await add_keyword(conn, tenant, me, filter_id, word, whole)
    return filter_id


async def update_filter(conn: AsyncConnection, tenant: Tenant, me: Account, filter_id: int,
                        changes: dict[str, Any], keyword_ops: list[dict[str, Any]]) -> None:
    await _owned_filter_row(conn, tenant.id, me.id, filter_id)
    if changes:
        await conn.execute(update(filters).where(filters.c.tenant_id == tenant.id, filters.c.id == filter_id)
                           .values(**changes))
    for op in keyword_ops:
        keyword_id = op.get("id")
        if keyword_id is None:
            if not op.get("destroy"):
                await add_keyword(conn, tenant, me, filter_id, op["keyword"], op["whole_word"])
            continue
        owned = (await conn.execute(select(filter_keywords.c.id).where(
            filter_keywords.c.tenant_id == tenant.id, filter_keywords.c.id == keyword_id,
            filter_keywords.c.filter_id == filter_id))).first()
        if owned is None:
            raise not_found()
        if op.get("destroy"):
            await conn.execute(delete(filter_keywords).where(filter_keywords.c.tenant_id == tenant.id,
                                                             filter_keywords.c.id == keyword_id))
            continue
        values = {k: op[k] for k in ("keyword", "whole_word") if op.get(k) is not None}
        if values:
            await conn.execute(update(filter_keywords).where(filter_keywords.c.tenant_id == tenant.id,
                                                             filter_keywords.c.id == keyword_id).values(**values))


async def delete_filter(conn: AsyncConnection, tenant: Tenant, me: Account, filter_id: int) -> None:
    await _owned_filter_row(conn, tenant.id, me.id, filter_id)
    await conn.execute(delete(filter_keywords).where(filter_keywords.c.tenant_id == tenant.id,
                                                     filter_keywords.c.filter_id == filter_id))
    await conn.execute(delete(filter_statuses).where(filter_statuses.c.tenant_id == tenant.id,
                                                     filter_statuses.c.filter_id == filter_id))
    await conn.execute(delete(filters).where(filters.c.tenant_id == tenant.id, filters.c.id == filter_id))


async def add_keyword(conn: AsyncConnection, tenant: Tenant, me: Account, filter_id: int, keyword: str,
                      whole_word: bool) -> Keyword:
    await _owned_filter_row(conn, tenant.id, me.id, filter_id)
    keyword = check_keyword(keyword)
    keyword_id = new_id()
    await conn.execute(filter_keywords.insert().values(tenant_id=tenant.id, id=keyword_id, filter_id=filter_id,
                                                       keyword=keyword, whole_word=whole_word))
    return Keyword(keyword_id, filter_id, keyword, whole_word)


async def get_keyword(conn: AsyncConnection, tenant_id: int, account_id: int, keyword_id: int) -> Keyword:
    row = (await conn.execute(select(filter_keywords).select_from(filter_keywords.join(
        filters, (filters.c.tenant_id == filter_keywords.c.tenant_id) & (filters.c.id == filter_keywords.c.filter_id)))
        .where(filter_keywords.c.tenant_id == tenant_id, filter_keywords.c.id == keyword_id,
               filters.c.account_id == account_id))).first()
    if row is None:
        raise not_found()
    return Keyword(row.id, row.filter_id, row.keyword, bool(row.whole_word))


async def update_keyword(conn: AsyncConnection, tenant: Tenant, me: Account, keyword_id: int,
                         keyword: str | None, whole_word: bool | None) -> Keyword:
    current = await get_keyword(conn, tenant.id, me.id, keyword_id)
    values: dict[str, Any] = {}
    if keyword is not None:
        values["keyword"] = check_keyword(keyword)
    if whole_word is not None:
        values["whole_word"] = whole_word
    if values:
        await conn.execute(update(filter_keywords).where(filter_keywords.c.tenant_id == tenant.id,
                                                         filter_keywords.c.id == current.id).values(**values))
    return await get_keyword(conn, tenant.id, me.id, keyword_id)


async def delete_keyword(conn: AsyncConnection, tenant: Tenant, me: Account, keyword_id: int) -> Keyword:
    current = await get_keyword(conn, tenant.id, me.id, keyword_id)
    await conn.execute(delete(filter_keywords).where(filter_keywords.c.tenant_id == tenant.id,
                                                     filter_keywords.c.id == current.id))
    return current


async def add_status(conn: AsyncConnection, tenant: Tenant, me: Account, filter_id: int,
                     status_id: int) -> FilteredStatus:
    await _owned_filter_row(conn, tenant.id, me.id, filter_id)
    exists = (await conn.execute(select(statuses.c.id).where(
        statuses.c.tenant_id == tenant.id, statuses.c.id == status_id, statuses.c.deleted_at.is_(None)))).first()
    if exists is None:
        raise not_found()
    already = (await conn.execute(select(filter_statuses).where(
        filter_statuses.c.tenant_id == tenant.id, filter_statuses.c.filter_id == filter_id,
        filter_statuses.c.status_id == status_id))).first()
    if already is not None:
        raise ApiError(422, "Validation failed: Status has already been taken",
                       {"status_id": [{"error": "ERR_TAKEN", "description": "has already been taken"}]})
    row_id = new_id()
    await conn.execute(filter_statuses.insert().values(tenant_id=tenant.id, id=row_id, filter_id=filter_id,
                                                       status_id=status_id))
    return FilteredStatus(row_id, filter_id, status_id)


async def get_filtered_status(conn: AsyncConnection, tenant_id: int, account_id: int, row_id: int) -> FilteredStatus:
    row = (await conn.execute(select(filter_statuses).select_from(filter_statuses.join(
        filters, (filters.c.tenant_id == filter_statuses.c.tenant_id) & (filters.c.id == filter_statuses.c.filter_id)))
        .where(filter_statuses.c.tenant_id == tenant_id, filter_statuses.c.id == row_id,
               filters.c.account_id == account_id))).first()
    if row is None:
        raise not_found()
    return FilteredStatus(row.id, row.filter_id, row.status_id)


async def delete_filtered_status(conn: AsyncConnection, tenant: Tenant, me: Account, row_id: int) -> None:
    current = await get_filtered_status(conn, tenant.id, me.id, row_id)
    await conn.execute(delete(filter_statuses).where(filter_statuses.c.tenant_id == tenant.id,
                                                     filter_statuses.c.id == current.id))


async def delete_if_empty(conn: AsyncConnection, tenant: Tenant, me: Account, filter_id: int) -> None:
    """A v1 filter is one keyword; once that keyword is gone, so is its filter."""
    loaded = await get_filter(conn, tenant.id, me.id, filter_id)
    if not loaded.keywords and not loaded.statuses:
        await delete_filter(conn, tenant, me, filter_id)


def parse_bool(value: Any, default: bool) -> bool:
    return _bool(value, default)
