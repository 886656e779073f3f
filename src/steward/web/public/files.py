"""Stored media files and the default avatar and header images.

A tenant's host serves only keys under that tenant's id, so one institution's
domain can never be used to read another's files."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from steward.core.errors import ApiError
from steward.social.media import content_type_for
from steward.web.base import Ctx, endpoint

STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"
# Keys hold a fresh id per upload, so a file at a key never changes.
IMMUTABLE = "public, max-age=31536000, immutable"


def _tenant_key(tenant_id: int, path: str) -> str | None:
    parts = path.split("/")
    if len(parts) < 2 or parts[0] != str(tenant_id):
        return None
    if any(part in {"", ".", ".."} or "\\" in part or "\x00" in part for part in parts):
        return None
    return path


@endpoint(auth="none")
async def system_file(ctx: Ctx) -> Any:
    key = _tenant_key(ctx.tenant.id, ctx.request.path_params.get("path", ""))
    if key is None:
        raise ApiError(404, "Record not found")
    try:
        data = await ctx.c.media.get(key)
    except ValueError:
        data = None
    if data is None:
        raise ApiError(404, "Record not found")
    return Response(data, media_type=content_type_for(key), headers={
        "Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox"})


@cache
def _static(name: str) -> bytes:
    return (STATIC_DIR / name).read_bytes()


def _static_png(name: str) -> Response:
    return Response(_static(name), media_type="image/png",
                    headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})


@endpoint(auth="none")
async def missing_avatar(ctx: Ctx) -> Any:
    return _static_png("avatar_missing.png")


@endpoint(auth="none")
async def missing_header(ctx: Ctx) -> Any:
    return _static_png("header_missing.png")


routes = [
    Route("/system/{path:path}", system_file, methods=["GET", "HEAD"]),
    Route("/avatars/original/missing.png", missing_avatar, methods=["GET", "HEAD"]),
    Route("/headers/original/missing.png", missing_header, methods=["GET", "HEAD"]),
]
