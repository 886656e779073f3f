"""Notifications: creating them (respecting the recipient's blocks and mutes),
reading them with Mastodon's filters and paging, dismissing them, and the
notification policy stored in `users.settings`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, exists, func, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import aware, utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.core.pagination import Page
from steward.db.tables import (
    accounts,
    blocks,
    follow_requests,
    follows,
    markers,
    mutes,
    notifications,
    statuses,
    user_domain_blocks,
    users,
)
from steward.model.entities import Notification, from_row
from steward.social.streaming import event

if TYPE_CHECKING:
    from steward.container import Container

TYPES = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update",
         "admin.sign_up", "admin.report", "severed_relationships", "moderation_warning", "quote",
         "quoted_update")
# Types whose account is the recipient (there is no originating account).
SELF_ADDRESSED = {"moderation_warning", "severed_relationships"}
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
    account_warning_id: int | None = None  # moderation_warning: the strike


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


# Mastodon never holds these back: they are about the recipient's own things or the server.
UNFILTERABLE = {"poll", "update", "admin.sign_up", "admin.report", "severed_relationships", "moderation_warning"}
NEW_ACCOUNT_AGE = timedelta(days=30)
RECENT_FOLLOWER_AGE = timedelta(days=3)
_STRICTNESS = {"accept": 0, "filter": 1, "drop": 2}


def policy_of(settings: dict[str, Any]) -> dict[str, str]:
    stored = settings.get("notification_policy") or {}
    return {f: stored.get(f, "accept") if stored.get(f) in _STRICTNESS else "accept" for f in POLICY_FIELDS}


async def _policy_actions(conn: AsyncConnection, tid: int, items: list[NewNotification],
                          settings: dict[int, dict[str, Any]]) -> dict[int, str]:
    """id(item) -> "filter" | "drop" for the items a recipient's policy does not accept."""
    policies = {r: policy_of(s) for r, s in settings.items()}
    todo = [n for n in items if n.type not in UNFILTERABLE
            and any(v != "accept" for v in policies[n.account_id].values())
            and n.from_account_id not in (settings[n.account_id].get("notification_permissions") or [])]
    if not todo:
        return {}
    recipients = {n.account_id for n in todo}
    senders = {n.from_account_id for n in todo}
    now = utcnow()
    following = {(r.account_id, r.target_account_id) for r in await conn.execute(
        select(follows.c.account_id, follows.c.target_account_id).where(
            follows.c.tenant_id == tid, follows.c.account_id.in_(recipients),
            follows.c.target_account_id.in_(senders)))}
    followed_by: dict[tuple[int, int], datetime | None] = {
        (r.target_account_id, r.account_id): aware(r.created_at) for r in await conn.execute(
        select(follows.c.account_id, follows.c.target_account_id, follows.c.created_at).where(
            follows.c.tenant_id == tid, follows.c.account_id.in_(senders),
            follows.c.target_account_id.in_(recipients)))}
    people = {r.id: r for r in await conn.execute(
        select(accounts.c.id, accounts.c.created_at, accounts.c.silenced_at).where(
            accounts.c.tenant_id == tid, accounts.c.id.in_(senders)))}
    mention_ids = {n.status_id for n in todo if n.type == "mention" and n.status_id}
    mentioned_in = {r.id: r for r in await conn.execute(
        select(statuses.c.id, statuses.c.visibility, statuses.c.in_reply_to_account_id).where(
            statuses.c.tenant_id == tid, statuses.c.id.in_(mention_ids)))} if mention_ids else {}
    out: dict[int, str] = {}
    for n in todo:
        policy, r, f = policies[n.account_id], n.account_id, n.from_account_id
        sender = people.get(f)
        since: datetime | None = followed_by.get((r, f))
        status = mentioned_in.get(n.status_id) if n.status_id else None
        matched = []
        if (r, f) not in following:
            matched.append(policy["for_not_following"])
        if since is None or since > now - RECENT_FOLLOWER_AGE:
            matched.append(policy["for_not_followers"])
        joined = aware(sender.created_at) if sender is not None else None
        if joined is not None and joined > now - NEW_ACCOUNT_AGE:
            matched.append(policy["for_new_accounts"])
        if sender is not None and sender.silenced_at is not None:
            matched.append(policy["for_limited_accounts"])
        if (status is not None and status.visibility == "direct" and (r, f) not in following
                and status.in_reply_to_account_id != r):
            matched.append(policy["for_private_mentions"])
        action = max(matched, key=_STRICTNESS.__getitem__, default="accept")
        if action != "accept":
            out[id(n)] = action
    return out


