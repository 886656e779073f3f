"""Inbound activities: strict signatures, size and shape checks, deduplication,
and the Follow / Undo Follow handlers with their Accept delivery."""

from __future__ import annotations

import functools
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from steward.activitypub.keys import generate_key_pair
from steward.activitypub.rfc9421 import sign_rfc9421
from steward.activitypub.signatures import sign_request
from steward.activitypub.transport import FakeTransport
from steward.db.tables import accounts, follow_requests, follows, jobs
from tests.world import World

REMOTE = "https://remote.example/users/rob"
KEY_ID = f"{REMOTE}#main-key"


@functools.cache
def remote_keys() -> tuple[str, str]:
    return generate_key_pair()


def remote_actor() -> dict[str, Any]:
    return {"id": REMOTE, "type": "Person", "preferredUsername": "rob", "inbox": f"{REMOTE}/inbox",
            "endpoints": {"sharedInbox": "https://remote.example/inbox"}, "followers": f"{REMOTE}/followers",
            "publicKey": {"id": KEY_ID, "owner": REMOTE, "publicKeyPem": remote_keys()[1]}}


@pytest.fixture
def fake(world: World, monkeypatch: pytest.MonkeyPatch) -> FakeTransport:
    transport = FakeTransport({REMOTE: remote_actor()})
    monkeypatch.setattr(world.c, "transport", transport)
    return transport


def follow(world: World, n: int = 1, target: str = "alice") -> dict[str, Any]:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{REMOTE}/follows/{n}", "type": "Follow",
            "actor": REMOTE, "object": f"http://{world.a.web_domain}/users/{target}"}


async def deliver(world: World, path: str, activity: dict[str, Any], *, tenant: Any = None,
                  private: str | None = None, body: bytes | None = None, rfc9421: bool = False) -> Any:
    tenant = tenant or world.a
    data = body if body is not None else orjson.dumps(activity)
    url = f"http://{tenant.web_domain}{path}"
    signer = sign_rfc9421 if rfc9421 else sign_request
    headers = signer("POST", url, KEY_ID, private or remote_keys()[0], body=data)
    return await world.client(tenant).post(path, content=data, headers={
        **headers, "Content-Type": "application/activity+json"})


async def counts(world: World, username: str) -> int:
    async with world.c.db.read() as conn:
        return int((await conn.execute(select(accounts.c.followers_count).where(
            accounts.c.tenant_id == world.a.id, accounts.c.username == username, accounts.c.domain == ""))).scalar())


async def test_follow_accept_and_undo(world: World, fake: FakeTransport) -> None:
    r = await deliver(world, "/users/alice/inbox", follow(world))
    assert r.status_code == 202, r.text
    # The same activity again is accepted and not stored twice.
    assert (await deliver(world, "/inbox", follow(world))).status_code == 202
    async with world.c.db.read() as conn:
        stored = (await conn.execute(select(func.count()).select_from(jobs).where(
            jobs.c.kind == "ap.inbox", jobs.c.tenant_id == world.a.id))).scalar()
    assert stored == 1
    await world.run_jobs()
    assert await counts(world, "alice") == 1
    accept = [s for s in fake.sent if s.method == "POST"]
    assert len(accept) == 1 and accept[0].url == f"{REMOTE}/inbox"
    body = orjson.loads(accept[0].body or b"")
    alice = f"http://{world.a.web_domain}/users/alice"
    assert body["type"] == "Accept" and body["actor"] == alice and body["object"]["id"] == f"{REMOTE}/follows/1"
    assert accept[0].key_id == f"{alice}#main-key" and "Digest" in accept[0].headers
    notes = (await world.local_alice.get("/api/v1/notifications")).json()
    assert notes[0]["type"] == "follow" and notes[0]["account"]["acct"] == "rob@remote.example"
    followers = (await world.anon_a.get("/users/alice/followers", params={"page": "1"})).json()
    assert followers["orderedItems"] == [REMOTE]
    undo = {"id": f"{REMOTE}/follows/1/undo", "type": "Undo", "actor": REMOTE, "object": follow(world)}
    assert (await deliver(world, "/users/alice/inbox", undo, rfc9421=True)).status_code == 202
    await world.run_jobs()
    assert await counts(world, "alice") == 0
    async with world.c.db.read() as conn:
        failed = (await conn.execute(select(func.count()).select_from(jobs).where(
            jobs.c.tenant_id == world.a.id, jobs.c.state != "done"))).scalar()
    assert failed == 0


