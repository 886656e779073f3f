"""Media routes: upload (v1 and v2), read, update and delete one's own unattached media."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.core.errors import ApiError
from steward.model.entities import MediaAttachment
from steward.social import media as media_service
from steward.web.base import Ctx, endpoint, json

MEDIA_TYPES = {"image", "gifv", "video", "audio"}


def media_to_api(base: str, media: MediaAttachment) -> dict[str, Any]:
    """Mastodon's MediaAttachment entity."""
    url = f"{base}/system/{media.file_path}" if media.file_path else media.remote_url
    preview = f"{base}/system/{media.preview_path}" if media.preview_path else (
        url if media.type == "image" else None)
    return {
        "id": str(media.id),
        "type": media.type if media.type in MEDIA_TYPES else "unknown",
        "url": url,
        "preview_url": preview,
        "remote_url": media.remote_url,
        "preview_remote_url": None,
        "meta": {k: v for k, v in (media.meta or {}).items() if k != "processing_error"},
        "description": media.description,
        "blurhash": media.blurhash,
    }


def _upload(ctx: Ctx) -> Any:
    upload = ctx.params.file("file")
    if upload is None:
        raise ApiError(422, "Validation failed: File can't be blank",
                       {"file": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
    return upload


async def _create(ctx: Ctx, *, asynchronous: bool) -> Any:
    p = ctx.params
    media = await media_service.create_media(
        ctx.c, ctx.tenant, ctx.me, _upload(ctx), description=p.str("description"), focus=p.str("focus"),
        thumbnail=p.file("thumbnail"), asynchronous=asynchronous)
    # v2: 202 while a video or audio file is still being processed (its url is null).
    return json(media_to_api(ctx.base_url, media), status=202 if media_service.is_processing(media) else 200)


@endpoint("write:media")
async def create_v1(ctx: Ctx) -> Any:
    return await _create(ctx, asynchronous=False)


@endpoint("write:media")
async def create_v2(ctx: Ctx) -> Any:
    return await _create(ctx, asynchronous=True)


@endpoint("read:media|write:media")
async def show(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        media = await media_service.get_own_media(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    failed = (media.meta or {}).get("processing_error")
    if failed:
        raise ApiError(422, f"Error processing uploaded media: {failed}")
    return json(media_to_api(ctx.base_url, media), status=206 if media_service.is_processing(media) else 200)


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
    Route("/api/v1/media", create_v1, methods=["POST"]),
    Route("/api/v2/media", create_v2, methods=["POST"]),
    Route("/api/v1/media/{id}", show, methods=["GET"]),
    Route("/api/v1/media/{id}", update, methods=["PUT"]),
    Route("/api/v1/media/{id}", destroy, methods=["DELETE"]),
]
