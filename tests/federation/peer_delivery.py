"""Remote accounts and follows for outbound-delivery tests: actors stored as if
fetched (no network), follows recorded as if their Follow had been accepted,
and what a FakeTransport was sent, read back as activities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select

from steward.activitypub.transport import FakeTransport
from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import accounts, jobs, statuses
from steward.federation.actors import upsert_remote_actor
from steward.model.entities import Tenant
from steward.social.relationships import create_follow
from tests.world import World


@dataclass
class Remote:
    id: int
    uri: str
    inbox: str
    shared_inbox: str | None


async def remote(world: World, tenant: Tenant, username: str, host: str, *, shared: bool = True) -> Remote:
    uri = f"https://{host}/users/{username}"
    doc: dict[str, Any] = {"id": uri, "type": "Person", "preferredUsername": username, "inbox": f"{uri}/inbox",
                           "followers": f"{uri}/followers"}
    if shared:
        doc["endpoints"] = {"sharedInbox": f"https://{host}/inbox"}
    async with world.c.db.write() as conn:
        account_id = await upsert_remote_actor(conn, tenant, doc)
    return Remote(account_id, uri, f"{uri}/inbox", f"https://{host}/inbox" if shared else None)


async def local_id(world: World, tenant: Tenant, username: str) -> int:
    async with world.c.db.read() as conn:
        return int((await conn.execute(select(accounts.c.id).where(
            accounts.c.tenant_id == tenant.id, accounts.c.username == username, accounts.c.domain == ""))).scalar())


async def follows(world: World, tenant: Tenant, who: Remote, username: str) -> None:
    target = await local_id(world, tenant, username)
    async with world.c.db.write() as conn:
        await create_follow(conn, tenant.id, who.id, target, show_reblogs=True, notify=False, languages=None)


async def remote_status(world: World, tenant: Tenant, author: Remote, n: int = 1, **extra: Any) -> int:
    """A remote post stored in `tenant`, as inbound processing would store it."""
    status_id = new_id()
    uri = f"{author.uri}/statuses/{n}"
    async with world.c.db.write() as conn:
        await conn.execute(statuses.insert().values(
            tenant_id=tenant.id, id=status_id, account_id=author.id, uri=uri, url=uri, content="<p>hello</p>",
            visibility="public", local=False, conversation_id=status_id, created_at=utcnow(), **extra))
    return status_id


def posted(fake: FakeTransport) -> list[tuple[str, dict[str, Any], str | None]]:
    """(inbox, activity, key id) of every POST, in order; forgets them."""
    out = [(s.url, orjson.loads(s.body or b"{}"), s.key_id) for s in fake.sent if s.method == "POST"]
    fake.sent.clear()
    return out


async def delivery_jobs(world: World, tenant: Tenant) -> list[Any]:
    async with world.c.db.read() as conn:
        return list((await conn.execute(select(jobs).where(jobs.c.kind == "ap.deliver",
                                                           jobs.c.tenant_id == tenant.id))).all())
