"""Remote actors stored per tenant, as accounts rows with a domain."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.activitypub import vocab
from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.core.text import sanitize_html
from steward.db.tables import accounts
from steward.federation.policy import account_marks, stored_rule
from steward.model.entities import Tenant
from steward.social.relationships import insert_ignore


class ActorError(ValueError):
    pass


def _domain(actor_id: str) -> str:
    parts = urlsplit(actor_id)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def actor_columns(tenant: Tenant, doc: dict[str, Any]) -> dict[str, Any]:
    """The accounts columns an actor document sets; ActorError when it is not a
    usable actor (no id or username, or it claims to be on this server)."""
    actor_id = vocab.id_of(doc.get("id"))
    username = vocab.get_str(doc, "preferredUsername", max_len=64)
    if not actor_id or vocab.host_of(actor_id) is None or not username or not vocab.has_type(doc, *vocab.ACTOR_TYPES):
        raise ActorError("not an actor")
    domain = _domain(actor_id)
    if domain in {tenant.domain, tenant.web_domain}:
        raise ActorError("a remote actor cannot live on this server")
    key = next((k for k in vocab.as_list(doc.get("publicKey")) if isinstance(k, dict)), {})
    raw_endpoints = doc.get("endpoints")
    endpoints: dict[str, Any] = raw_endpoints if isinstance(raw_endpoints, dict) else {}
    fields = [{"name": vocab.get_str(a, "name", max_len=255) or "",
               "value": sanitize_html(vocab.get_str(a, "value", max_len=2047) or "")}
              for a in vocab.as_list(doc.get("attachment"))
              if isinstance(a, dict) and vocab.has_type(a, "PropertyValue")][:16]
    icon = vocab.first(doc.get("icon"))
    image = vocab.first(doc.get("image"))
    return {
        "username": username, "username_lower": username.lower(), "domain": domain,
        "display_name": (vocab.get_str(doc, "name", max_len=200) or ""),
        "note": sanitize_html(vocab.get_str(doc, "summary", max_len=10_000) or ""),
        "fields": fields, "uri": actor_id,
        "url": vocab.id_of(doc.get("url")) or vocab.get_str(doc, "url") or actor_id,
        "avatar_remote_url": vocab.id_of(icon.get("url")) if isinstance(icon, dict) else None,
        "header_remote_url": vocab.id_of(image.get("url")) if isinstance(image, dict) else None,
        "locked": vocab.get_bool(doc, "manuallyApprovesFollowers"),
        "bot": vocab.has_type(doc, "Service", "Application"), "group": vocab.has_type(doc, "Group"),
        "discoverable": vocab.get_bool(doc, "discoverable"), "indexable": vocab.get_bool(doc, "indexable"),
        "also_known_as": vocab.ids_of(doc.get("alsoKnownAs"))[:16],
        "public_key": key.get("publicKeyPem") if isinstance(key.get("publicKeyPem"), str) else None,
        "inbox_url": vocab.id_of(doc.get("inbox")), "outbox_url": vocab.id_of(doc.get("outbox")),
        "shared_inbox_url": vocab.id_of(endpoints.get("sharedInbox")),
        "followers_url": vocab.id_of(doc.get("followers")), "featured_url": vocab.id_of(doc.get("featured")),
        "actor_type": vocab.type_of(doc) or "Person", "fetched_at": utcnow(), "updated_at": utcnow(),
    }


async def upsert_remote_actor(conn: AsyncConnection, tenant: Tenant, doc: dict[str, Any], *,
                              domain: str | None = None) -> int:
    """Store or refresh a remote actor in this tenant; returns its account id.
    `domain` is the handle domain confirmed by WebFinger when it differs from
    the actor's host (`@press@example.gov` served by `social.example.gov`)."""
    values = actor_columns(tenant, doc)
    if domain:
        values["domain"] = domain
    marks = account_marks(await stored_rule(conn, tenant.id, values["domain"]))
    values.update({k: v for k, v in marks.items() if k.endswith("_url")})  # rejected media, on every refresh
    found = (await conn.execute(select(accounts.c.id).where(
        accounts.c.tenant_id == tenant.id, accounts.c.uri == values["uri"], accounts.c.domain != ""))).first()
    if found is None:
        found = (await conn.execute(select(accounts.c.id).where(
            accounts.c.tenant_id == tenant.id, accounts.c.username_lower == values["username_lower"],
            accounts.c.domain == values["domain"]))).first()
    if found is not None:
        await conn.execute(accounts.update().where(accounts.c.tenant_id == tenant.id,
                                                   accounts.c.id == found.id).values(**values))
        return int(found.id)
    account_id = new_id()
    await insert_ignore(conn, accounts, {
        "tenant_id": tenant.id, "id": account_id, "note_source": "", "memorial": False,
        "hide_collections": False, "statuses_count": 0, "followers_count": 0, "following_count": 0,
        "created_at": utcnow(), **values, **marks})
    row = (await conn.execute(select(accounts.c.id).where(
        accounts.c.tenant_id == tenant.id, accounts.c.uri == values["uri"]))).first()
    if row is None:
        raise ActorError("the actor could not be stored")
    return int(row.id)