async def create_notifications(conn: AsyncConnection, tid: int,
                               items: list[NewNotification]) -> list[Notification]:
    """Insert the notifications that should exist and do not yet; returns those
    the recipient sees now (not those their policy holds back as requests).
    Only local users receive notifications; nobody is notified of their own acts
    (a moderation_warning names its recipient as its account, as Mastodon's do)."""
    items = [n for n in items if n.type in TYPES
             and (n.account_id != n.from_account_id or n.type in SELF_ADDRESSED)]
    if not items:
        return []
    settings = {r.account_id: r.settings or {} for r in await conn.execute(
        select(users.c.account_id, users.c.settings).where(
            users.c.tenant_id == tid, users.c.account_id.in_({n.account_id for n in items})))}
    items = [n for n in items if n.account_id in settings]
    if not items:
        return []
    refused = await _refused(conn, tid, items)
    items = [n for n in items if (n.account_id, n.from_account_id) not in refused]
    if not items:
        return []
    actions = await _policy_actions(conn, tid, items, settings)
    items = [n for n in items if actions.get(id(n)) != "drop"]
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
    # Notifications about a strike or a report: one per (recipient, strike or report),
    # however close together they come.
    strikes = {n.account_warning_id for n in items if n.account_warning_id is not None}
    report_ids = {n.report_id for n in items if n.report_id is not None}
    done: set[tuple[int, str, int]] = set()
    if strikes or report_ids:
        for r in await conn.execute(select(notifications.c.account_id, notifications.c.account_warning_id,
                                           notifications.c.report_id).where(
                notifications.c.tenant_id == tid, or_(notifications.c.account_warning_id.in_(strikes),
                                                      notifications.c.report_id.in_(report_ids)))):
            if r.account_warning_id is not None:
                done.add((r.account_id, "w", r.account_warning_id))
            if r.report_id is not None:
                done.add((r.account_id, "r", r.report_id))
    out: list[tuple[Notification, bool]] = []
    seen: set[tuple[int, int, str, int | None]] = set()
    for n in items:
        key = (n.account_id, n.from_account_id, n.type, n.status_id)
        about = (n.account_id, "w", n.account_warning_id) if n.account_warning_id is not None else \
            (n.account_id, "r", n.report_id) if n.report_id is not None else None
        if about is not None:
            if about in done:
                continue
            done.add(about)
        elif key in existing or key in seen:
            continue
        seen.add(key)
        nid = new_id()
        made = Notification(tenant_id=tid, id=nid, account_id=n.account_id, from_account_id=n.from_account_id,
                            type=n.type, status_id=n.status_id, report_id=n.report_id,
                            account_warning_id=n.account_warning_id, group_key=group_key(n, nid, now), created_at=now)
        out.append((made, actions.get(id(n)) == "filter"))
    if out:
        await conn.execute(notifications.insert(), [
            {"tenant_id": tid, "id": x.id, "account_id": x.account_id, "from_account_id": x.from_account_id,
             "type": x.type, "status_id": x.status_id, "report_id": x.report_id,
             "account_warning_id": x.account_warning_id, "group_key": x.group_key,
             "filtered": held, "created_at": x.created_at} for x, held in out])
    return [x for x, held in out if not held]


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
    warning_id = payload.get("account_warning_id")
    await notify(c, int(payload["tenant_id"]), [NewNotification(
        account_id=int(payload["account_id"]), from_account_id=int(payload["from_account_id"]),
        type=str(payload["type"]), status_id=int(status_id) if status_id else None,
        report_id=int(report_id) if report_id else None,
        account_warning_id=int(warning_id) if warning_id else None)])


# -- reading ------------------------------------------------------------------------------------

def _visible(tid: int, account_id: int, *, filtered: bool | None = False) -> Any:
    """Notifications of `account_id` whose status (if any) still exists; by default
    not those held back as requests (`filtered=None`: both)."""
    query = (
        select(notifications)
        .outerjoin(statuses, (statuses.c.tenant_id == notifications.c.tenant_id)
                   & (statuses.c.id == notifications.c.status_id))
        .where(notifications.c.tenant_id == tid, notifications.c.account_id == account_id,
               or_(notifications.c.status_id.is_(None),
                   and_(statuses.c.id.is_not(None), statuses.c.deleted_at.is_(None))),
               # A follow request's notification lasts as long as the request (as on Mastodon,
               # where authorising or rejecting it deletes the notification).
               or_(notifications.c.type != "follow_request", exists().where(
                   follow_requests.c.tenant_id == tid, follow_requests.c.target_account_id == account_id,
                   follow_requests.c.account_id == notifications.c.from_account_id)))
    )
    if filtered is not None:
        query = query.where(notifications.c.filtered.is_(filtered))
    return query


def check_types(values: list[str], field: str) -> list[str]:
    unknown = [v for v in values if v not in TYPES]
    if unknown:
        raise ApiError(422, f"Validation failed: {field} contains an unknown type: {unknown[0]}")
    return values


async def list_notifications(conn: AsyncConnection, tid: int, account_id: int, page: Page, *,
                             types: list[str], exclude_types: list[str],
                             from_account_id: int | None, include_filtered: bool = False) -> list[Notification]:
    n = notifications.c
    query = _visible(tid, account_id, filtered=None if include_filtered else False)
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
    row = (await conn.execute(_visible(tid, account_id, filtered=None).where(notifications.c.id == nid))).first()
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
                       exclude_types: list[str], limit: int, grouped: bool = False) -> int:
    """Notifications (or, `grouped`, notification groups) newer than the viewer's
    notifications marker, capped at `limit`."""
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
    if grouped:
        query = query.with_only_columns(notifications.c.group_key).distinct()
    sub = query.limit(limit).subquery()
    return int((await conn.execute(select(func.count()).select_from(sub))).scalar() or 0)


