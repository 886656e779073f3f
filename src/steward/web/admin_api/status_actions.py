"""POST /api/v1/admin/steward/status_actions: delete an account's statuses or
mark them sensitive (Mastodon does this from its report page; its API has no
route for it), with a strike, audit rows and a statement of reasons."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.moderation import status_moderation as svc
from steward.moderation.roles import Permission
from steward.web.admin_api.common import require_permission
from steward.web.base import Ctx, endpoint


@endpoint("admin:write:reports")
async def status_action(ctx: Ctx) -> Any:
    actor = require_permission(ctx, Permission.MANAGE_REPORTS)
    p = ctx.params
    kind = p.str("type", max_len=40, required=True) or ""
    status_ids = p.id_list("status_ids", max_items=svc.MAX_STATUSES)
    report_id = p.id("report_id")
    text = p.str("text", "", max_len=5000) or ""
    preset_id = p.id("warning_preset_id")
    async with ctx.c.db.write() as conn:
        warning_id = await svc.moderate_statuses(conn, ctx.tenant.id, ctx.me, actor, action=kind,
                                                 status_ids=status_ids, report_id=report_id, text=text,
                                                 warning_preset_id=preset_id)
    ctx.c.jobs.wake()
    return {"strike_id": str(warning_id)}


routes = [Route("/api/v1/admin/steward/status_actions", status_action, methods=["POST"])]
