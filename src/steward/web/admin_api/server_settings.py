"""Steward's admin API for a tenant's server settings (Mastodon keeps these in its
web admin only, so they live under our own namespace):

    GET|PATCH  /api/v1/admin/steward/settings           title, description, extended_description,
                                                        contact_email, contact_username, registration_mode,
                                                        registration_message
    GET|POST   /api/v1/admin/steward/rules               text, hint
    PUT|DELETE /api/v1/admin/steward/rules/{id}
    POST       /api/v1/admin/steward/rules/reorder       ids[] (every rule, in the new order)
    GET|POST   /api/v1/admin/steward/invites             max_uses, expires_in (seconds), comment
    DELETE     /api/v1/admin/steward/invites/{id}        revokes
    GET|POST   /api/v1/admin/steward/terms_of_service    text, effective_date, changelog, notify
    GET|POST   /api/v1/admin/steward/privacy_policy
    GET|POST   /api/v1/admin/steward/custom_emojis       remote=true lists known remote ones; POST multipart
                                                        image, shortcode, category
    PATCH|DELETE /api/v1/admin/steward/custom_emojis/{id}  category, visible_in_picker, disabled
    POST       /api/v1/admin/steward/custom_emojis/{id}/copy  a remote emoji copied as a local one
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.moderation import custom_emojis as emoji_svc
from steward.moderation import server_settings as svc
from steward.moderation.roles import Permission
from steward.web.admin_api.common import require_permission
from steward.web.base import Ctx, endpoint

BASE = "/api/v1/admin/steward"


@endpoint("admin:read")
async def show_settings(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_SETTINGS)
    return svc.settings_to_api(ctx.tenant)


@endpoint("admin:write")
async def update_settings(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_SETTINGS)
    p = ctx.params
    changes = {k: p.str(k, max_len=limit + 1) for k, limit in svc.TEXT_SETTINGS.items()}
    changes["registration_mode"] = p.str("registration_mode", max_len=16)
    async with ctx.c.db.write() as conn:
        await svc.update_settings(conn, ctx.tenant, ctx.me.id, changes)
    ctx.c.tenants.invalidate()
    tenant = await ctx.c.tenants.get(ctx.tenant.id)
    return svc.settings_to_api(tenant or ctx.tenant)


@endpoint("admin:read")
async def list_rules(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_RULES)
    async with ctx.c.db.read() as conn:
        return [svc.rule_to_api(r) for r in await svc.list_rules(conn, ctx.tenant.id)]


@endpoint("admin:write")
async def create_rule(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_RULES)
    p = ctx.params
    async with ctx.c.db.write() as conn:
        row = await svc.create_rule(conn, ctx.tenant.id, ctx.me.id, p.str("text", max_len=301),
                                    p.str("hint", max_len=2001))
    return svc.rule_to_api(row)


@endpoint("admin:write")
async def update_rule(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_RULES)
    p = ctx.params
    async with ctx.c.db.write() as conn:
        row = await svc.update_rule(conn, ctx.tenant.id, ctx.me.id, ctx.path_id(), p.str("text", max_len=301),
                                    p.str("hint", max_len=2001))
    return svc.rule_to_api(row)


@endpoint("admin:write")
async def delete_rule(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_RULES)
    async with ctx.c.db.write() as conn:
        await svc.delete_rule(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return {}


@endpoint("admin:write")
async def reorder_rules(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_RULES)
    ids = ctx.params.id_list("ids", max_items=svc.MAX_RULES)
    async with ctx.c.db.write() as conn:
        rows = await svc.reorder_rules(conn, ctx.tenant.id, ctx.me.id, ids)
    return [svc.rule_to_api(r) for r in rows]


@endpoint("admin:read")
async def list_invites(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_INVITES)
    async with ctx.c.db.read() as conn:
        return [svc.invite_to_api(r, ctx.base_url) for r in await svc.list_invites(conn, ctx.tenant.id)]


@endpoint("admin:write")
async def create_invite(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_INVITES)
    p = ctx.params
    async with ctx.c.db.write() as conn:
        row = await svc.create_invite(conn, ctx.tenant.id, ctx.me.id, max_uses=p.int("max_uses"),
                                      expires_in=p.int("expires_in"), comment=p.str("comment", max_len=500))
    return svc.invite_to_api(row, ctx.base_url)


@endpoint("admin:write")
async def revoke_invite(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_INVITES)
    async with ctx.c.db.write() as conn:
        row = await svc.revoke_invite(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return svc.invite_to_api(row, ctx.base_url)


def _kind(ctx: Ctx) -> str:
    return ctx.request.url.path.rstrip("/").rsplit("/", 1)[-1]


@endpoint("admin:read")
async def list_legal(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_SETTINGS)
    async with ctx.c.db.read() as conn:
        return [svc.legal_to_api(r) for r in await svc.list_legal(conn, ctx.tenant.id, _kind(ctx))]


@endpoint("admin:write")
async def publish_legal(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_SETTINGS)
    p = ctx.params
    async with ctx.c.db.write() as conn:
        row = await svc.publish_legal(conn, ctx.tenant, ctx.base_url, ctx.me.id, _kind(ctx),
                                      text=p.str("text", max_len=svc.MAX_LEGAL + 1),
                                      effective_date=p.str("effective_date", max_len=32),
                                      changelog=p.str("changelog", max_len=5000), notify=bool(p.bool("notify", True)))
    return svc.legal_to_api(row)


routes = [
    Route(f"{BASE}/settings", show_settings, methods=["GET"]),
    Route(f"{BASE}/settings", update_settings, methods=["PATCH", "PUT"]),
    Route(f"{BASE}/rules", list_rules, methods=["GET"]),
    Route(f"{BASE}/rules", create_rule, methods=["POST"]),
    Route(f"{BASE}/rules/reorder", reorder_rules, methods=["POST"]),
    Route(f"{BASE}/rules/{{id}}", update_rule, methods=["PUT", "PATCH"]),
    Route(f"{BASE}/rules/{{id}}", delete_rule, methods=["DELETE"]),
    Route(f"{BASE}/invites", list_invites, methods=["GET"]),
    Route(f"{BASE}/invites", create_invite, methods=["POST"]),
    Route(f"{BASE}/invites/{{id}}", revoke_invite, methods=["DELETE"]),
    *[Route(f"{BASE}/{kind}", handler, methods=[method]) for kind in svc.LEGAL_KINDS
      for handler, method in ((list_legal, "GET"), (publish_legal, "POST"))],
]


def _emoji_to_api(ctx: Ctx, row: Any) -> dict[str, Any]:
    url = f"{ctx.base_url}/system/{row.image_path}" if row.image_path else (row.remote_url or "")
    return {"id": str(row.id), "shortcode": row.shortcode, "domain": row.domain or None, "url": url,
            "static_url": url, "category": row.category, "visible_in_picker": bool(row.visible_in_picker),
            "disabled": bool(row.disabled)}


@endpoint("admin:read")
async def list_emojis(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_CUSTOM_EMOJIS)
    remote = bool(ctx.params.bool("remote", False))
    async with ctx.c.db.read() as conn:
        return [_emoji_to_api(ctx, r) for r in await emoji_svc.list_emojis(conn, ctx.tenant.id, remote=remote)]


@endpoint("admin:write")
async def upload_emoji(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_CUSTOM_EMOJIS)
    p = ctx.params
    image = p.file("image")
    data = await image.read(emoji_svc.MAX_BYTES + 1) if image is not None else None
    row = await emoji_svc.upload(ctx.c, ctx.tenant, ctx.me.id, p.str("shortcode", max_len=80), data,
                                 p.str("category", max_len=128))
    return _emoji_to_api(ctx, row)


@endpoint("admin:write")
async def copy_emoji(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_CUSTOM_EMOJIS)
    row = await emoji_svc.copy_remote(ctx.c, ctx.tenant, ctx.me.id, ctx.path_id(),
                                      ctx.params.str("shortcode", max_len=80))
    return _emoji_to_api(ctx, row)


@endpoint("admin:write")
async def update_emoji(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_CUSTOM_EMOJIS)
    p = ctx.params
    fields = {"category": p.str("category", max_len=128), "visible_in_picker": p.bool("visible_in_picker"),
              "disabled": p.bool("disabled")}
    async with ctx.c.db.write() as conn:
        row = await emoji_svc.change(conn, ctx.tenant.id, ctx.me.id, ctx.path_id(), fields)
    return _emoji_to_api(ctx, row)


@endpoint("admin:write")
async def delete_emoji(ctx: Ctx) -> Any:
    require_permission(ctx, Permission.MANAGE_CUSTOM_EMOJIS)
    await emoji_svc.remove(ctx.c, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return {}


routes += [
    Route(f"{BASE}/custom_emojis", list_emojis, methods=["GET"]),
    Route(f"{BASE}/custom_emojis", upload_emoji, methods=["POST"]),
    Route(f"{BASE}/custom_emojis/{{id}}", update_emoji, methods=["PATCH", "PUT"]),
    Route(f"{BASE}/custom_emojis/{{id}}", delete_emoji, methods=["DELETE"]),
    Route(f"{BASE}/custom_emojis/{{id}}/copy", copy_emoji, methods=["POST"]),
]