# -- policy ---------------------------------------------------------------------------------------

POLICY_FIELDS = ("for_not_following", "for_not_followers", "for_new_accounts", "for_private_mentions",
                 "for_limited_accounts")


async def get_policy(conn: AsyncConnection, tid: int, account_id: int) -> dict[str, str]:
    settings = (await conn.execute(select(users.c.settings).where(
        users.c.tenant_id == tid, users.c.account_id == account_id))).scalar() or {}
    return policy_of(settings)


async def set_policy(conn: AsyncConnection, tid: int, account_id: int, changes: dict[str, str]) -> dict[str, str]:
    for field, value in changes.items():
        if value not in _STRICTNESS:
            raise ApiError(422, f"Validation failed: {field} must be one of accept, filter, drop")
    row = (await conn.execute(select(users.c.id, users.c.settings).where(
        users.c.tenant_id == tid, users.c.account_id == account_id))).first()
    if row is None:
        raise not_found()
    settings = dict(row.settings or {})
    policy = policy_of(settings)
    policy.update(changes)
    settings["notification_policy"] = policy
    await conn.execute(update(users).where(users.c.tenant_id == tid, users.c.id == row.id).values(settings=settings))
    return policy


# -- requests: notifications held back by the policy, one request per sender ----------------------

@dataclass(slots=True)
class NotificationRequest:
    from_account_id: int
    count: int
    newest_id: int
    created_at: datetime | None
    updated_at: datetime | None
    last_status_id: int | None


def _held(tid: int, account_id: int) -> Any:
    n = notifications.c
    return (select(n.from_account_id, func.count().label("count"), func.max(n.id).label("newest_id"),
                   func.min(n.created_at).label("created_at"), func.max(n.created_at).label("updated_at"),
                   func.max(n.status_id).label("last_status_id"))
            .where(n.tenant_id == tid, n.account_id == account_id, n.filtered.is_(True))
            .group_by(n.from_account_id))


def _request(row: Any) -> NotificationRequest:
    return NotificationRequest(row.from_account_id, int(row.count), row.newest_id, aware(row.created_at),
                               aware(row.updated_at), row.last_status_id)


async def list_requests(conn: AsyncConnection, tid: int, account_id: int, page: Page) -> list[NotificationRequest]:
    """Newest first, paged on the newest held notification of each sender."""
    newest = func.max(notifications.c.id)
    query = _held(tid, account_id)
    if page.max_id is not None:
        query = query.having(newest < page.max_id)
    if page.since_id is not None:
        query = query.having(newest > page.since_id)
    if page.min_id is not None:
        query = query.having(newest > page.min_id).order_by(newest.asc())
    else:
        query = query.order_by(newest.desc())
    rows = [_request(r) for r in (await conn.execute(query.limit(page.limit))).all()]
    if page.min_id is not None:
        rows.reverse()
    return rows


async def get_request(conn: AsyncConnection, tid: int, account_id: int, sender_id: int) -> NotificationRequest:
    row = (await conn.execute(_held(tid, account_id).where(notifications.c.from_account_id == sender_id))).first()
    if row is None:
        raise not_found()
    return _request(row)


async def accept_requests(conn: AsyncConnection, tid: int, account_id: int, sender_ids: list[int]) -> int:
    """Release the held notifications and let these senders through from now on."""
    result = await conn.execute(update(notifications).where(
        notifications.c.tenant_id == tid, notifications.c.account_id == account_id,
        notifications.c.from_account_id.in_(sender_ids), notifications.c.filtered.is_(True)).values(filtered=False))
    row = (await conn.execute(select(users.c.id, users.c.settings).where(
        users.c.tenant_id == tid, users.c.account_id == account_id))).first()
    if row is not None and result.rowcount:
        settings = dict(row.settings or {})
        allowed = list(dict.fromkeys([*(settings.get("notification_permissions") or []), *sender_ids]))
        settings["notification_permissions"] = allowed
        await conn.execute(update(users).where(users.c.tenant_id == tid, users.c.id == row.id)
                           .values(settings=settings))
    return int(result.rowcount or 0)


async def dismiss_requests(conn: AsyncConnection, tid: int, account_id: int, sender_ids: list[int]) -> int:
    result = await conn.execute(delete(notifications).where(
        notifications.c.tenant_id == tid, notifications.c.account_id == account_id,
        notifications.c.from_account_id.in_(sender_ids), notifications.c.filtered.is_(True)))
    return int(result.rowcount or 0)


async def pending_summary(conn: AsyncConnection, tid: int, account_id: int) -> dict[str, int]:
    n = notifications.c
    row = (await conn.execute(select(func.count(func.distinct(n.from_account_id)), func.count()).where(
        n.tenant_id == tid, n.account_id == account_id, n.filtered.is_(True)))).first()
    return {"pending_requests_count": int(row[0] or 0) if row else 0,
            "pending_notifications_count": int(row[1] or 0) if row else 0}
