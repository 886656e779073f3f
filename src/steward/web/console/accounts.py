"""/admin/accounts/{id}: one account of this tenant, its strikes, and the same
actions and reversals as the admin API (moderation/admin_accounts.py)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from steward.core.errors import ApiError
from steward.moderation import admin_accounts as svc
from steward.moderation.roles import Permission
from steward.web.console.common import Page, page, see_other
from steward.web.console.reports import ACTION_LABELS

UNDO_LABELS = {"enable": "Unfreeze", "unsilence": "Lift the limit", "unsuspend": "Unsuspend",
               "unsensitive": "Stop marking media as sensitive"}


@page(Permission.MANAGE_USERS)
async def show(p: Page) -> Response:
    async with p.c.db.read() as conn:
        account, user = await svc.get_with_user(conn, p.tenant.id, p.path_id())
        strikes = await svc.strikes_of(conn, p.tenant.id, account.id)
    undo = {
        "enable": user is not None and user.disabled, "unsilence": account.silenced_at is not None,
        "unsuspend": account.suspended_at is not None, "unsensitive": account.sensitized_at is not None,
    }
    return p.render("account.html", account=account, user=user, strikes=strikes, actions=ACTION_LABELS,
                    undo=[(k, UNDO_LABELS[k]) for k, on in undo.items() if on])


@page(Permission.MANAGE_USERS)
async def act(p: Page) -> Response:
    account_id = p.path_id()
    kind = p.form.str("type", max_len=16) or ""
    if kind not in ACTION_LABELS:
        raise ApiError(400, "Choose one of the actions offered.")
    text = (p.form.str("text", max_len=5000) or "").strip()
    async with p.c.db.write() as conn:
        await svc.take_action(conn, p.tenant.id, p.session.account, p.session.user, account_id, action=kind,
                              report_id=None, text=text)
    p.c.auth_cache.clear()
    return see_other(f"/admin/accounts/{account_id}", "acted")


@page(Permission.MANAGE_USERS)
async def undo(p: Page) -> Response:
    account_id = p.path_id()
    kind = p.form.str("kind", max_len=16) or ""
    if kind not in UNDO_LABELS:
        raise ApiError(400, "Choose one of the reversals offered.")
    async with p.c.db.write() as conn:
        await svc.undo_action(conn, p.tenant.id, p.session.account, p.session.user, account_id, kind)
    p.c.auth_cache.clear()
    return see_other(f"/admin/accounts/{account_id}", "undone")


routes = [
    Route("/admin/accounts/{id}", show, methods=["GET"]),
    Route("/admin/accounts/{id}/action", act, methods=["POST"]),
    Route("/admin/accounts/{id}/undo", undo, methods=["POST"]),
]
