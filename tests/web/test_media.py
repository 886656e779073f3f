from __future__ import annotations

import io
import struct
import zlib

import blurhash
from PIL import Image

from tests.schema import assert_matches
from tests.world import World


def jpeg_with_exif(width: int = 300, height: int = 200) -> bytes:
    """A JPEG whose EXIF says 'rotate 90° clockwise' (Orientation 6) and carries GPS."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png_bytes(width: int = 64, height: int = 48, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (10, 200, 10, 128) if mode == "RGBA" else (10, 200, 10)).save(out, "PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size (a decompression bomb's shape)."""
    data = bytearray(png_bytes(1, 1, "RGB"))
    ihdr = bytearray(data[12:29])
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF)
    return bytes(data)


async def upload(person, data: bytes, name: str = "photo.jpg", ctype: str = "image/jpeg", path: str = "/api/v2/media",
                 **fields: str):
    return await person.post(path, files={"file": (name, data, ctype)}, data=fields)


async def test_upload_strips_exif_orients_and_previews(world: World) -> None:
    r = await upload(world.local_alice, jpeg_with_exif(), description="A red and blue card", focus="0.5,-0.25")
    assert r.status_code == 200, r.text
    media = r.json()
    assert_matches("MediaAttachment", media)
    assert media["type"] == "image" and media["description"] == "A red and blue card"
    assert blurhash.is_valid_blurhash(media["blurhash"])
    # Orientation 6 was applied: the stored image is portrait.
    assert media["meta"]["original"]["width"] == 200 and media["meta"]["original"]["height"] == 300
    assert media["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert media["url"].startswith(f"http://{world.a.web_domain}/system/{world.a.id}/media/")
    original = await world.anon_a.get(media["url"].split(world.a.web_domain, 1)[1])
    assert original.status_code == 200 and original.headers["content-type"] == "image/jpeg"
    assert "immutable" in original.headers["cache-control"]
    stored = Image.open(io.BytesIO(original.content))
    assert stored.size == (200, 300)
    assert not stored.getexif() and "exif" not in stored.info
    assert b"SecretCam" not in original.content
    preview = await world.anon_a.get(media["preview_url"].split(world.a.web_domain, 1)[1])
    assert preview.status_code == 200
    assert Image.open(io.BytesIO(preview.content)).size == (200, 300)


async def test_large_image_is_bounded_and_previewed(world: World) -> None:
    out = io.BytesIO()
    Image.new("RGB", (4000, 1000), (1, 2, 3)).save(out, "PNG")
    r = await upload(world.local_alice, out.getvalue(), "wide.png", "image/png", path="/api/v1/media")
    assert r.status_code == 200, r.text
    meta = r.json()["meta"]
    assert meta["original"]["width"] == 3840 and meta["original"]["height"] == 960
    assert meta["small"]["width"] == 640 and meta["small"]["height"] == 160
    assert meta["original"]["size"] == "3840x960"


async def test_transparent_png_and_gif_and_webp(world: World) -> None:
    r = await upload(world.local_alice, png_bytes(), "t.png", "image/png")
    assert r.status_code == 200, r.text
    assert r.json()["url"].endswith(".png") and r.json()["preview_url"].endswith(".webp")
    out = io.BytesIO()
    Image.new("P", (20, 20), 3).save(out, "GIF")
    r = await upload(world.local_alice, out.getvalue(), "still.gif", "image/gif")
    assert r.status_code == 200 and r.json()["type"] == "image" and r.json()["url"].endswith(".jpg")
    out = io.BytesIO()
    Image.new("RGB", (30, 30), (5, 5, 5)).save(out, "WEBP")
    r = await upload(world.local_alice, out.getvalue(), "a.webp", "image/webp")
    assert r.status_code == 200 and r.json()["meta"]["original"]["width"] == 30
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (5, 5, 5)).save(out, "AVIF")
    r = await upload(world.local_alice, out.getvalue(), "a.avif", "image/avif")
    assert r.status_code == 200 and r.json()["url"].endswith(".jpg")


