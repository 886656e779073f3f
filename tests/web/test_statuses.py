"""Posting, reading, editing and deleting statuses, and who may see them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import (
    accounts,
    blocks,
    follows,
    idempotency_keys,
    jobs,
    media_attachments,
    mentions,
    mutes,
    statuses,
)
from tests.world import Person, World


async def post(person: Person, text: str = "hello", **fields: Any) -> dict[str, Any]:
    r = await person.post("/api/v1/statuses", json={"status": text, **fields})
    assert r.status_code == 200, r.text
    return r.json()


async def follow(world: World, follower: Person, target: Person) -> None:
    async with world.c.db.write() as conn:
        await conn.execute(follows.insert().values(
            tenant_id=follower.tenant.id, id=new_id(), account_id=int(follower.account_id),
            target_account_id=int(target.account_id), created_at=utcnow(), show_reblogs=True, notify=False))


async def add_media(world: World, owner: Person, path: str = "media/a.png") -> str:
    media_id = new_id()
    async with world.c.db.write() as conn:
        await conn.execute(media_attachments.insert().values(
            tenant_id=owner.tenant.id, id=media_id, account_id=int(owner.account_id), type="image",
            file_path=path, meta={}, position=0, created_at=utcnow(), description="a cat"))
    return str(media_id)


async def queued(world: World, kind: str, status_id: str) -> list[dict[str, Any]]:
    async with world.c.db.read() as conn:
        rows = (await conn.execute(select(jobs.c.payload).where(jobs.c.kind == kind))).all()
    return [r.payload for r in rows if str(r.payload.get("status_id")) == status_id]


async def test_post_renders_links_mentions_and_hashtags(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    s = await post(alice, "Hi @bob and @carol, see https://example.com/page #Steward #steward",
                   spoiler_text="cw", language="en")
    base = f"http://{world.a.web_domain}"
    assert s["account"]["id"] == alice.account_id and s["visibility"] == "public"
    assert s["uri"] == f"{base}/users/alice/statuses/{s['id']}" and s["url"] == f"{base}/@alice/{s['id']}"
    assert f'href="{base}/@bob" class="u-url mention">@<span>bob</span>' in s["content"]
    assert "@carol" in s["content"] and "@<span>carol" not in s["content"]  # carol is on another tenant
    assert 'href="https://example.com/page"' in s["content"]
    assert f'href="{base}/tags/steward"' in s["content"]
    assert s["mentions"] == [{"id": bob.account_id, "username": "bob", "url": f"{base}/@bob", "acct": "bob"}]
    assert s["tags"] == [{"name": "steward", "url": f"{base}/tags/steward"}]
    assert s["spoiler_text"] == "cw" and s["sensitive"] is True and s["language"] == "en"
    assert s["application"] == {"name": "test app", "website": None}
    assert s["favourited"] is False and s["reblog"] is None and s["poll"] is None and s["card"] is None
    assert await queued(world, "status.distribute", s["id"])
    me = (await alice.get("/api/v1/accounts/verify_credentials")).json()
    assert me["statuses_count"] == 1 and me["last_status_at"]
    # Others don't see which app posted it.
    seen = (await bob.get(f"/api/v1/statuses/{s['id']}")).json()
    assert seen["application"] is None and seen["content"] == s["content"]


async def test_default_privacy_and_explicit_visibility(world: World) -> None:
    alice = world.local_alice
    r = await alice.patch("/api/v1/accounts/update_credentials", data={"source[privacy]": "unlisted"})
    assert r.status_code == 200
    world.c.auth_cache.clear()
    assert (await post(alice, "x"))["visibility"] == "unlisted"
    assert (await post(alice, "y", visibility="private"))["visibility"] == "private"


async def test_visibility_rules(world: World) -> None:
    alice, bob, carol = world.local_alice, world.local_bob, world.local_carol
    ann = world.admin_ann
    public = await post(alice, "pub")
    unlisted = await post(alice, "unl", visibility="unlisted")
    private = await post(alice, "priv", visibility="private")
    direct = await post(alice, "hey @ann", visibility="direct")
    private_mention = await post(alice, "psst @ann", visibility="private")
    for status in (public, unlisted):
        assert (await world.anon_a.get(f"/api/v1/statuses/{status['id']}")).status_code == 200
    for status in (private, direct, private_mention):
        assert (await world.anon_a.get(f"/api/v1/statuses/{status['id']}")).status_code == 404
        assert (await alice.get(f"/api/v1/statuses/{status['id']}")).status_code == 200
    # bob: not a follower, not mentioned.
    assert (await bob.get(f"/api/v1/statuses/{private['id']}")).status_code == 404
    await follow(world, bob, alice)
    assert (await bob.get(f"/api/v1/statuses/{private['id']}")).status_code == 200
    assert (await bob.get(f"/api/v1/statuses/{direct['id']}")).status_code == 404
    # ann: mentioned, not following.
    assert (await ann.get(f"/api/v1/statuses/{direct['id']}")).status_code == 200
    assert (await ann.get(f"/api/v1/statuses/{private_mention['id']}")).status_code == 200
    assert (await ann.get(f"/api/v1/statuses/{private['id']}")).status_code == 404
    # Tenant b: neither via its own host nor with its token on a's host.
    for status in (public, private, direct):
        assert (await carol.get(f"/api/v1/statuses/{status['id']}")).status_code == 404
        assert (await world.anon_b.get(f"/api/v1/statuses/{status['id']}")).status_code == 404
        carol_on_a = world.client(world.a, carol.token)
        assert (await carol_on_a.get(f"/api/v1/statuses/{status['id']}")).status_code == 401
    # Blocked by the author: 404 even for public.
    async with world.c.db.write() as conn:
        await conn.execute(blocks.insert().values(tenant_id=world.a.id, id=new_id(), account_id=int(alice.account_id),
                                                  target_account_id=int(bob.account_id), created_at=utcnow()))
    assert (await bob.get(f"/api/v1/statuses/{public['id']}")).status_code == 404
    # Several at once: only what the viewer may see, in the order asked.
    r = await ann.get("/api/v1/statuses", params=[("id[]", direct["id"]), ("id[]", private["id"]),
                                                  ("id[]", public["id"]), ("id[]", "12345")])
    assert [s["id"] for s in r.json()] == [direct["id"], public["id"]]


async def test_reply_threads_and_context(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    root = await post(alice, "root")
    reply = await post(bob, "reply", in_reply_to_id=root["id"])
    assert reply["in_reply_to_id"] == root["id"] and reply["in_reply_to_account_id"] == alice.account_id
    nested = await post(alice, "nested", in_reply_to_id=reply["id"])
    hidden = await post(alice, "only me and followers", in_reply_to_id=root["id"], visibility="private")
    second = await post(bob, "second branch", in_reply_to_id=root["id"])
    assert (await alice.get(f"/api/v1/statuses/{root['id']}")).json()["replies_count"] == 3
    ctx = (await bob.get(f"/api/v1/statuses/{root['id']}/context")).json()
    assert ctx["ancestors"] == []
    assert [s["id"] for s in ctx["descendants"]] == [reply["id"], nested["id"], second["id"]]
    own = (await alice.get(f"/api/v1/statuses/{root['id']}/context")).json()
    assert [s["id"] for s in own["descendants"]] == [reply["id"], nested["id"], hidden["id"], second["id"]]
    up = (await world.anon_a.get(f"/api/v1/statuses/{nested['id']}/context")).json()
    assert [s["id"] for s in up["ancestors"]] == [root["id"], reply["id"]] and up["descendants"] == []
    async with world.c.db.read() as conn:
        conv = (await conn.execute(select(statuses.c.conversation_id).where(
            statuses.c.tenant_id == world.a.id, statuses.c.id == int(nested["id"])))).scalar()
    assert conv == int(root["id"])
    # Replies by people the viewer blocks or mutes stay out of the thread.
    async with world.c.db.write() as conn:
        await conn.execute(mutes.insert().values(tenant_id=world.a.id, id=new_id(), account_id=int(alice.account_id),
                                                 target_account_id=int(bob.account_id), created_at=utcnow(),
                                                 hide_notifications=True))
    muted = (await alice.get(f"/api/v1/statuses/{root['id']}/context")).json()
    assert [s["id"] for s in muted["descendants"]] == [hidden["id"]]
    # Replying to what you may not see is replying to nothing.
    r = await world.local_bob.post("/api/v1/statuses", json={"status": "x", "in_reply_to_id": hidden["id"]})
    assert r.status_code == 404 and "error" in r.json()
    assert (await world.local_carol.get(f"/api/v1/statuses/{root['id']}/context")).status_code == 404


async def test_edit_history_and_source(world: World) -> None:
    alice = world.local_alice
    s = await post(alice, "first #one", spoiler_text="")
    r = await alice.get(f"/api/v1/statuses/{s['id']}/history")
    assert r.status_code == 200 and len(r.json()) == 1
    r = await alice.put(f"/api/v1/statuses/{s['id']}", json={"status": "second #two @bob", "spoiler_text": "cw"})
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["edited_at"] and "second" in edited["content"] and edited["spoiler_text"] == "cw"
    assert [t["name"] for t in edited["tags"]] == ["two"] and edited["mentions"][0]["username"] == "bob"
    await alice.put(f"/api/v1/statuses/{s['id']}", json={"status": "third"})
    history = (await world.anon_a.get(f"/api/v1/statuses/{s['id']}/history")).json()
    assert [("first" in h["content"], "second" in h["content"], "third" in h["content"]) for h in history] == [
        (True, False, False), (False, True, False), (False, False, True)]
    assert history[0]["account"]["id"] == alice.account_id and history[1]["spoiler_text"] == "cw"
    assert (await alice.get(f"/api/v1/statuses/{s['id']}/source")).json() == {
        "id": s["id"], "text": "third", "spoiler_text": ""}
    assert await queued(world, "status.edited", s["id"])
    # Not yours: 404; another tenant: 404.
    assert (await world.local_bob.put(f"/api/v1/statuses/{s['id']}", json={"status": "mine"})).status_code == 404
    # Whoever may see a status may see its source (as in Mastodon); another tenant may not.
    assert (await world.local_bob.get(f"/api/v1/statuses/{s['id']}/source")).json()["text"] == "third"
    assert (await world.local_carol.get(f"/api/v1/statuses/{s['id']}/source")).status_code == 404
    assert (await world.local_carol.put(f"/api/v1/statuses/{s['id']}", json={"status": "x"})).status_code == 404
    assert (await world.local_carol.get(f"/api/v1/statuses/{s['id']}/history")).status_code == 404
    r = await alice.put(f"/api/v1/statuses/{s['id']}", json={"status": "x" * 501})
    assert r.status_code == 422 and "error" in r.json()


async def test_delete_returns_source_and_undoes_counters(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    root = await post(alice, "root")
    media = await add_media(world, bob)
    reply = await post(bob, "bye @alice", in_reply_to_id=root["id"], media_ids=[media])
    assert reply["media_attachments"][0]["url"] == f"http://{world.a.web_domain}/system/media/a.png"
    assert (await world.local_carol.delete(f"/api/v1/statuses/{reply['id']}")).status_code == 404
    assert (await alice.delete(f"/api/v1/statuses/{reply['id']}")).status_code == 404
    r = await bob.delete(f"/api/v1/statuses/{reply['id']}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["text"] == "bye @alice" and body["id"] == reply["id"] and len(body["media_attachments"]) == 1
    assert (await bob.get(f"/api/v1/statuses/{reply['id']}")).status_code == 404
    assert (await bob.delete(f"/api/v1/statuses/{reply['id']}")).status_code == 404
    assert (await alice.get(f"/api/v1/statuses/{root['id']}")).json()["replies_count"] == 0
    removed = await queued(world, "status.removed", reply["id"])
    assert removed and removed[0]["account_id"] == int(bob.account_id)
    async with world.c.db.read() as conn:
        count = (await conn.execute(select(accounts.c.statuses_count).where(
            accounts.c.tenant_id == world.a.id, accounts.c.id == int(bob.account_id)))).scalar()
    assert count == 0
    # Delete and redraft: the media can be used again.
    again = await post(bob, "redraft", media_ids=[media])
    assert again["media_attachments"][0]["id"] == media
    # Unless it is deleted with the status.
    r = await bob.delete(f"/api/v1/statuses/{again['id']}", params={"delete_media": "true"})
    assert r.status_code == 200 and r.json()["media_attachments"][0]["id"] == media
    r = await bob.post("/api/v1/statuses", json={"status": "x", "media_ids": [media]})
    assert r.status_code == 422


async def test_media_attachments(world: World) -> None:
    alice = world.local_alice
    mine = [await add_media(world, alice, f"media/{i}.png") for i in range(5)]
    s = await post(alice, "", media_ids=[mine[1], mine[0]])
    assert [m["id"] for m in s["media_attachments"]] == [mine[1], mine[0]]
    assert s["media_attachments"][0]["description"] == "a cat" and s["media_attachments"][0]["type"] == "image"
    # Already attached, too many, someone else's, unknown.
    bobs = await add_media(world, world.local_bob)
    for ids in ([mine[0]], mine[:5], [bobs], ["999"]):
        r = await alice.post("/api/v1/statuses", json={"status": "x", "media_ids": ids})
        assert r.status_code == 422 and "error" in r.json(), ids
    # Media still being processed (no file yet) waits.
    pending = await add_media(world, alice, "media/p.png")
    async with world.c.db.write() as conn:
        await conn.execute(update(media_attachments).where(media_attachments.c.tenant_id == world.a.id,
                                                           media_attachments.c.id == int(pending))
                           .values(file_path=None))
    r = await alice.post("/api/v1/statuses", json={"status": "x", "media_ids": [pending]})
    assert r.status_code == 422 and "processing" in r.json()["error"]
    async with world.c.db.read() as conn:
        owner = (await conn.execute(select(media_attachments.c.status_id).where(
            media_attachments.c.tenant_id == world.a.id, media_attachments.c.id == int(bobs)))).scalar()
    assert owner is None


async def test_idempotency_key(world: World) -> None:
    alice = world.local_alice
    headers = {"Idempotency-Key": "abc-123"}
    one = await alice.post("/api/v1/statuses", json={"status": "once"}, headers=headers)
    two = await alice.post("/api/v1/statuses", json={"status": "once"}, headers=headers)
    assert one.status_code == two.status_code == 200 and one.json()["id"] == two.json()["id"]
    other = await world.local_bob.post("/api/v1/statuses", json={"status": "once"}, headers=headers)
    assert other.json()["id"] != one.json()["id"]
    async with world.c.db.read() as conn:
        n = (await conn.execute(select(statuses.c.id).where(statuses.c.tenant_id == world.a.id,
                                                            statuses.c.account_id == int(alice.account_id)))).all()
    assert len(n) == 1
    # After an hour the key is forgotten.
    async with world.c.db.write() as conn:
        await conn.execute(update(idempotency_keys).where(idempotency_keys.c.tenant_id == world.a.id)
                           .values(created_at=utcnow() - timedelta(hours=2)))
    three = await alice.post("/api/v1/statuses", json={"status": "once"}, headers=headers)
    assert three.status_code == 200 and three.json()["id"] != one.json()["id"]


async def test_bad_input(world: World) -> None:
    alice = world.local_alice
    cases: list[dict[str, Any]] = [
        {"status": "x" * 501},
        {"status": ""},
        {"status": "x", "visibility": "everyone"},
        {"status": "x", "in_reply_to_id": "not-an-id"},
        {"status": "x", "language": "not a language"},
        {"status": "x", "poll": {"options": ["only one"], "expires_in": 600}},
        {"status": "x", "poll": {"options": ["a", "b"], "expires_in": 5}},
        {"status": "x", "poll": {"options": ["a", "b"]}},
        {"status": "x", "poll": {"options": ["a", "a"], "expires_in": 600}},
        {"status": "x", "poll": "yes"},
        {"status": "x", "media_ids": "1,2"},
        {"status": ["a"]},
        {"status": "x", "scheduled_at": "not a date"},
    ]
    for body in cases:
        r = await alice.post("/api/v1/statuses", json=body)
        assert r.status_code == 422 and "error" in r.json(), (body, r.text)
    r = await alice.post("/api/v1/statuses", json={"status": "x", "in_reply_to_id": "12345"})
    assert r.status_code == 404 and "error" in r.json()
    # Links count as 23 characters, so a long link fits.
    r = await alice.post("/api/v1/statuses", json={"status": "x" * 470 + " https://example.com/" + "y" * 100})
    assert r.status_code == 200, r.text
    assert (await world.anon_a.post("/api/v1/statuses", json={"status": "x"})).status_code == 401
    r = await alice.get("/api/v1/statuses/abc")
    assert r.status_code == 404 and "error" in r.json()
    r = await alice.post("/api/v1/statuses", content=b"{oops", headers={"content-type": "application/json"})
    assert r.status_code == 400
    r = await alice.get("/api/v1/statuses", params={"id[]": "nope"})
    assert r.status_code == 422
    read_only = await world.person(world.a, "reader", scopes="read")
    r = await read_only.post("/api/v1/statuses", json={"status": "x"})
    assert r.status_code == 403 and "error" in r.json()
    r = await alice.post(f"/api/v1/statuses/{(await post(alice))['id']}/translate")
    assert r.status_code == 503 and r.json()["error"] == "Translation is not available on this server"


async def test_mentions_rows_and_tenant_scoped_resolution(world: World) -> None:
    alice = world.local_alice
    # A same-named account on tenant b must never be mentioned from tenant a.
    await world.person(world.b, "bob2")
    s = await post(alice, f"@bob2 @bob@{world.a.domain} hi")
    async with world.c.db.read() as conn:
        rows = (await conn.execute(select(mentions.c.account_id).where(
            mentions.c.tenant_id == world.a.id, mentions.c.status_id == int(s["id"])))).all()
    assert [r.account_id for r in rows] == [int(world.local_bob.account_id)]
    assert "@bob2" in s["content"] and "@<span>bob2" not in s["content"]


async def test_edit_media_and_its_description(world: World) -> None:
    alice = world.local_alice
    first, second = await add_media(world, alice, "media/1.png"), await add_media(world, alice, "media/2.png")
    s = await post(alice, "pics", media_ids=[first])
    r = await alice.put(f"/api/v1/statuses/{s['id']}", json={
        "status": "pics", "media_ids": [second, first],
        "media_attributes": [{"id": first, "description": "now described", "focus": "0.5,-0.25"}]})
    assert r.status_code == 200, r.text
    media = r.json()["media_attachments"]
    assert [m["id"] for m in media] == [second, first]
    assert media[1]["description"] == "now described" and media[1]["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    history = (await alice.get(f"/api/v1/statuses/{s['id']}/history")).json()
    assert [len(h["media_attachments"]) for h in history] == [1, 2]
    # Dropping one detaches it; text-only edits keep the media.
    r = await alice.put(f"/api/v1/statuses/{s['id']}", json={"status": "one pic", "media_ids": [second]})
    assert [m["id"] for m in r.json()["media_attachments"]] == [second]
    r = await alice.put(f"/api/v1/statuses/{s['id']}", json={"status": "still one pic"})
    assert [m["id"] for m in r.json()["media_attachments"]] == [second]
    # A new thumbnail, as Mastodon.py sends it (a data: URI).
    import base64
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(png, "PNG")
    uri = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    before = r.json()["media_attachments"][0]
    r = await alice.put(f"/api/v1/statuses/{s['id']}", json={
        "status": "new thumb", "media_attributes": [{"id": second, "thumbnail": uri}]})
    assert r.status_code == 200, r.text
    after = r.json()["media_attachments"][0]
    assert after["preview_url"] != before["preview_url"] and after["meta"]["small"]["width"] == 32
    assert after["blurhash"]
    for attrs in ([{"id": first, "description": "not on the post"}], [{"description": "no id"}],
                  [{"id": second, "focus": "left"}], ["nonsense"],
                  [{"id": second, "thumbnail": "data:image/png;base64,bm90IGFuIGltYWdl"}],
                  [{"id": second, "thumbnail": "https://example.com/x.png"}]):
        r = await alice.put(f"/api/v1/statuses/{s['id']}", json={"status": "x", "media_attributes": attrs})
        assert r.status_code == 422 and "error" in r.json(), attrs


async def test_sensitized_account_posts_media_as_sensitive(world: World) -> None:
    alice = world.local_alice
    r = await world.admin_ann.post(f"/api/v1/admin/accounts/{alice.account_id}/action", json={"type": "sensitive"})
    assert r.status_code == 200, r.text
    with_media = await post(alice, "look", media_ids=[await add_media(world, alice, "media/s.png")], sensitive=False)
    assert with_media["sensitive"] is True
    text_only = await post(alice, "just words")
    assert text_only["sensitive"] is False
