"""Media uploads: verify an image with Pillow, strip its metadata by re-encoding,
keep a bounded original and a small preview, compute a blurhash, and record the
attachment. Profile avatars and headers go through the same checks.

Images: JPEG, PNG, GIF, WebP, and AVIF when Pillow has it. Animated GIFs, video
and audio go on to `media_av` (a job finishes them when uploaded through API v2)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageOps, UnidentifiedImageError, features
from sqlalchemy import select, update

from steward.core.clock import utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.db.tables import media_attachments
from steward.model.entities import Account, MediaAttachment, Tenant, from_row

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection
    from starlette.datastructures import UploadFile

    from steward.container import Container

MAX_IMAGE_BYTES = 16 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MAX_DESCRIPTION = 1500
ORIGINAL_BOX = (3840, 2160)
PREVIEW_BOX = (640, 640)
PROFILE_SIZES = {"avatar": (400, 400), "header": (1500, 500)}
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp",
                    "MPO": "image/jpeg"}
if features.check("avif"):
    ACCEPTED_FORMATS["AVIF"] = "image/avif"
SUPPORTED_IMAGE_TYPES = tuple(dict.fromkeys(ACCEPTED_FORMATS.values()))
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
CONTENT_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
                 "gif": "image/gif", "mp4": "video/mp4", "webm": "video/webm", "mp3": "audio/mpeg",
                 "m4a": "audio/mp4", "ogg": "audio/ogg", "flac": "audio/flac"}
_CHUNK = 1024 * 1024
# A 40-megapixel image takes hundreds of MB to decode; a few at a time per process.
_DECODING = threading.BoundedSemaphore(2)


def invalid_media(message: str) -> ApiError:
    return ApiError(422, f"Validation failed: {message}",
                    {"file": [{"error": "ERR_INVALID", "description": message}]})


@dataclass(slots=True)
class Encoded:
    data: bytes
    ext: str
    width: int
    height: int


@dataclass(slots=True)
class ProcessedImage:
    original: Encoded
    preview: Encoded
    blurhash: str


async def read_upload(upload: UploadFile, limit: int = MAX_IMAGE_BYTES) -> bytes:
    """The upload's bytes, refusing it as soon as it is known to be too large."""
    if upload.size is not None and upload.size > limit:
        raise invalid_media(f"File is too large (maximum is {limit // (1024 * 1024)} MB)")
    await upload.seek(0)
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await upload.read(_CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise invalid_media(f"File is too large (maximum is {limit // (1024 * 1024)} MB)")
        chunks.append(chunk)
    if total == 0:
        raise invalid_media("File is empty")
    return b"".join(chunks)


def _draft_size(width: int, height: int, box: tuple[int, int], cover: bool) -> tuple[int, int] | None:
    """The smallest decode size that still fits (or, with `cover`, covers) `box`
    after orientation, whichever way up the image turns out to be."""
    long_side, short_side = max(width, height), min(width, height)
    if cover:
        factor = max(box) / short_side
    else:
        factor = max(min(box[0] / long_side, box[1] / short_side), min(box[0] / short_side, box[1] / long_side))
    if factor >= 0.5:
        return None
    return math.ceil(width * factor), math.ceil(height * factor)


def _open_image(data: bytes, box: tuple[int, int] | None = None, *, cover: bool = False) -> Image.Image:
    """Decode and verify the bytes, then return the oriented first frame, fully loaded.
    With `box`, a large JPEG is decoded at a reduced scale that still fits (covers) it."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise invalid_media("unsupported media type")
            width, height = probe.size
            if width < 1 or height < 1 or width * height > MAX_IMAGE_PIXELS:
                raise invalid_media(f"Image is too large (maximum is {MAX_IMAGE_PIXELS} pixels)")
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.seek(0)
        draft = _draft_size(width, height, box, cover) if box is not None and image.format == "JPEG" else None
        if draft is not None:
            image.draft(image.mode, draft)
        image.load()
        oriented = ImageOps.exif_transpose(image)
        frame = oriented if oriented is not None else image
        if frame.mode not in {"RGB", "RGBA", "L", "LA"}:
            frame = frame.convert("RGBA" if _has_alpha(frame) else "RGB")
        # A fresh image carries pixels only: no EXIF, XMP, ICC or comments survive.
        clean = Image.new(frame.mode, frame.size)
        clean.paste(frame)
        return clean
    except ApiError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise invalid_media("unsupported media type or unreadable image") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise invalid_media("the image could not be decoded") from None


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info)


def _encode(image: Image.Image, fmt: str) -> Encoded:
    out = io.BytesIO()
    if fmt == "JPEG":
        image = image.convert("RGB") if image.mode != "RGB" else image
        image.save(out, "JPEG", quality=90, optimize=True, progressive=True)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=85, method=4)
    else:
        image.save(out, "PNG", optimize=False)
    return Encoded(out.getvalue(), EXTENSIONS[fmt], image.width, image.height)


def _shrunk(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    if image.width <= box[0] and image.height <= box[1]:
        return image
    copy = image.copy()
    copy.thumbnail(box, Image.Resampling.LANCZOS)
    return copy


def _blurhash(image: Image.Image) -> str:
    # The package's encode() goes through Image.getdata, deprecated in Pillow 12, so we
    # hand its C encoder the raw RGB bytes of a small thumbnail ourselves.
    from blurhash._functions import ffi, lib

    small = image.convert("RGB")
    small.thumbnail((64, 64), Image.Resampling.BILINEAR)
    pixels = small.tobytes()
    destination = ffi.new("char[]", 2 + 4 + (9 * 9 - 1) * 2 + 1)
    result = lib.create_hash_from_pixels(4, 4, small.width, small.height, ffi.from_buffer(pixels),
                                         small.width * 3, destination)
    if result == ffi.NULL:
        raise ValueError("blurhash encoding failed")
    return str(ffi.string(result).decode())


def process_image(data: bytes, custom_preview: bytes | None = None) -> ProcessedImage:
    """Blocking: run it in a thread."""
    with _DECODING:
        return _process_image(data, custom_preview)


def _process_image(data: bytes, custom_preview: bytes | None) -> ProcessedImage:
    image = _open_image(data, ORIGINAL_BOX)
    alpha = _has_alpha(image)
    original = _encode(_shrunk(image, ORIGINAL_BOX), "PNG" if alpha else "JPEG")
    source = _open_image(custom_preview, PREVIEW_BOX) if custom_preview is not None else image
    preview_image = _shrunk(source, PREVIEW_BOX)
    preview = _encode(preview_image, "WEBP" if _has_alpha(preview_image) else "JPEG")
    return ProcessedImage(original, preview, _blurhash(preview_image))


def profile_image(data: bytes, kind: str) -> Encoded:
    """Blocking: crop an avatar or header to Mastodon's sizes."""
    box = PROFILE_SIZES[kind]
    with _DECODING:
        image = _open_image(data, box, cover=True)
    # Crop to the box's shape; scale down to the box, never up.
    scale = min(1.0, image.width / box[0], image.height / box[1])
    target = (max(1, round(box[0] * scale)), max(1, round(box[1] * scale)))
    if image.size != target:
        image = ImageOps.fit(image, target, Image.Resampling.LANCZOS)
    return _encode(image, "PNG" if _has_alpha(image) else "JPEG")


def details(encoded: Encoded) -> dict[str, Any]:
    return {"width": encoded.width, "height": encoded.height, "size": f"{encoded.width}x{encoded.height}",
            "aspect": encoded.width / encoded.height}


def parse_focus(value: str | None) -> dict[str, float] | None:
    if value is None or value == "":
        return None
    try:
        x_text, y_text = value.split(",")
        x, y = float(x_text), float(y_text)
    except ValueError:
        raise ApiError(422, "Validation failed: focus must be two numbers 'x,y' between -1.0 and 1.0") from None
    if not (math.isfinite(x) and math.isfinite(y) and -1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise ApiError(422, "Validation failed: focus must be two numbers 'x,y' between -1.0 and 1.0")
    return {"x": x, "y": y}


def _check_description(description: str | None) -> None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ApiError(422, f"Validation failed: Description is too long (maximum is {MAX_DESCRIPTION} characters)",
                       {"description": [{"error": "ERR_TOO_LONG", "description": "is too long"}]})


def _media_kind(upload: UploadFile) -> str:
    ctype = (upload.content_type or "").split(";")[0].strip().lower()
    return ctype.split("/")[0] if "/" in ctype else ""


def is_processing(media: MediaAttachment) -> bool:
    """Video and audio are processed after the upload is answered (API v2)."""
    return media.file_path is None and media.remote_url is None and "processing_error" not in (media.meta or {})


async def create_media(c: Container, tenant: Tenant, me: Account, upload: UploadFile, *,
                       description: str | None, focus: str | None, thumbnail: UploadFile | None = None,
                       asynchronous: bool = False) -> MediaAttachment:
    """Images are processed at once; video and audio at once too unless
    `asynchronous`, when they are processed by a job and the row has no file yet."""
    _check_description(description)
    focus_point = parse_focus(focus)
    if _media_kind(upload) in {"video", "audio"}:
        from steward.social.media_av import create_av_media

        return await create_av_media(c, tenant, me, upload, description=description,
                                     focus=focus_point or {"x": 0.0, "y": 0.0}, thumbnail=thumbnail,
                                     asynchronous=asynchronous)
    data = await read_upload(upload)
    thumb = await read_upload(thumbnail) if thumbnail is not None else None
    processed = await asyncio.to_thread(process_image, data, thumb)
    from steward.social import media_av

    if await asyncio.to_thread(media_av.is_animated_gif, data):
        # It passed the image checks above; as a video it loops like the GIF did.
        return await media_av.create_av_media(c, tenant, me, data, description=description,
                                              focus=focus_point or {"x": 0.0, "y": 0.0}, thumbnail=thumbnail,
                                              asynchronous=asynchronous)
    media_id = new_id()
    original_key = f"{tenant.id}/media/{media_id}/original.{processed.original.ext}"
    preview_key = f"{tenant.id}/media/{media_id}/small.{processed.preview.ext}"
    await c.media.put(original_key, processed.original.data)
    await c.media.put(preview_key, processed.preview.data)
    meta: dict[str, Any] = {"original": details(processed.original), "small": details(processed.preview)}
    meta["focus"] = focus_point or {"x": 0.0, "y": 0.0}
    row: dict[str, Any] = {
        "tenant_id": tenant.id, "id": media_id, "account_id": me.id, "status_id": None, "type": "image",
        "file_path": original_key, "preview_path": preview_key, "remote_url": None,
        "description": description or None, "blurhash": processed.blurhash, "meta": meta, "position": 0,
        "created_at": utcnow(),
    }
    async with c.db.write() as conn:
        await conn.execute(media_attachments.insert().values(**row))
    return from_row(MediaAttachment, row)


async def get_own_media(conn: AsyncConnection, tenant_id: int, account_id: int, media_id: int) -> MediaAttachment:
    row = (await conn.execute(select(media_attachments).where(
        media_attachments.c.tenant_id == tenant_id, media_attachments.c.id == media_id,
        media_attachments.c.account_id == account_id))).first()
    if row is None:
        raise not_found()
    return from_row(MediaAttachment, row)


async def update_media(c: Container, tenant: Tenant, me: Account, media_id: int, *, description: str | None,
                       set_description: bool, focus: str | None, thumbnail: UploadFile | None) -> MediaAttachment:
    """Like Mastodon, only media not yet attached to a status can be changed here
    (also while a video is still being processed)."""
    _check_description(description)
    focus_point = parse_focus(focus)
    async with c.db.read() as conn:
        media = await get_own_media(conn, tenant.id, me.id, media_id)
    if media.status_id is not None:
        raise not_found()
    thumb_changes = (await store_thumbnail(c, tenant.id, media, await read_upload(thumbnail))
                     if thumbnail is not None else {})
    old_preview = media.preview_path
    async with c.db.write() as conn:
        # Read again under a row lock: a processing job may have filled the row meanwhile.
        current = (await conn.execute(select(media_attachments).where(
            media_attachments.c.tenant_id == tenant.id, media_attachments.c.id == media_id,
            media_attachments.c.account_id == me.id, media_attachments.c.status_id.is_(None))
            .with_for_update())).first()
        if current is None:
            raise not_found()
        meta = dict(current.meta or {})
        changes: dict[str, Any] = {}
        if set_description:
            changes["description"] = description or None
        if focus_point is not None:
            meta["focus"] = focus_point
        if thumb_changes:
            meta["small"] = thumb_changes["meta"]["small"]
            changes.update(preview_path=thumb_changes["preview_path"], blurhash=thumb_changes["blurhash"])
        if meta != (current.meta or {}):
            changes["meta"] = meta
        if changes:
            await conn.execute(update(media_attachments).where(
                media_attachments.c.tenant_id == tenant.id, media_attachments.c.id == media_id).values(**changes))
        media = await get_own_media(conn, tenant.id, me.id, media_id)
    if thumb_changes and old_preview and old_preview != media.preview_path:
        await c.media.delete(old_preview)
    return media


async def store_thumbnail(c: Container, tenant_id: int, media: MediaAttachment, data: bytes) -> dict[str, Any]:
    """Process and store a custom thumbnail for `media`; returns the column changes
    (preview_path, blurhash, meta) for the caller to write in its own transaction
    (a status edit's `media_attributes[][thumbnail]`, say). 422 for a bad image."""
    processed = await asyncio.to_thread(preview_only, data)
    key = f"{tenant_id}/media/{media.id}/small-{new_id()}.{processed[0].ext}"
    await c.media.put(key, processed[0].data)
    return {"preview_path": key, "blurhash": processed[1],
            "meta": {**(media.meta or {}), "small": details(processed[0])}}


def decode_data_uri(value: str, limit: int = MAX_IMAGE_BYTES) -> bytes:
    """The bytes of a `data:image/...;base64,...` URI, as clients send a thumbnail
    inside JSON. 422 when it is not one or is too large."""
    head, sep, body = value.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        raise invalid_media("thumbnail must be a base64 data: URI")
    if len(body) > limit * 4 // 3 + 4:
        raise invalid_media(f"File is too large (maximum is {limit // (1024 * 1024)} MB)")
    try:
        return base64.b64decode(body, validate=True)
    except (ValueError, binascii.Error):
        raise invalid_media("thumbnail is not valid base64") from None


def preview_only(data: bytes) -> tuple[Encoded, str]:
    """Blocking: a custom thumbnail, as a preview and its blurhash."""
    with _DECODING:
        image = _open_image(data, PREVIEW_BOX)
    return preview_of(image)


def preview_of(image: Image.Image) -> tuple[Encoded, str]:
    """Blocking: a decoded image (a video's first frame, say) as a preview and its blurhash."""
    image = _shrunk(image, PREVIEW_BOX)
    return _encode(image, "WEBP" if _has_alpha(image) else "JPEG"), _blurhash(image)


async def delete_media(c: Container, tenant: Tenant, me: Account, media_id: int) -> None:
    async with c.db.write() as conn:
        media = await get_own_media(conn, tenant.id, me.id, media_id)
        if media.status_id is not None:
            raise ApiError(422, "Media attachment is currently used by a status")
        await conn.execute(media_attachments.delete().where(
            media_attachments.c.tenant_id == tenant.id, media_attachments.c.id == media.id))
    # The raw upload of a video still being processed goes too.
    for key in (media.file_path, media.preview_path, f"{tenant.id}/media/{media.id}/upload"):
        if key:
            await c.media.delete(key)


async def store_profile_image(c: Container, tenant: Tenant, account_id: int, kind: str, upload: UploadFile) -> str:
    """Store an avatar (400x400) or header (1500x500) and return its media key."""
    if kind not in PROFILE_SIZES:
        raise ValueError(f"unknown profile image kind {kind!r}")
    try:
        data = await read_upload(upload)
        encoded = await asyncio.to_thread(profile_image, data, kind)
    except ApiError as err:
        raise ApiError(err.status, err.message.replace("Validation failed: ", f"Validation failed: {kind}: "),
                       {kind: [{"error": "ERR_INVALID", "description": err.message}]}) from None
    key = f"{tenant.id}/accounts/{account_id}/{kind}/{new_id()}.{encoded.ext}"
    await c.media.put(key, encoded.data)
    return key


def content_type_for(key: str) -> str:
    return CONTENT_TYPES.get(key.rsplit(".", 1)[-1].lower(), "application/octet-stream")
