"""Keys for signing and verifying: local accounts' keys (made on first need),
the tenant's instance actor signer, and the remote-key lookup that signature
verification is given (stored remote actors first, fetched through the guarded
transport when unknown or when a signature fails against the stored key)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from steward.activitypub import vocab
from steward.activitypub.keys import generate_key_pair
from steward.activitypub.signatures import KeyInfo
from steward.activitypub.transport import Signer, TransportError
from steward.db.tables import accounts
from steward.federation import policy
from steward.federation.actors import ActorError, upsert_remote_actor
from steward.model.entities import Account, Tenant

if TYPE_CHECKING:
    from steward.container import Container

# A failed signature may ask for a re-fetch of its key; at most once a minute per key.
REFRESH_INTERVAL = 60.0
_last_refresh: dict[tuple[int, str], float] = {}
# Stored remote keys seen lately, per (tenant, key id): the inbox hot path then
# verifies without a database read. A key that stops verifying (rotation) is
# dropped and looked up again through the refresh path.
KEY_TTL = 60.0
_known: dict[tuple[int, str], tuple[float, KeyInfo]] = {}


def _remember(tenant_id: int, info: KeyInfo) -> None:
    if len(_known) > 50_000:
        _known.clear()
    _known[(tenant_id, info.key_id)] = (time.monotonic(), info)


def instance_signer(base: str, tenant: Tenant) -> Signer | None:
    if not tenant.private_key:
        return None
    return Signer(f"{base}/actor#main-key", tenant.private_key)


async def account_keys(c: Container, tenant: Tenant, account: Account) -> tuple[str, str]:
    """(private PEM, public PEM) of a local account, generated and stored the first
    time they are needed; concurrent first uses agree on one pair."""
    async with c.db.read() as conn:
        row = (await conn.execute(select(accounts.c.private_key, accounts.c.public_key).where(
            accounts.c.tenant_id == tenant.id, accounts.c.id == account.id))).first()
    if row is not None and row.private_key and row.public_key:
        return row.private_key, row.public_key
    private_pem, public_pem = await asyncio.to_thread(generate_key_pair)
    async with c.db.write() as conn:
        await conn.execute(accounts.update().where(
            accounts.c.tenant_id == tenant.id, accounts.c.id == account.id, accounts.c.domain == "",
            accounts.c.private_key.is_(None)).values(private_key=private_pem, public_key=public_pem))
        row = (await conn.execute(select(accounts.c.private_key, accounts.c.public_key).where(
            accounts.c.tenant_id == tenant.id, accounts.c.id == account.id))).first()
    if row is None or not row.private_key:
        raise LookupError("the account has no key and none could be stored")
    return row.private_key, row.public_key


def _key_of(actor: dict[str, Any], key_id: str) -> str | None:
    for key in vocab.as_list(actor.get("publicKey")):
        if isinstance(key, dict) and key.get("id") == key_id and isinstance(key.get("publicKeyPem"), str):
            if vocab.id_of(key.get("owner")) not in {None, actor.get("id")}:
                return None
            return str(key["publicKeyPem"])
    return None


class RemoteKeys:
    """The `KeyLookup` for one tenant's inbound signatures."""

    def __init__(self, c: Container, tenant: Tenant) -> None:
        self.c = c
        self.tenant = tenant

    async def __call__(self, key_id: str, refresh: bool) -> KeyInfo | None:
        actor_url = key_id.split("#", 1)[0]
        if vocab.host_of(actor_url) is None:
            return None
        if not refresh:
            cached = _known.get((self.tenant.id, key_id))
            if cached is not None and time.monotonic() - cached[0] < KEY_TTL:
                return cached[1]
            async with self.c.db.read() as conn:
                row = (await conn.execute(select(accounts.c.uri, accounts.c.public_key).where(
                    accounts.c.tenant_id == self.tenant.id, accounts.c.uri == actor_url,
                    accounts.c.domain != ""))).first()
            if row is not None and row.public_key:
                info = KeyInfo(key_id, row.public_key, row.uri)
                _remember(self.tenant.id, info)
                return info
        else:
            _known.pop((self.tenant.id, key_id), None)
            stamp = (self.tenant.id, key_id)
            if time.monotonic() - _last_refresh.get(stamp, -REFRESH_INTERVAL) < REFRESH_INTERVAL:
                return None
            if len(_last_refresh) > 10_000:
                _last_refresh.clear()
            _last_refresh[stamp] = time.monotonic()
        return await self._fetch(key_id, actor_url)

    async def _fetch(self, key_id: str, actor_url: str) -> KeyInfo | None:
        if await policy.refuses(self.c, self.tenant, actor_url):
            return None
        signer = instance_signer(self.c.base_url(self.tenant), self.tenant)
        try:
            doc = await self.c.transport.fetch_json(actor_url, signer=signer)
            if "publicKeyPem" in doc and vocab.id_of(doc.get("owner")):
                # keyId named a key document; its owner holds the key too.
                owner = vocab.id_of(doc.get("owner"))
                assert owner is not None
                doc = await self.c.transport.fetch_json(owner, signer=signer)
        except TransportError:
            return None
        actor_id = vocab.id_of(doc.get("id"))
        if not actor_id or not vocab.same_origin(actor_id, key_id):
            return None
        pem = _key_of(doc, key_id)
        if pem is None:
            return None
        try:
            async with self.c.db.write() as conn:
                await upsert_remote_actor(conn, self.tenant, doc)
        except ActorError:
            return None
        info = KeyInfo(key_id, pem, actor_id)
        _remember(self.tenant.id, info)
        return info
