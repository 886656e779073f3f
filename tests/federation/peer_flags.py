"""A fake remote server for report-forwarding tests: its actor (served by a
FakeTransport), accounts and posts of it stored in a tenant as if fetched, and
signed deliveries of its activities to a tenant's inbox."""

from __future__ import annotations

import functools
from typing import Any

import orjson
from sqlalchemy import select

from steward.activitypub.keys import generate_key_pair
from steward.activitypub.signatures import sign_request
from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import accounts, statuses
from steward.federation.actors import upsert_remote_actor
from steward.model.entities import Tenant
from tests.world import World

HOST = "flagger.example"
ACTOR = f"https://{HOST}/actor"
KEY_ID = f"{ACTOR}#main-key"


@functools.cache
def keys() -> tuple[str, str]:
    return generate_key_pair()


def instance_actor() -> dict[str, Any]:
    return {"id": ACTOR, "type": "Application", "preferredUsername": HOST, "inbox": f"{ACTOR}/inbox",
            "endpoints": {"sharedInbox": f"https://{HOST}/inbox"},
            "publicKey": {"id": KEY_ID, "owner": ACTOR, "publicKeyPem": keys()[1]}}


async def remote_account(world: World, tenant: Tenant, username: str = "troll") -> tuple[int, str]:
    uri = f"https://{HOST}/users/{username}"
    async with world.c.db.write() as conn:
        account_id = await upsert_remote_actor(conn, tenant, {
            "id": uri, "type": "Person", "preferredUsername": username, "inbox": f"{uri}/inbox",
            "endpoints": {"sharedInbox": f"https://{HOST}/inbox"}})
    return account_id, uri


async def remote_post(world: World, tenant: Tenant, account_id: int, uri: str, n: int = 1) -> int:
    status_id = new_id()
    async with world.c.db.write() as conn:
        await conn.execute(statuses.insert().values(
            tenant_id=tenant.id, id=status_id, account_id=account_id, uri=f"{uri}/statuses/{n}",
            url=f"{uri}/statuses/{n}", content="<p>rude</p>", text="", visibility="public", local=False,
            created_at=utcnow()))
    return status_id


async def local_uri(world: World, tenant: Tenant, username: str) -> str:
    async with world.c.db.read() as conn:
        return str((await conn.execute(select(accounts.c.uri).where(
            accounts.c.tenant_id == tenant.id, accounts.c.username == username, accounts.c.domain == ""))).scalar())


def flag(n: int, objects: list[str], content: str = "Spam from your server") -> dict[str, Any]:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{ACTOR}#reports/{n}", "type": "Flag",
            "actor": ACTOR, "content": content, "object": objects}


async def deliver(world: World, tenant: Tenant, activity: dict[str, Any]) -> Any:
    body = orjson.dumps(activity)
    url = f"http://{tenant.web_domain}/inbox"
    headers = sign_request("POST", url, KEY_ID, keys()[0], body=body)
    return await world.client(tenant).post("/inbox", content=body, headers={
        **headers, "Content-Type": "application/activity+json"})
