"""Outbound activities about statuses: what is sent, to which inboxes, signed
by whom. Shapes are compared with what Mastodon 4.3 sends for the same action
(ActivityPub::NoteSerializer, CreateSerializer, UpdateSerializer,
DeleteSerializer, UndoAnnounceSerializer, LikeSerializer, VoteSerializer)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from steward.activitypub.transport import FakeTransport
from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import favourites, jobs, poll_votes, polls
from tests.federation.peer_delivery import (
    delivery_jobs,
    follows,
    local_id,
    posted,
    remote,
    remote_status,
)
from tests.world import World

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
def fake(world: World, monkeypatch: pytest.MonkeyPatch) -> FakeTransport:
    transport = FakeTransport()
    monkeypatch.setattr(world.c, "transport", transport)
    return transport


def alice_uri(world: World) -> str:
    return f"http://{world.a.web_domain}/users/alice"


async def post(world: World, **data: object) -> dict[str, object]:
    r = await world.local_alice.post("/api/v1/statuses", data=data)
    assert r.status_code == 200, r.text
    await world.run_jobs()
    return r.json()


async def test_public_post_is_a_create_shaped_like_mastodons(world: World, fake: FakeTransport) -> None:
    rob = await remote(world, world.a, "rob", "one.example")
    rae = await remote(world, world.a, "rae", "one.example")  # same server: one shared inbox
    sam = await remote(world, world.a, "sam", "two.example", shared=False)
    mo = await remote(world, world.a, "mo", "three.example")  # mentioned, not a follower
    for who in (rob, rae, sam):
        await follows(world, world.a, who, "alice")
    status = await post(world, status="Hi @mo@three.example #Birds", language="en", spoiler_text="cw")
    sent = posted(fake)
    assert sorted(url for url, _, _ in sent) == ["https://one.example/inbox", "https://three.example/inbox",
                                                 sam.inbox]
    assert {key for _, _, key in sent} == {f"{alice_uri(world)}#main-key"}
    create = sent[0][1]
    assert len({orjson_key(a) for _, a, _ in sent}) == 1  # the same activity everywhere
    me = alice_uri(world)
    uri = f"{me}/statuses/{status['id']}"
    assert create["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert {k: create[k] for k in ("id", "type", "actor", "to", "cc")} == {
        "id": f"{uri}/activity", "type": "Create", "actor": me, "to": [PUBLIC], "cc": [f"{me}/followers", mo.uri]}
    assert create["published"] == create["object"]["published"]
    note = create["object"]
    assert note["id"] == uri and note["type"] == "Note" and note["attributedTo"] == me
    assert note["url"] == f"http://{world.a.web_domain}/@alice/{status['id']}"
    assert note["to"] == [PUBLIC] and note["cc"] == [f"{me}/followers", mo.uri]
    assert note["summary"] == "cw" and note["sensitive"] is True
    assert note["inReplyTo"] is None and note["inReplyToAtomUri"] is None and note["atomUri"] == uri
    assert note["contentMap"] == {"en": note["content"]} and "Birds" in note["content"]
    assert note["conversation"].startswith(f"tag:{world.a.domain},") and \
        note["conversation"].endswith(":objectType=Conversation")
    assert note["attachment"] == []
    assert {"type": "Mention", "href": mo.uri, "name": "@mo@three.example"} in note["tag"]
    assert {"type": "Hashtag", "href": f"http://{world.a.web_domain}/tags/birds", "name": "#birds"} in note["tag"]
    assert note["published"].endswith("Z") and "updated" not in note


def orjson_key(activity: dict[str, object]) -> str:
    return str(activity["id"])


async def test_unlisted_private_and_direct_addressing(world: World, fake: FakeTransport) -> None:
    follower = await remote(world, world.a, "fol", "fans.example")
    stranger = await remote(world, world.a, "str", "strangers.example")
    mentioned = await remote(world, world.a, "men", "mentions.example")
    await follows(world, world.a, follower, "alice")
    me = alice_uri(world)

    await post(world, status="quiet", visibility="unlisted")
    [(url, create, _)] = posted(fake)
    assert url == "https://fans.example/inbox"
    assert create["to"] == [f"{me}/followers"] and create["cc"] == [PUBLIC]

    await post(world, status="friends only @men@mentions.example", visibility="private")
    sent = posted(fake)
    # Followers' servers and the mentioned account; never an inbox with neither.
    assert sorted(url for url, _, _ in sent) == ["https://fans.example/inbox", "https://mentions.example/inbox"]
    create = sent[0][1]
    assert create["to"] == [f"{me}/followers"] and create["cc"] == [mentioned.uri]
    assert PUBLIC not in create["object"]["to"] + create["object"]["cc"]

    await post(world, status="psst @men@mentions.example", visibility="direct")
    sent = posted(fake)
    assert [url for url, _, _ in sent] == ["https://mentions.example/inbox"]
    assert sent[0][1]["to"] == [mentioned.uri] and sent[0][1]["cc"] == []
    assert all("strangers.example" not in url for url, _, _ in sent) and stranger.id


async def test_no_remote_audience_queues_nothing(world: World, fake: FakeTransport) -> None:
    await post(world, status="just us here")
    await world.local_bob.post("/api/v1/statuses", data={"status": "hi @alice"})
    await world.run_jobs()
    assert posted(fake) == []
    assert await delivery_jobs(world, world.a) == []


async def test_reply_to_a_remote_post_reaches_its_author(world: World, fake: FakeTransport) -> None:
    author = await remote(world, world.a, "auth", "far.example")
    parent = await remote_status(world, world.a, author)
    status = await post(world, status="good point", in_reply_to_id=str(parent))
    [(url, create, _)] = posted(fake)
    assert url == "https://far.example/inbox"
    assert create["object"]["inReplyTo"] == f"{author.uri}/statuses/1"
    assert create["object"]["inReplyToAtomUri"] == f"{author.uri}/statuses/1"
    assert status["in_reply_to_id"] == str(parent)
    # A followers-only reply does not go to a parent author who does not follow.
    await post(world, status="between us", in_reply_to_id=str(parent), visibility="private")
    assert posted(fake) == []


async def test_edit_and_delete_go_to_everyone_who_got_it(world: World, fake: FakeTransport) -> None:
    follower = await remote(world, world.a, "fol", "fans.example")
    liker = await remote(world, world.a, "lik", "likers.example")
    await follows(world, world.a, follower, "alice")
    status = await post(world, status="first")
    posted(fake)
    async with world.c.db.write() as conn:  # a remote account favourited it
        await conn.execute(favourites.insert().values(tenant_id=world.a.id, id=new_id(), account_id=liker.id,
                                                      status_id=int(status["id"]), created_at=utcnow()))
    me = alice_uri(world)
    uri = f"{me}/statuses/{status['id']}"
    r = await world.local_alice.put(f"/api/v1/statuses/{status['id']}", data={"status": "second"})
    assert r.status_code == 200
    await world.run_jobs()
    sent = posted(fake)
    assert sorted(url for url, _, _ in sent) == ["https://fans.example/inbox", "https://likers.example/inbox"]
    update = sent[0][1]
    assert update["type"] == "Update" and update["actor"] == me and update["id"].startswith(f"{uri}#updates/")
    assert update["object"]["id"] == uri and "second" in update["object"]["content"]
    assert update["object"]["updated"] == update["published"] and update["to"] == [PUBLIC]

    assert (await world.local_alice.delete(f"/api/v1/statuses/{status['id']}")).status_code == 200
    await world.run_jobs()
    sent = posted(fake)
    assert sorted(url for url, _, _ in sent) == ["https://fans.example/inbox", "https://likers.example/inbox"]
    delete = sent[0][1]
    assert {k: delete[k] for k in ("id", "type", "actor", "to", "object")} == {
        "id": f"{uri}#delete", "type": "Delete", "actor": me, "to": [PUBLIC],
        "object": {"id": uri, "type": "Tombstone", "atomUri": uri}}


async def test_boost_and_unboost(world: World, fake: FakeTransport) -> None:
    follower = await remote(world, world.a, "fol", "fans.example")
    author = await remote(world, world.a, "auth", "far.example")
    await follows(world, world.a, follower, "alice")
    original = await remote_status(world, world.a, author)
    r = await world.local_alice.post(f"/api/v1/statuses/{original}/reblog")
    assert r.status_code == 200
    boost_id = r.json()["id"]
    await world.run_jobs()
    sent = posted(fake)
    me = alice_uri(world)
    assert sorted(url for url, _, _ in sent) == ["https://fans.example/inbox", "https://far.example/inbox"]
    announce = sent[0][1]
    assert {k: announce[k] for k in ("id", "type", "actor", "to", "cc", "object")} == {
        "id": f"{me}/statuses/{boost_id}/activity", "type": "Announce", "actor": me, "to": [PUBLIC],
        "cc": [f"{me}/followers", author.uri], "object": f"{author.uri}/statuses/1"}
    assert (await world.local_alice.post(f"/api/v1/statuses/{original}/unreblog")).status_code == 200
    await world.run_jobs()
    sent = posted(fake)
    assert sorted(url for url, _, _ in sent) == ["https://fans.example/inbox", "https://far.example/inbox"]
    undo = sent[0][1]
    assert {k: undo[k] for k in ("id", "type", "actor", "to")} == {
        "id": f"{me}#announces/{boost_id}/undo", "type": "Undo", "actor": me, "to": [PUBLIC]}
    assert undo["object"]["id"] == announce["id"] and undo["object"]["type"] == "Announce"


async def test_favourite_goes_to_the_author_only(world: World, fake: FakeTransport) -> None:
    follower = await remote(world, world.a, "fol", "fans.example")
    author = await remote(world, world.a, "auth", "far.example")
    await follows(world, world.a, follower, "alice")
    original = await remote_status(world, world.a, author)
    assert (await world.local_alice.post(f"/api/v1/statuses/{original}/favourite")).status_code == 200
    await world.run_jobs()
    me = alice_uri(world)
    [(url, like, key)] = posted(fake)
    assert url == "https://far.example/inbox" and key == f"{me}#main-key"
    assert like["type"] == "Like" and like["actor"] == me and like["object"] == f"{author.uri}/statuses/1"
    assert like["id"].startswith(f"{me}#likes/")
    # Favouriting again changes nothing and sends nothing.
    await world.local_alice.post(f"/api/v1/statuses/{original}/favourite")
    await world.run_jobs()
    assert posted(fake) == []
    assert (await world.local_alice.post(f"/api/v1/statuses/{original}/unfavourite")).status_code == 200
    await world.run_jobs()
    [(url, undo, _)] = posted(fake)
    assert url == "https://far.example/inbox"
    assert undo == {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{like['id']}/undo",
                    "type": "Undo", "actor": me,
                    "object": {k: v for k, v in like.items() if k != "@context"}}
    # A local status favourited sends nothing.
    mine = await post(world, status="local")
    posted(fake)
    await world.local_bob.post(f"/api/v1/statuses/{mine['id']}/favourite")
    await world.run_jobs()
    assert posted(fake) == []


async def test_poll_is_a_question_and_votes_go_to_the_poll_author(world: World, fake: FakeTransport) -> None:
    follower = await remote(world, world.a, "fol", "fans.example")
    await follows(world, world.a, follower, "alice")
    r = await world.local_alice.post("/api/v1/statuses", json={
        "status": "tea or coffee?", "poll": {"options": ["tea", "coffee"], "expires_in": 3600}})
    assert r.status_code == 200, r.text
    await world.run_jobs()
    [(_, create, _)] = posted(fake)
    question = create["object"]
    assert question["type"] == "Question" and question["votersCount"] == 0
    assert question["oneOf"] == [{"type": "Note", "name": "tea", "replies": {"type": "Collection", "totalItems": 0}},
                                 {"type": "Note", "name": "coffee",
                                  "replies": {"type": "Collection", "totalItems": 0}}]
    assert question["endTime"].endswith("Z") and "closed" not in question

    # A local vote on our poll: new counts go out a few minutes later, once.
    poll_id = r.json()["poll"]["id"]
    assert (await world.local_bob.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": ["1"]})).status_code == 200
    assert (await world.admin_ann.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": ["0"]})).status_code == 200
    async with world.c.db.write() as conn:
        waiting = (await conn.execute(select(jobs.c.id).where(
            jobs.c.tenant_id == world.a.id, jobs.c.dedupe_key.like("poll.updated:%")))).all()
        assert len(waiting) == 1
        await conn.execute(jobs.update().where(jobs.c.id == waiting[0].id).values(run_at=utcnow()))
    await world.run_jobs()
    [(url, update, _)] = posted(fake)
    assert url == "https://fans.example/inbox" and update["type"] == "Update"
    assert [o["replies"]["totalItems"] for o in update["object"]["oneOf"]] == [1, 1]
    assert update["object"]["votersCount"] == 2

    # A vote on a remote poll: one Create of a named Note per choice, to its author only.
    author = await remote(world, world.a, "pollster", "polls.example")
    status_id = await remote_status(world, world.a, author, 7)
    remote_poll = new_id()
    async with world.c.db.write() as conn:
        await conn.execute(polls.insert().values(
            tenant_id=world.a.id, id=remote_poll, status_id=status_id, account_id=author.id, options=["x", "y"],
            tallies=[0, 0], multiple=True, votes_count=0, voters_count=0,
            expires_at=utcnow() + timedelta(hours=1), created_at=utcnow()))
        from steward.db.tables import statuses
        await conn.execute(statuses.update().where(statuses.c.tenant_id == world.a.id,
                                                   statuses.c.id == status_id).values(poll_id=remote_poll))
    r = await world.local_alice.post(f"/api/v1/polls/{remote_poll}/votes", json={"choices": ["0", "1"]})
    assert r.status_code == 200, r.text
    await world.run_jobs()
    sent = posted(fake)
    me = alice_uri(world)
    assert [url for url, _, _ in sent] == ["https://polls.example/inbox"] * 2
    async with world.c.db.read() as conn:
        vote_ids = (await conn.execute(select(poll_votes.c.id).where(
            poll_votes.c.poll_id == remote_poll).order_by(poll_votes.c.id))).scalars().all()
    first = sent[0][1]
    assert {k: first[k] for k in ("id", "type", "actor", "to")} == {
        "id": f"{me}#votes/{vote_ids[0]}/activity", "type": "Create", "actor": me, "to": author.uri}
    assert first["object"] == {"id": f"{me}#votes/{vote_ids[0]}", "type": "Note", "name": "x",
                               "attributedTo": me, "inReplyTo": f"{author.uri}/statuses/7", "to": author.uri}
    assert sent[1][1]["object"]["name"] == "y"


async def test_tenant_isolation(world: World, fake: FakeTransport) -> None:
    a_fan = await remote(world, world.a, "fan", "a-fans.example")
    b_fan = await remote(world, world.b, "fan", "b-fans.example")
    await follows(world, world.a, a_fan, "alice")
    await follows(world, world.b, b_fan, "carol")
    await post(world, status="for tenant A's followers")
    sent = posted(fake)
    assert [url for url, _, _ in sent] == ["https://a-fans.example/inbox"]
    assert sent[0][2] == f"http://{world.a.web_domain}/users/alice#main-key"
    r = await world.local_carol.post("/api/v1/statuses", data={"status": "from B"})
    await world.run_jobs()
    sent = posted(fake)
    assert [url for url, _, _ in sent] == ["https://b-fans.example/inbox"]
    assert sent[0][2] == f"http://{world.b.web_domain}/users/carol#main-key"
    # Carol cannot make tenant A send anything by acting on A's status ids.
    mine = await post(world, status="mine")
    posted(fake)
    for action in ("reblog", "favourite"):
        r = await world.local_carol.post(f"/api/v1/statuses/{mine['id']}/{action}")
        assert r.status_code == 404
    assert (await world.local_carol.delete(f"/api/v1/statuses/{mine['id']}")).status_code == 404
    await world.run_jobs()
    assert posted(fake) == []
    assert await local_id(world, world.a, "alice") != await local_id(world, world.b, "carol")
