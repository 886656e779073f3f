"""What a tenant says about itself: statistics, contact, rules, peers, weekly
activity, public domain blocks, custom emojis, the profile directory, and a
user's posting preferences."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select

from steward.core.clock import utcnow
from steward.core.ids import id_floor_for_time
from steward.db.tables import (
    accounts,
    custom_emojis,
    domain_blocks,
    instance_rules,
    instances,
    statuses,
    users,
)
from steward.model.entities import Account, Tenant, User, from_row

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

SOFTWARE_VERSION = "0.1.0"
# Mastodon.py and other clients read the leading Mastodon version to decide which
# endpoints exist, so it names the Mastodon API level we implement.
MASTODON_VERSION = f"4.4.0 (compatible; Steward {SOFTWARE_VERSION})"
MASTODON_API_VERSION = 2
ACTIVITY_WEEKS = 12


@dataclass(slots=True)
class Stats:
    user_count: int
    status_count: int
    domain_count: int


def _local_users(tenant_id: int) -> Any:
    return (accounts.c.tenant_id == tenant_id) & (accounts.c.domain == "") & accounts.c.suspended_at.is_(None)


async def stats(conn: AsyncConnection, tenant_id: int) -> Stats:
    user_count = (await conn.execute(
        select(func.count()).select_from(users.join(
            accounts, (accounts.c.tenant_id == users.c.tenant_id) & (accounts.c.id == users.c.account_id)))
        .where(users.c.tenant_id == tenant_id, users.c.approved.is_(True), users.c.disabled.is_(False),
               _local_users(tenant_id)))).scalar() or 0
    # Like Mastodon, the sum of local accounts' counters: no scan of the statuses table.
    status_count = (await conn.execute(
        select(func.coalesce(func.sum(accounts.c.statuses_count), 0)).where(
            accounts.c.tenant_id == tenant_id, accounts.c.domain == ""))).scalar() or 0
    domain_count = len(await peers(conn, tenant_id))
    return Stats(int(user_count), int(status_count), domain_count)


async def active_users(conn: AsyncConnection, tenant_id: int, since: datetime) -> int:
    """Local users who signed in or posted since `since`."""
    query = select(func.count()).select_from(users.join(
        accounts, (accounts.c.tenant_id == users.c.tenant_id) & (accounts.c.id == users.c.account_id))).where(
        users.c.tenant_id == tenant_id, _local_users(tenant_id),
        or_(users.c.current_sign_in_at >= since, accounts.c.last_status_at >= since))
    return int((await conn.execute(query)).scalar() or 0)


async def peers(conn: AsyncConnection, tenant_id: int) -> list[str]:
    """Remote domains this tenant knows of, minus those it suspends."""
    suspended = {r.domain for r in (await conn.execute(select(domain_blocks.c.domain).where(
        domain_blocks.c.tenant_id == tenant_id, domain_blocks.c.severity == "suspend"))).all()}
    known = {r.domain for r in (await conn.execute(select(accounts.c.domain).distinct().where(
        accounts.c.tenant_id == tenant_id, accounts.c.domain != ""))).all()}
    known |= {r.domain for r in (await conn.execute(select(instances.c.domain).where(
        instances.c.tenant_id == tenant_id))).all()}
    return sorted(d for d in known if d and d not in suspended and not _under(d, suspended))


def _under(domain: str, parents: set[str]) -> bool:
    parts = domain.split(".")
    return any(".".join(parts[i:]) in parents for i in range(1, len(parts)))


async def contact_account(conn: AsyncConnection, tenant: Tenant) -> Account | None:
    """The account named in the tenant's settings, else its first owner, else its first admin."""
    username = tenant.setting("contact_username")
    if username:
        row = (await conn.execute(select(accounts).where(
            accounts.c.tenant_id == tenant.id, accounts.c.domain == "",
            accounts.c.username_lower == str(username).lower(), accounts.c.suspended_at.is_(None)))).first()
        if row is not None:
            return from_row(Account, row)
    for role in ("owner", "admin"):
        row = (await conn.execute(select(accounts).select_from(users.join(
            accounts, (accounts.c.tenant_id == users.c.tenant_id) & (accounts.c.id == users.c.account_id)))
            .where(users.c.tenant_id == tenant.id, users.c.role == role, users.c.disabled.is_(False),
                   accounts.c.suspended_at.is_(None))
            .order_by(users.c.id).limit(1))).first()
        if row is not None:
            return from_row(Account, row)
    return None


async def rules(conn: AsyncConnection, tenant_id: int) -> list[dict[str, Any]]:
    rows = (await conn.execute(select(instance_rules).where(instance_rules.c.tenant_id == tenant_id)
                               .order_by(instance_rules.c.position, instance_rules.c.id))).all()
    return [{"id": str(r.id), "text": r.text, "hint": r.hint or ""} for r in rows]


