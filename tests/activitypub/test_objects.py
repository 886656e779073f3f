"""Statuses as AS2: addressing per visibility, what is served to whom, the
collections, and authorized fetch."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from steward.activitypub import convert
from steward.activitypub.keys import generate_key_pair
from steward.activitypub.rfc9421 import sign_rfc9421
from steward.activitypub.signatures import sign_request
from steward.activitypub.transport import FakeTransport
from steward.federation.objects import load_note_parts
from steward.web.mastodon.serialize_statuses import load_statuses
from tests.world import World

AS2 = {"Accept": "application/activity+json"}
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
REMOTE = "https://remote.example/users/rob"


@functools.cache
def remote_keys() -> tuple[str, str]:
    return generate_key_pair()


def base(world: World) -> str:
    return f"http://{world.a.web_domain}"


async def post(world: World, **data: Any) -> dict[str, Any]:
    r = await world.local_alice.post("/api/v1/statuses", data=data)
    assert r.status_code == 200, r.text
    return r.json()


async def note_of(world: World, status_id: str) -> dict[str, Any]:
    async with world.c.db.read() as conn:
        status = (await load_statuses(conn, world.a.id, [int(status_id)]))[int(status_id)]
        parts = await load_note_parts(conn, world.a, base(world), [status])
    return convert.status_to_note(base(world), world.a, parts[status.id])


async def test_addressing_per_visibility(world: World) -> None:
    alice, bob = f"{base(world)}/users/alice", f"{base(world)}/users/bob"
    followers = f"{alice}/followers"
    expected = {
        "public": ([PUBLIC], [followers, bob]),
        "unlisted": ([followers], [PUBLIC, bob]),
        "private": ([followers], [bob]),
        "direct": ([bob], []),
    }
    for visibility, (to, cc) in expected.items():
        status = await post(world, status=f"hi @bob #Topic {visibility}", visibility=visibility)
        note = await note_of(world, status["id"])
        assert (note["to"], note["cc"]) == (to, cc), visibility
        assert {"type": "Mention", "href": bob, "name": f"@bob@{world.a.domain}"} in note["tag"]
        assert {"type": "Hashtag", "href": f"{base(world)}/tags/topic", "name": "#topic"} in note["tag"]


async def test_note_served_for_public_and_unlisted_only(world: World) -> None:
    parent = await post(world, status="parent", language="en")
    reply = await post(world, status="the reply", spoiler_text="cw", in_reply_to_id=parent["id"], language="en")
    r = await world.anon_a.get(f"/users/alice/statuses/{reply['id']}", headers=AS2)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/activity+json")
    note = r.json()
    assert note["type"] == "Note" and note["id"] == reply["uri"] and note["attributedTo"].endswith("/users/alice")
    assert note["inReplyTo"] == parent["uri"] and note["summary"] == "cw" and note["sensitive"] is True
    assert note["contentMap"] == {"en": note["content"]} and "the reply" in note["content"]
    assert note["published"].endswith("Z") and note["url"] == reply["url"]
    same = await world.anon_a.get(f"/@alice/{reply['id']}", headers=AS2)
    assert same.json()["id"] == note["id"]
    html = await world.anon_a.get(f"/@alice/{reply['id']}")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html") and "the reply" in html.text
    unlisted = await post(world, status="quiet", visibility="unlisted")
    assert (await world.anon_a.get(f"/users/alice/statuses/{unlisted['id']}", headers=AS2)).status_code == 200
    for visibility in ("private", "direct"):
        hidden = await post(world, status=f"secret @bob {visibility}", visibility=visibility)
        for path in (f"/users/alice/statuses/{hidden['id']}", f"/@alice/{hidden['id']}",
                     f"/users/alice/statuses/{hidden['id']}/activity"):
            r = await world.anon_a.get(path, headers=AS2)
            assert r.status_code == 404 and "error" in r.json(), (visibility, path)
        assert (await world.anon_a.get(f"/@alice/{hidden['id']}")).status_code == 404
    # A status under another account's name is not found.
    assert (await world.anon_a.get(f"/users/bob/statuses/{reply['id']}", headers=AS2)).status_code == 404
    replies = (await world.anon_a.get(f"/users/alice/statuses/{parent['id']}/replies")).json()
    assert replies["first"]["items"] == [reply["uri"]]


async def test_create_announce_and_outbox(world: World) -> None:
    own = await post(world, status="mine")
    bobs = (await world.local_bob.post("/api/v1/statuses", data={"status": "bob's"})).json()
    boost = (await world.local_alice.post(f"/api/v1/statuses/{bobs['id']}/reblog")).json()
    create = (await world.anon_a.get(f"/users/alice/statuses/{own['id']}/activity")).json()
    assert create["type"] == "Create" and create["object"]["id"] == own["uri"] and create["to"] == [PUBLIC]
    announce = (await world.anon_a.get(f"/users/alice/statuses/{boost['id']}/activity")).json()
    assert announce["type"] == "Announce" and announce["object"] == bobs["uri"]
    assert f"{base(world)}/users/bob" in announce["cc"]
    await post(world, status="hidden", visibility="private")
    root = (await world.anon_a.get("/users/alice/outbox")).json()
    assert root["type"] == "OrderedCollection" and root["totalItems"] >= 2
    page = (await world.anon_a.get("/users/alice/outbox", params={"page": "true"})).json()
    kinds = [(i["type"], i["object"] if i["type"] == "Announce" else i["object"]["id"]) for i in page["orderedItems"]]
    assert kinds == [("Announce", bobs["uri"]), ("Create", own["uri"])]


async def test_followers_following_and_featured(world: World) -> None:
    assert (await world.local_bob.post(f"/api/v1/accounts/{world.local_alice.account_id}/follow")).status_code == 200
    root = (await world.anon_a.get("/users/alice/followers")).json()
    assert root["totalItems"] == 1 and root["first"].endswith("?page=1")
    page = (await world.anon_a.get("/users/alice/followers", params={"page": "1"})).json()
    assert page["orderedItems"] == [f"{base(world)}/users/bob"]
    following = (await world.anon_a.get("/users/bob/following", params={"page": "1"})).json()
    assert following["orderedItems"] == [f"{base(world)}/users/alice"]
    await world.local_alice.patch("/api/v1/accounts/update_credentials", data={"hide_collections": "true"})
    hidden = (await world.anon_a.get("/users/alice/followers", params={"page": "1"})).json()
    assert hidden == {"@context": hidden["@context"], "id": f"{base(world)}/users/alice/followers",
                      "type": "OrderedCollection", "totalItems": 1}
    pinned = await post(world, status="pin me")
    assert (await world.local_alice.post(f"/api/v1/statuses/{pinned['id']}/pin")).status_code == 200
    featured = (await world.anon_a.get("/users/alice/collections/featured")).json()
    assert [n["id"] for n in featured["orderedItems"]] == [pinned["uri"]]


def remote_actor() -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/activitystreams"], "id": REMOTE, "type": "Person",
            "preferredUsername": "rob", "inbox": f"{REMOTE}/inbox", "followers": f"{REMOTE}/followers",
            "publicKey": {"id": f"{REMOTE}#main-key", "owner": REMOTE, "publicKeyPem": remote_keys()[1]}}


async def test_authorized_fetch(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTransport({REMOTE: remote_actor()})
    monkeypatch.setattr(world.c, "transport", fake)
    status = await post(world, status="for signed readers")
    paths = ["/users/alice", f"/users/alice/statuses/{status['id']}", "/users/alice/outbox",
             "/users/alice/followers", "/users/alice/collections/featured"]
    # Off: anyone reads.
    for path in paths:
        assert (await world.anon_a.get(path, headers=AS2)).status_code == 200, path
    await world.c.tenants.update_settings(world.a.id, {"authorized_fetch": True})
    for path in paths:
        r = await world.anon_a.get(path, headers=AS2)
        assert r.status_code == 401 and "error" in r.json(), path
    # The HTML page and the instance actor stay readable.
    assert (await world.anon_a.get("/users/alice")).status_code == 200
    assert (await world.anon_a.get("/actor", headers=AS2)).status_code == 200
    for path in paths:
        url = f"{base(world)}{path}"
        headers = sign_request("GET", url, f"{REMOTE}#main-key", remote_keys()[0])
        r = await world.anon_a.get(path, headers={**AS2, **headers})
        assert r.status_code == 200, (path, r.text)
    # The remote actor was fetched once, signed with the tenant's instance actor key, then stored.
    gets = [s for s in fake.sent if s.method == "GET"]
    assert len(gets) == 1 and gets[0].key_id == f"{base(world)}/actor#main-key"
    rfc = sign_rfc9421("GET", f"{base(world)}/users/alice", f"{REMOTE}#main-key", remote_keys()[0])
    assert (await world.anon_a.get("/users/alice", headers={**AS2, **rfc})).status_code == 200
    # Wrong key, wrong path, unknown key: refused.
    other_private, _ = generate_key_pair()
    bad = sign_request("GET", f"{base(world)}/users/alice", f"{REMOTE}#main-key", other_private)
    assert (await world.anon_a.get("/users/alice", headers={**AS2, **bad})).status_code == 401
    moved = sign_request("GET", f"{base(world)}/users/bob", f"{REMOTE}#main-key", remote_keys()[0])
    assert (await world.anon_a.get("/users/alice", headers={**AS2, **moved})).status_code == 401
    unknown = sign_request("GET", f"{base(world)}/users/alice", "https://nowhere.example/u#k", remote_keys()[0])
    assert (await world.anon_a.get("/users/alice", headers={**AS2, **unknown})).status_code == 401
    # Another tenant is not affected by a's setting.
    assert (await world.anon_b.get("/users/carol", headers=AS2)).status_code == 200
