"""Notifications: creating them (respecting the recipient's blocks and mutes),
reading them with Mastodon's filters and paging, dismissing them, and the
notification policy stored in `users.settings`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.db.tables import accounts, blocks, markers, mutes, notifications, statuses, user_domain_blocks, users
from steward.model.entities import Notification, from_row
from steward.social.streaming import event

if TYPE_CHECKING:
    from steward.container import Container
    from steward.web.base import Page

TYPES = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update",
         "admin.sign_up", "admin.report", "severed_relationships", "moderation_warning", "quote",
         "quoted_update")
# Types Mastodon's grouped notifications fold together (within a time bucket).
GROUPABLE = {"favourite", "reblog", "follow"}
GROUP_PERIOD = 12 * 3600
# A job runs twice only after a failure; a repeat within this window is the same notification.
REPEAT_WINDOW = timedelta(minutes=10)


@dataclass(slots=True)
class NewNotification:
    account_id: int
    from_account_id: int
    type: str
    status_id: int | None = None
    report_id: int | None = None


def group_key(n: NewNotification, notification_id: int, at: datetime) -> str:
    bucket = int(at.timestamp()) // GROUP_PERIOD
    if n.type in {"favourite", "reblog"} and n.status_id:
        return f"{n.type}-{n.status_id}-{bucket}"
    if n.type == "follow":
        return f"follow-{bucket}"
    return f"ungrouped-{notification_id}"


async def _refused(conn: AsyncConnection, tid: int, items: list[NewNotification]) -> set[tuple[int, int]]:
    """(recipient, sender) pairs the recipient does not want to hear from:
    blocks, mutes that hide notifications, and blocked domains."""
    recipients = {n.account_id for n in items}
    senders = {n.from_account_id for n in items}
    now = utcnow()
    rows = (await conn.execute(union_all(
        select(blocks.c.account_id, blocks.c.target_account_id).where(
            blocks.c.tenant_id == tid, blocks.c.account_id.in_(recipients),
            blocks.c.target_account_id.in_(senders)),
        select(mutes.c.account_id, mutes.c.target_account_id).where(
            mutes.c.tenant_id == tid, mutes.c.account_id.in_(recipients),
            mutes.c.target_account_id.in_(senders), mutes.c.hide_notifications.is_(True),
            or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > now)),
        select(user_domain_blocks.c.account_id, accounts.c.id).join(
            accounts, (accounts.c.tenant_id == user_domain_blocks.c.tenant_id)
            & (accounts.c.domain == user_domain_blocks.c.domain)).where(
            user_domain_blocks.c.tenant_id == tid, user_domain_blocks.c.account_id.in_(recipients),
            accounts.c.id.in_(senders)),
    ))).all()
    return {(r[0], r[1]) for r in rows}


async def create_notifications(conn: AsyncConnection, tid: int,
                               items: list[NewNotification]) -> list[Notification]:
    """Insert the notifications that should exist and do not yet; returns them.
    Only local users receive notifications; nobody is notified of their own acts."""
    items = [n for n in items if n.account_id != n.from_account_id and n.type in TYPES]
    if not items:
        return []
    local = {r.account_id for r in await conn.execute(
        select(users.c.account_id).where(users.c.tenant_id == tid,
                                         users.c.account_id.in_({n.account_id for n in items})))}
    items = [n for n in items if n.account_id in local]
    if not items:
        return []
    refused = await _refused(conn, tid, items)
    items = [n for n in items if (n.account_id, n.from_account_id) not in refused]
    if not items:
        return []
    now = utcnow()
    # An edit replaces the previous "update" notification of the same status.
    for n in items:
        if n.type == "update":
            await conn.execute(delete(notifications).where(
                notifications.c.tenant_id == tid, notifications.c.account_id == n.account_id,
                notifications.c.type == "update", notifications.c.status_id == n.status_id))
    existing = {(r.account_id, r.from_account_id, r.type, r.status_id) for r in await conn.execute(
        select(notifications.c.account_id, notifications.c.from_account_id, notifications.c.type,
               notifications.c.status_id).where(
            notifications.c.tenant_id == tid,
            notifications.c.account_id.in_({n.account_id for n in items}),
            notifications.c.from_account_id.in_({n.from_account_id for n in items}),
            or_(notifications.c.status_id.in_({n.status_id for n in items if n.status_id}),
                and_(notifications.c.status_id.is_(None), notifications.c.created_at > now - REPEAT_WINDOW))))}
    out: list[Notification] = []
    seen: set[tuple[int, int, str, int | None]] = set()
    for n in items:
        key = (n.account_id, n.from_account_id, n.type, n.status_id)
        if key in existing or key in seen:
            continue
        seen.add(key)
        nid = new_id()
        out.append(Notification(tenant_id=tid, id=nid, account_id=n.account_id, from_account_id=n.from_account_id,
                                type=n.type, status_id=n.status_id, report_id=n.report_id,
                                group_key=group_key(n, nid, now), created_at=now))
    if out:
        await conn.execute(notifications.insert(), [
            {"tenant_id": tid, "id": x.id, "account_id": x.account_id, "from_account_id": x.from_account_id,
             "type": x.type, "status_id": x.status_id, "report_id": x.report_id, "group_key": x.group_key,
             "created_at": x.created_at} for x in out])
    return out


def notification_events(tid: int, created: list[Notification]) -> list[dict[str, Any]]:
    return [event(tid, f"user:{n.account_id}", "notification", ref=n.id) for n in created]


async def notify(c: Container, tid: int, items: list[NewNotification]) -> list[Notification]:
    """Create notifications in their own transaction and stream them."""
    async with c.db.write() as conn:
        created = await create_notifications(conn, tid, items)
    await c.hub.emit(c.db, notification_events(tid, created))
    return created


async def handle_notify_job(c: Container, payload: dict[str, Any]) -> None:
    status_id = payload.get("status_id")
    report_id = payload.get("report_id")
    await notify(c, int(payload["tenant_id"]), [NewNotification(
        account_id=int(payload["account_id"]), from_account_id=int(payload["from_account_id"]),
        type=str(payload["type"]), status_id=int(status_id) if status_id else None,
        report_id=int(report_id) if report_id else None)])


# -- reading ------------------------------------------------------------------------------------

def _visible(tid: int, account_id: int) -> Any:
    """Notifications of `account_id` whose status (if any) still exists."""
    return (
        select(notifications)
        .outerjoin(statuses, (statuses.c.tenant_id == notifications.c.tenant_id)
                   & (statuses.c.id == notifications.c.status_id))
        .where(notifications.c.tenant_id == tid, notifications.c.account_id == account_id,
               or_(notifications.c.status_id.is_(None), statuses.c.deleted_at.is_(None)),
               or_(notifications.c.status_id.is_(None), statuses.c.id.is_not(None)))
    )


def check_types(values: list[str], field: str) -> list[str]:
    unknown = [v for v in values if v not in TYPES]
    if unknown:
        raise ApiError(422, f"Validation failed: {field} contains an unknown type: {unknown[0]}")
    return values


async def list_notifications(conn: AsyncConnection, tid: int, account_id: int, page: Page, *,
                             types: list[str], exclude_types: list[str],
                             from_account_id: int | None) -> list[Notification]:
    n = notifications.c
    query = _visible(tid, account_id)
    if types:
        query = query.where(n.type.in_(types))
    if exclude_types:
        query = query.where(n.type.not_in(exclude_types))
    if from_account_id is not None:
        query = query.where(n.from_account_id == from_account_id)
    if page.max_id is not None:
        query = query.where(n.id < page.max_id)
    if page.since_id is not None:
        query = query.where(n.id > page.since_id)
    if page.min_id is not None:
        query = query.where(n.id > page.min_id).order_by(n.id.asc())
    else:
        query = query.order_by(n.id.desc())
    rows = [from_row(Notification, r) for r in (await conn.execute(query.limit(page.limit))).all()]
    if page.min_id is not None:
        rows.reverse()
    return rows


async def get_notification(conn: AsyncConnection, tid: int, account_id: int, nid: int) -> Notification:
    row = (await conn.execute(_visible(tid, account_id).where(notifications.c.id == nid))).first()
    if row is None:
        raise not_found()
    return from_row(Notification, row)


async def group_members(conn: AsyncConnection, tid: int, account_id: int, key: str,
                        limit: int = 200) -> list[Notification]:
    query = _visible(tid, account_id).where(notifications.c.group_key == key).order_by(
        notifications.c.id.desc()).limit(limit)
    return [from_row(Notification, r) for r in (await conn.execute(query)).all()]


async def dismiss(conn: AsyncConnection, tid: int, account_id: int, nid: int) -> None:
    result = await conn.execute(delete(notifications).where(
        notifications.c.tenant_id == tid, notifications.c.account_id == account_id, notifications.c.id == nid))
    if result.rowcount == 0:
        raise not_found()


async def dismiss_group(conn: AsyncConnection, tid: int, account_id: int, key: str) -> None:
    result = await conn.execute(delete(notifications).where(
        notifications.c.tenant_id == tid, notifications.c.account_id == account_id,
        notifications.c.group_key == key))
    if result.rowcount == 0:
        raise not_found()


async def clear(conn: AsyncConnection, tid: int, account_id: int) -> None:
    await conn.execute(delete(notifications).where(
        notifications.c.tenant_id == tid, notifications.c.account_id == account_id))


async def unread_count(conn: AsyncConnection, tid: int, account_id: int, *, types: list[str],
                       exclude_types: list[str], limit: int) -> int:
    """Notifications newer than the viewer's notifications marker (capped at `limit`)."""
    last_read = (await conn.execute(select(markers.c.last_read_id).where(
        markers.c.tenant_id == tid, markers.c.account_id == account_id,
        markers.c.timeline == "notifications"))).scalar()
    query = _visible(tid, account_id).with_only_columns(notifications.c.id)
    if last_read is not None:
        query = query.where(notifications.c.id > last_read)
    if types:
        query = query.where(notifications.c.type.in_(types))
    if exclude_types:
        query = query.where(notifications.c.type.not_in(exclude_types))
    sub = query.limit(limit).subquery()
    return int((await conn.execute(select(func.count()).select_from(sub))).scalar() or 0)


