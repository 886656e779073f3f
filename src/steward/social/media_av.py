"""Video and audio uploads, with PyAV (FFmpeg's libraries): probe the file,
check it against the limits, and copy its streams into a fresh container, which
drops the uploader's container and stream metadata (camera, location, software)
without re-encoding. A video's first frame becomes its preview.

Only codecs browsers play are accepted, so nothing needs transcoding: H.264,
HEVC, VP8, VP9 and AV1 video; AAC, MP3, Opus, Vorbis and FLAC audio. Animated
GIFs are the one thing encoded: into silent H.264 MP4 ("gifv")."""

from __future__ import annotations

import asyncio
import io
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
from PIL import Image, ImageSequence
from sqlalchemy import select, update

from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import media_attachments
from steward.model.entities import Account, MediaAttachment, Tenant, from_row

if TYPE_CHECKING:
    from starlette.datastructures import UploadFile

    from steward.container import Container

VIDEO_CODECS = {"h264", "hevc", "vp8", "vp9", "av1"}
AUDIO_CODECS = {"aac", "mp3", "opus", "vorbis", "flac"}
# Containers that hold the codecs above, and what we write them back as.
MP4_VIDEO = {"h264", "hevc", "av1"}
WEBM_VIDEO = {"vp8", "vp9", "av1"}
MAX_VIDEO_PIXELS = 8_294_400  # 3840x2160
MAX_DURATION = 60 * 60
MAX_FRAME_RATE = 120
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
AUDIO_TYPES = ("audio/mpeg", "audio/mp3", "audio/ogg", "audio/opus", "audio/mp4", "audio/aac", "audio/flac",
               "audio/x-m4a", "audio/webm")


class MediaRejected(ValueError):
    """The file is not a video or audio file we accept; the message is safe to show."""


@dataclass(slots=True)
class Remuxed:
    kind: str  # video | audio
    data: bytes
    ext: str
    original: dict[str, Any] = field(default_factory=dict)
    first_frame: Image.Image | None = None


def _rate(value: Fraction | None) -> str | None:
    if not value:
        return None
    frac = Fraction(value).limit_denominator(1001)
    return f"{frac.numerator}/{frac.denominator}"


def _duration(container: Any) -> float:
    if container.duration:
        return float(container.duration) / 1_000_000
    longest = 0.0
    for stream in container.streams:
        if stream.duration and stream.time_base:
            longest = max(longest, float(stream.duration * stream.time_base))
    return longest


def _first_frame(data: bytes) -> Image.Image | None:
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            image = frame.to_image()
            return image.convert("RGB") if image.mode != "RGB" else image
    return None


@dataclass(slots=True)
class _Plan:
    kind: str
    fmt: str
    ext: str
    streams: list[Any]
    original: dict[str, Any]


def _guarded(fn: Any, data: bytes) -> Any:
    try:
        return fn(data)
    except MediaRejected:
        raise
    except (av.FFmpegError, ValueError, IndexError, KeyError, OSError, EOFError):
        raise MediaRejected("the file could not be read as video or audio") from None


def probe(data: bytes) -> str:
    """Blocking: check the file without copying it; returns "video" or "audio"."""
    def run(raw: bytes) -> str:
        with av.open(io.BytesIO(raw), mode="r", metadata_errors="ignore") as source:
            return _plan(source).kind

    return str(_guarded(run, data))


def remux(data: bytes) -> Remuxed:
    """Blocking: probe, check and copy into a clean container. Raises MediaRejected."""
    return _guarded(_remux, data)  # type: ignore[no-any-return]


def _codec(stream: Any) -> str:
    # The codec, not the decoder FFmpeg picked for it ("mp3", not "mp3float").
    return str(stream.codec_context.codec.canonical_name)