async def test_locked_account_gets_a_request(world: World, fake: FakeTransport) -> None:
    await world.local_bob.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    assert (await deliver(world, "/inbox", follow(world, 2, "bob"))).status_code == 202
    await world.run_jobs()
    async with world.c.db.read() as conn:
        pending = (await conn.execute(select(follow_requests.c.uri).where(
            follow_requests.c.tenant_id == world.a.id))).scalars().all()
        following = (await conn.execute(select(func.count()).select_from(follows).where(
            follows.c.tenant_id == world.a.id))).scalar()
    assert pending == [f"{REMOTE}/follows/2"] and following == 0
    assert [s for s in fake.sent if s.method == "POST"] == []
    requests = (await world.local_bob.get("/api/v1/follow_requests")).json()
    assert [a["acct"] for a in requests] == ["rob@remote.example"]
    # Bob accepts: the follow exists and rob's server is told with an Accept of its Follow.
    rob_id = requests[0]["id"]
    r = await world.local_bob.post(f"/api/v1/follow_requests/{rob_id}/authorize")
    assert r.status_code == 200 and r.json()["followed_by"] is True
    await world.run_jobs()
    sent = [orjson.loads(s.body or b"") for s in fake.sent if s.method == "POST"]
    assert [(a["type"], a["object"]["id"]) for a in sent] == [("Accept", f"{REMOTE}/follows/2")]


async def test_rejected_request_is_answered_with_reject(world: World, fake: FakeTransport) -> None:
    await world.local_bob.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    assert (await deliver(world, "/inbox", follow(world, 3, "bob"))).status_code == 202
    await world.run_jobs()
    rob_id = (await world.local_bob.get("/api/v1/follow_requests")).json()[0]["id"]
    assert (await world.local_bob.post(f"/api/v1/follow_requests/{rob_id}/reject")).status_code == 200
    await world.run_jobs()
    sent = [orjson.loads(s.body or b"") for s in fake.sent if s.method == "POST"]
    assert [(a["type"], a["object"]["id"]) for a in sent] == [("Reject", f"{REMOTE}/follows/3")]
    # A local follow request carries no Follow id, so nothing goes over the wire for it.
    await world.local_alice.post(f"/api/v1/accounts/{world.local_bob.account_id}/follow")
    await world.local_bob.post(f"/api/v1/follow_requests/{world.local_alice.account_id}/authorize")
    await world.run_jobs()
    assert len([s for s in fake.sent if s.method == "POST"]) == 1


async def test_rejections(world: World, fake: FakeTransport) -> None:
    client = world.anon_a
    body = orjson.dumps(follow(world))
    r = await client.post("/users/alice/inbox", content=body, headers={"Content-Type": "application/activity+json"})
    assert r.status_code == 401 and "error" in r.json()
    other, _ = generate_key_pair()
    assert (await deliver(world, "/inbox", follow(world), private=other)).status_code == 401
    # Signed by rob, claiming to come from someone else.
    eve = {**follow(world), "actor": "https://remote.example/users/eve", "id": "https://remote.example/f/9"}
    r = await deliver(world, "/inbox", eve)
    assert r.status_code == 401 and "actor" in r.json()["error"]
    # A body that differs from the signed digest.
    headers = sign_request("POST", f"http://{world.a.web_domain}/inbox", KEY_ID, remote_keys()[0], body=body)
    r = await client.post("/inbox", content=body + b" ", headers=headers)
    assert r.status_code == 401 and "Digest" in r.json()["error"]
    big = b'{"type":"Note","content":"' + b"x" * (1024 * 1024) + b'"}'
    assert (await deliver(world, "/inbox", {}, body=big)).status_code == 413
    for bad in (b"not json", b"[]", orjson.dumps({"type": "Follow"}),
                orjson.dumps({**follow(world), "id": "https://elsewhere.example/f/1"}),
                orjson.dumps({"id": f"{REMOTE}/c/1", "type": "Create", "actor": REMOTE,
                              "object": {"id": "https://elsewhere.example/n/1", "type": "Note"}})):
        r = await deliver(world, "/inbox", {}, body=bad)
        assert r.status_code == 400 and "error" in r.json(), bad
    deep: Any = {"type": "Note"}
    for _ in range(40):
        deep = {"object": deep}
    assert (await deliver(world, "/inbox", {**follow(world), "object": deep})).status_code == 400
    assert (await deliver(world, "/users/nobody/inbox", follow(world))).status_code == 404
    async with world.c.db.read() as conn:
        stored = (await conn.execute(select(func.count()).select_from(jobs).where(
            jobs.c.kind == "ap.inbox", jobs.c.tenant_id == world.a.id))).scalar()
    assert stored == 0


