"""A tenant's server settings as its admins change them: title, descriptions,
contact, registration mode, rules (ordered, with hints), invitation codes, and
versioned terms of service and privacy policy. Every change is audited in the
same transaction. What clients see of them is rendered by social/instance.py
and web/mastodon/instance.py."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import iso, utcnow
from steward.core.errors import ApiError, not_found, unprocessable
from steward.core.ids import new_id
from steward.db.tables import instance_rules, invites, legal_documents, tenants
from steward.model.entities import Tenant
from steward.moderation.audit import log_action
from steward.social.announcements import create_announcement

REGISTRATION_MODES = ("open", "approval", "closed", "invite")
# key -> longest accepted value
TEXT_SETTINGS = {"title": 200, "description": 1000, "extended_description": 20_000, "contact_email": 320,
                 "contact_username": 64, "registration_message": 1000}
MAX_RULES = 100
LEGAL_KINDS = ("terms_of_service", "privacy_policy")
MAX_LEGAL = 100_000


# Settings

def settings_to_api(tenant: Tenant) -> dict[str, Any]:
    out: dict[str, Any] = {k: str(tenant.setting(k) or "") for k in TEXT_SETTINGS}
    out["registration_mode"] = tenant.setting("registration_mode", "open")
    return out


async def update_settings(conn: AsyncConnection, tenant: Tenant, actor_id: int, changes: dict[str, Any]) -> None:
    """Validates and stores `changes` (None values are left alone). The caller
    invalidates the tenant cache after the commit."""
    values: dict[str, Any] = {}
    for key, limit in TEXT_SETTINGS.items():
        value = changes.get(key)
        if value is None:
            continue
        value = str(value).strip()
        if len(value) > limit:
            raise unprocessable(f"{key} is longer than {limit} characters", key, "ERR_TOO_LONG")
        if key == "contact_email" and value and ("@" not in value or any(c.isspace() for c in value)):
            raise unprocessable("contact_email is not an e-mail address", key)
        values[key] = value
    mode = changes.get("registration_mode")
    if mode is not None:
        if mode not in REGISTRATION_MODES:
            raise unprocessable("registration_mode must be open, approval, closed or invite",
                                "registration_mode", "ERR_INCLUSION")
        values["registration_mode"] = mode
    if not values:
        return
    row = (await conn.execute(select(tenants.c.settings).where(tenants.c.id == tenant.id))).one()
    await conn.execute(update(tenants).where(tenants.c.id == tenant.id).values(
        settings={**(row.settings or {}), **values}))
    await log_action(conn, tenant.id, actor_id, "update", "Settings", None, tenant.domain, changed=sorted(values))


# Rules

def rule_to_api(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "text": row.text, "hint": row.hint or "", "position": row.position,
            "created_at": iso(row.created_at)}


async def list_rules(conn: AsyncConnection, tenant_id: int) -> list[Any]:
    return list((await conn.execute(select(instance_rules).where(instance_rules.c.tenant_id == tenant_id)
                                    .order_by(instance_rules.c.position, instance_rules.c.id))).all())


async def _rule(conn: AsyncConnection, tenant_id: int, rule_id: int) -> Any:
    row = (await conn.execute(select(instance_rules).where(
        instance_rules.c.tenant_id == tenant_id, instance_rules.c.id == rule_id))).first()
    if row is None:
        raise not_found()
    return row


def _rule_text(text: str | None, hint: str | None, *, required: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if text is not None or required:
        text = (text or "").strip()
        if not text:
            raise unprocessable("Text can't be blank", "text", "ERR_BLANK")
        if len(text) > 300:
            raise unprocessable("Text is longer than 300 characters", "text", "ERR_TOO_LONG")
        values["text"] = text
    if hint is not None:
        if len(hint) > 2000:
            raise unprocessable("Hint is longer than 2000 characters", "hint", "ERR_TOO_LONG")
        values["hint"] = hint.strip()
    return values


async def create_rule(conn: AsyncConnection, tenant_id: int, actor_id: int, text: str | None,
                      hint: str | None) -> Any:
    values = _rule_text(text, hint, required=True)
    count, last = (await conn.execute(select(func.count(), func.max(instance_rules.c.position)).where(
        instance_rules.c.tenant_id == tenant_id))).one()
    if count >= MAX_RULES:
        raise ApiError(422, f"A server has at most {MAX_RULES} rules")
    rule_id = new_id()
    await conn.execute(instance_rules.insert().values(
        tenant_id=tenant_id, id=rule_id, text=values["text"], hint=values.get("hint", ""),
        position=(last if last is not None else -1) + 1, created_at=utcnow()))
    await log_action(conn, tenant_id, actor_id, "create", "Rule", rule_id, values["text"][:80])
    return await _rule(conn, tenant_id, rule_id)


async def update_rule(conn: AsyncConnection, tenant_id: int, actor_id: int, rule_id: int, text: str | None,
                      hint: str | None) -> Any:
    row = await _rule(conn, tenant_id, rule_id)
    values = _rule_text(text, hint, required=False)
    if values:
        await conn.execute(update(instance_rules).where(
            instance_rules.c.tenant_id == tenant_id, instance_rules.c.id == rule_id).values(**values))
    await log_action(conn, tenant_id, actor_id, "update", "Rule", rule_id, row.text[:80], changed=sorted(values))
    return await _rule(conn, tenant_id, rule_id)


async def delete_rule(conn: AsyncConnection, tenant_id: int, actor_id: int, rule_id: int) -> None:
    """Removes a rule. (Reports and strikes that cited it keep its id.)"""
    row = await _rule(conn, tenant_id, rule_id)
    await conn.execute(delete(instance_rules).where(instance_rules.c.tenant_id == tenant_id,
                                                    instance_rules.c.id == rule_id))
    await log_action(conn, tenant_id, actor_id, "destroy", "Rule", rule_id, row.text[:80])


async def reorder_rules(conn: AsyncConnection, tenant_id: int, actor_id: int, ids: list[int]) -> list[Any]:
    """`ids` must name every rule of the tenant exactly once, in the new order."""
    current = {r.id for r in await list_rules(conn, tenant_id)}
    if len(ids) != len(set(ids)) or set(ids) != current:
        raise unprocessable("ids must list every rule of this server exactly once", "ids")
    for position, rule_id in enumerate(ids):
        await conn.execute(update(instance_rules).where(
            instance_rules.c.tenant_id == tenant_id, instance_rules.c.id == rule_id).values(position=position))
    await log_action(conn, tenant_id, actor_id, "reorder", "Rule", None, None, order=[str(i) for i in ids])
    return await list_rules(conn, tenant_id)


# Invites

def invite_to_api(row: Any, base_url: str) -> dict[str, Any]:
    return {"id": str(row.id), "code": row.code, "url": f"{base_url}/invite/{row.code}",
            "max_uses": row.max_uses, "uses": row.uses, "expires_at": iso(row.expires_at),
            "revoked": row.revoked_at is not None, "comment": row.comment, "created_at": iso(row.created_at)}


async def create_invite(conn: AsyncConnection, tenant_id: int, actor_id: int, *, max_uses: int | None,
                        expires_in: int | None, comment: str | None) -> Any:
    if max_uses is not None and not 1 <= max_uses <= 10_000:
        raise unprocessable("max_uses must be between 1 and 10000", "max_uses")
    if expires_in is not None and not 60 <= expires_in <= 366 * 86400:
        raise unprocessable("expires_in must be between 60 seconds and a year", "expires_in")
    now = utcnow()
    invite_id = new_id()
    await conn.execute(invites.insert().values(
        tenant_id=tenant_id, id=invite_id, code=secrets.token_urlsafe(9), created_by_account_id=actor_id,
        max_uses=max_uses, uses=0, expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
        comment=(comment or "").strip()[:500] or None, created_at=now))
    await log_action(conn, tenant_id, actor_id, "create", "Invite", invite_id, None, max_uses=max_uses)
    return (await conn.execute(select(invites).where(invites.c.tenant_id == tenant_id,
                                                     invites.c.id == invite_id))).one()


async def list_invites(conn: AsyncConnection, tenant_id: int) -> list[Any]:
    return list((await conn.execute(select(invites).where(invites.c.tenant_id == tenant_id)
                                    .order_by(invites.c.id.desc()))).all())


async def revoke_invite(conn: AsyncConnection, tenant_id: int, actor_id: int, invite_id: int) -> Any:
    row = (await conn.execute(select(invites).where(invites.c.tenant_id == tenant_id,
                                                    invites.c.id == invite_id))).first()
    if row is None:
        raise not_found()
    if row.revoked_at is None:
        await conn.execute(update(invites).where(invites.c.tenant_id == tenant_id, invites.c.id == invite_id)
                           .values(revoked_at=utcnow()))
        await log_action(conn, tenant_id, actor_id, "destroy", "Invite", invite_id, None)
    return (await conn.execute(select(invites).where(invites.c.tenant_id == tenant_id,
                                                     invites.c.id == invite_id))).one()


async def redeem_invite(conn: AsyncConnection, tenant_id: int, code: str) -> int:
    """Counts one use of a valid code (inside the sign-up's transaction) and
    returns its id; 422 for an unknown, used-up, expired or revoked code."""
    now = utcnow()
    usable = (invites.c.tenant_id == tenant_id) & (invites.c.code == code) & invites.c.revoked_at.is_(None) \
        & or_(invites.c.expires_at.is_(None), invites.c.expires_at > now) \
        & or_(invites.c.max_uses.is_(None), invites.c.uses < invites.c.max_uses)
    row = (await conn.execute(select(invites.c.id).where(usable))).first()
    if row is None:
        raise unprocessable("Invite code is invalid, expired or used up", "invite_code")
    # The guard repeats in the update, so two sign-ups cannot both take the last use.
    done = await conn.execute(update(invites).where(usable, invites.c.id == row.id)
                              .values(uses=invites.c.uses + 1))
    if done.rowcount != 1:
        raise unprocessable("Invite code is invalid, expired or used up", "invite_code")
    return int(row.id)


# Terms of service and privacy policy

def today() -> str:
    return datetime.now(UTC).date().isoformat()


def legal_to_api(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "kind": row.kind, "effective_date": row.effective_date, "text": row.text,
            "changelog": row.changelog, "effective": row.effective_date <= today(),
            "announcement_id": str(row.announcement_id) if row.announcement_id else None,
            "created_at": iso(row.created_at)}


async def list_legal(conn: AsyncConnection, tenant_id: int, kind: str) -> list[Any]:
    return list((await conn.execute(select(legal_documents).where(
        legal_documents.c.tenant_id == tenant_id, legal_documents.c.kind == kind)
        .order_by(legal_documents.c.effective_date))).all())


async def publish_legal(conn: AsyncConnection, tenant: Tenant, base_url: str, actor_id: int, kind: str, *,
                        text: str | None, effective_date: str | None, changelog: str | None,
                        notify: bool) -> Any:
    """A new version, effective from `effective_date` (today when not given; never
    in the past, and never on or before a version already published). With
    `notify`, users are told by a published announcement (Mastodon e-mails
    them; Steward has no e-mail)."""
    if kind not in LEGAL_KINDS:
        raise not_found()
    body = (text or "").strip()
    if not body:
        raise unprocessable("Text can't be blank", "text", "ERR_BLANK")
    if len(body) > MAX_LEGAL:
        raise unprocessable(f"Text is longer than {MAX_LEGAL} characters", "text", "ERR_TOO_LONG")
    try:
        when = date.fromisoformat(effective_date).isoformat() if effective_date else today()
    except ValueError:
        raise unprocessable("effective_date must be a date (YYYY-MM-DD)", "effective_date") from None
    if when < today():
        raise unprocessable("effective_date is in the past", "effective_date")
    versions = await list_legal(conn, tenant.id, kind)
    if versions and when <= versions[-1].effective_date:
        raise unprocessable(f"effective_date must be after the latest version ({versions[-1].effective_date})",
                            "effective_date")
    note = (changelog or "").strip()[:5000]
    announcement_id = None
    if notify and versions:
        what = "terms of service" if kind == "terms_of_service" else "privacy policy"
        text_of_notice = f"Our {what} change on {when}." + (f"\n\n{note}" if note else "")
        announcement_id = await create_announcement(conn, tenant, base_url, text_of_notice[:4000])
    doc_id = new_id()
    await conn.execute(legal_documents.insert().values(
        tenant_id=tenant.id, id=doc_id, kind=kind, text=body, changelog=note, effective_date=when,
        published_by_account_id=actor_id, announcement_id=announcement_id, created_at=utcnow()))
    await log_action(conn, tenant.id, actor_id, "publish", "LegalDocument", doc_id, kind, effective_date=when,
                     notified=announcement_id is not None)
    return (await conn.execute(select(legal_documents).where(legal_documents.c.tenant_id == tenant.id,
                                                             legal_documents.c.id == doc_id))).one()


async def legal_version(conn: AsyncConnection, tenant_id: int, kind: str,
                        wanted: str | None = None) -> tuple[Any, str | None] | None:
    """(version, the effective date of the one after it) for the version in force
    on `wanted` (a date) or today; before any version takes effect, the first
    one. None when no version was ever published."""
    versions = await list_legal(conn, tenant_id, kind)
    if not versions:
        return None
    if wanted is not None:
        found = [i for i, v in enumerate(versions) if v.effective_date == wanted]
        if not found:
            return None
        index = found[0]
    else:
        live = [i for i, v in enumerate(versions) if v.effective_date <= today()]
        index = live[-1] if live else 0
    following = versions[index + 1].effective_date if index + 1 < len(versions) else None
    return versions[index], following
