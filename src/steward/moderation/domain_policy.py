"""Federation policy: domain blocks (silence, suspend or noop, with media and
report rejection) and domain allows. A block applies at once to the accounts
already known from that domain, and lifting it undoes exactly what it did."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import iso, utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.db.tables import accounts, admin_action_logs, domain_allows, domain_blocks
from steward.moderation.audit import log_action

SEVERITIES = ("noop", "silence", "suspend")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Bumped on every change of a tenant's blocks or allows, so the federation
# policy cache of this process (federation/policy.py) reloads at once.
_generations: dict[int, int] = {}


def generation(tenant_id: int) -> int:
    return _generations.get(tenant_id, 0)


def _changed(tenant_id: int) -> None:
    _generations[tenant_id] = generation(tenant_id) + 1


def normalise_domain(raw: str | None) -> str:
    """A bare host name, lower case and IDNA-encoded; 422 for anything else
    (a URL, a path, a port, spaces)."""
    value = (raw or "").strip().lower().rstrip(".")
    invalid = ApiError(422, "Validation failed: Domain is not a valid domain name",
                       {"domain": [{"error": "ERR_INVALID", "description": "is invalid"}]})
    if not value:
        raise ApiError(422, "Validation failed: Domain can't be blank",
                       {"domain": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
    if len(value) > 253:
        raise invalid
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        raise invalid from None
    labels = value.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise invalid
    return value


def _on_domain(domain: str) -> Any:
    return or_(accounts.c.domain == domain, accounts.c.domain.like(f"%.{domain}"))


async def _apply(conn: AsyncConnection, tenant_id: int, domain: str, severity: str, at: datetime) -> None:
    column = {"silence": "silenced_at", "suspend": "suspended_at"}.get(severity)
    if column is None:
        return
    await conn.execute(update(accounts).where(
        accounts.c.tenant_id == tenant_id, accounts.c.domain != "", _on_domain(domain),
        accounts.c[column].is_(None)).values(**{column: at}))


async def _lift(conn: AsyncConnection, tenant_id: int, domain: str, at: datetime) -> None:
    for column in ("silenced_at", "suspended_at"):
        await conn.execute(update(accounts).where(
            accounts.c.tenant_id == tenant_id, accounts.c.domain != "", _on_domain(domain),
            accounts.c[column] == at).values(**{column: None}))


def block_to_api(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id), "domain": row.domain, "digest": hashlib.sha256(row.domain.encode()).hexdigest(),
        "created_at": iso(row.created_at), "severity": row.severity, "reject_media": row.reject_media,
        "reject_reports": row.reject_reports, "private_comment": row.private_comment,
        "public_comment": row.public_comment, "obfuscate": row.obfuscate,
    }


def allow_to_api(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "domain": row.domain, "created_at": iso(row.created_at)}


async def page_of(conn: AsyncConnection, table: Table, tenant_id: int, *, max_id: int | None,
                  since_id: int | None, min_id: int | None, limit: int) -> list[Any]:
    """One page of a tenant's rows by id, newest first (Mastodon's admin lists)."""
    query = select(table).where(table.c.tenant_id == tenant_id)
    if max_id is not None:
        query = query.where(table.c.id < max_id)
    if since_id is not None:
        query = query.where(table.c.id > since_id)
    if min_id is not None:
        rows = (await conn.execute(query.where(table.c.id > min_id).order_by(table.c.id.asc()).limit(limit))).all()
        return list(reversed(rows))
    return list((await conn.execute(query.order_by(table.c.id.desc()).limit(limit))).all())


async def get_row(conn: AsyncConnection, table: Table, tenant_id: int, row_id: int) -> Any:
    row = (await conn.execute(select(table).where(table.c.tenant_id == tenant_id, table.c.id == row_id))).first()
    if row is None:
        raise not_found()
    return row


def _check_severity(severity: str) -> None:
    if severity not in SEVERITIES:
        raise ApiError(422, "Validation failed: Severity is not included in the list",
                       {"severity": [{"error": "ERR_INCLUSION", "description": "is not included in the list"}]})


async def create_block(conn: AsyncConnection, tenant_id: int, actor_id: int, domain: str,
                       fields: dict[str, Any]) -> Any:
    domain = normalise_domain(domain)
    severity = fields.get("severity") or "silence"
    _check_severity(severity)
    existing = (await conn.execute(select(domain_blocks.c.id).where(
        domain_blocks.c.tenant_id == tenant_id, domain_blocks.c.domain == domain))).first()
    if existing is not None:
        raise ApiError(422, f"You have already imposed stricter limits on {domain}",
                       {"domain": [{"error": "ERR_TAKEN", "description": "has already been taken"}]})
    now = utcnow()
    block_id = new_id()
    await conn.execute(domain_blocks.insert().values(
        tenant_id=tenant_id, id=block_id, domain=domain, severity=severity,
        reject_media=bool(fields.get("reject_media")), reject_reports=bool(fields.get("reject_reports")),
        private_comment=fields.get("private_comment"), public_comment=fields.get("public_comment"),
        obfuscate=bool(fields.get("obfuscate")), created_at=now))
    await _apply(conn, tenant_id, domain, severity, now)
    _changed(tenant_id)
    await log_action(conn, tenant_id, actor_id, "create", "DomainBlock", block_id, domain, severity=severity)
    return await get_row(conn, domain_blocks, tenant_id, block_id)


async def update_block(conn: AsyncConnection, tenant_id: int, actor_id: int, block_id: int,
                       fields: dict[str, Any]) -> Any:
    row = await get_row(conn, domain_blocks, tenant_id, block_id)
    values = {k: v for k, v in fields.items() if v is not None}
    if "severity" in values:
        _check_severity(values["severity"])
    if values:
        await conn.execute(update(domain_blocks).where(
            domain_blocks.c.tenant_id == tenant_id, domain_blocks.c.id == block_id).values(**values))
    if values.get("severity", row.severity) != row.severity:
        await _lift(conn, tenant_id, row.domain, row.created_at)
        await _apply(conn, tenant_id, row.domain, values["severity"], row.created_at)
    _changed(tenant_id)
    await log_action(conn, tenant_id, actor_id, "update", "DomainBlock", block_id, row.domain,
                     changed=sorted(values))
    return await get_row(conn, domain_blocks, tenant_id, block_id)


async def delete_block(conn: AsyncConnection, tenant_id: int, actor_id: int, block_id: int) -> None:
    row = await get_row(conn, domain_blocks, tenant_id, block_id)
    await _lift(conn, tenant_id, row.domain, row.created_at)
    await conn.execute(delete(domain_blocks).where(domain_blocks.c.tenant_id == tenant_id,
                                                   domain_blocks.c.id == block_id))
    _changed(tenant_id)
    await log_action(conn, tenant_id, actor_id, "destroy", "DomainBlock", block_id, row.domain)


async def create_allow(conn: AsyncConnection, tenant_id: int, actor_id: int, domain: str) -> Any:
    """Allowing a domain twice returns the existing allow, as Mastodon does."""
    domain = normalise_domain(domain)
    existing = (await conn.execute(select(domain_allows).where(
        domain_allows.c.tenant_id == tenant_id, domain_allows.c.domain == domain))).first()
    if existing is not None:
        return existing
    allow_id = new_id()
    await conn.execute(domain_allows.insert().values(tenant_id=tenant_id, id=allow_id, domain=domain,
                                                     created_at=utcnow()))
    _changed(tenant_id)
    await log_action(conn, tenant_id, actor_id, "create", "DomainAllow", allow_id, domain)
    return await get_row(conn, domain_allows, tenant_id, allow_id)


async def delete_allow(conn: AsyncConnection, tenant_id: int, actor_id: int, allow_id: int) -> None:
    row = await get_row(conn, domain_allows, tenant_id, allow_id)
    await conn.execute(delete(domain_allows).where(and_(domain_allows.c.tenant_id == tenant_id,
                                                        domain_allows.c.id == allow_id)))
    _changed(tenant_id)
    await log_action(conn, tenant_id, actor_id, "destroy", "DomainAllow", allow_id, row.domain)


async def create_blocks(conn: AsyncConnection, tenant_id: int, actor_id: int,
                        blocks: list[dict[str, Any]]) -> int:
    """Many new blocks at once (a blocklist import), under the same rules as
    `create_block` but in a few statements for the whole batch: each domain must
    be new, each block applies to the accounts already known from its domain,
    and each gets its audit row. Returns how many were created."""
    if not blocks:
        return 0
    now = utcnow()
    rows = []
    for fields in blocks:
        severity = fields.get("severity") or "silence"
        _check_severity(severity)
        rows.append({
            "tenant_id": tenant_id, "id": new_id(), "domain": normalise_domain(fields.get("domain")),
            "severity": severity, "reject_media": bool(fields.get("reject_media")),
            "reject_reports": bool(fields.get("reject_reports")), "private_comment": fields.get("private_comment"),
            "public_comment": fields.get("public_comment"), "obfuscate": bool(fields.get("obfuscate")),
            "created_at": now})
    by_domain = {r["domain"]: r for r in rows}
    for start in range(0, len(rows), 500):
        chunk = [r["domain"] for r in rows[start:start + 500]]
        taken = (await conn.execute(select(domain_blocks.c.domain).where(
            domain_blocks.c.tenant_id == tenant_id, domain_blocks.c.domain.in_(chunk)))).scalars().first()
        if taken is not None:
            raise ApiError(422, f"You have already imposed stricter limits on {taken}",
                           {"domain": [{"error": "ERR_TAKEN", "description": "has already been taken"}]})
    for start in range(0, len(rows), 500):
        await conn.execute(domain_blocks.insert(), rows[start:start + 500])
    # Known remote domains, each matched to the blocks covering it (itself or a parent).
    known = (await conn.execute(select(accounts.c.domain).distinct().where(
        accounts.c.tenant_id == tenant_id, accounts.c.domain != ""))).scalars().all()
    hits: dict[str, list[str]] = {}
    for domain in known:
        labels = domain.split(".")
        for i in range(len(labels) - 1):
            if ".".join(labels[i:]) in by_domain:
                hits.setdefault(".".join(labels[i:]), []).append(domain)
    for blocked, domains in hits.items():
        column = {"silence": "silenced_at", "suspend": "suspended_at"}.get(str(by_domain[blocked]["severity"]))
        if column is not None:
            await conn.execute(update(accounts).where(
                accounts.c.tenant_id == tenant_id, accounts.c.domain.in_(domains),
                accounts.c[column].is_(None)).values(**{column: now}))
    logs = [{"tenant_id": tenant_id, "id": new_id(), "account_id": actor_id, "action": "create",
             "target_type": "DomainBlock", "target_id": r["id"], "human_identifier": r["domain"],
             "details": {"severity": r["severity"]}, "created_at": now} for r in rows]
    for start in range(0, len(logs), 500):
        await conn.execute(admin_action_logs.insert(), logs[start:start + 500])
    _changed(tenant_id)
    return len(rows)