async def test_rejects_bad_uploads(world: World) -> None:
    alice = world.local_alice
    r = await upload(alice, b"this is not an image at all", "x.jpg")
    assert r.status_code == 422 and "error" in r.json()
    r = await upload(alice, b"", "empty.jpg")
    assert r.status_code == 422
    r = await upload(alice, png_claiming(8000, 6000), "bomb.png", "image/png")
    assert r.status_code == 422 and "pixels" in r.json()["error"]
    r = await upload(alice, png_claiming(30000, 30000), "bigbomb.png", "image/png")
    assert r.status_code == 422 and "error" in r.json()
    r = await upload(alice, b"\x00" * 1000, "clip.mp4", "video/mp4")
    assert r.status_code == 422 and "video or audio" in r.json()["error"]
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "BMP")
    r = await upload(alice, out.getvalue(), "x.bmp", "image/bmp")
    assert r.status_code == 422
    r = await upload(alice, jpeg_with_exif(), description="x" * 1501)
    assert r.status_code == 422
    for focus in ("2,0", "a,b", "0.1", "nan,0"):
        r = await upload(alice, jpeg_with_exif(), focus=focus)
        assert r.status_code == 422, focus
    r = await alice.post("/api/v2/media", data={"description": "no file"})
    assert r.status_code == 422 and "error" in r.json()
    r = await alice.post("/api/v2/media", data={"file": "not a file"})
    assert r.status_code == 422
    r = await world.anon_a.post("/api/v2/media", files={"file": ("a.jpg", jpeg_with_exif(), "image/jpeg")})
    assert r.status_code == 401


async def test_oversized_upload_is_refused(world: World) -> None:
    r = await upload(world.local_alice, b"\xff\xd8" + b"\x00" * (16 * 1024 * 1024 + 10), "huge.jpg")
    assert r.status_code in {413, 422} and "error" in r.json()


async def test_get_and_update_own_media(world: World) -> None:
    r = await upload(world.local_alice, jpeg_with_exif())
    media_id = r.json()["id"]
    r = await world.local_alice.get(f"/api/v1/media/{media_id}")
    assert r.status_code == 200 and r.json()["id"] == media_id and r.json()["description"] is None
    r = await world.local_alice.put(f"/api/v1/media/{media_id}", data={"description": "Now described",
                                                                        "focus": "-1,1"})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "Now described" and r.json()["meta"]["focus"] == {"x": -1.0, "y": 1.0}
    r = await world.local_alice.put(f"/api/v1/media/{media_id}", json={"description": "x" * 1501})
    assert r.status_code == 422
    r = await world.local_alice.put(f"/api/v1/media/{media_id}", json={"focus": "5,5"})
    assert r.status_code == 422
    r = await world.local_alice.put(f"/api/v1/media/{media_id}",
                                    files={"thumbnail": ("t.png", png_bytes(900, 900, "RGB"), "image/png")})
    assert r.status_code == 200 and r.json()["meta"]["small"]["width"] == 640
    assert (await world.local_alice.get("/api/v1/media/12345")).status_code == 404
    assert (await world.local_alice.get("/api/v1/media/not-an-id")).status_code == 404
    r = await world.local_alice.delete(f"/api/v1/media/{media_id}")
    assert r.status_code == 200
    assert (await world.local_alice.get(f"/api/v1/media/{media_id}")).status_code == 404


async def test_media_belongs_to_its_uploader(world: World) -> None:
    r = await upload(world.local_alice, jpeg_with_exif())
    media = r.json()
    media_id = media["id"]
    r = await world.local_bob.get(f"/api/v1/media/{media_id}")
    assert r.status_code == 404 and "error" in r.json()
    r = await world.local_bob.put(f"/api/v1/media/{media_id}", data={"description": "mine now"})
    assert r.status_code == 404
    r = await world.local_bob.delete(f"/api/v1/media/{media_id}")
    assert r.status_code == 404
    # Tenant b's people cannot reach it by id, on either host.
    assert (await world.local_carol.get(f"/api/v1/media/{media_id}")).status_code == 404
    carol_on_a = world.client(world.a, world.local_carol.token)
    assert (await carol_on_a.get(f"/api/v1/media/{media_id}")).status_code == 401
    r = await world.local_alice.get(f"/api/v1/media/{media_id}")
    assert r.json()["description"] is None


