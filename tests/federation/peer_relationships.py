"""A fake Fediverse for relationship, resolve and migration tests: actors on
`remote.example` (rob, eve), `evil.example` (mallory) and a split-domain
server (`@press@example.gov` served by `social.example.gov`), each with its
WebFinger answer, all behind one FakeTransport; signed delivery into a
tenant's inbox through the app; and readers for what was sent."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import orjson
from sqlalchemy import select

from steward.activitypub.keys import generate_key_pair
from steward.activitypub.signatures import sign_request
from steward.activitypub.transport import FakeTransport
from steward.db.tables import accounts
from steward.model.entities import Tenant
from tests.world import Person, World

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
REMOTE = "https://remote.example"
EVIL = "https://evil.example"
_ids = itertools.count(1)


@functools.cache
def keys() -> tuple[str, str]:
    return generate_key_pair()


def uri_of(name: str, server: str = REMOTE) -> str:
    return f"{server}/users/{name}"


def actor_doc(name: str, server: str = REMOTE, **extra: Any) -> dict[str, Any]:
    uri = uri_of(name, server)
    return {"@context": AS, "id": uri, "type": "Person", "preferredUsername": name, "name": name.title(),
            "inbox": f"{uri}/inbox", "outbox": f"{uri}/outbox", "endpoints": {"sharedInbox": f"{server}/inbox"},
            "followers": f"{uri}/followers", "featured": f"{uri}/collections/featured", "url": f"{server}/@{name}",
            "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": keys()[1]}, **extra}


def jrd(subject: str, href: str) -> tuple[str, bytes]:
    return "application/jrd+json", orjson.dumps({
        "subject": subject, "links": [{"rel": "self", "type": "application/activity+json", "href": href}]})


def webfinger_url(user: str, domain: str) -> str:
    return f"https://{domain}/.well-known/webfinger?resource=acct:{user}@{domain}"


class Fediverse:
    def __init__(self, world: World) -> None:
        self.world = world
        self.transport = FakeTransport()
        for name in ("rob", "eve"):
            self.add_actor(name)
        self.add_actor("mallory", EVIL)

    def add_actor(self, name: str, server: str = REMOTE, **extra: Any) -> dict[str, Any]:
        doc = actor_doc(name, server, **extra)
        self.transport.documents[doc["id"]] = doc
        domain = server.split("://", 1)[1]
        self.transport.files[webfinger_url(name, domain)] = jrd(f"acct:{name}@{domain}", doc["id"])
        return doc

    def actor(self, name: str, server: str = REMOTE) -> dict[str, Any]:
        return self.transport.documents[uri_of(name, server)]

    def local(self, person: Person) -> str:
        return f"http://{person.tenant.web_domain}/users/{person.username}"

    def activity(self, kind: str, obj: Any, author: str = "rob", server: str = REMOTE,
                 **extra: Any) -> dict[str, Any]:
        uri = uri_of(author, server)
        return {"@context": AS, "id": f"{uri}#{kind.lower()}/{next(_ids)}", "type": kind, "actor": uri,
                "object": obj, **extra}

    async def deliver(self, activity: dict[str, Any], *, tenant: Tenant | None = None,
                      signer: str | None = None, private: str | None = None) -> int:
        """POST `activity` signed by `signer`'s key (the activity's actor by default)."""
        tenant = tenant or self.world.a
        body = orjson.dumps(activity)
        key_id = f"{signer or activity['actor']}#main-key"
        headers = sign_request("POST", f"http://{tenant.web_domain}/inbox", key_id, private or keys()[0],
                               body=body)
        r = await self.world.client(tenant).post("/inbox", content=body, headers={
            **headers, "Content-Type": "application/activity+json"})
        return r.status_code

    async def send(self, activity: dict[str, Any], **kw: Any) -> None:
        status = await self.deliver(activity, **kw)
        assert status == 202, status
        await self.world.run_jobs()

    def posts(self) -> list[tuple[str, dict[str, Any]]]:
        """(inbox, activity) of every delivery so far by this world's tenants (a
        retried delivery left over from another test may pass through too)."""
        mine = (f"http://{self.world.a.web_domain}/", f"http://{self.world.b.web_domain}/")
        out = [(s.url, orjson.loads(s.body or b"")) for s in self.transport.sent if s.method == "POST"]
        return [(inbox, a) for inbox, a in out if str(a.get("actor", "")).startswith(mine)]

    def take(self) -> list[tuple[str, dict[str, Any]]]:
        out = self.posts()
        self.transport.sent.clear()
        return out

    async def account_id(self, tenant: Tenant, uri: str) -> int | None:
        async with self.world.c.db.read() as conn:
            return (await conn.execute(select(accounts.c.id).where(
                accounts.c.tenant_id == tenant.id, accounts.c.uri == uri))).scalar()

    async def resolve(self, person: Person, acct: str = "rob@remote.example") -> dict[str, Any]:
        r = await person.get("/api/v1/accounts/lookup", params={"acct": acct})
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    async def relationship(self, person: Person, account_id: str) -> dict[str, Any]:
        r = await person.get("/api/v1/accounts/relationships", params={"id[]": account_id})
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()[0]
        return data

    async def followed_by_local(self, person: Person, name: str = "rob") -> str:
        """`person` follows a remote actor and the remote server accepts; returns its account id."""
        rob = await self.resolve(person, f"{name}@remote.example")
        assert (await person.post(f"/api/v1/accounts/{rob['id']}/follow")).status_code == 200
        await self.world.run_jobs()
        follow = next(a for _, a in self.posts() if a["type"] == "Follow" and a["object"] == uri_of(name))
        await self.send(self.activity("Accept", follow, name), tenant=person.tenant)
        self.transport.sent.clear()
        return str(rob["id"])

    async def follows_local(self, person: Person, name: str = "rob") -> dict[str, Any]:
        """A remote actor follows `person` (accepted by an unlocked account); returns the Follow."""
        follow = self.activity("Follow", self.local(person), name)
        await self.send(follow, tenant=person.tenant)
        self.transport.sent.clear()
        return follow
