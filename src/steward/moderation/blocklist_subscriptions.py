"""Subscriptions to published blocklists (CSV or JSON at a URL, as Mastodon,
Oliphant and fediblockhole publish them), per tenant.

Nothing a list says is applied by itself: a `blocklist.fetch` job downloads the
list through the guarded transport and stores it as a pending review; an admin
looks at the diff (adds, changes, removals) and applies it explicitly. The
tenant's overrides shape that diff: domains never to block from this list,
per-domain severities, and a severity cap. A fetch that fails (timeout, a
redirect to a private address, a malformed list) is recorded on the
subscription with its reason, and the pending review it had is kept as it was."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import iso, utcnow
from steward.core.errors import ApiError, not_found, unprocessable
from steward.core.ids import new_id
from steward.db.tables import blocklist_subscriptions as subs
from steward.jobs.queue import enqueue
from steward.moderation import blocklists, domain_policy
from steward.moderation.audit import log_action

if TYPE_CHECKING:
    from steward.container import Container

FETCH_JOB = "blocklist.fetch"
FORMATS = ("auto", "csv", "json")
MAX_URL = 2000
ACCEPT = "text/csv, application/json;q=0.9, text/plain;q=0.8"


def subscription_to_api(row: Any) -> dict[str, Any]:
    pending = row.pending_entries
    return {
        "id": str(row.id), "url": row.url, "format": row.format, "max_severity": row.max_severity,
        "excluded_domains": list(row.excluded_domains or []),
        "severity_overrides": dict(row.severity_overrides or {}),
        "state": row.state, "last_fetch_at": iso(row.last_fetch_at), "last_error": row.last_error,
        "pending_review": pending is not None, "pending_count": len(pending) if pending is not None else None,
        "pending_fetched_at": iso(row.pending_fetched_at), "applied_domains_count": len(row.applied_domains or []),
        "last_applied_at": iso(row.last_applied_at), "created_at": iso(row.created_at),
    }


def _check_url(url: str | None) -> str:
    value = (url or "").strip()
    if not value:
        raise unprocessable("URL can't be blank", "url", "ERR_BLANK")
    parts = urlsplit(value)
    if len(value) > MAX_URL or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise unprocessable("URL must be an http(s) URL", "url")
    return value


def _check_overrides(fields: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if fields.get("format") is not None:
        if fields["format"] not in FORMATS:
            raise unprocessable("Format must be auto, csv or json", "format", "ERR_INCLUSION")
        values["format"] = fields["format"]
    if fields.get("max_severity") is not None:
        if fields["max_severity"] not in blocklists.SEVERITY_RANK:
            raise unprocessable("Max severity must be noop, silence or suspend", "max_severity", "ERR_INCLUSION")
        values["max_severity"] = fields["max_severity"]
    if fields.get("excluded_domains") is not None:
        values["excluded_domains"] = sorted({domain_policy.normalise_domain(d) for d in fields["excluded_domains"]})
    if fields.get("severity_overrides") is not None:
        overrides = {}
        for domain, severity in fields["severity_overrides"].items():
            if severity not in blocklists.SEVERITY_RANK:
                raise unprocessable(f"Severity override for {domain} must be noop, silence or suspend",
                                    "severity_overrides", "ERR_INCLUSION")
            overrides[domain_policy.normalise_domain(domain)] = severity
        values["severity_overrides"] = overrides
    return values


async def get(conn: AsyncConnection, tenant_id: int, sub_id: int) -> Any:
    row = (await conn.execute(select(subs).where(subs.c.tenant_id == tenant_id, subs.c.id == sub_id))).first()
    if row is None:
        raise not_found()
    return row


async def list_all(conn: AsyncConnection, tenant_id: int) -> list[Any]:
    return list((await conn.execute(select(subs).where(subs.c.tenant_id == tenant_id)
                                    .order_by(subs.c.id.desc()))).all())


async def _queue_fetch(conn: AsyncConnection, tenant_id: int, sub_id: int) -> None:
    await conn.execute(update(subs).where(subs.c.tenant_id == tenant_id, subs.c.id == sub_id)
                       .values(state="fetching"))
    await enqueue(conn, FETCH_JOB, {"tenant_id": tenant_id, "subscription_id": sub_id}, tenant_id=tenant_id,
                  max_attempts=1)


async def subscribe(conn: AsyncConnection, tenant_id: int, actor_id: int, url: str | None,
                    fields: dict[str, Any], *, queue: bool = True) -> Any:
    """Records the subscription and queues its first fetch (applying nothing);
    `queue=False` leaves the fetch to the caller (the CLI fetches at once)."""
    url = _check_url(url)
    values = _check_overrides(fields)
    taken = (await conn.execute(select(subs.c.id).where(subs.c.tenant_id == tenant_id, subs.c.url == url))).first()
    if taken is not None:
        raise unprocessable("URL is already subscribed", "url", "ERR_TAKEN")
    sub_id = new_id()
    await conn.execute(subs.insert().values(
        tenant_id=tenant_id, id=sub_id, url=url, format=values.get("format", "auto"),
        max_severity=values.get("max_severity", "suspend"), excluded_domains=values.get("excluded_domains", []),
        severity_overrides=values.get("severity_overrides", {}), created_by_account_id=actor_id,
        created_at=utcnow(), state="idle", applied_domains=[]))
    await log_action(conn, tenant_id, actor_id, "create", "BlocklistSubscription", sub_id, url)
    if queue:
        await _queue_fetch(conn, tenant_id, sub_id)
    return await get(conn, tenant_id, sub_id)


async def change(conn: AsyncConnection, tenant_id: int, actor_id: int, sub_id: int, fields: dict[str, Any]) -> Any:
    """Changes format, cap or overrides; the pending review reflects them at once."""
    row = await get(conn, tenant_id, sub_id)
    values = _check_overrides(fields)
    if values:
        await conn.execute(update(subs).where(subs.c.tenant_id == tenant_id, subs.c.id == sub_id).values(**values))
    await log_action(conn, tenant_id, actor_id, "update", "BlocklistSubscription", sub_id, row.url,
                     changed=sorted(values))
    return await get(conn, tenant_id, sub_id)


async def unsubscribe(conn: AsyncConnection, tenant_id: int, actor_id: int, sub_id: int) -> None:
    """Forgets the subscription; the blocks it applied stay (they are the tenant's now)."""
    row = await get(conn, tenant_id, sub_id)
    await conn.execute(delete(subs).where(subs.c.tenant_id == tenant_id, subs.c.id == sub_id))
    await log_action(conn, tenant_id, actor_id, "destroy", "BlocklistSubscription", sub_id, row.url)


async def refresh(conn: AsyncConnection, tenant_id: int, actor_id: int, sub_id: int, *,
                  queue: bool = True) -> Any:
    row = await get(conn, tenant_id, sub_id)
    if queue:
        await _queue_fetch(conn, tenant_id, sub_id)
    await log_action(conn, tenant_id, actor_id, "refresh", "BlocklistSubscription", sub_id, row.url)
    return await get(conn, tenant_id, sub_id)


def shaped_entries(row: Any) -> tuple[list[blocklists.Entry], list[str]]:
    """The pending list after this tenant's overrides: (entries, excluded domains found)."""
    excluded = set(row.excluded_domains or [])
    overrides = dict(row.severity_overrides or {})
    cap = blocklists.SEVERITY_RANK[row.max_severity]
    entries, dropped = [], []
    for data in row.pending_entries or []:
        entry = blocklists.Entry.from_json(data)
        if entry.domain in excluded:
            dropped.append(entry.domain)
            continue
        severity = overrides.get(entry.domain, entry.severity)
        if entry.domain not in overrides and blocklists.SEVERITY_RANK[severity] > cap:
            severity = row.max_severity
        # A private comment is the tenant's own, never the list's.
        entries.append(dataclasses.replace(entry, severity=severity, private_comment=None))
    return entries, dropped


async def _plan(conn: AsyncConnection, row: Any) -> tuple[blocklists.Plan, list[str]]:
    if row.pending_entries is None:
        raise ApiError(422, "There is no fetched list waiting for review"
                       + (f" (last fetch failed: {row.last_error})" if row.last_error else ""))
    entries, dropped = shaped_entries(row)
    current = await blocklists.current_blocks(conn, row.tenant_id)
    return blocklists.make_plan(current, entries, removable=row.applied_domains or []), dropped


async def review(conn: AsyncConnection, tenant_id: int, sub_id: int) -> dict[str, Any]:
    row = await get(conn, tenant_id, sub_id)
    plan, dropped = await _plan(conn, row)
    return {"subscription": subscription_to_api(row), "excluded": dropped, **plan.to_api()}


async def apply(conn: AsyncConnection, tenant_id: int, actor_id: int, sub_id: int) -> dict[str, Any]:
    """Writes the reviewed diff (each block audited, all in the caller's transaction)
    and clears the review. Blocks this list added are remembered so a later
    version of the list that drops them can lift them; blocks that existed
    before are changed but never lifted by the list."""
    row = await get(conn, tenant_id, sub_id)
    plan, dropped = await _plan(conn, row)
    note = f"From blocklist subscription {row.url}"
    plan.adds = [dataclasses.replace(e, private_comment=note) for e in plan.adds]
    result = {"subscription_id": str(sub_id), "excluded": dropped, **plan.to_api()}
    await blocklists.apply_plan(conn, tenant_id, actor_id, plan)
    removed = {r.domain for r in plan.removals}
    owned = (set(row.applied_domains or []) - removed) | {e.domain for e in plan.adds}
    await conn.execute(update(subs).where(subs.c.tenant_id == tenant_id, subs.c.id == sub_id).values(
        applied_domains=sorted(owned), pending_entries=None, pending_fetched_at=None, state="idle",
        last_applied_at=utcnow()))
    await log_action(conn, tenant_id, actor_id, "apply", "BlocklistSubscription", sub_id, row.url,
                     **result["summary"])
    return result


async def fetch_now(c: Container, tenant_id: int, sub_id: int) -> None:
    """The `blocklist.fetch` job: download, read strictly, store for review. Any
    failure is recorded on the subscription and nothing else changes."""
    from steward.activitypub.transport import TransportError

    async with c.db.read() as conn:
        row = (await conn.execute(select(subs).where(subs.c.tenant_id == tenant_id, subs.c.id == sub_id))).first()
    if row is None:
        return
    now = utcnow()
    try:
        content_type, data = await c.transport.fetch_bytes(row.url, ACCEPT)
        entries = blocklists.parse(data, row.format, content_type, skip_obfuscated=True)
    except TransportError as exc:
        values: dict[str, Any] = {"state": "error", "last_error": f"The list could not be fetched: {exc}"}
    except ApiError as exc:
        values = {"state": "error", "last_error": exc.message}
    else:
        values = {"state": "pending_review", "last_error": None,
                  "pending_entries": [e.to_json() for e in entries], "pending_fetched_at": now}
    async with c.db.write() as conn:
        await conn.execute(update(subs).where(subs.c.tenant_id == tenant_id, subs.c.id == sub_id)
                           .values(last_fetch_at=now, **values))


def register(c: Container) -> None:
    async def run(payload: dict[str, Any]) -> None:
        await fetch_now(c, int(payload["tenant_id"]), int(payload["subscription_id"]))

    c.jobs.register(FETCH_JOB, run)