def _plan(source: Any) -> _Plan:
    videos = [s for s in source.streams.video if _codec(s) in VIDEO_CODECS
              and not (s.disposition & av.stream.Disposition.attached_pic)]
    audios = [s for s in source.streams.audio if _codec(s) in AUDIO_CODECS]
    if not videos and not audios:
        raise MediaRejected("unsupported media type: no video or audio in a format browsers play")
    duration = _duration(source)
    if duration > MAX_DURATION:
        raise MediaRejected(f"the file is too long (maximum is {MAX_DURATION // 60} minutes)")
    video = videos[0] if videos else None
    audio = audios[0] if audios else None
    original: dict[str, Any] = {"duration": round(duration, 3)}
    if source.bit_rate:
        original["bitrate"] = int(source.bit_rate)
    if video is not None:
        width, height = video.codec_context.width, video.codec_context.height
        if width < 1 or height < 1 or width * height > MAX_VIDEO_PIXELS:
            raise MediaRejected(f"the video is too large (maximum is {MAX_VIDEO_PIXELS} pixels)")
        rate = video.average_rate or video.guessed_rate
        if rate and float(rate) > MAX_FRAME_RATE:
            raise MediaRejected(f"the frame rate is too high (maximum is {MAX_FRAME_RATE})")
        original.update(width=width, height=height, size=f"{width}x{height}", aspect=width / height,
                        frame_rate=_rate(rate))
        codec = _codec(video)
        audio_codec = _codec(audio) if audio is not None else None
        if codec in MP4_VIDEO and audio_codec in {None, "aac", "mp3", "opus", "flac"}:
            fmt, ext = "mp4", "mp4"
        elif codec in WEBM_VIDEO and audio_codec in {None, "opus", "vorbis"}:
            fmt, ext = "webm", "webm"
        else:
            raise MediaRejected("unsupported media type: this combination of video and audio codecs")
        kind = "video"
    else:
        assert audio is not None
        fmt, ext = {"mp3": ("mp3", "mp3"), "aac": ("ipod", "m4a"), "opus": ("ogg", "ogg"),
                    "vorbis": ("ogg", "ogg"), "flac": ("flac", "flac")}[_codec(audio)]
        kind = "audio"
        if "bitrate" not in original and audio.bit_rate:
            original["bitrate"] = int(audio.bit_rate)
    return _Plan(kind, fmt, ext, [st for st in (video, audio) if st is not None], original)


def _remux(data: bytes) -> Remuxed:
    # A file, not a buffer: "faststart" (the index first, so playback can begin
    # before the download ends) rewrites the file in a second pass.
    scratch = tempfile.NamedTemporaryFile(suffix=".media", delete=False)  # noqa: SIM115 - removed below
    scratch.close()
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as source:
            plan = _plan(source)
            options = {"movflags": "+faststart"} if plan.fmt in {"mp4", "ipod"} else {}
            with av.open(scratch.name, mode="w", format=plan.fmt, options=options) as target:
                mapping = {}
                for stream in plan.streams:
                    copy = target.add_stream_from_template(stream)
                    copy.metadata.clear()
                    mapping[stream.index] = copy
                target.metadata.clear()
                for packet in source.demux(plan.streams):
                    if packet.dts is None:
                        continue
                    packet.stream = mapping[packet.stream.index]
                    target.mux(packet)
        written = Path(scratch.name).read_bytes()
    finally:
        Path(scratch.name).unlink(missing_ok=True)
    result = Remuxed(plan.kind, written, plan.ext, plan.original)
    if plan.kind == "video":
        result.first_frame = _first_frame(data)
    return result


GIF_MAGIC = (b"GIF87a", b"GIF89a")
MAX_GIF_FRAMES = 3000


def is_animated_gif(data: bytes) -> bool:
    """Blocking: an animated GIF, which becomes a silent looping video ("gifv")
    as Mastodon makes it. Checked after the upload passed the image checks."""
    if not data.startswith(GIF_MAGIC):
        return False
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        return bool(getattr(image, "is_animated", False)) and width >= 2 and height >= 2 \
            and width * height <= MAX_VIDEO_PIXELS


