"""The admin dashboard's numbers (Mastodon's measures, dimensions and retention
cohorts), computed from the tenant's own tables per UTC day. Rows are bounded by
their time-sortable ids, so every query walks the (tenant_id, id) primary key."""

from __future__ import annotations

import platform
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, Select

from steward.core.clock import iso
from steward.core.errors import ApiError
from steward.core.ids import id_floor_for_time
from steward.db.tables import accounts, favourites, follows, reports, status_tags, statuses, users

MAX_DAYS = 366
MAX_MONTHS = 60


@dataclass(slots=True)
class Span:
    start: datetime   # midnight UTC of the first day
    end: datetime     # midnight UTC after the last day

    @property
    def days(self) -> list[datetime]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]

    def previous(self) -> Span:
        return Span(self.start - (self.end - self.start), self.start)

    def id_range(self, col: Any) -> ColumnElement[bool]:
        return and_(col >= id_floor_for_time(self.start), col < id_floor_for_time(self.end))


def parse_instant(value: str | None, key: str) -> datetime:
    if not value:
        raise ApiError(422, f"Validation failed: {key} can't be blank")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, f"Validation failed: {key} is not a valid date") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


DEFAULT_DAYS = 30


def span_of(start_at: str | None, end_at: str | None, *, max_days: int = MAX_DAYS) -> Span:
    """Whole UTC days from start_at's day to end_at's day, both included. Mastodon
    takes the request without them too (fediblockhole asks `instance_follows`
    so): a missing end is today, a missing start the 30 days up to the end."""
    def midnight(at: datetime) -> datetime:
        return at.replace(hour=0, minute=0, second=0, microsecond=0)

    last = midnight(parse_instant(end_at, "end_at") if end_at else datetime.now(UTC))
    start = (midnight(parse_instant(start_at, "start_at")) if start_at
             else last - timedelta(days=min(DEFAULT_DAYS, max_days) - 1))
    if last < start:
        raise ApiError(422, "Validation failed: end_at is before start_at")
    if (last - start).days + 1 > max_days:
        raise ApiError(422, f"Validation failed: the period is longer than {max_days} days")
    return Span(start, last + timedelta(days=1))


def _day(conn: AsyncConnection, col: Any) -> Any:
    if conn.dialect.name == "sqlite":
        return func.date(col)
    return cast(func.timezone("UTC", col), Date)


