"""The shared presenter, exercised directly on rows (the routes test it end to end)."""

from __future__ import annotations

from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import statuses
from steward.web.mastodon.serialize_statuses import load_statuses, render_status, render_statuses
from tests.world import World


async def _insert(world: World, tenant_id: int, account_id: int, **extra: object) -> int:
    sid = new_id()
    async with world.c.db.write() as conn:
        await conn.execute(statuses.insert().values(
            **{"tenant_id": tenant_id, "id": sid, "account_id": account_id, "uri": f"x/{sid}", "url": f"u/{sid}",
               "text": "hi", "content": "<p>hi</p>", "created_at": utcnow(), **extra}))
    return sid


async def test_render_plain_and_reblog_in_order(world: World) -> None:
    alice = int(world.local_alice.account_id)
    bob = int(world.local_bob.account_id)
    original = await _insert(world, world.a.id, alice)
    boost = await _insert(world, world.a.id, bob, reblog_of_id=original, content="")
    async with world.c.db.read() as conn:
        loaded = await load_statuses(conn, world.a.id, [boost, original])
        assert set(loaded) == {boost, original}
        out = await render_statuses(world.c, conn, world.a, bob, [loaded[boost], loaded[original]])
        anon = await render_status(world.c, conn, world.a, None, loaded[original])
        # Another tenant's id loads nothing.
        assert await load_statuses(conn, world.b.id, [original]) == {}
    assert [o["id"] for o in out] == [str(boost), str(original)]
    assert out[0]["reblog"]["id"] == str(original) and out[0]["reblogged"] is True
    assert out[0]["account"]["username"] == "bob" and out[0]["reblog"]["account"]["username"] == "alice"
    assert out[1]["reblogged"] is True and out[1]["favourited"] is False
    assert anon["content"] == "<p>hi</p>" and "favourited" not in anon
    for key in ("id", "uri", "url", "account", "in_reply_to_id", "in_reply_to_account_id", "reblog", "content",
                "created_at", "edited_at", "emojis", "replies_count", "reblogs_count", "favourites_count",
                "sensitive", "spoiler_text", "visibility", "media_attachments", "mentions", "tags", "card",
                "poll", "application", "language", "filtered"):
        assert key in anon, key


async def test_custom_emoji_of_the_authors_server(world: World) -> None:
    from steward.db.tables import custom_emojis

    alice = int(world.local_alice.account_id)
    async with world.c.db.write() as conn:
        for tenant_id, code in ((world.a.id, "blobcat"), (world.b.id, "blobfox")):
            await conn.execute(custom_emojis.insert().values(
                tenant_id=tenant_id, id=new_id(), shortcode=code, domain="", image_path=f"emoji/{code}.png",
                visible_in_picker=True, disabled=False, created_at=utcnow()))
    sid = await _insert(world, world.a.id, alice, content="<p>hi :blobcat: :blobfox: :nope:</p>",
                        spoiler_text=":blobcat:")
    async with world.c.db.read() as conn:
        status = (await load_statuses(conn, world.a.id, [sid]))[sid]
        data = await render_status(world.c, conn, world.a, None, status)
    assert data["emojis"] == [{"shortcode": "blobcat", "url": f"http://{world.a.web_domain}/system/emoji/blobcat.png",
                               "static_url": f"http://{world.a.web_domain}/system/emoji/blobcat.png",
                               "visible_in_picker": True, "category": None}]
