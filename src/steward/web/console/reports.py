"""/admin/reports: the queue, one report, and what a moderator does from it."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from steward.core.clock import utcnow
from steward.core.errors import ApiError
from steward.core.text import strip_tags
from steward.moderation import report_desk, report_notes
from steward.moderation import reports as report_svc
from steward.moderation.roles import Permission
from steward.web.console.common import Page, page, see_other

ACTION_LABELS = {
    "none": "Warn", "sensitive": "Mark media as sensitive", "disable": "Freeze (disable sign-in)",
    "silence": "Limit", "suspend": "Suspend",
}


@page(Permission.MANAGE_REPORTS)
async def queue(p: Page) -> Response:
    f = p.form
    status = f.str("status", max_len=16) or "unresolved"
    if status not in ("unresolved", "resolved"):
        raise ApiError(400, "Unknown status filter")
    category = f.str("category", max_len=16) or None
    filters = report_desk.QueueFilter(
        resolved=status == "resolved", assigned_to=p.session.account.id if f.bool("mine", False) else None,
        target_account_id=f.id("target_account_id"), category=category, order=f.str("order", max_len=8) or "newest")
    async with p.c.db.read() as conn:
        rows, people = await report_desk.queue(conn, p.tenant.id, filters)
    now = utcnow()
    return p.render("reports.html", rows=rows, people=people, filters=filters, status=status,
                    categories=report_svc.CATEGORIES, orders=report_desk.ORDERS,
                    ages={r["id"]: report_desk.age(r["created_at"], now) for r in rows})


@page(Permission.MANAGE_REPORTS)
async def show(p: Page) -> Response:
    async with p.c.db.read() as conn:
        view = await report_desk.view(conn, p.tenant.id, p.path_id())
    texts = {s["id"]: strip_tags(s["content"]) or s["text"] for s in view.statuses}
    return p.render("report.html", v=view, r=view.report, texts=texts, actions=ACTION_LABELS,
                    can_act=p.can(Permission.MANAGE_USERS))


def _step(name: str, notice: str) -> Any:
    change = getattr(report_svc, name)

    @page(Permission.MANAGE_REPORTS)
    async def handler(p: Page) -> Response:
        report_id = p.path_id()
        async with p.c.db.write() as conn:
            await change(conn, p.tenant.id, p.session.account.id, report_id)
        return see_other(f"/admin/reports/{report_id}", notice)

    handler.__name__ = f"console_{name}"
    return handler


@page(Permission.MANAGE_REPORTS)
async def add_note(p: Page) -> Response:
    report_id = p.path_id()
    content = p.form.str("content", max_len=report_notes.MAX_NOTE * 4) or ""
    async with p.c.db.write() as conn:
        await report_notes.add_note(conn, p.tenant.id, p.session.account.id, report_id, content)
    return see_other(f"/admin/reports/{report_id}", "noted")


@page(Permission.MANAGE_REPORTS)
async def delete_note(p: Page) -> Response:
    report_id = p.path_id()
    async with p.c.db.write() as conn:
        await report_notes.delete_note(conn, p.tenant.id, p.session.account.id, p.session.user, report_id,
                                       p.path_id("note_id"))
    return see_other(f"/admin/reports/{report_id}", "note_deleted")


@page(Permission.MANAGE_REPORTS | Permission.MANAGE_USERS)
async def act(p: Page) -> Response:
    """An account action against the report's target, with a reason and the rules cited."""
    report_id = p.path_id()
    kind = p.form.str("type", max_len=16) or ""
    if kind not in ACTION_LABELS:
        raise ApiError(400, "Choose one of the actions offered.")
    text = (p.form.str("text", max_len=5000) or "").strip()
    rule_ids = p.form.id_list("rule_ids", max_items=100)
    async with p.c.db.write() as conn:
        await report_desk.act_on_report(conn, p.tenant.id, p.session.account, p.session.user, report_id,
                                        action=kind, text=text, rule_ids=rule_ids or None)
    p.c.auth_cache.clear()
    return see_other(f"/admin/reports/{report_id}", "acted")


routes = [
    Route("/admin/reports", queue, methods=["GET"]),
    Route("/admin/reports/{id}", show, methods=["GET"]),
    Route("/admin/reports/{id}/assign", _step("assign", "assigned"), methods=["POST"]),
    Route("/admin/reports/{id}/unassign", _step("unassign", "unassigned"), methods=["POST"]),
    Route("/admin/reports/{id}/resolve", _step("resolve", "resolved"), methods=["POST"]),
    Route("/admin/reports/{id}/reopen", _step("reopen", "reopened"), methods=["POST"]),
    Route("/admin/reports/{id}/action", act, methods=["POST"]),
    Route("/admin/reports/{id}/notes", add_note, methods=["POST"]),
    Route("/admin/reports/{id}/notes/{note_id}/delete", delete_note, methods=["POST"]),
]