async def test_tenant_isolation(world: World, fake: FakeTransport) -> None:
    # alice is not on b: her personal inbox is unknown there.
    assert (await deliver(world, "/users/alice/inbox", follow(world), tenant=world.b)).status_code == 404
    # A Follow of a's alice delivered to b's shared inbox is stored for b and changes nothing on a.
    assert (await deliver(world, "/inbox", follow(world), tenant=world.b)).status_code == 202
    await world.run_jobs()
    assert await counts(world, "alice") == 0
    async with world.c.db.read() as conn:
        rows = (await conn.execute(select(accounts.c.tenant_id).where(accounts.c.uri == REMOTE))).scalars().all()
    assert world.b.id in rows and world.a.id not in rows


async def test_delivery_retries_on_server_errors_only(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from steward.federation.delivery import DeliveryFailed
    from steward.federation.delivery import deliver as deliver_job

    payload = {"tenant_id": world.a.id, "account_id": int(world.local_alice.account_id),
               "inbox": f"{REMOTE}/inbox", "activity": {"type": "Accept"}}
    for status, retried in ((202, False), (410, False), (503, True), (429, True)):
        transport = FakeTransport(post_status=status)
        monkeypatch.setattr(world.c, "transport", transport)
        if retried:
            with pytest.raises(DeliveryFailed):
                await deliver_job(world.c, payload)
        else:
            await deliver_job(world.c, payload)
        assert len(transport.sent) == 1
    # The instance actor signs when no account is named.
    transport = FakeTransport()
    monkeypatch.setattr(world.c, "transport", transport)
    await deliver_job(world.c, {**payload, "account_id": None})
    assert transport.sent[0].key_id == f"http://{world.a.web_domain}/actor#main-key"


async def test_private_status_to_signed_follower_only(world: World, fake: FakeTransport) -> None:
    secret = (await world.local_alice.post("/api/v1/statuses", data={"status": "followers only",
                                                                     "visibility": "private"})).json()
    path = f"/users/alice/statuses/{secret['id']}"
    url = f"http://{world.a.web_domain}{path}"
    as2 = {"Accept": "application/activity+json"}

    def signed() -> dict[str, str]:
        return {**as2, **sign_request("GET", url, KEY_ID, remote_keys()[0])}

    assert (await world.anon_a.get(path, headers=as2)).status_code == 404
    assert (await world.anon_a.get(path, headers=signed())).status_code == 404  # not a follower yet
    assert (await deliver(world, "/users/alice/inbox", follow(world))).status_code == 202
    await world.run_jobs()
    r = await world.anon_a.get(path, headers=signed())
    assert r.status_code == 200 and r.json()["to"] == [f"http://{world.a.web_domain}/users/alice/followers"]
    assert (await world.anon_a.get(path)).status_code == 404  # the HTML page stays public-only
    other, _ = generate_key_pair()
    forged = {**as2, **sign_request("GET", url, KEY_ID, other)}
    assert (await world.anon_a.get(path, headers=forged)).status_code == 401