def _day_key(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


async def _series(conn: AsyncConnection, span: Span, base: Select[Any], at: Any, key: Any,
                  distinct: bool) -> tuple[dict[str, int], int]:
    """Per-day counts of `key` (distinct or not) in rows of `base` at time `at`, and the period's total."""
    day = _day(conn, at).label("day")
    sub = base.add_columns(day, key.label("k")).subquery()
    per_day = {_day_key(r.day): int(r.n) for r in (await conn.execute(
        select(sub.c.day, (func.count(sub.c.k.distinct()) if distinct else func.count(sub.c.k)).label("n"))
        .group_by(sub.c.day))).all()}
    if distinct:
        total = int((await conn.execute(select(func.count(sub.c.k.distinct())))).scalar() or 0)
    else:
        total = sum(per_day.values())
    return per_day, total


MeasureQuery = Callable[[int, Span, dict[str, Any]], tuple[Select[Any], Any, Any, bool] | None]


def _new_users(tid: int, span: Span, _: dict[str, Any]) -> tuple[Select[Any], Any, Any, bool]:
    return (select().select_from(users).where(users.c.tenant_id == tid, span.id_range(users.c.id)),
            users.c.created_at, users.c.id, False)


def _opened_reports(tid: int, span: Span, _: dict[str, Any]) -> tuple[Select[Any], Any, Any, bool]:
    return (select().select_from(reports).where(reports.c.tenant_id == tid, span.id_range(reports.c.id)),
            reports.c.created_at, reports.c.id, False)


def _resolved_reports(tid: int, span: Span, _: dict[str, Any]) -> tuple[Select[Any], Any, Any, bool]:
    return (select().select_from(reports).where(
        reports.c.tenant_id == tid, reports.c.action_taken_at >= span.start, reports.c.action_taken_at < span.end),
        reports.c.action_taken_at, reports.c.id, False)


def _local_author() -> Any:
    return select(accounts.c.id).where(accounts.c.tenant_id == statuses.c.tenant_id,
                                       accounts.c.id == statuses.c.account_id, accounts.c.domain == "").exists()


def _active_users(tid: int, span: Span, _: dict[str, Any]) -> tuple[Select[Any], Any, Any, bool]:
    # Active: posted that day, or signed in that day (the last sign-in is what is kept).
    posted = select(statuses.c.created_at.label("at"), statuses.c.account_id.label("who")).where(
        statuses.c.tenant_id == tid, span.id_range(statuses.c.id), _local_author())
    signed_in = select(users.c.current_sign_in_at.label("at"), users.c.account_id.label("who")).where(
        users.c.tenant_id == tid, users.c.current_sign_in_at >= span.start, users.c.current_sign_in_at < span.end)
    both = union_all(posted, signed_in).subquery()
    return select().select_from(both), both.c.at, both.c.who, True


def _interactions(tid: int, span: Span, _: dict[str, Any]) -> tuple[Select[Any], Any, Any, bool]:
    """Favourites, boosts and replies received by local statuses."""
    original = statuses.alias("original")
    local_original = (select(original.c.id).join(accounts, and_(accounts.c.tenant_id == original.c.tenant_id,
                                                                accounts.c.id == original.c.account_id))
                      .where(original.c.tenant_id == tid, accounts.c.domain == ""))
    faves = select(favourites.c.created_at.label("at"), favourites.c.id.label("what")).where(
        favourites.c.tenant_id == tid, span.id_range(favourites.c.id),
        favourites.c.status_id.in_(local_original))
    answers = select(statuses.c.created_at.label("at"), statuses.c.id.label("what")).where(
        statuses.c.tenant_id == tid, span.id_range(statuses.c.id),
        case((statuses.c.reblog_of_id.is_not(None), statuses.c.reblog_of_id),
             else_=statuses.c.in_reply_to_id).in_(local_original))
    both = union_all(faves, answers).subquery()
    return select().select_from(both), both.c.at, both.c.what, False


def _remote_accounts(tid: int, domain: str) -> Any:
    return select(accounts.c.id).where(accounts.c.tenant_id == tid, accounts.c.domain == domain)


def _instance(kind: str) -> MeasureQuery:
    def build(tid: int, span: Span, opts: dict[str, Any]) -> tuple[Select[Any], Any, Any, bool] | None:
        domain = str(opts.get("domain") or "").strip().lower()
        if not domain:
            return None
        theirs = _remote_accounts(tid, domain)
        if kind == "accounts":
            return (select().select_from(accounts).where(accounts.c.tenant_id == tid, accounts.c.domain == domain,
                                                         span.id_range(accounts.c.id)),
                    accounts.c.created_at, accounts.c.id, False)
        if kind == "statuses":
            return (select().select_from(statuses).where(statuses.c.tenant_id == tid, span.id_range(statuses.c.id),
                                                         statuses.c.account_id.in_(theirs)),
                    statuses.c.created_at, statuses.c.id, False)
        if kind == "reports":
            return (select().select_from(reports).where(reports.c.tenant_id == tid, span.id_range(reports.c.id),
                                                        reports.c.target_account_id.in_(theirs)),
                    reports.c.created_at, reports.c.id, False)
        column = follows.c.target_account_id if kind == "follows" else follows.c.account_id
        return (select().select_from(follows).where(follows.c.tenant_id == tid, span.id_range(follows.c.id),
                                                    column.in_(theirs)),
                follows.c.created_at, follows.c.id, False)
    return build


def _tag(kind: str) -> MeasureQuery:
    def build(tid: int, span: Span, opts: dict[str, Any]) -> tuple[Select[Any], Any, Any, bool] | None:
        try:
            tag_id = int(opts.get("id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        joined = status_tags.join(statuses, and_(statuses.c.tenant_id == status_tags.c.tenant_id,
                                                 statuses.c.id == status_tags.c.status_id))
        base = select().select_from(joined).where(status_tags.c.tenant_id == tid, status_tags.c.tag_id == tag_id,
                                                  span.id_range(status_tags.c.status_id))
        if kind == "uses":
            return base, statuses.c.created_at, statuses.c.id, False
        if kind == "accounts":
            return base, statuses.c.created_at, statuses.c.account_id, True
        authors = joined.join(accounts, and_(accounts.c.tenant_id == statuses.c.tenant_id,
                                             accounts.c.id == statuses.c.account_id))
        return (select().select_from(authors).where(
            status_tags.c.tenant_id == tid, status_tags.c.tag_id == tag_id, span.id_range(status_tags.c.status_id),
            accounts.c.domain != ""), statuses.c.created_at, accounts.c.domain, True)
    return build


MEASURES: dict[str, MeasureQuery] = {
    "new_users": _new_users, "active_users": _active_users, "interactions": _interactions,
    "opened_reports": _opened_reports, "resolved_reports": _resolved_reports,
    "instance_accounts": _instance("accounts"), "instance_statuses": _instance("statuses"),
    "instance_reports": _instance("reports"), "instance_follows": _instance("follows"),
    "instance_followers": _instance("followers"),
    "tag_accounts": _tag("accounts"), "tag_uses": _tag("uses"), "tag_servers": _tag("servers"),
}


async def measures(conn: AsyncConnection, tenant_id: int, keys: list[str], span: Span,
                   options: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Mastodon leaves out keys it does not know; so do we (instance_media_attachments
    needs stored media sizes, which Steward does not record)."""
    out = []
    for key in dict.fromkeys(keys):
        build = MEASURES.get(key)
        if build is None:
            continue
        built = build(tenant_id, span, options.get(key) or {})
        if built is None:
            continue
        per_day, total = await _series(conn, span, *built)
        prev_built = build(tenant_id, span.previous(), options.get(key) or {})
        assert prev_built is not None
        _, previous = await _series(conn, span.previous(), *prev_built)
        out.append({
            "key": key, "unit": None, "total": str(total), "human_value": None, "previous_total": str(previous),
            "data": [{"date": iso(d), "value": str(per_day.get(d.date().isoformat(), 0))} for d in span.days],
        })
    return out


# --- Dimensions ------------------------------------------------------------------------

LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "nl": "Dutch",
    "pt": "Portuguese", "pl": "Polish", "sv": "Swedish", "da": "Danish", "fi": "Finnish", "no": "Norwegian",
    "ja": "Japanese", "zh": "Chinese", "ko": "Korean", "ru": "Russian", "uk": "Ukrainian", "cs": "Czech",
    "el": "Greek", "hu": "Hungarian", "ro": "Romanian", "tr": "Turkish", "ar": "Arabic", "he": "Hebrew",
    "ga": "Irish", "ca": "Catalan", "eu": "Basque", "et": "Estonian", "lv": "Latvian", "lt": "Lithuanian",
    "sk": "Slovak", "sl": "Slovenian", "hr": "Croatian", "bg": "Bulgarian", "mt": "Maltese",
}


def _dimension(key: str, rows: list[tuple[str, int]], human: Callable[[str], str] = str) -> dict[str, Any]:
    return {"key": key, "data": [{"key": k, "human_key": human(k), "value": str(v)} for k, v in rows]}


async def _grouped(conn: AsyncConnection, column: Any, conds: list[Any], limit: int,
                   joined: Any = statuses) -> list[tuple[str, int]]:
    n = func.count().label("n")
    rows = (await conn.execute(select(column.label("g"), n).select_from(joined).where(*conds, column.is_not(None))
                               .group_by(column).order_by(n.desc(), column).limit(limit))).all()
    return [(str(r.g), int(r.n)) for r in rows]


async def _software(conn: AsyncConnection) -> list[dict[str, Any]]:
    def entry(key: str, name: str, version: str) -> dict[str, Any]:
        return {"key": key, "human_key": name, "value": version, "human_value": version}
    data = []
    for dist, name in (("steward", "Steward"), ("sqlalchemy", "SQLAlchemy")):
        try:
            data.append(entry(dist, name, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            continue
    data.append(entry("python", "Python", platform.python_version()))
    if conn.dialect.name == "sqlite":
        data.append(entry("sqlite", "SQLite", sqlite3.sqlite_version))
    else:
        version = (await conn.execute(text("SHOW server_version"))).scalar()
        data.append(entry("postgresql", "PostgreSQL", str(version).split(" ")[0]))
    return data


async def dimensions(conn: AsyncConnection, tenant_id: int, keys: list[str], span: Span, limit: int,
                     options: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Supported: languages, servers, software_versions, instance_accounts,
    instance_languages, tag_servers, tag_languages. Left out as unknown: sources
    (sign-up apps are not recorded) and space_usage (storage is shared by tenants)."""
    out: list[dict[str, Any]] = []
    in_span = [statuses.c.tenant_id == tenant_id, span.id_range(statuses.c.id), statuses.c.deleted_at.is_(None)]
    by_author = statuses.join(accounts, and_(accounts.c.tenant_id == statuses.c.tenant_id,
                                             accounts.c.id == statuses.c.account_id))
    for key in dict.fromkeys(keys):
        opts = options.get(key) or {}
        domain = str(opts.get("domain") or "").strip().lower()
        if key == "languages":
            rows = await _grouped(conn, statuses.c.language, [*in_span, accounts.c.domain == ""], limit, by_author)
            out.append(_dimension(key, rows, lambda k: LANGUAGE_NAMES.get(k, k)))
        elif key == "servers":
            rows = await _grouped(conn, accounts.c.domain, [*in_span, accounts.c.domain != ""], limit, by_author)
            out.append(_dimension(key, rows))
        elif key == "software_versions":
            out.append({"key": key, "data": await _software(conn)})
        elif key == "instance_languages" and domain:
            rows = await _grouped(conn, statuses.c.language, [*in_span, accounts.c.domain == domain], limit,
                                  by_author)
            out.append(_dimension(key, rows, lambda k: LANGUAGE_NAMES.get(k, k)))
        elif key == "instance_accounts" and domain:
            found = (await conn.execute(select(accounts.c.username, accounts.c.followers_count).where(
                accounts.c.tenant_id == tenant_id, accounts.c.domain == domain)
                .order_by(accounts.c.followers_count.desc(), accounts.c.id).limit(limit))).all()
            out.append(_dimension(key, [(f"{r.username}@{domain}", r.followers_count) for r in found]))
        elif key in ("tag_servers", "tag_languages") and str(opts.get("id") or "").isdigit():
            tagged = by_author.join(status_tags, and_(status_tags.c.tenant_id == statuses.c.tenant_id,
                                                      status_tags.c.status_id == statuses.c.id))
            conds = [*in_span, status_tags.c.tag_id == int(opts["id"])]
            if key == "tag_servers":
                rows = await _grouped(conn, accounts.c.domain, [*conds, accounts.c.domain != ""], limit, tagged)
                out.append(_dimension(key, rows))
            else:
                rows = await _grouped(conn, statuses.c.language, conds, limit, tagged)
                out.append(_dimension(key, rows, lambda k: LANGUAGE_NAMES.get(k, k)))
    return out


# --- Retention -------------------------------------------------------------------------

def _month_start(d: datetime) -> datetime:
    return d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(d: datetime) -> datetime:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def periods(span: Span, frequency: str) -> list[datetime]:
    if frequency == "day":
        return span.days
    out, at = [], _month_start(span.start)
    while at < span.end:
        out.append(at)
        at = _next_month(at)
    if len(out) > MAX_MONTHS:
        raise ApiError(422, f"Validation failed: the period is longer than {MAX_MONTHS} months")
    return out


async def retention(conn: AsyncConnection, tenant_id: int, span: Span, frequency: str) -> list[dict[str, Any]]:
    """Cohorts of users by sign-up period; for each later period, how many of them
    were active (posted, or signed in last then). Sign-up counts as activity."""
    if frequency not in ("day", "month"):
        raise ApiError(422, "Validation failed: frequency must be day or month")
    starts = periods(span, frequency)
    end = span.end if frequency == "day" else _next_month(starts[-1])
    full = Span(starts[0], end)

    def bucket(at: datetime | None) -> datetime | None:
        if at is None:
            return None
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        if frequency == "month":
            return _month_start(at)
        return at.replace(hour=0, minute=0, second=0, microsecond=0)

    signups = (await conn.execute(select(users.c.account_id, users.c.created_at, users.c.current_sign_in_at).where(
        users.c.tenant_id == tenant_id, full.id_range(users.c.id)))).all()
    cohort: dict[datetime, set[int]] = {}
    active: dict[datetime, set[int]] = {}
    for row in signups:
        joined = bucket(row.created_at)
        if joined is None:
            continue
        cohort.setdefault(joined, set()).add(row.account_id)
        active.setdefault(joined, set()).add(row.account_id)
        seen = bucket(row.current_sign_in_at)
        if seen is not None:
            active.setdefault(seen, set()).add(row.account_id)
    members = {a for group in cohort.values() for a in group}
    if members:
        posted = (await conn.execute(select(statuses.c.account_id, statuses.c.created_at).where(
            statuses.c.tenant_id == tenant_id, full.id_range(statuses.c.id),
            statuses.c.account_id.in_(list(members))))).all()
        for post in posted:
            at = bucket(post.created_at)
            if at is not None:
                active.setdefault(at, set()).add(post.account_id)
    out = []
    for start in starts:
        group = cohort.get(start, set())
        data = []
        for later in (s for s in starts if s >= start):
            value = len(group & active.get(later, set()))
            data.append({"date": iso(later), "rate": (value / len(group)) if group else 0.0, "value": str(value)})
        out.append({"period": iso(start), "frequency": frequency, "data": data})
    return out
