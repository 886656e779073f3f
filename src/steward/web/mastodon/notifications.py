"""Notification routes (v1 list and actions, v2 grouped), the notification policy
and notification requests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import Route

from steward.core.clock import iso
from steward.core.errors import ApiError
from steward.core.ids import parse_id
from steward.model.entities import Notification, Tenant
from steward.moderation.reports import reports_by_id
from steward.social import notifications as svc
from steward.social.accounts import get_accounts
from steward.web.base import Ctx, Page, endpoint, json, link_header, page_params, paged
from steward.web.mastodon.compat_misc import report_to_api
from steward.web.mastodon.serialize_accounts import account_to_api
from steward.web.mastodon.serialize_statuses import load_statuses, render_statuses
from steward.web.mastodon.strikes import warnings_by_id
from steward.web.mastodon.timelines import apply_filters

if TYPE_CHECKING:
    from steward.container import Container


async def _parts(c: Container, conn: AsyncConnection, tenant: Tenant, viewer_id: int,
                 items: list[Notification]) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """Rendered accounts and statuses of these notifications, batched."""
    base = c.base_url(tenant)
    people = await get_accounts(conn, tenant.id, {n.from_account_id for n in items})
    account_api = {a.id: account_to_api(base, tenant, a) for a in people.values()}
    status_ids = [n.status_id for n in items if n.status_id]
    loaded = await load_statuses(conn, tenant.id, status_ids)
    ordered = [loaded[i] for i in dict.fromkeys(status_ids) if i in loaded]
    rendered = await render_statuses(c, conn, tenant, viewer_id, ordered)
    # A status hidden by the viewer's "notifications" filters takes its notifications with it.
    rendered = await apply_filters(conn, tenant.id, viewer_id, "notifications", rendered)
    return account_api, {int(s["id"]): s for s in rendered}


async def render_notifications(c: Container, conn: AsyncConnection, tenant: Tenant, viewer_id: int,
                               items: list[Notification]) -> list[dict[str, Any]]:
    """Mastodon Notification entities; one whose account or status is gone is left out."""
    account_api, status_api = await _parts(c, conn, tenant, viewer_id, items)
    report_api = await _reports(c, conn, tenant, [n.report_id for n in items if n.report_id])
    warning_api = await warnings_by_id(conn, c.base_url(tenant), tenant, [
        (n.account_id, n.account_warning_id) for n in items if n.account_warning_id])
    out = []
    for n in items:
        account = account_api.get(n.from_account_id)
        status = status_api.get(n.status_id) if n.status_id else None
        report = report_api.get(n.report_id) if n.report_id else None
        warning = warning_api.get(n.account_warning_id) if n.account_warning_id else None
        if account is None or (n.status_id and status is None) or (n.report_id and report is None) \
                or (n.account_warning_id and warning is None):
            continue
        data: dict[str, Any] = {"id": str(n.id), "type": n.type, "created_at": iso(n.created_at),
                                "group_key": n.group_key or f"ungrouped-{n.id}", "account": account}
        if n.status_id:
            data["status"] = status
        if n.report_id:
            data["report"] = report
        if n.account_warning_id:
            data["moderation_warning"] = warning
        out.append(data)
    return out


async def _reports(c: Container, conn: AsyncConnection, tenant: Tenant, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Report entities for admin.report notifications (batched)."""
    rows = await reports_by_id(conn, tenant.id, ids)
    targets = await get_accounts(conn, tenant.id, {r["target_account_id"] for r in rows})
    base = c.base_url(tenant)
    return {r["id"]: report_to_api(base, tenant, r, targets[r["target_account_id"]])
            for r in rows if r["target_account_id"] in targets}


def _filters(ctx: Ctx) -> tuple[list[str], list[str], int | None]:
    p = ctx.params
    types = svc.check_types(p.str_list("types", max_items=20), "types")
    exclude = svc.check_types(p.str_list("exclude_types", max_items=20), "exclude_types")
    return types, exclude, p.id("account_id")