def gif_to_mp4(data: bytes) -> Remuxed:
    """Blocking: encode an animated GIF's frames as H.264 in MP4, keeping each
    frame's own duration."""
    try:
        return _gif_to_mp4(data)
    except MediaRejected:
        raise
    except (av.FFmpegError, ValueError, OSError, EOFError):
        raise MediaRejected("the animated GIF could not be converted") from None


def _gif_to_mp4(data: bytes) -> Remuxed:
    scratch = tempfile.NamedTemporaryFile(suffix=".mp4", delete=False)  # noqa: SIM115 - removed below
    scratch.close()
    try:
        with Image.open(io.BytesIO(data)) as gif:
            # H.264 in 4:2:0 wants even sides.
            width, height = gif.size[0] - gif.size[0] % 2, gif.size[1] - gif.size[1] % 2
            if getattr(gif, "n_frames", 1) > MAX_GIF_FRAMES:
                raise MediaRejected(f"the animated GIF has too many frames (maximum is {MAX_GIF_FRAMES})")
            first: Image.Image | None = None
            elapsed = frames = 0
            with av.open(scratch.name, mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
                stream = out.add_stream("libx264", rate=25, options={"crf": "23", "preset": "veryfast"})
                stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
                stream.codec_context.time_base = Fraction(1, 1000)
                for frame in ImageSequence.Iterator(gif):
                    picture = frame.convert("RGB").crop((0, 0, width, height))
                    first = first or picture.copy()
                    video_frame = av.VideoFrame.from_image(picture)
                    video_frame.pts, video_frame.time_base = elapsed, Fraction(1, 1000)
                    out.mux(stream.encode(video_frame))
                    # Browsers play a 0 ms GIF frame at 100 ms; so do we.
                    elapsed += int(frame.info.get("duration") or 100) or 100
                    frames += 1
                out.mux(stream.encode())
        written = Path(scratch.name).read_bytes()
    finally:
        Path(scratch.name).unlink(missing_ok=True)
    seconds = elapsed / 1000
    original = {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height,
                "duration": round(seconds, 3), "frame_rate": _rate(Fraction(frames * 1000, max(elapsed, 1))),
                "bitrate": int(len(written) * 8 / seconds) if seconds else None}
    return Remuxed("gifv", written, "mp4", original, first)


# ---------------------------------------------------------------- upload and processing

MAX_AV_BYTES = 99 * 1024 * 1024
PROCESS_JOB = "media.process"


def raw_key(tenant_id: int, media_id: int) -> str:
    return f"{tenant_id}/media/{media_id}/upload"


async def create_av_media(c: Container, tenant: Tenant, me: Account, upload: UploadFile | bytes, *,
                          description: str | None, focus: dict[str, float], thumbnail: UploadFile | None,
                          asynchronous: bool) -> MediaAttachment:
    """`upload` is a video or audio file, or the bytes of an animated GIF."""
    from steward.jobs.queue import enqueue
    from steward.social.media import details, preview_only, read_upload

    if isinstance(upload, bytes):
        data, kind = upload, "gifv"
    else:
        data = await read_upload(upload, MAX_AV_BYTES)
        try:
            kind = await asyncio.to_thread(probe, data)
        except MediaRejected as err:
            from steward.social.media import invalid_media

            raise invalid_media(str(err)) from None
    preview = None
    if thumbnail is not None:
        preview = await asyncio.to_thread(preview_only, await read_upload(thumbnail))
    media_id = new_id()
    meta: dict[str, Any] = {"focus": focus}
    preview_key = None
    if preview is not None:
        preview_key = f"{tenant.id}/media/{media_id}/small-{new_id()}.{preview[0].ext}"
        await c.media.put(preview_key, preview[0].data)
        meta["small"] = details(preview[0])
    await c.media.put(raw_key(tenant.id, media_id), data)
    row: dict[str, Any] = {
        "tenant_id": tenant.id, "id": media_id, "account_id": me.id, "status_id": None, "type": kind,
        "file_path": None, "preview_path": preview_key, "remote_url": None, "description": description or None,
        "blurhash": preview[1] if preview else None, "meta": meta, "position": 0, "created_at": utcnow(),
    }
    async with c.db.write() as conn:
        await conn.execute(media_attachments.insert().values(**row))
        if asynchronous:
            await enqueue(conn, PROCESS_JOB, {"tenant_id": tenant.id, "media_id": media_id}, tenant_id=tenant.id,
                          max_attempts=3, dedupe_key=f"media.process:{tenant.id}:{media_id}")
    if asynchronous:
        c.jobs.wake()
        return from_row(MediaAttachment, row)
    media = await process(c, tenant.id, media_id)
    if media is None or "processing_error" in media.meta:
        from steward.social.media import invalid_media

        raise invalid_media(str((media.meta if media else {}).get("processing_error", "unsupported media type")))
    return media


async def process_media_job(c: Container, payload: dict[str, Any]) -> None:
    await process(c, int(payload["tenant_id"]), int(payload["media_id"]))


async def process(c: Container, tenant_id: int, media_id: int) -> MediaAttachment | None:
    """Turn an uploaded video or audio file into its stored form. Idempotent: a
    row that already has its file, or no longer exists, is left alone."""
    from steward.social.media import _DECODING, details, preview_of

    key = raw_key(tenant_id, media_id)
    async with c.db.read() as conn:
        row = (await conn.execute(select(media_attachments).where(
            media_attachments.c.tenant_id == tenant_id, media_attachments.c.id == media_id))).first()
    if row is None or row.file_path is not None:
        await c.media.delete(key)
        return from_row(MediaAttachment, row) if row is not None else None
    data = await c.media.get(key)

    def work() -> tuple[Remuxed, tuple[Any, str] | None]:
        with _DECODING:
            if data is None:
                raise MediaRejected("the uploaded file is gone")
            done = gif_to_mp4(data) if data.startswith(GIF_MAGIC) else remux(data)
            frame = preview_of(done.first_frame) if done.first_frame is not None else None
            return done, frame

    changes: dict[str, Any]
    done: Remuxed | None = None
    frame: tuple[Any, str] | None = None
    try:
        done, frame = await asyncio.to_thread(work)
    except MediaRejected as err:
        changes = {"meta_update": {"processing_error": str(err)}}
    if done is not None:
        file_key = f"{tenant_id}/media/{media_id}/original.{done.ext}"
        await c.media.put(file_key, done.data)
        changes = {"file_path": file_key, "type": done.kind, "meta_update": {"original": done.original}}
        if frame is not None:
            preview_key = f"{tenant_id}/media/{media_id}/small.{frame[0].ext}"
            await c.media.put(preview_key, frame[0].data)
            changes.update(frame_preview=(preview_key, frame[1], details(frame[0])))
    async with c.db.write() as conn:
        # Re-read: the uploader may have set a description, focus or thumbnail meanwhile.
        current = (await conn.execute(select(media_attachments).where(
            media_attachments.c.tenant_id == tenant_id, media_attachments.c.id == media_id)
            .with_for_update())).first()
        if current is None or current.file_path is not None:
            return from_row(MediaAttachment, current) if current is not None else None
        meta = {**(current.meta or {}), **changes.pop("meta_update")}
        values: dict[str, Any] = {"meta": meta, **{k: v for k, v in changes.items() if k != "frame_preview"}}
        if "frame_preview" in changes and current.preview_path is None:
            preview_key, blurhash, small = changes["frame_preview"]
            values.update(preview_path=preview_key, blurhash=blurhash)
            meta["small"] = small
        await conn.execute(update(media_attachments).where(
            media_attachments.c.tenant_id == tenant_id, media_attachments.c.id == media_id).values(**values))
        final = (await conn.execute(select(media_attachments).where(
            media_attachments.c.tenant_id == tenant_id, media_attachments.c.id == media_id))).first()
    if done is not None or data is None:
        await c.media.delete(key)
    return from_row(MediaAttachment, final) if final is not None else None
