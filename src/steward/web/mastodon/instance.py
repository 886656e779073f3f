"""Instance routes: v1 and v2 instance descriptions, peers, weekly activity, rules,
the extended description, privacy policy and terms, public domain blocks."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

import nh3
from starlette.routing import Route

from steward.core.clock import iso, utcnow
from steward.core.errors import ApiError
from steward.model.entities import Tenant
from steward.moderation import server_settings as legal
from steward.social import instance as instance_service
from steward.social import media_av
from steward.social.languages import language_list
from steward.social.media import MAX_DESCRIPTION, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, SUPPORTED_IMAGE_TYPES
from steward.web.base import Ctx, endpoint
from steward.web.mastodon.serialize_accounts import MISSING_AVATAR, MISSING_HEADER, account_to_api

MAX_MEDIA_ATTACHMENTS = 4
CHARACTERS_RESERVED_PER_URL = 23
MAX_PINNED_STATUSES = 5
MAX_FEATURED_TAGS = 10
POLL_LIMITS = {"max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2629746}
VIDEO_LIMITS = {"video_matrix_limit": media_av.MAX_VIDEO_PIXELS, "video_frame_rate_limit": media_av.MAX_FRAME_RATE}


def _streaming_url(ctx: Ctx) -> str:
    scheme = "wss" if ctx.base_url.startswith("https") else "ws"
    return f"{scheme}://{ctx.tenant.web_domain}"


def _registrations(tenant: Tenant) -> tuple[bool, bool]:
    mode = tenant.setting("registration_mode", "open")
    return mode not in {"closed", "invite"}, mode == "approval"


def _languages(tenant: Tenant) -> list[str]:
    value = tenant.setting("languages", ["en"])
    return [str(v) for v in value] if isinstance(value, list) else ["en"]


def _thumbnail(ctx: Ctx) -> str:
    path = ctx.tenant.setting("thumbnail_path")
    return f"{ctx.base_url}/system/{path}" if path else f"{ctx.base_url}{MISSING_HEADER}"


def _title(tenant: Tenant) -> str:
    return str(tenant.setting("title") or tenant.name)


def _limits(ctx: Ctx) -> dict[str, Any]:
    tenant = ctx.tenant
    # No upload can be larger than a request body may be.
    body_limit = ctx.c.settings.max_request_body
    return {
        "statuses": {"max_characters": int(tenant.setting("max_toot_chars", 500)),
                     "max_media_attachments": int(tenant.setting("max_media_attachments", MAX_MEDIA_ATTACHMENTS)),
                     "characters_reserved_per_url": CHARACTERS_RESERVED_PER_URL},
        "media_attachments": {"supported_mime_types": [*SUPPORTED_IMAGE_TYPES, *media_av.VIDEO_TYPES,
                                                       *media_av.AUDIO_TYPES],
                              "image_size_limit": min(MAX_IMAGE_BYTES, body_limit),
                              "image_matrix_limit": MAX_IMAGE_PIXELS, "description_limit": MAX_DESCRIPTION,
                              "video_size_limit": min(media_av.MAX_AV_BYTES, body_limit), **VIDEO_LIMITS},
        "polls": {"max_options": int(tenant.setting("max_poll_options", 4)), **POLL_LIMITS},
    }


async def _common(ctx: Ctx, *, with_stats: bool = True) -> tuple[
        instance_service.Stats | None, dict[str, Any] | None, list[dict[str, Any]]]:
    async with ctx.c.db.read() as conn:
        stats = await instance_service.stats(conn, ctx.tenant.id) if with_stats else None
        contact = await instance_service.contact_account(conn, ctx.tenant)
        rules = await instance_service.rules(conn, ctx.tenant.id)
    account = account_to_api(ctx.base_url, ctx.tenant, contact) if contact is not None else None
    return stats, account, rules


@endpoint(auth="none")
async def instance_v1(ctx: Ctx) -> Any:
    stats, contact, rules = await _common(ctx)
    assert stats is not None
    enabled, approval = _registrations(ctx.tenant)
    limits = _limits(ctx)
    description = str(ctx.tenant.setting("description") or "")
    return {
        "uri": ctx.tenant.domain,
        "title": _title(ctx.tenant),
        "short_description": description,
        "description": description,
        "email": str(ctx.tenant.setting("contact_email") or ""),
        "version": instance_service.MASTODON_VERSION,
        "urls": {"streaming_api": _streaming_url(ctx)},
        "stats": {"user_count": stats.user_count, "status_count": stats.status_count,
                  "domain_count": stats.domain_count},
        "thumbnail": _thumbnail(ctx),
        "languages": _languages(ctx.tenant),
        "registrations": enabled,
        "approval_required": approval,
        "invites_enabled": ctx.tenant.setting("registration_mode", "open") == "invite",
        "configuration": {"accounts": {"max_featured_tags": MAX_FEATURED_TAGS}, **limits},
        "contact_account": contact,
        "rules": rules,
    }


@endpoint(auth="none")
async def instance_v2(ctx: Ctx) -> Any:
    _, contact, rules = await _common(ctx, with_stats=False)
    enabled, approval = _registrations(ctx.tenant)
    base = ctx.base_url
    async with ctx.c.db.read() as conn:
        active = await instance_service.active_users(conn, ctx.tenant.id, _days_ago(30))
    data: dict[str, Any] = {
        "domain": ctx.tenant.domain,
        "title": _title(ctx.tenant),
        "version": instance_service.MASTODON_VERSION,
        # No public repository address is configured for Steward yet; a tenant may set one.
        "source_url": _setting_url(ctx.tenant, "source_url") or base,
        "description": str(ctx.tenant.setting("description") or ""),
        "usage": {"users": {"active_month": active}},
        "thumbnail": {"url": _thumbnail(ctx), "blurhash": None, "versions": {}},
        "icon": [{"src": f"{base}{MISSING_AVATAR}", "size": "400x400"}],
        "languages": _languages(ctx.tenant),
        "configuration": {
            # Web pages for these are not served by Steward itself; a tenant may point at its own.
            "urls": {"streaming": _streaming_url(ctx), "status": _setting_url(ctx.tenant, "status_url"),
                     "about": _setting_url(ctx.tenant, "about_url"),
                     "privacy_policy": _setting_url(ctx.tenant, "privacy_policy_url"),
                     "terms_of_service": _setting_url(ctx.tenant, "terms_of_service_url")},
            "accounts": {"max_featured_tags": MAX_FEATURED_TAGS, "max_pinned_statuses": MAX_PINNED_STATUSES,
                         "max_display_name_length": 30, "max_note_length": 500, "max_profile_fields": 4,
                         "profile_field_name_limit": 255, "profile_field_value_limit": 255},
            **_limits(ctx),
            "translation": {"enabled": False},
            "limited_federation": bool(ctx.tenant.setting("limited_federation", False)),
        },
        "registrations": {"enabled": enabled, "approval_required": approval, "reason_required": approval,
                          "message": None, "url": None, "min_age": None},
        "api_versions": {"mastodon": instance_service.MASTODON_API_VERSION},
        "contact": {"email": str(ctx.tenant.setting("contact_email") or ""), "account": contact},
        "rules": rules,
    }
    # The Web Push key is made with the first push subscription (web/mastodon/compat_misc.py).
    vapid = ctx.tenant.setting("vapid_public_key")
    if vapid:
        data["configuration"]["vapid"] = {"public_key": str(vapid)}
    return data


def _setting_url(tenant: Tenant, key: str) -> str | None:
    value = tenant.setting(key)
    return str(value) if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def _days_ago(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


@endpoint(auth="none")
async def instance_peers(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return await instance_service.peers(conn, ctx.tenant.id)


@endpoint(auth="none")
async def instance_activity(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return await instance_service.activity(conn, ctx.tenant.id)


@endpoint(auth="none")
async def instance_rules(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return await instance_service.rules(conn, ctx.tenant.id)


PAGE_TAGS = {"p", "br", "a", "em", "strong", "b", "i", "u", "del", "code", "pre", "blockquote", "ul", "ol", "li",
             "h1", "h2", "h3", "h4", "h5", "h6", "hr", "sub", "sup"}
PAGE_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


def text_to_html(value: str) -> str:
    """Tenant-supplied page text: HTML is sanitised, plain text becomes paragraphs."""
    if "<" in value and ">" in value:
        return nh3.clean(value, tags=PAGE_TAGS, attributes=PAGE_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                         link_rel="noopener noreferrer")
    paragraphs = [p.strip() for p in value.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _updated_at(tenant: Tenant, key: str) -> str | None:
    stamp = tenant.setting(f"{key}_updated_at")
    if isinstance(stamp, str) and stamp:
        try:
            return iso(datetime.fromisoformat(stamp.replace("Z", "+00:00")))
        except ValueError:
            pass
    return iso(tenant.created_at)


@endpoint(auth="none")
async def extended_description(ctx: Ctx) -> Any:
    # Mastodon answers with empty content when none is set.
    content = str(ctx.tenant.setting("extended_description") or "")
    return {"updated_at": _updated_at(ctx.tenant, "extended_description"), "content": text_to_html(content)}


@endpoint(auth="none")
async def privacy_policy(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        found = await legal.legal_version(conn, ctx.tenant.id, "privacy_policy")
    if found is not None:
        return {"updated_at": iso(found[0].created_at), "content": text_to_html(found[0].text)}
    content = str(ctx.tenant.setting("privacy_policy") or "")
    if not content.strip():
        raise ApiError(404, "Record not found")
    return {"updated_at": _updated_at(ctx.tenant, "privacy_policy"), "content": text_to_html(content)}


@endpoint(auth="none")
async def terms_of_service(ctx: Ctx) -> Any:
    """The terms in force (or, before any takes effect, the first published);
    with a date, the version effective from that date. Versions are published
    through the admin API; a tenant without any falls back to its one
    `terms_of_service` setting."""
    wanted = ctx.request.path_params.get("date")
    async with ctx.c.db.read() as conn:
        found = await legal.legal_version(conn, ctx.tenant.id, "terms_of_service", wanted)
        published = found is not None or bool(await legal.list_legal(conn, ctx.tenant.id, "terms_of_service"))
    if found is not None:
        version, following = found
        return {"effective_date": version.effective_date, "effective": version.effective_date <= legal.today(),
                "content": text_to_html(version.text), "succeeded_by": following}
    if published:
        raise ApiError(404, "Record not found")
    content = str(ctx.tenant.setting("terms_of_service") or "")
    if not content.strip():
        raise ApiError(404, "Record not found")
    effective = ctx.tenant.setting("terms_of_service_effective_date")
    if not effective and ctx.tenant.created_at is not None:
        effective = ctx.tenant.created_at.date().isoformat()
    wanted = ctx.request.path_params.get("date")
    if wanted is not None and wanted != str(effective):
        raise ApiError(404, "Record not found")
    return {"effective_date": str(effective), "effective": True, "content": text_to_html(content),
            "succeeded_by": None}


@endpoint(auth="none")
async def instance_languages(ctx: Ctx) -> Any:
    return language_list()


@endpoint(auth="none")
async def translation_languages(ctx: Ctx) -> Any:
    # Translation is not offered (configuration.translation.enabled is false).
    return {}


def _visible_to(ctx: Ctx, setting: str) -> bool:
    mode = ctx.tenant.setting(setting, "disabled")
    return mode == "all" or (mode == "users" and ctx.account is not None)


@endpoint(auth="optional")
async def instance_domain_blocks(ctx: Ctx) -> Any:
    if not _visible_to(ctx, "show_domain_blocks"):
        if ctx.tenant.setting("show_domain_blocks", "disabled") == "users":
            raise ApiError(401, "This method requires an authenticated user")
        raise ApiError(404, "Record not found")
    async with ctx.c.db.read() as conn:
        return await instance_service.public_domain_blocks(
            conn, ctx.tenant.id, with_comment=_visible_to(ctx, "show_domain_blocks_rationale"))


routes = [
    Route("/api/v1/instance", instance_v1, methods=["GET"]),
    Route("/api/v2/instance", instance_v2, methods=["GET"]),
    Route("/api/v1/instance/peers", instance_peers, methods=["GET"]),
    Route("/api/v1/instance/activity", instance_activity, methods=["GET"]),
    Route("/api/v1/instance/rules", instance_rules, methods=["GET"]),
    Route("/api/v1/instance/extended_description", extended_description, methods=["GET"]),
    Route("/api/v1/instance/privacy_policy", privacy_policy, methods=["GET"]),
    Route("/api/v1/instance/terms_of_service", terms_of_service, methods=["GET"]),
    Route("/api/v1/instance/terms_of_service/{date}", terms_of_service, methods=["GET"]),
    Route("/api/v1/instance/translation_languages", translation_languages, methods=["GET"]),
    Route("/api/v1/instance/languages", instance_languages, methods=["GET"]),
    Route("/api/v1/instance/domain_blocks", instance_domain_blocks, methods=["GET"]),
]