@endpoint("read:notifications")
async def index(ctx: Ctx) -> Any:
    types, exclude, from_id = _filters(ctx)
    page = page_params(ctx.params, default=40, maximum=80)
    async with ctx.c.db.read() as conn:
        items = await svc.list_notifications(conn, ctx.tenant.id, ctx.me.id, page, types=types,
                                             exclude_types=exclude, from_account_id=from_id,
                                             include_filtered=bool(ctx.params.bool("include_filtered", False)))
        data = await render_notifications(ctx.c, conn, ctx.tenant, ctx.me.id, items)
    return paged(ctx.request, data, [d["id"] for d in data] if len(data) != len(items) else [n.id for n in items])


@endpoint("read:notifications")
async def show(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        item = await svc.get_notification(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
        data = await render_notifications(ctx.c, conn, ctx.tenant, ctx.me.id, [item])
    if not data:
        raise ApiError(404, "Record not found")
    return data[0]


@endpoint("write:notifications")
async def clear(ctx: Ctx) -> Any:
    async with ctx.c.db.write() as conn:
        await svc.clear(conn, ctx.tenant.id, ctx.me.id)
    return {}


@endpoint("write:notifications")
async def dismiss(ctx: Ctx) -> Any:
    async with ctx.c.db.write() as conn:
        await svc.dismiss(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return {}


@endpoint("read:notifications")
async def unread_count(ctx: Ctx) -> Any:
    types, exclude, _ = _filters(ctx)
    limit = ctx.params.int("limit", 100, lo=1, hi=1000, clamp=True) or 100
    async with ctx.c.db.read() as conn:
        count = await svc.unread_count(conn, ctx.tenant.id, ctx.me.id, types=types, exclude_types=exclude,
                                       limit=limit, grouped=ctx.request.url.path.startswith("/api/v2/"))
    return {"count": count}


# -- grouped (v2) ------------------------------------------------------------------------------

PARTIAL_ACCOUNT_KEYS = ("id", "acct", "locked", "bot", "url", "avatar", "avatar_static")


def _grouped_body(items: list[Notification], account_api: dict[int, dict[str, Any]],
                  status_api: dict[int, dict[str, Any]], grouped_types: set[str],
                  partial: bool = False, warnings: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Mastodon's GroupedNotificationsResults for a page of notifications (newest first)."""
    groups: dict[str, dict[str, Any]] = {}
    for n in items:
        if n.from_account_id not in account_api or (n.status_id and n.status_id not in status_api):
            continue
        key = _key(n, grouped_types)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "group_key": key, "notifications_count": 0, "type": n.type,
                "most_recent_notification_id": n.id, "page_min_id": str(n.id), "page_max_id": str(n.id),
                "latest_page_notification_at": iso(n.created_at), "sample_account_ids": [],
                "status_id": str(n.status_id) if n.status_id else None,
            }
            if n.account_warning_id and warnings is not None and n.account_warning_id in warnings:
                group["moderation_warning"] = warnings[n.account_warning_id]
        group["notifications_count"] += 1
        group["page_min_id"] = str(n.id)
        if str(n.from_account_id) not in group["sample_account_ids"] and len(group["sample_account_ids"]) < 8:
            group["sample_account_ids"].append(str(n.from_account_id))
    used_statuses = dict.fromkeys(g["status_id"] for g in groups.values() if g["status_id"])
    if not partial:
        used_accounts = dict.fromkeys(a for g in groups.values() for a in g["sample_account_ids"])
        return {
            "accounts": [account_api[int(a)] for a in used_accounts],
            "statuses": [status_api[int(s)] for s in used_statuses],
            "notification_groups": list(groups.values()),
        }
    # expand_accounts=partial_avatars: the newest account of each group in full, the others stripped down.
    full = dict.fromkeys(g["sample_account_ids"][0] for g in groups.values() if g["sample_account_ids"])
    rest = dict.fromkeys(a for g in groups.values() for a in g["sample_account_ids"][1:] if a not in full)
    return {
        "accounts": [account_api[int(a)] for a in full],
        "partial_accounts": [{k: account_api[int(a)][k] for k in PARTIAL_ACCOUNT_KEYS} for a in rest],
        "statuses": [status_api[int(s)] for s in used_statuses],
        "notification_groups": list(groups.values()),
    }


def _key(n: Notification, grouped_types: set[str]) -> str:
    return n.group_key if n.type in grouped_types and n.group_key else f"ungrouped-{n.id}"


async def _group_page(conn: AsyncConnection, ctx: Ctx, page: Page, types: list[str], exclude: list[str],
                      from_id: int | None, grouped_types: set[str]) -> list[Notification]:
    """Notifications for up to `page.limit` groups (the limit counts groups, as on
    Mastodon): read newest-first in batches until enough groups have started,
    then keep the notifications above the first group that does not fit."""
    if page.min_id is not None:
        return await svc.list_notifications(conn, ctx.tenant.id, ctx.me.id, page, types=types,
                                            exclude_types=exclude, from_account_id=from_id)
    batch_page = Page(page.max_id, page.since_id, None, min(page.limit * 2, 80))
    items: list[Notification] = []
    keys: dict[str, None] = {}
    for _ in range(5):
        batch = await svc.list_notifications(conn, ctx.tenant.id, ctx.me.id, batch_page, types=types,
                                             exclude_types=exclude, from_account_id=from_id)
        for n in batch:
            key = _key(n, grouped_types)
            if key not in keys and len(keys) == page.limit:
                return items
            keys[key] = None
            items.append(n)
        if len(batch) < batch_page.limit:
            break
        batch_page = Page(batch[-1].id, page.since_id, None, batch_page.limit)
    return items


@endpoint("read:notifications")
async def grouped(ctx: Ctx) -> Any:
    types, exclude, from_id = _filters(ctx)
    grouped_types = set(svc.check_types(ctx.params.str_list("grouped_types", max_items=20), "grouped_types")
                        or svc.GROUPABLE) & svc.GROUPABLE
    expand = ctx.params.str("expand_accounts", "full", max_len=32)
    if expand not in {"full", "partial_avatars"}:
        raise ApiError(422, "Validation failed: expand_accounts must be full or partial_avatars")
    page = page_params(ctx.params, default=40, maximum=80)
    async with ctx.c.db.read() as conn:
        items = await _group_page(conn, ctx, page, types, exclude, from_id, grouped_types)
        account_api, status_api = await _parts(ctx.c, conn, ctx.tenant, ctx.me.id, items)
        warnings = await warnings_by_id(conn, ctx.base_url, ctx.tenant, [
            (n.account_id, n.account_warning_id) for n in items if n.account_warning_id])
    body = _grouped_body(items, account_api, status_api, grouped_types, partial=expand == "partial_avatars",
                         warnings=warnings)
    ids = [n.id for n in items]
    headers = link_header(ctx.request, ids[-1], ids[0]) if ids else {}
    return json(body, headers=headers)


async def _group_items(ctx: Ctx, conn: AsyncConnection) -> list[Notification]:
    key = str(ctx.request.path_params.get("group_key", ""))
    if key.startswith("ungrouped-"):
        nid = parse_id(key.removeprefix("ungrouped-"))
        if nid is None:
            raise ApiError(404, "Record not found")
        return [await svc.get_notification(conn, ctx.tenant.id, ctx.me.id, nid)]
    items = await svc.group_members(conn, ctx.tenant.id, ctx.me.id, key)
    if not items:
        raise ApiError(404, "Record not found")
    return items


@endpoint("read:notifications")
async def show_group(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        items = await _group_items(ctx, conn)
        account_api, status_api = await _parts(ctx.c, conn, ctx.tenant, ctx.me.id, items)
        warnings = await warnings_by_id(conn, ctx.base_url, ctx.tenant, [
            (n.account_id, n.account_warning_id) for n in items if n.account_warning_id])
    body = _grouped_body(items, account_api, status_api, svc.GROUPABLE, warnings=warnings)
    if not body["notification_groups"]:
        raise ApiError(404, "Record not found")
    for group in body["notification_groups"]:
        for key in ("page_min_id", "page_max_id", "latest_page_notification_at"):
            group.pop(key, None)
    return body


@endpoint("read:notifications")
async def group_accounts(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        items = await _group_items(ctx, conn)
        people = await get_accounts(conn, ctx.tenant.id, {n.from_account_id for n in items})
    base = ctx.base_url
    ordered = dict.fromkeys(n.from_account_id for n in items)
    return [account_to_api(base, ctx.tenant, people[a]) for a in ordered if a in people]


@endpoint("write:notifications")
async def dismiss_group(ctx: Ctx) -> Any:
    key = str(ctx.request.path_params.get("group_key", ""))
    async with ctx.c.db.write() as conn:
        if key.startswith("ungrouped-"):
            nid = parse_id(key.removeprefix("ungrouped-"))
            if nid is None:
                raise ApiError(404, "Record not found")
            await svc.dismiss(conn, ctx.tenant.id, ctx.me.id, nid)
        else:
            await svc.dismiss_group(conn, ctx.tenant.id, ctx.me.id, key)
    return {}


# -- policy and requests -------------------------------------------------------------------------

def _policy_v1(policy: dict[str, str], summary: dict[str, int]) -> dict[str, Any]:
    return {"filter_not_following": policy["for_not_following"] != "accept",
            "filter_not_followers": policy["for_not_followers"] != "accept",
            "filter_new_accounts": policy["for_new_accounts"] != "accept",
            "filter_private_mentions": policy["for_private_mentions"] != "accept",
            "summary": summary}


@endpoint("read:notifications")
async def policy_v1(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return _policy_v1(await svc.get_policy(conn, ctx.tenant.id, ctx.me.id),
                          await svc.pending_summary(conn, ctx.tenant.id, ctx.me.id))


@endpoint("write:notifications")
async def update_policy_v1(ctx: Ctx) -> Any:
    changes: dict[str, str] = {}
    for old, new in (("filter_not_following", "for_not_following"), ("filter_not_followers", "for_not_followers"),
                     ("filter_new_accounts", "for_new_accounts"),
                     ("filter_private_mentions", "for_private_mentions")):
        value = ctx.params.bool(old)
        if value is not None:
            changes[new] = "filter" if value else "accept"
    async with ctx.c.db.write() as conn:
        return _policy_v1(await svc.set_policy(conn, ctx.tenant.id, ctx.me.id, changes),
                          await svc.pending_summary(conn, ctx.tenant.id, ctx.me.id))


@endpoint("read:notifications")
async def policy_v2(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return {**await svc.get_policy(conn, ctx.tenant.id, ctx.me.id),
                "summary": await svc.pending_summary(conn, ctx.tenant.id, ctx.me.id)}


@endpoint("write:notifications")
async def update_policy_v2(ctx: Ctx) -> Any:
    changes: dict[str, str] = {}
    for field in svc.POLICY_FIELDS:
        value = ctx.params.str(field, max_len=16)
        if value is not None:
            changes[field] = value
    async with ctx.c.db.write() as conn:
        return {**await svc.set_policy(conn, ctx.tenant.id, ctx.me.id, changes),
                "summary": await svc.pending_summary(conn, ctx.tenant.id, ctx.me.id)}


async def _render_requests(ctx: Ctx, conn: AsyncConnection,
                           items: list[svc.NotificationRequest]) -> list[dict[str, Any]]:
    people = await get_accounts(conn, ctx.tenant.id, {r.from_account_id for r in items})
    status_ids = [r.last_status_id for r in items if r.last_status_id]
    loaded = await load_statuses(conn, ctx.tenant.id, status_ids)
    rendered = {int(s["id"]): s for s in await render_statuses(ctx.c, conn, ctx.tenant, ctx.me.id,
                                                                 list(loaded.values()))}
    out = []
    for r in items:
        person = people.get(r.from_account_id)
        if person is None:
            continue
        data: dict[str, Any] = {
            "id": str(r.from_account_id), "created_at": iso(r.created_at), "updated_at": iso(r.updated_at),
            "account": account_to_api(ctx.base_url, ctx.tenant, person), "notifications_count": str(r.count)}
        if r.last_status_id and r.last_status_id in rendered:
            data["last_status"] = rendered[r.last_status_id]
        out.append(data)
    return out


@endpoint("read:notifications")
async def requests(ctx: Ctx) -> Any:
    """Notifications the policy held back, one request per sender (its id is the
    sender's account id); paged on each sender's newest held notification."""
    page = page_params(ctx.params, default=40, maximum=80)
    async with ctx.c.db.read() as conn:
        items = await svc.list_requests(conn, ctx.tenant.id, ctx.me.id, page)
        data = await _render_requests(ctx, conn, items)
    return paged(ctx.request, data, [r.newest_id for r in items])


@endpoint("read:notifications")
async def request_show(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        item = await svc.get_request(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
        data = await _render_requests(ctx, conn, [item])
    if not data:
        raise ApiError(404, "Record not found")
    return data[0]


@endpoint("write:notifications")
async def request_accept(ctx: Ctx) -> Any:
    async with ctx.c.db.write() as conn:
        await svc.get_request(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
        await svc.accept_requests(conn, ctx.tenant.id, ctx.me.id, [ctx.path_id()])
    return {}


@endpoint("write:notifications")
async def request_dismiss(ctx: Ctx) -> Any:
    async with ctx.c.db.write() as conn:
        await svc.get_request(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
        await svc.dismiss_requests(conn, ctx.tenant.id, ctx.me.id, [ctx.path_id()])
    return {}


@endpoint("write:notifications")
async def requests_accept(ctx: Ctx) -> Any:
    """Bulk; like Mastodon, ids that name no request are ignored."""
    ids = ctx.params.id_list("id", max_items=100)
    async with ctx.c.db.write() as conn:
        await svc.accept_requests(conn, ctx.tenant.id, ctx.me.id, ids)
    return {}


@endpoint("write:notifications")
async def requests_dismiss(ctx: Ctx) -> Any:
    ids = ctx.params.id_list("id", max_items=100)
    async with ctx.c.db.write() as conn:
        await svc.dismiss_requests(conn, ctx.tenant.id, ctx.me.id, ids)
    return {}


@endpoint("read:notifications")
async def requests_merged(ctx: Ctx) -> Any:
    """Accepting a request releases its notifications in the same transaction."""
    return {"merged": True}


routes = [
    Route("/api/v1/notifications", index, methods=["GET"]),
    Route("/api/v1/notifications/clear", clear, methods=["POST"]),
    Route("/api/v1/notifications/unread_count", unread_count, methods=["GET"]),
    Route("/api/v1/notifications/policy", policy_v1, methods=["GET"]),
    Route("/api/v1/notifications/policy", update_policy_v1, methods=["PUT", "PATCH"]),
    Route("/api/v1/notifications/requests", requests, methods=["GET"]),
    Route("/api/v1/notifications/requests/merged", requests_merged, methods=["GET"]),
    Route("/api/v1/notifications/requests/accept", requests_accept, methods=["POST"]),
    Route("/api/v1/notifications/requests/dismiss", requests_dismiss, methods=["POST"]),
    Route("/api/v1/notifications/requests/{id}", request_show, methods=["GET"]),
    Route("/api/v1/notifications/requests/{id}/accept", request_accept, methods=["POST"]),
    Route("/api/v1/notifications/requests/{id}/dismiss", request_dismiss, methods=["POST"]),
    Route("/api/v1/notifications/{id}", show, methods=["GET"]),
    Route("/api/v1/notifications/{id}/dismiss", dismiss, methods=["POST"]),
    Route("/api/v2/notifications", grouped, methods=["GET"]),
    Route("/api/v2/notifications/policy", policy_v2, methods=["GET"]),
    Route("/api/v2/notifications/policy", update_policy_v2, methods=["PATCH", "PUT"]),
    Route("/api/v2/notifications/unread_count", unread_count, methods=["GET"]),
    Route("/api/v2/notifications/{group_key}", show_group, methods=["GET"]),
    Route("/api/v2/notifications/{group_key}/accounts", group_accounts, methods=["GET"]),
    Route("/api/v2/notifications/{group_key}/dismiss", dismiss_group, methods=["POST"]),
]
