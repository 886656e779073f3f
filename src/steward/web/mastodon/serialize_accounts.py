"""Converters from our Account model to Mastodon's Account entity."""

from __future__ import annotations

from typing import Any

from steward.core.clock import iso, iso_date
from steward.core.text import strip_tags
from steward.model.entities import Account, Tenant, User
from steward.moderation.roles import role_to_api

MISSING_AVATAR = "/avatars/original/missing.png"
MISSING_HEADER = "/headers/original/missing.png"


def media_url(base: str, path: str | None, remote: str | None, missing: str) -> str:
    if path:
        return f"{base}/system/{path}"
    if remote:
        return remote
    return f"{base}{missing}"


def account_to_api(base: str, tenant: Tenant, account: Account, *, moved: dict[str, Any] | None = None,
                   emojis: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    avatar = media_url(base, account.avatar_media_path, account.avatar_remote_url, MISSING_AVATAR)
    header = media_url(base, account.header_media_path, account.header_remote_url, MISSING_HEADER)
    data: dict[str, Any] = {
        "id": str(account.id),
        "username": account.username,
        "acct": account.acct(),
        "display_name": account.display_name,
        "locked": account.locked,
        "bot": account.bot,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "group": account.group,
        "created_at": iso(_midnight(account)),
        "note": account.note,
        "url": account.url or f"{base}/@{account.username}",
        "uri": account.uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "avatar_description": account.avatar_description,
        "header": header,
        "header_static": header,
        "header_description": account.header_description,
        "followers_count": account.followers_count,
        "following_count": account.following_count,
        "statuses_count": account.statuses_count,
        "last_status_at": iso_date(account.last_status_at),
        "hide_collections": account.hide_collections,
        "noindex": not account.indexable,
        "emojis": emojis or [],
        "roles": [],
        "fields": [
            {"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": f.get("verified_at")}
            for f in account.fields
        ],
    }
    if account.memorial:
        data["memorial"] = True
    if account.suspended_at is not None:
        data["suspended"] = True
    if account.silenced_at is not None:
        data["limited"] = True
    if moved is not None:
        data["moved"] = moved
    return data


def _midnight(account: Account) -> Any:
    # Mastodon rounds account creation to the day, so sign-up time is not exposed.
    created = account.created_at
    return created.replace(hour=0, minute=0, second=0, microsecond=0) if created else None


def credential_account_to_api(base: str, tenant: Tenant, account: Account, user: User | None) -> dict[str, Any]:
    data = account_to_api(base, tenant, account)
    settings = user.settings if user else {}
    data["source"] = {
        "privacy": settings.get("default_privacy", "public"),
        "sensitive": bool(settings.get("default_sensitive", False)),
        "language": settings.get("default_language") or "",
        "note": account.note_source or strip_tags(account.note),
        "fields": [{"name": f.get("name", ""), "value": f.get("value_source", strip_tags(f.get("value", ""))),
                    "verified_at": f.get("verified_at")} for f in account.fields],
        "follow_requests_count": int(settings.get("_follow_requests_count", 0)),
        "hide_collections": account.hide_collections,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "attribution_domains": list(account.attribution_domains),
        "quote_policy": settings.get("default_quote_policy", "public"),
    }
    if user is not None:
        data["role"] = role_to_api(user.role, user.role_spec)
    return data


def profile_to_api(base: str, tenant: Tenant, account: Account) -> dict[str, Any]:
    """Mastodon 4.7's Profile: the editable profile, with plain sources and their HTML."""
    data = account_to_api(base, tenant, account)
    return {
        "id": data["id"],
        "display_name": account.display_name,
        "note": account.note_source or strip_tags(account.note),
        "formatted_note": account.note,
        "fields": [{"name": f.get("name", ""), "value": f.get("value_source", strip_tags(f.get("value", "")))}
                   for f in account.fields],
        "formatted_fields": data["fields"],
        "avatar": data["avatar"] if account.avatar_media_path or account.avatar_remote_url else None,
        "avatar_static": data["avatar_static"] if account.avatar_media_path or account.avatar_remote_url else None,
        "avatar_description": account.avatar_description,
        "header": data["header"] if account.header_media_path or account.header_remote_url else None,
        "header_static": data["header_static"] if account.header_media_path or account.header_remote_url else None,
        "header_description": account.header_description,
        "locked": account.locked,
        "bot": account.bot,
        "hide_collections": account.hide_collections,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "show_media": account.show_media,
        "show_media_replies": account.show_media_replies,
        "show_featured": account.show_featured,
        "attribution_domains": list(account.attribution_domains),
        "featured_tags": [],
        "name": account.display_name or account.username,
    }
