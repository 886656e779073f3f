"""Sign-up blocks: e-mail domains, IP ranges and canonical e-mail addresses, and
the check registration asks before creating a user."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import iso, utcnow
from steward.core.errors import ApiError
from steward.core.ids import new_id
from steward.db.tables import canonical_email_blocks, email_domain_blocks, ip_blocks, users
from steward.moderation.audit import log_action
from steward.moderation.domain_policy import get_row, normalise_domain

IP_SEVERITIES = ("sign_up_requires_approval", "sign_up_block", "no_access")
_HASH = re.compile(r"^[0-9a-f]{64}$")
HISTORY_DAYS = 7


def _taken(field: str) -> ApiError:
    return ApiError(422, f"Validation failed: {field.replace('_', ' ').capitalize()} has already been taken",
                    {field: [{"error": "ERR_TAKEN", "description": "has already been taken"}]})


# --- E-mail domain blocks -------------------------------------------------------

async def email_domain_block_to_api(conn: AsyncConnection, tenant_id: int, row: Any) -> dict[str, Any]:
    """With Mastodon's 7-day history: `accounts` is sign-ups per day with an address
    at the domain; `uses` counts refused attempts, which are not recorded yet (0)."""
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=HISTORY_DAYS - 1)
    created = (await conn.execute(select(users.c.created_at).where(
        users.c.tenant_id == tenant_id, users.c.created_at >= start,
        func.lower(users.c.email).like(f"%@{row.domain}")))).scalars().all()
    per_day: dict[str, int] = {}
    for at in created:
        day = at.date().isoformat()
        per_day[day] = per_day.get(day, 0) + 1
    history = []
    for back in range(HISTORY_DAYS):
        day = today - timedelta(days=back)
        count = str(per_day.get(day.date().isoformat(), 0))
        history.append({"day": str(int(day.timestamp())), "accounts": count, "uses": "0"})
    return {"id": str(row.id), "domain": row.domain, "created_at": iso(row.created_at), "history": history}


async def create_email_domain_block(conn: AsyncConnection, tenant_id: int, actor_id: int, domain: str | None) -> Any:
    domain = normalise_domain(domain)
    if (await conn.execute(select(email_domain_blocks.c.id).where(
            email_domain_blocks.c.tenant_id == tenant_id, email_domain_blocks.c.domain == domain))).first():
        raise _taken("domain")
    row_id = new_id()
    await conn.execute(email_domain_blocks.insert().values(tenant_id=tenant_id, id=row_id, domain=domain,
                                                           created_at=utcnow()))
    await log_action(conn, tenant_id, actor_id, "create", "EmailDomainBlock", row_id, domain)
    return await get_row(conn, email_domain_blocks, tenant_id, row_id)


async def delete_email_domain_block(conn: AsyncConnection, tenant_id: int, actor_id: int, row_id: int) -> None:
    row = await get_row(conn, email_domain_blocks, tenant_id, row_id)
    await conn.execute(delete(email_domain_blocks).where(email_domain_blocks.c.tenant_id == tenant_id,
                                                         email_domain_blocks.c.id == row_id))
    await log_action(conn, tenant_id, actor_id, "destroy", "EmailDomainBlock", row_id, row.domain)


# --- IP blocks ----------------------------------------------------------------

def normalise_ip(raw: str | None) -> str:
    try:
        return str(ipaddress.ip_network((raw or "").strip(), strict=False))
    except ValueError:
        raise ApiError(422, "Validation failed: Ip is invalid",
                       {"ip": [{"error": "ERR_INVALID", "description": "is invalid"}]}) from None


def _check_ip_severity(severity: str | None) -> str:
    if severity not in IP_SEVERITIES:
        raise ApiError(422, "Validation failed: Severity is not included in the list",
                       {"severity": [{"error": "ERR_INCLUSION", "description": "is not included in the list"}]})
    return severity


def ip_block_to_api(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "ip": row.ip, "severity": row.severity, "comment": row.comment,
            "created_at": iso(row.created_at), "expires_at": iso(row.expires_at)}


def _not_expired() -> Any:
    return or_(ip_blocks.c.expires_at.is_(None), ip_blocks.c.expires_at > utcnow())


async def _ip_taken(conn: AsyncConnection, tenant_id: int, ip: str, but: int | None = None) -> None:
    query = select(ip_blocks.c.id).where(ip_blocks.c.tenant_id == tenant_id, ip_blocks.c.ip == ip)
    if but is not None:
        query = query.where(ip_blocks.c.id != but)
    if (await conn.execute(query)).first():
        raise _taken("ip")


async def create_ip_block(conn: AsyncConnection, tenant_id: int, actor_id: int, *, ip: str | None,
                          severity: str | None, comment: str, expires_in: int | None) -> Any:
    network = normalise_ip(ip)
    _check_ip_severity(severity)
    # An expired block of the same range is replaced, not a duplicate.
    await conn.execute(delete(ip_blocks).where(ip_blocks.c.tenant_id == tenant_id, ip_blocks.c.ip == network,
                                               ip_blocks.c.expires_at <= utcnow()))
    await _ip_taken(conn, tenant_id, network)
    now = utcnow()
    row_id = new_id()
    await conn.execute(ip_blocks.insert().values(
        tenant_id=tenant_id, id=row_id, ip=network, severity=severity, comment=comment, created_at=now,
        expires_at=now + timedelta(seconds=expires_in) if expires_in else None))
    await log_action(conn, tenant_id, actor_id, "create", "IpBlock", row_id, network, severity=severity)
    return await get_row(conn, ip_blocks, tenant_id, row_id)


async def update_ip_block(conn: AsyncConnection, tenant_id: int, actor_id: int, row_id: int, *,
                          ip: str | None, severity: str | None, comment: str | None,
                          expires_in: int | None) -> Any:
    row = await get_row(conn, ip_blocks, tenant_id, row_id)
    values: dict[str, Any] = {}
    if ip is not None:
        values["ip"] = normalise_ip(ip)
        await _ip_taken(conn, tenant_id, values["ip"], but=row_id)
    if severity is not None:
        values["severity"] = _check_ip_severity(severity)
    if comment is not None:
        values["comment"] = comment
    if expires_in is not None:
        values["expires_at"] = utcnow() + timedelta(seconds=expires_in) if expires_in else None
    if values:
        await conn.execute(update(ip_blocks).where(ip_blocks.c.tenant_id == tenant_id, ip_blocks.c.id == row_id)
                           .values(**values))
    await log_action(conn, tenant_id, actor_id, "update", "IpBlock", row_id, values.get("ip", row.ip))
    return await get_row(conn, ip_blocks, tenant_id, row_id)


async def delete_ip_block(conn: AsyncConnection, tenant_id: int, actor_id: int, row_id: int) -> None:
    row = await get_row(conn, ip_blocks, tenant_id, row_id)
    await conn.execute(delete(ip_blocks).where(ip_blocks.c.tenant_id == tenant_id, ip_blocks.c.id == row_id))
    await log_action(conn, tenant_id, actor_id, "destroy", "IpBlock", row_id, row.ip)


async def active_ip_blocks(conn: AsyncConnection, tenant_id: int) -> list[Any]:
    return list((await conn.execute(select(ip_blocks).where(ip_blocks.c.tenant_id == tenant_id, _not_expired())
                                    .order_by(ip_blocks.c.id.desc()))).all())


# --- Canonical e-mail blocks ------------------------------------------------------

def canonical_email(email: str) -> str:
    """Mastodon's canonical form: lower case; in the local part, no dots and nothing from '+'."""
    local, _, domain = email.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0].replace('.', '')}@{domain}"


