"""Dereferencing remote things for one tenant: objects fetched through the
guarded transport and signed by the tenant's instance actor (so servers with
authorized fetch answer), and actors stored as remote accounts on first sight."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from steward.activitypub import vocab
from steward.activitypub.transport import TransportError
from steward.db.tables import accounts
from steward.federation import policy
from steward.federation.actors import ActorError, upsert_remote_actor
from steward.federation.keys import instance_signer
from steward.model.entities import Account, Tenant, from_row

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)


class FetchError(Exception):
    """The remote thing could not be fetched or is not usable; the message is safe to show."""


async def fetch_object(c: Container, tenant: Tenant, url: str) -> dict[str, Any]:
    """The AS2 document at `url`. Its `id` must be on the same origin as the
    URL it was fetched from (a server speaks only for its own objects)."""
    if vocab.host_of(url) is None:
        raise FetchError("not an http(s) URL")
    if await policy.refuses(c, tenant, url):
        raise FetchError("the domain is blocked or not allowed")
    try:
        doc = await c.transport.fetch_json(url, signer=instance_signer(c.base_url(tenant), tenant))
    except TransportError as exc:
        raise FetchError(str(exc)) from exc
    doc_id = vocab.id_of(doc.get("id"))
    if not doc_id or not vocab.same_origin(doc_id, url):
        raise FetchError("the fetched object's id is not on the server it came from")
    return doc


async def stored_actor(c: Container, tenant: Tenant, uri: str) -> Account | None:
    async with c.db.read() as conn:
        row = (await conn.execute(select(accounts).where(
            accounts.c.tenant_id == tenant.id, accounts.c.uri == uri, accounts.c.domain != ""))).first()
    return from_row(Account, row) if row else None


async def ensure_actor(c: Container, tenant: Tenant, uri: str | None, *, refresh: bool = False) -> Account | None:
    """The remote account for an actor URI: the stored one, else fetched and
    stored. None when it cannot be fetched or is not an actor."""
    if not uri or vocab.host_of(uri) is None:
        return None
    if not refresh:
        found = await stored_actor(c, tenant, uri)
        if found is not None:
            return found
    try:
        doc = await fetch_object(c, tenant, uri)
    except FetchError as exc:
        log.info("actor %s could not be fetched: %s", uri, exc)
        return None
    if vocab.id_of(doc.get("id")) != uri:
        return None
    try:
        async with c.db.write() as conn:
            await upsert_remote_actor(conn, tenant, doc)
    except ActorError as exc:
        log.info("actor %s is not usable: %s", uri, exc)
        return None
    return await stored_actor(c, tenant, uri)