# -- policy ---------------------------------------------------------------------------------------

POLICY_FIELDS = ("for_not_following", "for_not_followers", "for_new_accounts", "for_private_mentions",
                 "for_limited_accounts")


async def get_policy(conn: AsyncConnection, tid: int, account_id: int) -> dict[str, str]:
    settings = (await conn.execute(select(users.c.settings).where(
        users.c.tenant_id == tid, users.c.account_id == account_id))).scalar() or {}
    stored = settings.get("notification_policy") or {}
    return {f: stored.get(f, "accept") for f in POLICY_FIELDS}


async def set_policy(conn: AsyncConnection, tid: int, account_id: int, changes: dict[str, str]) -> dict[str, str]:
    """Only "accept" is supported: Steward does not yet hold back notifications as
    requests, so "filter" and "drop" are refused with 422 rather than stored and ignored."""
    for field, value in changes.items():
        if value not in {"accept", "filter", "drop"}:
            raise ApiError(422, f"Validation failed: {field} must be one of accept, filter, drop")
        if value != "accept":
            raise ApiError(422, f"Validation failed: {field}={value} is not supported by this server; "
                                "every notification is accepted")
    row = (await conn.execute(select(users.c.id, users.c.settings).where(
        users.c.tenant_id == tid, users.c.account_id == account_id))).first()
    if row is None:
        raise not_found()
    settings = dict(row.settings or {})
    policy = {f: (settings.get("notification_policy") or {}).get(f, "accept") for f in POLICY_FIELDS}
    policy.update(changes)
    settings["notification_policy"] = policy
    await conn.execute(update(users).where(users.c.tenant_id == tid, users.c.id == row.id).values(settings=settings))
    return policy