async def test_media_scope_is_required(world: World) -> None:
    from steward.social.oauth import OAuthService

    svc = OAuthService(world.c.db)
    app = await svc.create_app(world.a, "read only", ["urn:ietf:wg:oauth:2.0:oob"], ["read"], None)
    async with world.c.db.read() as conn:
        from sqlalchemy import select

        from steward.db.tables import users
        user_id = (await conn.execute(select(users.c.id).where(
            users.c.tenant_id == world.a.id, users.c.account_id == int(world.local_alice.account_id)))).scalar()
    raw, _, _ = await svc.issue_token(world.a, app.id, user_id, "read", with_refresh=False)
    client = world.client(world.a, raw)
    r = await client.post("/api/v2/media", files={"file": ("a.jpg", jpeg_with_exif(), "image/jpeg")})
    assert r.status_code == 403 and "error" in r.json()


async def test_profile_images_are_cropped(world: World) -> None:
    from steward.social.media import profile_image

    avatar = Image.open(io.BytesIO(profile_image(jpeg_with_exif(1200, 800), "avatar").data))
    assert avatar.size == (400, 400) and not avatar.getexif()
    header = Image.open(io.BytesIO(profile_image(png_bytes(3000, 3000, "RGB"), "header").data))
    assert header.size == (1500, 500)
    small = Image.open(io.BytesIO(profile_image(png_bytes(100, 80, "RGB"), "avatar").data))
    assert small.size == (80, 80)


async def test_upload_size_is_checked_while_reading() -> None:
    import pytest
    from starlette.datastructures import UploadFile

    from steward.core.errors import ApiError
    from steward.social.media import read_upload

    unsized = UploadFile(io.BytesIO(b"x" * 5000), size=None, filename="a.jpg")
    with pytest.raises(ApiError) as err:
        await read_upload(unsized, limit=4096)
    assert err.value.status == 422
    sized = UploadFile(io.BytesIO(b"x" * 10), size=10_000, filename="a.jpg")
    with pytest.raises(ApiError):
        await read_upload(sized, limit=4096)
    assert await read_upload(UploadFile(io.BytesIO(b"abc"), size=None), limit=4096) == b"abc"


async def test_system_files_are_served_only_on_their_tenants_host(world: World) -> None:
    r = await upload(world.local_alice, jpeg_with_exif())
    path = r.json()["url"].split(world.a.web_domain, 1)[1]
    assert (await world.anon_a.get(path)).status_code == 200
    r = await world.anon_b.get(path)
    assert r.status_code == 404 and "error" in r.json()
    r = await world.local_carol.get(path)
    assert r.status_code == 404
    # Walking out of the tenant's prefix is refused, however it is spelled.
    key = path.removeprefix("/system/")
    sneaky = f"/system/{world.b.id}/../{key}"
    assert (await world.anon_b.get(sneaky)).status_code == 404
    assert (await world.anon_b.get(f"/system/{world.b.id}/%2e%2e/{key}")).status_code == 404
    assert (await world.anon_a.get(f"/system/{world.a.id}/media/0/original.jpg")).status_code == 404
    assert (await world.anon_a.get("/system/")).status_code == 404


async def test_missing_avatar_and_header(world: World) -> None:
    r = await world.anon_a.get("/avatars/original/missing.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size == (400, 400)
    r = await world.anon_b.get("/headers/original/missing.png")
    assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).size == (1500, 500)


def test_tenant_key_refuses_escapes() -> None:
    from steward.web.public.files import _tenant_key

    assert _tenant_key(7, "7/media/1/original.jpg") == "7/media/1/original.jpg"
    for bad in ("7/../8/media/1/original.jpg", "8/media/1/original.jpg", "7//x", "7/./x", "7", "70/x",
                "7/media/..", "7/a\\..\\b"):
        assert _tenant_key(7, bad) is None, bad


