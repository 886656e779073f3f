"""Inbound Create/Update/Delete of statuses, as a Mastodon client sees them
afterwards: home timelines, single statuses, notifications, threads, polls,
edit history; visibility from addressing; bad input stores nothing; tenant
isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from steward.core.clock import utcnow
from steward.db.tables import jobs, polls, statuses
from tests.federation.peer_notes import EVIL, PUBLIC, REMOTE, Peer, actor_uri
from tests.schema import assert_matches
from tests.world import World


@pytest.fixture
async def peer(world: World, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Peer]:
    p = Peer(world)
    monkeypatch.setattr(world.c, "transport", p.transport)
    yield p
    await p.forget_jobs()


async def stored(world: World, uri: str, tenant: Any = None) -> dict[str, Any] | None:
    async with world.c.db.read() as conn:
        row = (await conn.execute(select(statuses).where(
            statuses.c.tenant_id == (tenant or world.a).id, statuses.c.uri == uri))).first()
    return dict(row._mapping) if row is not None else None


async def count_statuses(world: World, tenant: Any = None) -> int:
    async with world.c.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(statuses).where(
            statuses.c.tenant_id == (tenant or world.a).id, statuses.c.local.is_(False)))).scalar() or 0)


async def no_stuck_jobs(world: World) -> None:
    """Every inbox job finished: nothing failed and waits to be retried."""
    async with world.c.db.read() as conn:
        left = (await conn.execute(select(jobs.c.kind, jobs.c.last_error).where(
            jobs.c.tenant_id.in_([world.a.id, world.b.id]), jobs.c.kind.in_(["ap.inbox", "ap.resolve_parent"])))
        ).all()
    assert left == []


async def home(person: Any) -> list[dict[str, Any]]:
    r = await person.get("/api/v1/timelines/home")
    assert r.status_code == 200
    return list(r.json())


async def test_followed_author_public_note(world: World, peer: Peer) -> None:
    await peer.follow_rob(world.local_alice)
    note = peer.note(content="<p>Hi <a href='https://remote.example/tags/cats'>#<span>cats</span></a> :blob:"
                             "<script>alert(1)</script></p>",
                     summary="careful", sensitive=True, contentMap={"fr": "<p>Salut</p>"},
                     tag=[{"type": "Hashtag", "name": "#Cats", "href": f"{REMOTE}/tags/cats"},
                          {"type": "Emoji", "name": ":blob:",
                           "icon": {"type": "Image", "url": f"{REMOTE}/emoji/blob.png"}}],
                     attachment=[{"type": "Document", "mediaType": "image/png", "url": f"{REMOTE}/m/1.png",
                                  "name": "a cat", "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
                                  "width": 400, "height": 200, "focalPoint": [0.5, -0.25]}])
    await peer.send(peer.create(note))
    timeline = await home(world.local_alice)
    assert len(timeline) == 1
    shown = timeline[0]
    assert_matches("Status", shown)
    assert shown["uri"] == note["id"] and shown["url"] == note["url"]
    assert shown["account"]["acct"] == "rob@remote.example"
    assert "<script>" not in shown["content"] and "Hi" in shown["content"]
    assert shown["spoiler_text"] == "careful" and shown["sensitive"] is True
    assert shown["language"] == "fr" and shown["visibility"] == "public"
    assert [t["name"] for t in shown["tags"]] == ["cats"]
    assert shown["emojis"][0]["shortcode"] == "blob"
    assert shown["emojis"][0]["url"] == f"{REMOTE}/emoji/blob.png"
    media = shown["media_attachments"][0]
    assert media["type"] == "image" and media["remote_url"] == f"{REMOTE}/m/1.png"
    assert media["url"] == f"{REMOTE}/m/1.png" and media["description"] == "a cat"
    assert media["meta"]["original"]["width"] == 400 and media["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert shown["created_at"].startswith("2026-11-29T10:00:00")
    # The same object in another Create is not stored twice.
    await peer.send({**peer.create(note), "id": f"{note['id']}/activity-again"})
    assert len(await home(world.local_alice)) == 1 and await count_statuses(world) == 1
    # bob follows nobody: not in his home; but anyone may open a public status.
    assert await home(world.local_bob) == []
    r = await world.anon_a.get(f"/api/v1/statuses/{shown['id']}")
    assert r.status_code == 200 and r.json()["uri"] == note["id"]
    await no_stuck_jobs(world)


async def test_unsolicited_note_is_not_stored(world: World, peer: Peer) -> None:
    # Nobody here follows eve, she mentions nobody here and replies to nothing of ours.
    await peer.send(peer.create(peer.note("eve", content="<p>spam</p>")))
    assert await count_statuses(world) == 0
    await no_stuck_jobs(world)


async def test_direct_message_to_mentioned_only(world: World, peer: Peer) -> None:
    alice = peer.local("alice")
    note = peer.note("eve", content="<p>@alice secret</p>", visibility="direct", mention=[alice])
    await peer.send(peer.create(note))
    row = await stored(world, note["id"])
    assert row is not None and row["visibility"] == "direct"
    notes = (await world.local_alice.get("/api/v1/notifications")).json()
    assert [n["type"] for n in notes] == ["mention"]
    assert_matches("Notification", notes[0])
    assert notes[0]["status"]["visibility"] == "direct"
    assert notes[0]["status"]["mentions"][0]["acct"] == "alice"
    sid = notes[0]["status"]["id"]
    assert (await world.local_alice.get(f"/api/v1/statuses/{sid}")).status_code == 200
    assert (await world.local_bob.get(f"/api/v1/statuses/{sid}")).status_code == 404
    assert (await world.anon_a.get(f"/api/v1/statuses/{sid}")).status_code == 404
    conversations = (await world.local_alice.get("/api/v1/conversations")).json()
    assert [c["last_status"]["id"] for c in conversations] == [sid]
    # Addressed to alice in `to` without a Mention tag: she may see it, and is not notified.
    quiet = peer.note("eve", content="<p>quiet</p>", visibility="direct", mention=[alice], tag=[])
    await peer.send(peer.create(quiet))
    quiet_row = await stored(world, quiet["id"])
    assert quiet_row is not None
    assert (await world.local_alice.get(f"/api/v1/statuses/{quiet_row['id']}")).status_code == 200
    assert len((await world.local_alice.get("/api/v1/notifications")).json()) == 1


async def test_followers_only_visible_to_followers(world: World, peer: Peer) -> None:
    await peer.follow_rob(world.local_alice)
    note = peer.note(content="<p>friends only</p>", visibility="private")
    await peer.send(peer.create(note))
    timeline = await home(world.local_alice)
    assert [s["visibility"] for s in timeline] == ["private"]
    sid = timeline[0]["id"]
    assert (await world.local_bob.get(f"/api/v1/statuses/{sid}")).status_code == 404
    assert (await world.anon_a.get(f"/api/v1/statuses/{sid}")).status_code == 404
    # Nobody boosts someone else's followers-only post.
    assert (await world.local_alice.post(f"/api/v1/statuses/{sid}/reblog")).status_code in {403, 422}


async def test_reply_to_local_status_and_fetched_thread(world: World, peer: Peer) -> None:
    r = await world.local_alice.post("/api/v1/statuses", data={"status": "question for all"})
    mine = r.json()
    reply = peer.note("eve", content="<p>an answer</p>", inReplyTo=mine["uri"])
    await peer.send(peer.create(reply))
    context = (await world.local_alice.get(f"/api/v1/statuses/{mine['id']}/context")).json()
    assert [s["uri"] for s in context["descendants"]] == [reply["id"]]
    assert context["descendants"][0]["in_reply_to_id"] == mine["id"]
    assert context["descendants"][0]["in_reply_to_account_id"] == world.local_alice.account_id
    assert (await world.local_alice.get(f"/api/v1/statuses/{mine['id']}")).json()["replies_count"] == 1
    # A reply whose parents are not stored: they are fetched from their server, up the chain.
    await peer.follow_rob(world.local_bob)
    root = peer.note("eve", content="<p>root</p>")
    middle = peer.note("eve", content="<p>middle</p>", inReplyTo=root["id"])
    leaf = peer.note("rob", content="<p>leaf</p>", inReplyTo=middle["id"])
    peer.serve(root)
    peer.serve(middle)
    await peer.send(peer.create(leaf))
    leaf_row = await stored(world, leaf["id"])
    assert leaf_row is not None
    context = (await world.local_bob.get(f"/api/v1/statuses/{leaf_row['id']}/context")).json()
    assert [s["uri"] for s in context["ancestors"]] == [root["id"], middle["id"]]
    assert_matches("Context", context)
    await no_stuck_jobs(world)


async def test_thread_fetch_is_bounded(world: World, peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    from steward.federation import notes

    monkeypatch.setattr(notes, "MAX_THREAD_DEPTH", 1)
    await peer.follow_rob(world.local_bob)
    first = peer.note("eve", content="<p>1</p>")
    second = peer.note("eve", content="<p>2</p>", inReplyTo=first["id"])
    third = peer.note("rob", content="<p>3</p>", inReplyTo=second["id"])
    peer.serve(first)
    peer.serve(second)
    await peer.send(peer.create(third))
    assert await stored(world, second["id"]) is not None
    assert await stored(world, first["id"]) is None
    # A parent that cannot be fetched leaves the reply stored, unlinked.
    orphan = peer.note("rob", content="<p>orphan</p>", inReplyTo=f"{REMOTE}/users/eve/statuses/404")
    await peer.send(peer.create(orphan))
    row = await stored(world, orphan["id"])
    assert row is not None and row["in_reply_to_id"] is None
    await no_stuck_jobs(world)


async def test_article_is_converted(world: World, peer: Peer) -> None:
    await peer.follow_rob(world.local_alice)
    article = peer.note(content="<p>long body</p>", summary="abstract", name="A <b>Title</b>")
    article.update(type="Article", url=f"{REMOTE}/blog/post-1")
    await peer.send(peer.create(article))
    shown = (await home(world.local_alice))[0]
    assert_matches("Status", shown)
    assert "<h2>A &lt;b&gt;Title&lt;/b&gt;</h2>" in shown["content"]
    assert f'href="{REMOTE}/blog/post-1"' in shown["content"] and "long body" not in shown["content"]
    assert shown["spoiler_text"] == ""


def question(peer: Peer, counts: tuple[int, int], **extra: Any) -> dict[str, Any]:
    ends = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = peer.note(content="<p>tea or coffee?</p>", endTime=ends, votersCount=sum(counts),
                    oneOf=[{"type": "Note", "name": "tea", "replies": {"type": "Collection", "totalItems": counts[0]}},
                           {"type": "Note", "name": "coffee",
                            "replies": {"type": "Collection", "totalItems": counts[1]}}], **extra)
    doc["type"] = "Question"
    return doc


async def test_remote_poll_and_its_update(world: World, peer: Peer) -> None:
    await peer.follow_rob(world.local_alice)
    q = question(peer, (3, 1))
    await peer.send(peer.create(q))
    shown = (await home(world.local_alice))[0]
    assert_matches("Status", shown)
    poll = shown["poll"]
    assert [o["title"] for o in poll["options"]] == ["tea", "coffee"]
    assert [o["votes_count"] for o in poll["options"]] == [3, 1] and poll["votes_count"] == 4
    assert poll["multiple"] is False and poll["expired"] is False
    # New counts: no edit, the poll shows them.
    await peer.send(peer.activity("Update", question(peer, (5, 2), id=q["id"], url=q["url"])))
    again = (await world.local_alice.get(f"/api/v1/statuses/{shown['id']}")).json()
    assert [o["votes_count"] for o in again["poll"]["options"]] == [5, 2]
    assert again["edited_at"] is None


async def test_remote_votes_on_our_poll(world: World, peer: Peer) -> None:
    r = await world.local_alice.post("/api/v1/statuses", json={
        "status": "tea or coffee?", "poll": {"options": ["tea", "coffee"], "expires_in": 3600}})
    mine = r.json()

    def vote(author: str, choice: str) -> dict[str, Any]:
        return peer.create(peer.note(author, content="", name=choice, inReplyTo=mine["uri"],
                                     to=[peer.local("alice")], cc=[]))

    await peer.send(vote("rob", "coffee"))
    poll = (await world.local_alice.get(f"/api/v1/polls/{mine['poll']['id']}")).json()
    assert [o["votes_count"] for o in poll["options"]] == [0, 1] and poll["votes_count"] == 1
    # The new counts are to go out as an Update of the Question.
    async with world.c.db.read() as conn:
        queued = (await conn.execute(select(jobs.c.payload).where(
            jobs.c.tenant_id == world.a.id, jobs.c.kind == "ap.outbox"))).scalars().all()
    assert [p["event"] for p in queued if p["event"] == "poll.updated"] == ["poll.updated"]
    # One choice per voter on a single-choice poll; unknown options do not count.
    await peer.send(vote("rob", "tea"))
    await peer.send(vote("eve", "milk"))
    poll = (await world.local_alice.get(f"/api/v1/polls/{mine['poll']['id']}")).json()
    assert poll["votes_count"] == 1
    # A vote is not a status.
    assert await count_statuses(world) == 0
    # Not after the end.
    async with world.c.db.write() as conn:
        await conn.execute(update(polls).where(polls.c.tenant_id == world.a.id,
                                               polls.c.id == int(mine["poll"]["id"]))
                           .values(expires_at=utcnow() - timedelta(minutes=1)))
    await peer.send(vote("eve", "tea"))
    poll = (await world.local_alice.get(f"/api/v1/polls/{mine['poll']['id']}")).json()
    assert poll["votes_count"] == 1 and poll["voters_count"] is None


async def test_update_edits_with_history(world: World, peer: Peer) -> None:
    await peer.follow_rob(world.local_alice)
    note = peer.note(content="<p>first</p>")
    await peer.send(peer.create(note))
    sid = (await home(world.local_alice))[0]["id"]
    assert (await world.local_bob.post(f"/api/v1/statuses/{sid}/reblog")).status_code == 200
    await world.run_jobs()
    # Someone else on the same server cannot edit rob's status.
    forged = peer.activity("Update", {**note, "content": "<p>forged</p>", "attributedTo": actor_uri("eve")},
                           author="eve")
    await peer.send(forged)
    forged2 = peer.activity("Update", {**note, "content": "<p>forged</p>"}, author="eve")
    await peer.send(forged2)
    assert (await world.local_alice.get(f"/api/v1/statuses/{sid}")).json()["content"] == "<p>first</p>"
    edited = {**note, "content": "<p>second</p>", "updated": "2026-11-29T11:00:00Z"}
    await peer.send(peer.activity("Update", edited))
    shown = (await world.local_alice.get(f"/api/v1/statuses/{sid}")).json()
    assert_matches("Status", shown)
    assert shown["content"] == "<p>second</p>" and shown["edited_at"] is not None
    history = (await world.local_alice.get(f"/api/v1/statuses/{sid}/history")).json()
    assert [h["content"] for h in history] == ["<p>first</p>", "<p>second</p>"]
    notes = (await world.local_bob.get("/api/v1/notifications", params={"types[]": "update"})).json()
    assert [(n["type"], n["status"]["id"]) for n in notes] == [("update", sid)]
    # The same Update again changes nothing more; an older version arriving late is not applied.
    await peer.send({**peer.activity("Update", edited)})
    late = {**note, "content": "<p>stale</p>", "updated": "2026-11-29T10:30:00Z"}
    await peer.send(peer.activity("Update", late))
    assert len((await world.local_alice.get(f"/api/v1/statuses/{sid}/history")).json()) == 2
    assert (await world.local_alice.get(f"/api/v1/statuses/{sid}")).json()["content"] == "<p>second</p>"


async def test_delete_by_author_only(world: World, peer: Peer) -> None:
    await peer.follow_rob(world.local_alice)
    note = peer.note(content="<p>soon gone</p>")
    await peer.send(peer.create(note))
    sid = (await home(world.local_alice))[0]["id"]
    assert (await world.local_bob.post(f"/api/v1/statuses/{sid}/reblog")).status_code == 200
    await world.run_jobs()
    await peer.send(peer.activity("Delete", {"id": note["id"], "type": "Tombstone"}, author="eve"))
    assert (await world.local_alice.get(f"/api/v1/statuses/{sid}")).status_code == 200
    await peer.send(peer.activity("Delete", {"id": note["id"], "type": "Tombstone"}))
    assert (await world.local_alice.get(f"/api/v1/statuses/{sid}")).status_code == 404
    assert await home(world.local_alice) == []
    bob_statuses = (await world.local_bob.get(f"/api/v1/accounts/{world.local_bob.account_id}/statuses")).json()
    assert bob_statuses == []
    # A Create of the deleted object again does not bring it back.
    await peer.send({**peer.create(note), "id": f"{note['id']}/again"})
    assert (await world.local_alice.get(f"/api/v1/statuses/{sid}")).status_code == 404
    assert await home(world.local_alice) == []
    await no_stuck_jobs(world)


@pytest.mark.parametrize("mutate", [
    lambda n: n.pop("attributedTo"),
    lambda n: n.update(attributedTo=actor_uri("eve")),
    lambda n: n.update(content=12, tag="nonsense", attachment=[1, {"type": "Document"}], to=5, published=[]),
    lambda n: n.update(content="<p>" + "x" * 200_000 + "</p>"),
    lambda n: n.update(type="Collection"),
    lambda n: n.update(inReplyTo={"nested": ["weird"]}, summary={"a": 1}, sensitive="yes"),
])
async def test_bad_input_stores_nothing_and_does_not_retry(world: World, peer: Peer, mutate: Any) -> None:
    await peer.follow_rob(world.local_alice)
    note = peer.note()
    mutate(note)
    status = await peer.deliver({"id": f"{REMOTE}/users/rob/bad/{id(mutate)}", "type": "Create",
                                 "actor": actor_uri("rob"), "object": note})
    assert status in {202, 400}
    await world.run_jobs()
    rows = await count_statuses(world)
    if rows:
        # Tolerable junk (wrong types) is read as absent, never stored as given.
        shown = (await home(world.local_alice))[0]
        assert_matches("Status", shown)
        assert shown["content"] in {"", "<p>Hello</p>"} and shown["media_attachments"] == []
        assert shown["spoiler_text"] == "" and shown["sensitive"] is False and shown["in_reply_to_id"] is None
        assert shown["mentions"] == [] and shown["tags"] == []
    await no_stuck_jobs(world)


async def test_foreign_object_ids_are_refused(world: World, peer: Peer) -> None:
    await peer.follow_rob(world.local_alice)
    # The inbox refuses an object on another server than its actor's.
    foreign = peer.note(id=f"{EVIL}/statuses/1")
    assert await peer.deliver(peer.create(foreign)) == 400
    # A Note claiming to be written on this server.
    ours = peer.note(id=f"http://{world.a.web_domain}/users/alice/statuses/1")
    assert await peer.deliver(peer.create(ours)) == 400
    await world.run_jobs()
    assert await count_statuses(world) == 0


async def test_tenant_isolation(world: World, peer: Peer) -> None:
    await peer.follow_rob(world.local_carol)
    note = peer.note(content="<p>for b</p>", mention=[peer.local("alice")])
    await peer.send(peer.create(note), tenant=world.b)
    b_row = await stored(world, note["id"], world.b)
    assert b_row is not None
    assert await stored(world, note["id"], world.a) is None
    assert [s["uri"] for s in await home(world.local_carol)] == [note["id"]]
    assert await home(world.local_alice) == []
    assert (await world.local_alice.get("/api/v1/notifications")).json() == []
    assert (await world.local_alice.get(f"/api/v1/statuses/{b_row['id']}")).status_code == 404
    # A Delete sent to a does not touch b's copy.
    await peer.send(peer.activity("Delete", note["id"]), tenant=world.a)
    assert (await world.local_carol.get(f"/api/v1/statuses/{b_row['id']}")).status_code == 200


async def test_public_addressing_variants(world: World, peer: Peer) -> None:
    await peer.follow_rob(world.local_alice)
    unlisted = peer.note(visibility="unlisted")
    as_public = peer.note(to=["as:Public"], cc=[])
    await peer.send(peer.create(unlisted))
    await peer.send(peer.create(as_public))
    shown = {s["uri"]: s["visibility"] for s in await home(world.local_alice)}
    assert shown == {unlisted["id"]: "unlisted", as_public["id"]: "public"}
    assert PUBLIC in unlisted["cc"]


async def test_search_resolves_remote_status_urls(world: World, peer: Peer) -> None:
    public = peer.note("eve", content="<p>findable</p>")
    peer.serve(public)
    # Its HTML address answers with the same document, as Mastodon's does for ActivityPub clients.
    peer.transport.documents[public["url"]] = public
    secret = peer.note("eve", content="<p>followers only</p>", visibility="private")
    peer.serve(secret)
    for q in (public["url"], public["id"]):
        r = await world.local_alice.get("/api/v2/search", params={"q": q, "resolve": "true", "type": "statuses"})
        assert r.status_code == 200
        assert [s["uri"] for s in r.json()["statuses"]] == [public["id"]], q
    assert await count_statuses(world) == 1
    r = await world.local_alice.get("/api/v2/search", params={"q": secret["id"], "resolve": "true"})
    assert r.status_code == 200 and r.json()["statuses"] == []
    r = await world.local_alice.get("/api/v2/search", params={"q": f"{REMOTE}/users/eve/statuses/404",
                                                             "resolve": "true"})
    assert r.status_code == 200 and r.json()["statuses"] == []
    # The function search uses, directly: stored first, then fetched.
    from steward.federation.notes import resolve_status

    assert await resolve_status(world.c, world.a, public["id"]) is not None
    assert await resolve_status(world.c, world.b, "not a url") is None


async def test_rejected_media_is_only_linked(world: World, peer: Peer) -> None:
    r = await world.admin_ann.post("/api/v1/admin/domain_blocks",
                                   data={"domain": "remote.example", "severity": "noop", "reject_media": "true"})
    assert r.status_code == 200, r.text
    await peer.follow_rob(world.local_alice)
    note = peer.note(content="<p>pic :blob:</p>",
                     tag=[{"type": "Emoji", "name": ":blob:", "icon": {"type": "Image", "url": f"{REMOTE}/e.png"}}],
                     attachment=[{"type": "Document", "mediaType": "image/png", "url": f"{REMOTE}/m/2.png"}])
    await peer.send(peer.create(note))
    shown = (await home(world.local_alice))[0]
    assert_matches("Status", shown)
    assert [(m["type"], m["remote_url"]) for m in shown["media_attachments"]] == [("unknown", f"{REMOTE}/m/2.png")]
    assert shown["emojis"] == []
    # Another tenant's policy is its own: b shows the same post's media.
    await peer.follow_rob(world.local_carol)
    await peer.send(peer.create(note), tenant=world.b)
    shown_b = (await home(world.local_carol))[0]
    assert [m["type"] for m in shown_b["media_attachments"]] == ["image"]


async def test_create_naming_its_object_by_id(world: World, peer: Peer) -> None:
    await peer.follow_rob(world.local_alice)
    note = peer.note(content="<p>by reference</p>")
    peer.serve(note)
    await peer.send({"id": f"{note['id']}/activity", "type": "Create", "actor": actor_uri("rob"),
                     "object": note["id"]})
    assert [s["uri"] for s in await home(world.local_alice)] == [note["id"]]
    # Only the actor's own server is asked, and only for its own objects.
    elsewhere = peer.note("mallory", server=EVIL)
    peer.serve(elsewhere)
    await peer.send({"id": f"{REMOTE}/users/rob/c/2", "type": "Create", "actor": actor_uri("rob"),
                     "object": elsewhere["id"]})
    someone_else = peer.note("eve")
    peer.serve(someone_else)
    await peer.send({"id": f"{REMOTE}/users/rob/c/3", "type": "Create", "actor": actor_uri("rob"),
                     "object": someone_else["id"]})
    assert await count_statuses(world) == 1
    assert [s.url for s in peer.transport.sent if s.url == elsewhere["id"]] == []
