"""Console sign-in and sign-out with the tenant's own accounts. The sign-in form
carries a CSRF token checked against a cookie (no session exists yet); the
session cookie is HttpOnly, SameSite=Lax, Secure over HTTPS, and host-only, so
the browser never sends it to another tenant's domain."""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from steward.core.errors import ApiError
from steward.moderation import console_sessions
from steward.moderation.roles import Permission
from steward.web.console.common import (
    MAX_FORM,
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    Page,
    error_page,
    html,
    is_https,
    page,
    safe_next,
    see_other,
)
from steward.web.params import read_params
from steward.web.templating import render

if TYPE_CHECKING:
    from steward.container import Container


def _form(request: Request, token: str, *, error: str | None, login: str, next_path: str,
          status: int) -> Response:
    tenant = request.state.tenant
    notice = "You are signed out." if request.query_params.get("notice") == "signed_out" else None
    response = html(render("console/sign_in.html", tenant=tenant, me=None, csrf_token=token, error=error,
                           login=login, next_path=next_path, notice=notice,
                           can=lambda _flag: False, Permission=Permission), status)
    response.set_cookie(SIGN_IN_CSRF_COOKIE, token, max_age=3600, path="/admin/sign_in", httponly=True,
                        samesite="lax", secure=is_https(request))
    return response


async def sign_in_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    return _form(request, secrets.token_urlsafe(24), error=None, login="", next_path=next_path, status=200)


async def sign_in(request: Request) -> Response:
    c: Container = request.app.state.container
    tenant = request.state.tenant
    try:
        form = await read_params(request, MAX_FORM)
        login = form.str("login", max_len=320) or ""
        password = form.str("password", max_len=1000) or ""
        next_path = safe_next(form.str("next", max_len=2000))
        sent = form.str("csrf_token", max_len=200) or ""
    except ApiError as err:
        return error_page(tenant, 400, err.message)
    expected = request.cookies.get(SIGN_IN_CSRF_COOKIE) or ""
    if not expected or not hmac.compare_digest(sent, expected):
        return error_page(tenant, 403, "The form has expired or did not come from this site. "
                                       "Reload the sign-in page and try again.")
    try:
        cookie, _ = await console_sessions.sign_in(c.db, tenant, login, password)
    except ApiError as err:
        return _form(request, secrets.token_urlsafe(24), error=err.message, login=login, next_path=next_path,
                     status=err.status)
    response = see_other(next_path)
    response.set_cookie(SESSION_COOKIE, cookie, max_age=int(console_sessions.LIFETIME.total_seconds()),
                        path="/admin", httponly=True, samesite="lax", secure=is_https(request))
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/admin/sign_in")
    return response


@page(Permission(0))
async def sign_out(p: Page) -> Response:
    await console_sessions.sign_out(p.c.db, p.tenant, p.request.cookies.get(SESSION_COOKIE))
    response = see_other("/admin/sign_in", "signed_out")
    response.delete_cookie(SESSION_COOKIE, path="/admin", httponly=True, samesite="lax")
    return response


async def home(_request: Request) -> Response:
    return see_other("/admin/reports")


routes = [
    Route("/admin", home, methods=["GET"]),
    Route("/admin/sign_in", sign_in_form, methods=["GET"]),
    Route("/admin/sign_in", sign_in, methods=["POST"]),
    Route("/admin/sign_out", sign_out, methods=["POST"]),
]