async def test_avatar_and_header_through_update_credentials(world: World) -> None:
    r = await world.local_alice.patch("/api/v1/accounts/update_credentials", files={
        "avatar": ("me.jpg", jpeg_with_exif(900, 600), "image/jpeg"),
        "header": ("h.png", png_bytes(3000, 1200, "RGB"), "image/png")})
    assert r.status_code == 200, r.text
    account = r.json()
    assert account["avatar"].startswith(f"http://{world.a.web_domain}/system/{world.a.id}/accounts/")
    avatar = await world.anon_a.get(account["avatar"].split(world.a.web_domain, 1)[1])
    assert avatar.status_code == 200 and Image.open(io.BytesIO(avatar.content)).size == (400, 400)
    assert b"SecretCam" not in avatar.content
    header = await world.anon_a.get(account["header"].split(world.a.web_domain, 1)[1])
    assert Image.open(io.BytesIO(header.content)).size == (1500, 500)
    assert (await world.anon_b.get(account["avatar"].split(world.a.web_domain, 1)[1])).status_code == 404
    r = await world.local_alice.patch("/api/v1/accounts/update_credentials",
                                      files={"avatar": ("x.jpg", b"not an image", "image/jpeg")})
    assert r.status_code == 422 and "error" in r.json()


def test_large_jpegs_are_decoded_at_reduced_scale() -> None:
    from steward.social.media import _draft_size, process_image, profile_image

    assert _draft_size(8000, 4500, (3840, 2160), cover=False) == (3840, 2160)
    assert _draft_size(4500, 8000, (3840, 2160), cover=False) == (2160, 3840)
    assert _draft_size(3000, 2000, (3840, 2160), cover=False) is None
    assert _draft_size(6000, 2000, (400, 400), cover=True) == (1200, 400)
    out = io.BytesIO()
    Image.new("RGB", (7000, 5000), (90, 10, 10)).save(out, "JPEG", quality=50)
    processed = process_image(out.getvalue())
    assert (processed.original.width, processed.original.height) == (3024, 2160)
    wide = io.BytesIO()
    Image.new("RGB", (6000, 2000), (1, 2, 3)).save(wide, "JPEG", quality=50)
    avatar = Image.open(io.BytesIO(profile_image(wide.getvalue(), "avatar").data))
    assert avatar.size == (400, 400)


def silence(samples: int, rate: int):  # type: ignore[no-untyped-def]
    import av

    frame = av.AudioFrame(format="fltp", layout="mono", samples=samples)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = rate
    return frame


def make_video(codec: str = "libx264", fmt: str = "mp4", *, size: tuple[int, int] = (64, 48), frames: int = 12,
               rate: int = 12, with_audio: bool = True) -> bytes:
    """A short clip whose container and streams carry identifying metadata."""
    import tempfile
    from fractions import Fraction
    from pathlib import Path

    import av

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"clip.{fmt}"
        with av.open(str(path), mode="w", format=fmt) as out:
            out.metadata["comment"] = "SecretCam"
            out.metadata["location"] = "+52.5200+013.4050/"
            video = out.add_stream(codec, rate=rate)
            video.width, video.height = size
            video.pix_fmt = "yuv420p"
            audio = out.add_stream("aac" if fmt == "mp4" else "libopus", rate=48000) if with_audio else None
            for i in range(frames):
                picture = Image.new("RGB", size, ((i * 20) % 255, 40, 90))
                out.mux(video.encode(av.VideoFrame.from_image(picture)))
            out.mux(video.encode())
            if audio is not None:
                samples = int(48000 * frames / rate)
                chunk = 960
                for start in range(0, samples, chunk):
                    frame = silence(chunk, 48000)
                    frame.pts = start
                    frame.time_base = Fraction(1, 48000)
                    out.mux(audio.encode(frame))
                out.mux(audio.encode())
        return path.read_bytes()


