"""The ASGI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from steward.container import Container
from steward.core.errors import ApiError
from steward.settings import Settings
from steward.web.base import JSONResponse, error_response

log = logging.getLogger("steward.app")

# Paths served without a tenant (health checks, Caddy's on-demand TLS question).
TENANTLESS_PATHS = ("/_steward/",)


class TenantMiddleware:
    """Picks the tenant from the Host header, and bounds request bodies."""

    def __init__(self, app: ASGIApp, container: Container) -> None:
        self.app = app
        self.c = container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host = (headers.get(b"x-forwarded-host") or headers.get(b"host") or b"").decode("latin-1")
        host = host.split(",")[0].strip()
        state = scope.setdefault("state", {})
        tenant = await self.c.tenants.resolve(host) if host else None
        if tenant is None and not scope["path"].startswith(TENANTLESS_PATHS):
            await self._reject(scope, receive, send, 404, "This server does not host that domain")
            return
        if tenant is not None and tenant.suspended_at is not None:
            await self._reject(scope, receive, send, 410, "This server has been suspended")
            return
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.c.settings.max_request_body
            except ValueError:
                await self._reject(scope, receive, send, 400, "Invalid Content-Length")
                return
            if too_big:
                await self._reject(scope, receive, send, 413, "Request body is too large")
                return
        state["tenant"] = tenant
        await self.app(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4000 + status})
            return
        await JSONResponse({"error": message}, status_code=status)(scope, receive, send)


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: "Record not found", 405: "Method not allowed"}
    return JSONResponse({"error": messages.get(exc.status_code, exc.detail)}, status_code=exc.status_code,
                        headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "Internal server error"}, status_code=500)


def collect_routes() -> list[BaseRoute]:
    from steward.web import routes

    return routes.all_routes()


def create_app(settings: Settings | None = None, *, container: Container | None = None,
               run_jobs: bool | None = None) -> Starlette:
    c = container or Container(settings or Settings.from_env())
    in_process_jobs = c.settings.run_jobs_in_process if run_jobs is None else run_jobs

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        from steward.db.migrate import needs_upgrade, upgrade_head

        if await needs_upgrade(c.db.engine):
            await upgrade_head(c.db.engine)
        await c.hub.start(c)
        if in_process_jobs:
            c.jobs.start()
        try:
            yield {}
        finally:
            await c.hub.stop()
            await c.close()

    app = Starlette(
        routes=collect_routes(),
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _server_error},
        lifespan=lifespan,
    )
    app.state.container = c
    app.add_middleware(TenantMiddleware, container=c)
    return app