def week_start(now: datetime) -> datetime:
    """Midnight UTC on the Monday of `now`'s week."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


async def _weekly_counts(conn: AsyncConnection, table: Any, column: Any, bounds: list[Any], *where: Any) -> list[int]:
    """Rows per week in one query; `bounds` are the week starts in `column`'s terms,
    newest first, followed by the end of the newest week."""
    starts, ends = bounds[:-1], [bounds[-1], *bounds[:-2]]
    buckets = [func.coalesce(func.sum(case((and_(column >= lo, column < hi), 1), else_=0)), 0)
               for lo, hi in zip(starts, ends, strict=True)]
    row = (await conn.execute(select(*buckets).select_from(table).where(column >= starts[-1], *where))).first()
    return [int(v or 0) for v in row] if row is not None else [0] * len(starts)


async def activity(conn: AsyncConnection, tenant_id: int, now: datetime | None = None) -> list[dict[str, str]]:
    """Statuses, logins and registrations per week for the last twelve weeks, newest first."""
    first = week_start(now or utcnow())
    starts = [first - timedelta(weeks=i) for i in range(ACTIVITY_WEEKS)]
    bounds = [*starts, first + timedelta(weeks=1)]
    # Status ids grow with time, so the primary key bounds the scan to these weeks.
    posted = await _weekly_counts(conn, statuses, statuses.c.id, [id_floor_for_time(b) for b in bounds],
                                  statuses.c.tenant_id == tenant_id, statuses.c.local.is_(True))
    logins = await _weekly_counts(conn, users, users.c.current_sign_in_at, bounds, users.c.tenant_id == tenant_id)
    joined = await _weekly_counts(conn, users, users.c.created_at, bounds, users.c.tenant_id == tenant_id)
    return [{"week": str(int(s.timestamp())), "statuses": str(p), "logins": str(lg), "registrations": str(j)}
            for s, p, lg, j in zip(starts, posted, logins, joined, strict=True)]


def obfuscate_domain(domain: str) -> str:
    """Hide the middle of a blocked domain's name, keeping its dots."""
    keep = len(domain) // 4
    return "".join(ch if ch == "." or i < keep or i >= len(domain) - keep else "*" for i, ch in enumerate(domain))


async def public_domain_blocks(conn: AsyncConnection, tenant_id: int, *, with_comment: bool) -> list[dict[str, Any]]:
    rows = (await conn.execute(select(domain_blocks).where(
        domain_blocks.c.tenant_id == tenant_id, domain_blocks.c.severity != "noop")
        .order_by(domain_blocks.c.domain))).all()
    out = []
    for r in rows:
        entry: dict[str, Any] = {
            "domain": obfuscate_domain(r.domain) if r.obfuscate else r.domain,
            "digest": hashlib.sha256(r.domain.encode()).hexdigest(),
            "severity": r.severity,
        }
        if with_comment:
            entry["comment"] = r.public_comment or ""
        out.append(entry)
    return out


async def emojis(conn: AsyncConnection, tenant_id: int) -> list[Any]:
    return list((await conn.execute(select(custom_emojis).where(
        custom_emojis.c.tenant_id == tenant_id, custom_emojis.c.domain == "",
        custom_emojis.c.disabled.is_(False)).order_by(custom_emojis.c.shortcode))).all())


async def directory(conn: AsyncConnection, tenant_id: int, *, order: str, local_only: bool, offset: int,
                    limit: int) -> list[Account]:
    query = select(accounts).where(
        accounts.c.tenant_id == tenant_id, accounts.c.discoverable.is_(True), accounts.c.suspended_at.is_(None),
        accounts.c.silenced_at.is_(None), accounts.c.moved_to_account_id.is_(None), accounts.c.memorial.is_(False))
    if local_only:
        query = query.where(accounts.c.domain == "")
    # Local accounts are listed only while their user may sign in.
    active_users = select(users.c.account_id).where(users.c.tenant_id == tenant_id, users.c.approved.is_(True),
                                                    users.c.disabled.is_(False))
    query = query.where(or_(accounts.c.domain != "", accounts.c.id.in_(active_users)))
    if order == "new":
        query = query.order_by(accounts.c.id.desc())
    else:
        query = query.order_by(accounts.c.last_status_at.is_(None), accounts.c.last_status_at.desc(),
                               accounts.c.id.desc())
    rows = (await conn.execute(query.offset(offset).limit(limit))).all()
    return [from_row(Account, r) for r in rows]


def preferences(user: User | None) -> dict[str, Any]:
    settings = user.settings if user else {}
    expand_media = settings.get("expand_media", "default")
    return {
        "posting:default:visibility": settings.get("default_privacy", "public"),
        "posting:default:sensitive": bool(settings.get("default_sensitive", False)),
        "posting:default:language": settings.get("default_language") or None,
        "reading:expand:media": expand_media if expand_media in {"default", "show_all", "hide_all"} else "default",
        "reading:expand:spoilers": bool(settings.get("expand_spoilers", False)),
        "reading:autoplay:gifs": bool(settings.get("autoplay_gifs", True)),
    }