async def test_video_upload_v2_is_processed_by_a_job(world: World) -> None:
    clip = make_video()
    assert b"SecretCam" in clip
    r = await upload(world.local_alice, clip, "clip.mp4", "video/mp4", description="A clip", focus="-0.5,0.3")
    assert r.status_code == 202, r.text
    media = r.json()
    assert_matches("MediaAttachment", media)
    assert media["type"] == "video" and media["url"] is None
    r = await world.local_alice.get(f"/api/v1/media/{media['id']}")
    assert r.status_code == 206 and r.json()["url"] is None
    # Changing it while it is processed is allowed, and survives the processing.
    r = await world.local_alice.put(f"/api/v1/media/{media['id']}", data={"description": "Still a clip",
                                                                          "focus": "0.69,0.69"})
    assert r.status_code == 200
    await world.run_jobs()
    r = await world.local_alice.get(f"/api/v1/media/{media['id']}")
    assert r.status_code == 200, r.text
    done = r.json()
    assert_matches("MediaAttachment", done)
    assert done["type"] == "video" and done["url"].endswith(".mp4") and done["preview_url"].endswith(".jpg")
    assert done["description"] == "Still a clip" and done["meta"]["focus"] == {"x": 0.69, "y": 0.69}
    assert done["meta"]["original"]["width"] == 64 and done["meta"]["original"]["frame_rate"] == "12/1"
    assert done["meta"]["original"]["duration"] > 0.5 and done["blurhash"]
    stored = await world.anon_a.get(done["url"].split(world.a.web_domain, 1)[1])
    assert stored.status_code == 200 and stored.headers["content-type"] == "video/mp4"
    assert b"SecretCam" not in stored.content and b"52.5200" not in stored.content
    # The raw upload is gone once processed.
    assert await world.c.media.get(f"{world.a.id}/media/{done['id']}/upload") is None


async def test_video_v1_webm_audio_and_thumbnails(world: World) -> None:
    r = await world.local_alice.post("/api/v1/media", files={
        "file": ("c.webm", make_video("libvpx-vp9", "webm", with_audio=False), "video/webm"),
        "thumbnail": ("t.png", png_bytes(800, 600, "RGB"), "image/png")})
    assert r.status_code == 200, r.text
    media = r.json()
    assert media["url"].endswith(".webm") and media["meta"]["small"]["width"] == 640
    thumb = await world.anon_a.get(media["preview_url"].split(world.a.web_domain, 1)[1])
    assert Image.open(io.BytesIO(thumb.content)).size == (640, 480)

    import tempfile
    from pathlib import Path

    import av

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.mp3"
        with av.open(str(path), mode="w", format="mp3") as out:
            out.metadata["artist"] = "SecretArtist"
            stream = out.add_stream("libmp3lame", rate=44100)
            for i in range(20):
                frame = silence(1152, 44100)
                frame.pts = i * 1152
                out.mux(stream.encode(frame))
            out.mux(stream.encode())
        song = path.read_bytes()
    r = await upload(world.local_alice, song, "a.mp3", "audio/mpeg", path="/api/v1/media")
    assert r.status_code == 200, r.text
    audio = r.json()
    assert audio["type"] == "audio" and audio["url"].endswith(".mp3") and audio["preview_url"] is None
    assert audio["meta"]["original"]["duration"] > 0.3
    stored = await world.anon_a.get(audio["url"].split(world.a.web_domain, 1)[1])
    assert stored.headers["content-type"] == "audio/mpeg" and b"SecretArtist" not in stored.content


async def test_bad_video_uploads(world: World) -> None:
    alice = world.local_alice
    # An image sent as video is not a video; a video codec browsers cannot play is refused.
    r = await upload(alice, jpeg_with_exif(), "x.mp4", "video/mp4")
    assert r.status_code == 422 and "error" in r.json()
    r = await upload(alice, make_video("mpeg4", "mp4", with_audio=False), "old.mp4", "video/mp4")
    assert r.status_code == 422 and "unsupported media type" in r.json()["error"]
    r = await upload(alice, make_video(size=(4000, 2500), frames=1, with_audio=False), "big.mp4", "video/mp4")
    assert r.status_code == 422 and "too large" in r.json()["error"]
    # Another person, or another tenant, never sees it while it is processed either.
    r = await upload(alice, make_video(), "clip.mp4", "video/mp4")
    media_id = r.json()["id"]
    assert (await world.local_bob.get(f"/api/v1/media/{media_id}")).status_code == 404
    assert (await world.local_carol.get(f"/api/v1/media/{media_id}")).status_code == 404
    # Deleting it before it is processed leaves nothing behind.
    assert (await alice.delete(f"/api/v1/media/{media_id}")).status_code == 200
    await world.run_jobs()
    assert await world.c.media.get(f"{world.a.id}/media/{media_id}/upload") is None
    assert (await alice.get(f"/api/v1/media/{media_id}")).status_code == 404


