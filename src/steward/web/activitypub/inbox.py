"""Inboxes: a local account's, the shared one and the instance actor's. A POST
is answered 202 once its signature holds and the activity is stored for
processing; 401 unsigned or badly signed, 413 too large, 400 malformed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from steward.activitypub import vocab
from steward.core.errors import ApiError
from steward.federation.inbox import receive
from steward.model.entities import Tenant
from steward.web.activitypub.common import find_local_account, signed_request

if TYPE_CHECKING:
    from steward.container import Container


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > vocab.MAX_BODY:
        raise ApiError(413, "The activity is too large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > vocab.MAX_BODY:
            raise ApiError(413, "The activity is too large")
        chunks.append(chunk)
    return b"".join(chunks)


async def _inbox(request: Request, username: str | None) -> Response:
    c: Container = request.app.state.container
    tenant: Tenant = request.state.tenant
    body = await _body(request)
    if "signature" not in request.headers and "signature-input" not in request.headers:
        raise ApiError(401, "Request not signed")
    try:
        doc = vocab.parse_document(body)
    except vocab.VocabError as exc:
        raise ApiError(exc.status, str(exc).capitalize()) from exc
    if username is not None:
        await find_local_account(c, tenant, username)
    await receive(c, tenant, signed_request(request, c.base_url(tenant), body), doc, recipient=username)
    return Response(status_code=202)


async def user_inbox(request: Request) -> Response:
    return await _inbox(request, request.path_params.get("username", ""))


async def shared_inbox(request: Request) -> Response:
    return await _inbox(request, None)


routes = [
    Route("/users/{username}/inbox", user_inbox, methods=["POST"]),
    Route("/inbox", shared_inbox, methods=["POST"]),
    Route("/actor/inbox", shared_inbox, methods=["POST"]),
]
