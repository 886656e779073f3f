"""Profile updates (update_credentials) and user preferences."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from steward.core.clock import utcnow
from steward.core.errors import ApiError
from steward.core.text import render_plain
from steward.db.tables import accounts, follow_requests, users
from steward.model.entities import Account, Tenant, User
from steward.social.accounts import get_account, get_user_for_account
from steward.social.federate import federate
from steward.social.relationships import authorize_all_requests

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from steward.container import Container
    from steward.web.params import Params

MAX_FIELDS = 4
MAX_ATTRIBUTION_DOMAINS = 10
PRIVACY = {"public", "unlisted", "private", "direct"}
QUOTE_POLICIES = {"public", "followers", "nobody"}
# Changes that do not show in the actor document, so no Update is sent for them alone.
LOCAL_ONLY_SETTINGS = {"updated_at", "show_media", "show_media_replies", "show_featured", "attribution_domains"}
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


async def follow_request_count(conn: AsyncConnection, tenant_id: int, account_id: int) -> int:
    return int((await conn.execute(select(func.count()).select_from(follow_requests).where(
        follow_requests.c.tenant_id == tenant_id, follow_requests.c.target_account_id == account_id))).scalar() or 0)


def _attribution_domains(params: Params) -> list[str]:
    domains = params.str_list("attribution_domains", max_items=MAX_ATTRIBUTION_DOMAINS)
    out = []
    for domain in domains:
        domain = domain.strip().lower()
        if not DOMAIN_RE.match(domain):
            raise ApiError(422, f"Validation failed: Attribution domains {domain!r} is not a valid domain")
        out.append(domain)
    return list(dict.fromkeys(out))


def _fields(params: Params, base: str) -> list[dict[str, Any]] | None:
    raw = params.raw("fields_attributes")
    if raw is None:
        return None
    items = params.list("fields_attributes")
    if len(items) > MAX_FIELDS:
        raise ApiError(422, f"Validation failed: Fields must have at most {MAX_FIELDS} entries")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise ApiError(422, "Validation failed: fields_attributes must be a list of name/value pairs")
        name, value = str(item.get("name") or ""), str(item.get("value") or "")
        if len(name) > 255 or len(value) > 255:
            raise ApiError(422, "Validation failed: Fields name and value are limited to 255 characters")
        if name or value:
            html = render_plain(value, tag_url=base)
            html = html[3:-4] if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1 else html
            out.append({"name": name, "value": html, "value_source": value, "verified_at": None})
    return out


async def update_profile(c: Container, tenant: Tenant, me: Account, params: Params) -> tuple[Account, User | None]:
    base = c.base_url(tenant)
    changes: dict[str, Any] = {}
    if "display_name" in params:
        changes["display_name"] = params.str("display_name", "", max_len=30) or ""
    if "note" in params:
        note = params.str("note", "", max_len=500) or ""
        changes["note_source"] = note
        changes["note"] = render_plain(note, tag_url=base)
    for text_field in ("avatar_description", "header_description"):
        if text_field in params:
            changes[text_field] = params.str(text_field, "", max_len=1500) or ""
    if "attribution_domains" in params:
        changes["attribution_domains"] = _attribution_domains(params)
    for flag in ("locked", "bot", "discoverable", "indexable", "hide_collections", "show_media",
                 "show_media_replies", "show_featured"):
        value = params.bool(flag)
        if value is not None:
            changes[flag] = value
    fields = _fields(params, base)
    if fields is not None:
        changes["fields"] = fields
    avatar = params.file("avatar")
    header = params.file("header")
    if avatar is not None or header is not None:
        from steward.social.media import store_profile_image
    if avatar is not None:
        changes["avatar_media_path"] = await store_profile_image(c, tenant, me.id, "avatar", avatar)
    if header is not None:
        changes["header_media_path"] = await store_profile_image(c, tenant, me.id, "header", header)
    if changes.get("bot") is not None:
        changes["actor_type"] = "Service" if changes["bot"] else "Person"
    source = params.sub("source")
    user_settings: dict[str, Any] = {}
    if source.data:
        privacy = source.str("privacy")
        if privacy is not None:
            if privacy not in PRIVACY:
                raise ApiError(422, "Validation failed: Privacy is not a valid visibility")
            user_settings["default_privacy"] = privacy
        sensitive = source.bool("sensitive")
        if sensitive is not None:
            user_settings["default_sensitive"] = sensitive
        language = source.str("language", max_len=16)
        if language is not None:
            user_settings["default_language"] = language
        quote_policy = source.str("quote_policy")
        if quote_policy is not None:
            if quote_policy not in QUOTE_POLICIES:
                raise ApiError(422, "Validation failed: Quote policy is not a valid value")
            user_settings["default_quote_policy"] = quote_policy
    async with c.db.write() as conn:
        if changes:
            changes["updated_at"] = utcnow()
            await conn.execute(update(accounts).where(accounts.c.tenant_id == tenant.id,
                                                      accounts.c.id == me.id).values(**changes))
            if changes.get("locked") is False:
                # Unlocking accepts whoever was waiting, as Mastodon does.
                await authorize_all_requests(conn, tenant.id, me.id)
            if set(changes) - LOCAL_ONLY_SETTINGS:
                await federate(conn, tenant.id, "account.updated", account_id=me.id)
        user = await get_user_for_account(conn, tenant.id, me.id)
        if user_settings and user is not None:
            await conn.execute(update(users).where(users.c.tenant_id == tenant.id, users.c.id == user.id)
                               .values(settings={**user.settings, **user_settings}))
            user.settings = {**user.settings, **user_settings}
        account = await get_account(conn, tenant.id, me.id)
    c.auth_cache.clear()
    return account, user


async def remove_profile_image(c: Container, tenant: Tenant, me: Account, kind: str) -> Account:
    """Back to the default avatar or header; the stored file is removed too."""
    column = {"avatar": "avatar_media_path", "header": "header_media_path"}[kind]
    async with c.db.write() as conn:
        current = await get_account(conn, tenant.id, me.id)
        old_path = getattr(current, column)
        await conn.execute(update(accounts).where(accounts.c.tenant_id == tenant.id, accounts.c.id == me.id)
                           .values({column: None, f"{kind}_description": "", "updated_at": utcnow()}))
        if old_path:
            await federate(conn, tenant.id, "account.updated", account_id=me.id)
        account = await get_account(conn, tenant.id, me.id)
    if old_path:
        await c.media.delete(old_path)
    c.auth_cache.clear()
    return account