def canonical_email_hash(email: str) -> str:
    return hashlib.sha256(canonical_email(email).encode()).hexdigest()


def canonical_block_to_api(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "canonical_email_hash": row.canonical_email_hash}


async def create_canonical_block(conn: AsyncConnection, tenant_id: int, actor_id: int, *, email: str | None,
                                 digest: str | None) -> Any:
    if email:
        if "@" not in email:
            raise ApiError(422, "Validation failed: Email is invalid",
                           {"email": [{"error": "ERR_INVALID", "description": "is invalid"}]})
        digest = canonical_email_hash(email)
    elif digest:
        digest = digest.strip().lower()
        if not _HASH.match(digest):
            raise ApiError(422, "Validation failed: Canonical email hash is invalid",
                           {"canonical_email_hash": [{"error": "ERR_INVALID", "description": "is invalid"}]})
    else:
        raise ApiError(422, "Validation failed: Canonical email hash can't be blank",
                       {"canonical_email_hash": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
    if (await conn.execute(select(canonical_email_blocks.c.id).where(
            canonical_email_blocks.c.tenant_id == tenant_id,
            canonical_email_blocks.c.canonical_email_hash == digest))).first():
        raise _taken("canonical_email_hash")
    row_id = new_id()
    await conn.execute(canonical_email_blocks.insert().values(tenant_id=tenant_id, id=row_id,
                                                              canonical_email_hash=digest, created_at=utcnow()))
    await log_action(conn, tenant_id, actor_id, "create", "CanonicalEmailBlock", row_id)
    return await get_row(conn, canonical_email_blocks, tenant_id, row_id)


async def matching_canonical_blocks(conn: AsyncConnection, tenant_id: int, email: str) -> list[Any]:
    return list((await conn.execute(select(canonical_email_blocks).where(
        canonical_email_blocks.c.tenant_id == tenant_id,
        canonical_email_blocks.c.canonical_email_hash == canonical_email_hash(email)))).all())


async def delete_canonical_block(conn: AsyncConnection, tenant_id: int, actor_id: int, row_id: int) -> None:
    await get_row(conn, canonical_email_blocks, tenant_id, row_id)
    await conn.execute(delete(canonical_email_blocks).where(canonical_email_blocks.c.tenant_id == tenant_id,
                                                            canonical_email_blocks.c.id == row_id))
    await log_action(conn, tenant_id, actor_id, "destroy", "CanonicalEmailBlock", row_id)


# --- The check registration makes ----------------------------------------------------

async def sign_up_verdict(conn: AsyncConnection, tenant_id: int, email: str, ip: str | None) -> str | None:
    """"block" when this sign-up must be refused, "approval" when it must wait for
    a moderator, None when nothing stands in its way."""
    domain = email.strip().lower().rpartition("@")[2]
    parts = domain.split(".")
    candidates = [".".join(parts[i:]) for i in range(len(parts) - 1)]
    if candidates and (await conn.execute(select(email_domain_blocks.c.id).where(
            email_domain_blocks.c.tenant_id == tenant_id, email_domain_blocks.c.domain.in_(candidates)))).first():
        return "block"
    if await matching_canonical_blocks(conn, tenant_id, email):
        return "block"
    if ip:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            address = None
        verdict = None
        for row in await active_ip_blocks(conn, tenant_id) if address else []:
            if address in ipaddress.ip_network(row.ip):
                if row.severity in ("sign_up_block", "no_access"):
                    return "block"
                verdict = "approval"
        return verdict
    return None
