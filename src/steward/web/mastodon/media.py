"""Media routes: upload (v1 and v2), read, update and delete one's own unattached media."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.core.errors import ApiError
from steward.model.entities import MediaAttachment
from steward.social import media as media_service
from steward.web.base import Ctx, endpoint

MEDIA_TYPES = {"image", "gifv", "video", "audio"}


def media_to_api(base: str, media: MediaAttachment) -> dict[str, Any]:
    """Mastodon's MediaAttachment entity."""
    url = f"{base}/system/{media.file_path}" if media.file_path else media.remote_url
    preview = f"{base}/system/{media.preview_path}" if media.preview_path else url
    return {
        "id": str(media.id),
        "type": media.type if media.type in MEDIA_TYPES else "unknown",
        "url": url,
        "preview_url": preview,
        "remote_url": media.remote_url,
        "preview_remote_url": None,
        "meta": media.meta or {},
        "description": media.description,
        "blurhash": media.blurhash,
    }


def _upload(ctx: Ctx) -> Any:
    upload = ctx.params.file("file")
    if upload is None:
        raise ApiError(422, "Validation failed: File can't be blank",
                       {"file": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
    return upload


@endpoint("write:media")
async def create(ctx: Ctx) -> Any:
    p = ctx.params
    media = await media_service.create_media(
        ctx.c, ctx.tenant, ctx.me, _upload(ctx), description=p.str("description"), focus=p.str("focus"),
        thumbnail=p.file("thumbnail"))
    return media_to_api(ctx.base_url, media)


@endpoint("read:media|write:media")
async def show(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        media = await media_service.get_own_media(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return media_to_api(ctx.base_url, media)


@endpoint("write:media")
async def update(ctx: Ctx) -> Any:
    p = ctx.params
    media = await media_service.update_media(
        ctx.c, ctx.tenant, ctx.me, ctx.path_id(), description=p.str("description"),
        set_description="description" in p, focus=p.str("focus"), thumbnail=p.file("thumbnail"))
    return media_to_api(ctx.base_url, media)


@endpoint("write:media")
async def destroy(ctx: Ctx) -> Any:
    await media_service.delete_media(ctx.c, ctx.tenant, ctx.me, ctx.path_id())
    return {}


routes = [
    Route("/api/v1/media", create, methods=["POST"]),
    Route("/api/v2/media", create, methods=["POST"]),
    Route("/api/v1/media/{id}", show, methods=["GET"]),
    Route("/api/v1/media/{id}", update, methods=["PUT"]),
    Route("/api/v1/media/{id}", destroy, methods=["DELETE"]),
]