async def test_processing_failure_is_reported(world: World) -> None:
    from steward.social.media_av import process, raw_key

    r = await upload(world.local_alice, make_video(), "clip.mp4", "video/mp4")
    media_id = int(r.json()["id"])
    await world.c.media.put(raw_key(world.a.id, media_id), b"garbage now")
    await process(world.c, world.a.id, media_id)
    r = await world.local_alice.get(f"/api/v1/media/{media_id}")
    assert r.status_code == 422 and "Error processing" in r.json()["error"]
    await world.run_jobs()  # the queued job finds it already decided


async def test_thumbnail_helpers_for_status_edits(world: World) -> None:
    import base64

    import pytest

    from steward.core.errors import ApiError
    from steward.model.entities import MediaAttachment
    from steward.social.media import decode_data_uri, store_thumbnail

    raw = png_bytes(900, 300, "RGB")
    assert decode_data_uri("data:image/png;base64," + base64.b64encode(raw).decode()) == raw
    for bad in ("nope", "data:image/png,abc", "data:image/png;base64,@@@"):
        with pytest.raises(ApiError):
            decode_data_uri(bad)
    media = MediaAttachment(tenant_id=world.a.id, id=42, account_id=1, meta={"focus": {"x": 0.1, "y": 0.2}})
    changes = await store_thumbnail(world.c, world.a.id, media, raw)
    assert changes["meta"]["focus"] == {"x": 0.1, "y": 0.2} and changes["meta"]["small"]["width"] == 640
    assert changes["preview_path"].startswith(f"{world.a.id}/media/42/small-") and changes["blurhash"]
    with pytest.raises(ApiError):
        await store_thumbnail(world.c, world.a.id, media, b"not an image")


def animated_gif(size: tuple[int, int] = (51, 37), durations: tuple[int, ...] = (100, 200, 0, 100)) -> bytes:
    frames = [Image.new("RGB", size, (i * 50, 10, 200 - i * 40)) for i in range(len(durations))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=list(durations), loop=0)
    return out.getvalue()


async def test_animated_gif_becomes_gifv(world: World) -> None:
    r = await upload(world.local_alice, animated_gif(), "a.gif", "image/gif", description="spinning")
    assert r.status_code == 202, r.text
    assert r.json()["type"] == "gifv" and r.json()["url"] is None
    await world.run_jobs()
    media = (await world.local_alice.get(f"/api/v1/media/{r.json()['id']}")).json()
    assert_matches("MediaAttachment", media)
    assert media["type"] == "gifv" and media["url"].endswith(".mp4") and media["description"] == "spinning"
    # Odd sides are trimmed to even ones for H.264; a 0 ms frame plays for 100 ms.
    assert media["meta"]["original"]["width"] == 50 and media["meta"]["original"]["height"] == 36
    assert media["meta"]["original"]["duration"] == 0.5
    assert media["meta"]["small"]["width"] == 50 and media["blurhash"]
    video = await world.anon_a.get(media["url"].split(world.a.web_domain, 1)[1])
    assert video.headers["content-type"] == "video/mp4"
    import av

    with av.open(io.BytesIO(video.content)) as container:
        assert container.streams.video[0].codec_context.name == "h264" and not container.streams.audio
    # API v1 converts it at once.
    r = await upload(world.local_alice, animated_gif(), "a.gif", "image/gif", path="/api/v1/media")
    assert r.status_code == 200 and r.json()["type"] == "gifv" and r.json()["url"].endswith(".mp4")
