"""/admin/domain_blocks: list, create, edit and delete, through
moderation/domain_policy.py (the same service as the admin API)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from steward.core.errors import ApiError
from steward.db.tables import domain_blocks
from steward.moderation import domain_policy as svc
from steward.moderation.roles import Permission
from steward.web.console.common import Page, page, see_other
from steward.web.params import Params


def _fields(form: Params) -> dict[str, Any]:
    """Every field of the form, explicitly: an unticked box is False, an empty comment clears it."""
    severity = form.str("severity", max_len=16) or ""
    if severity not in svc.SEVERITIES:
        raise ApiError(400, "Choose a severity: noop, silence or suspend.")
    return {
        "severity": severity, "reject_media": bool(form.bool("reject_media", False)),
        "reject_reports": bool(form.bool("reject_reports", False)), "obfuscate": bool(form.bool("obfuscate", False)),
        "private_comment": (form.str("private_comment", max_len=1000) or "").strip(),
        "public_comment": (form.str("public_comment", max_len=1000) or "").strip(),
    }


@page(Permission.MANAGE_FEDERATION)
async def list_blocks(p: Page) -> Response:
    async with p.c.db.read() as conn:
        rows = await svc.page_of(conn, domain_blocks, p.tenant.id, max_id=None, since_id=None, min_id=None,
                                 limit=500)
    return p.render("domain_blocks.html", rows=rows, severities=svc.SEVERITIES)


@page(Permission.MANAGE_FEDERATION)
async def create(p: Page) -> Response:
    domain = p.form.str("domain", max_len=300) or ""
    fields = _fields(p.form)
    async with p.c.db.write() as conn:
        await svc.create_block(conn, p.tenant.id, p.session.account.id, domain, fields)
    return see_other("/admin/domain_blocks", "block_created")


@page(Permission.MANAGE_FEDERATION)
async def edit(p: Page) -> Response:
    async with p.c.db.read() as conn:
        row = await svc.get_row(conn, domain_blocks, p.tenant.id, p.path_id())
    return p.render("domain_block_edit.html", row=row, severities=svc.SEVERITIES)


@page(Permission.MANAGE_FEDERATION)
async def update(p: Page) -> Response:
    block_id = p.path_id()
    fields = _fields(p.form)
    async with p.c.db.write() as conn:
        await svc.update_block(conn, p.tenant.id, p.session.account.id, block_id, fields)
    return see_other("/admin/domain_blocks", "block_updated")


@page(Permission.MANAGE_FEDERATION)
async def remove(p: Page) -> Response:
    block_id = p.path_id()
    async with p.c.db.write() as conn:
        await svc.delete_block(conn, p.tenant.id, p.session.account.id, block_id)
    return see_other("/admin/domain_blocks", "block_deleted")


routes = [
    Route("/admin/domain_blocks", list_blocks, methods=["GET"]),
    Route("/admin/domain_blocks", create, methods=["POST"]),
    Route("/admin/domain_blocks/{id}", edit, methods=["GET"]),
    Route("/admin/domain_blocks/{id}", update, methods=["POST"]),
    Route("/admin/domain_blocks/{id}/delete", remove, methods=["POST"]),
]
