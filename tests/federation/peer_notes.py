"""A fake remote server for inbound status tests: actors on `remote.example`
(and a third party on `evil.example`) served by FakeTransport, Note/Question
builders shaped as Mastodon writes them, and signed delivery to a tenant's
inbox through the app."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import orjson

from steward.activitypub.keys import generate_key_pair
from steward.activitypub.signatures import sign_request
from steward.activitypub.transport import FakeTransport
from steward.model.entities import Tenant
from tests.world import World

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
REMOTE = "https://remote.example"
EVIL = "https://evil.example"
_ids = itertools.count(1)


@functools.cache
def keys() -> tuple[str, str]:
    return generate_key_pair()


def actor_uri(name: str, server: str = REMOTE) -> str:
    return f"{server}/users/{name}"


def actor_doc(name: str, server: str = REMOTE) -> dict[str, Any]:
    uri = actor_uri(name, server)
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": uri, "type": "Person",
            "preferredUsername": name, "name": name.title(), "inbox": f"{uri}/inbox",
            "endpoints": {"sharedInbox": f"{server}/inbox"}, "followers": f"{uri}/followers",
            "url": f"{server}/@{name}",
            "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": keys()[1]}}


class Peer:
    """Remote actors rob, eve (remote.example) and mallory (evil.example)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.transport = FakeTransport({actor_uri(n, s): actor_doc(n, s)
                                        for n, s in (("rob", REMOTE), ("eve", REMOTE), ("mallory", EVIL))})

    def local(self, username: str, tenant: Tenant | None = None) -> str:
        return f"http://{(tenant or self.world.a).web_domain}/users/{username}"

    def note(self, author: str = "rob", *, content: str = "<p>Hello</p>", visibility: str = "public",
             mention: list[str] | None = None, server: str = REMOTE, **extra: Any) -> dict[str, Any]:
        """A Note addressed as Mastodon addresses `visibility`, mentioning the given actor URIs."""
        uri = actor_uri(author, server)
        n = next(_ids)
        mentioned = mention or []
        followers = f"{uri}/followers"
        to, cc = {"public": ([PUBLIC], [followers, *mentioned]), "unlisted": ([followers], [PUBLIC, *mentioned]),
                  "private": ([followers], mentioned), "direct": (mentioned, [])}[visibility]
        note: dict[str, Any] = {
            "id": f"{uri}/statuses/{n}", "type": "Note", "attributedTo": uri, "content": content,
            "url": f"{server}/@{author}/{n}", "published": "2026-11-29T10:00:00Z", "to": to, "cc": cc,
            "sensitive": False, "summary": None, "inReplyTo": None,
            "tag": [{"type": "Mention", "href": m, "name": "@" + m.rsplit("/", 1)[-1]} for m in mentioned],
            "attachment": [],
        }
        note.update(extra)
        return note

    def create(self, note: dict[str, Any]) -> dict[str, Any]:
        return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note['id']}/activity",
                "type": "Create", "actor": note["attributedTo"], "published": note.get("published"),
                "to": note.get("to"), "cc": note.get("cc"), "object": note}

    def activity(self, kind: str, obj: Any, author: str = "rob", server: str = REMOTE, **extra: Any) -> dict[str, Any]:
        uri = actor_uri(author, server)
        return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{uri}#{kind.lower()}s/{next(_ids)}",
                "type": kind, "actor": uri, "object": obj, **extra}

    def serve(self, doc: dict[str, Any]) -> None:
        """Make `doc` fetchable at its id (its own server answering)."""
        self.transport.documents[doc["id"]] = doc

    async def deliver(self, activity: dict[str, Any], *, tenant: Tenant | None = None,
                      path: str = "/inbox") -> int:
        tenant = tenant or self.world.a
        body = orjson.dumps(activity)
        key_id = f"{activity['actor']}#main-key"
        headers = sign_request("POST", f"http://{tenant.web_domain}{path}", key_id, keys()[0], body=body)
        r = await self.world.client(tenant).post(path, content=body, headers={
            **headers, "Content-Type": "application/activity+json"})
        return r.status_code

    async def send(self, activity: dict[str, Any], *, tenant: Tenant | None = None) -> None:
        """Deliver, expect 202, and run the jobs."""
        status = await self.deliver(activity, tenant=tenant)
        assert status == 202, status
        await self.world.run_jobs()

    async def follow_rob(self, person: Any, actor: str = "rob") -> None:
        """A local account follows a remote actor (stored as an accepted follow)."""
        from steward.federation.fetch import ensure_actor
        from steward.social.relationships import create_follow

        tenant = person.tenant
        remote = await ensure_actor(self.world.c, tenant, actor_uri(actor))
        assert remote is not None
        async with self.world.c.db.write() as conn:
            await create_follow(conn, tenant.id, int(person.account_id), remote.id, show_reblogs=True, notify=False,
                                languages=None)

    async def forget_jobs(self) -> None:
        """Drop what this test's tenants left queued (poll ends, delayed poll
        updates): the database outlives the test, and a delayed job must not run
        in a later test with that test's transport."""
        from steward.db.tables import jobs

        async with self.world.c.db.write() as conn:
            await conn.execute(jobs.delete().where(jobs.c.tenant_id.in_([self.world.a.id, self.world.b.id])))
