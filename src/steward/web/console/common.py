"""What every console page shares: the signed-in session (cookie, bound to the
tenant), the permission check, CSRF on every form, HTML error pages (never a
JSON error or a 500 for bad input) and the redirect after a POST."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from steward.core.errors import ApiError
from steward.core.ids import parse_id
from steward.model.entities import Tenant
from steward.moderation import console_sessions
from steward.moderation.console_sessions import ConsoleSession
from steward.moderation.roles import Permission, has_permission
from steward.web.params import Params, read_params
from steward.web.templating import render

if TYPE_CHECKING:
    from steward.container import Container

SESSION_COOKIE = "steward_console"
SIGN_IN_CSRF_COOKIE = "steward_console_signin"
MAX_FORM = 64 * 1024

# Short messages shown after a redirect; the query names a key, never free text.
NOTICES = {
    "assigned": "The report is assigned to you.",
    "unassigned": "The report is no longer assigned.",
    "resolved": "The report is resolved.",
    "reopened": "The report is open again.",
    "acted": "The action was taken and recorded.",
    "undone": "The restriction was lifted.",
    "noted": "The note was added.",
    "note_deleted": "The note was deleted.",
    "block_created": "The domain block was created.",
    "block_updated": "The domain block was saved.",
    "block_deleted": "The domain block was removed.",
    "signed_out": "You are signed out.",
}

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


@dataclass(slots=True)
class Page:
    """One console request as a page handler sees it."""

    request: Request
    c: Container
    tenant: Tenant
    session: ConsoleSession
    form: Params

    def path_id(self, name: str = "id") -> int:
        parsed = parse_id(self.request.path_params.get(name, ""))
        if parsed is None:
            raise ApiError(404, "Record not found")
        return parsed

    def can(self, flag: Permission) -> bool:
        return has_permission(self.session.user, flag)

    def render(self, template: str, *, http_status: int = 200, **context: Any) -> HTMLResponse:
        notice = NOTICES.get(self.request.query_params.get("notice", ""))
        return html(render(f"console/{template}", tenant=self.tenant, me=self.session.account,
                           csrf_token=self.session.csrf_token, notice=notice, Permission=Permission,
                           can=self.can, **context), http_status)


def html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def error_page(tenant: Tenant | None, status: int, message: str, session: ConsoleSession | None = None
               ) -> HTMLResponse:
    titles = {400: "The form could not be accepted", 401: "Sign-in needed", 403: "Not allowed",
              404: "Not found", 413: "Too large"}
    return html(render("console/error.html", tenant=tenant, me=session.account if session else None,
                       csrf_token=session.csrf_token if session else None, notice=None,
                       title=titles.get(status, "Something went wrong"), message=message, status=status,
                       can=(lambda flag: has_permission(session.user, flag)) if session else (lambda _flag: False),
                       Permission=Permission), status)


def see_other(url: str, notice: str | None = None) -> RedirectResponse:
    """POST-redirect-GET."""
    if notice:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode({'notice': notice})}"
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def safe_next(raw: str | None) -> str:
    """Only a path of the console itself: never another host (no open redirect)."""
    if raw and raw.startswith("/admin") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/admin/reports"


def _status_for(err: ApiError) -> int:
    # Validation failures of a form are the client's bad input: a 400 page.
    return 400 if err.status == 422 else err.status


PageHandler = Callable[[Page], Awaitable[Response]]


def page(permission: Permission) -> Callable[[PageHandler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a console page: a live session of this tenant (else the sign-in
    page), the CSRF token on every POST, and `permission` held by the user's role."""

    def wrap(fn: PageHandler) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            c: Container = request.app.state.container
            tenant: Tenant = request.state.tenant
            async with c.db.read() as conn:
                session = await console_sessions.load(conn, tenant, request.cookies.get(SESSION_COOKIE))
            if session is None:
                # After signing in, come back here; a form's target cannot be re-sent, so its page.
                back = request.url.path if request.method == "GET" else "/admin/reports"
                return see_other(f"/admin/sign_in?next={quote(back)}")
            try:
                form = await read_params(request, MAX_FORM)
            except ApiError as err:
                return error_page(tenant, _status_for(err), err.message, session)
            if request.method == "POST" and not hmac.compare_digest(
                    (form.str("csrf_token", max_len=200) if isinstance(form.raw("csrf_token"), str) else "") or "",
                    session.csrf_token):
                return error_page(tenant, 403, "The form has expired or did not come from this site. "
                                               "Go back, reload the page and try again.", session)
            if not has_permission(session.user, permission):
                return error_page(tenant, 403, "Your role does not allow this page.", session)
            try:
                return await fn(Page(request, c, tenant, session, form))
            except ApiError as err:
                return error_page(tenant, _status_for(err), err.message, session)

        handler.__name__ = fn.__name__
        handler.__doc__ = fn.__doc__
        return handler

    return wrap
