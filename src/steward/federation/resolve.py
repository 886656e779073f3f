"""Resolving remote accounts and URLs for one tenant: `user@host` through
WebFinger, and actor or status URLs through a signed fetch.

A handle is trusted only after the WebFinger round trip Mastodon does: the
actor's own server must name the same handle for the same actor URI. A server
that points its WebFinger at another server's actor gets nothing stored."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from steward.activitypub import vocab
from steward.activitypub.transport import TransportError
from steward.core.clock import aware, utcnow
from steward.core.text import MENTION_RE
from steward.federation import policy
from steward.federation.actors import ActorError, upsert_remote_actor
from steward.federation.fetch import FetchError, fetch_object, stored_actor
from steward.model.entities import Account, Status, Tenant
from steward.social.accounts import find_by_acct
from steward.social.search import resolve_local_url

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)
JRD_ACCEPT = "application/jrd+json, application/json"
AS2_LINK_TYPES = {"application/activity+json",
                  'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}
# A stored remote account older than this is looked up again when resolved by handle.
STALE_AFTER = timedelta(days=1)


class ResolveError(Exception):
    """The handle or URL does not name a usable remote thing; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class Finger:
    username: str
    domain: str
    actor_uri: str


def split_acct(acct: str) -> tuple[str, str]:
    """(username, lowercased domain) of `user@host`, `@user@host` or `acct:user@host`."""
    value = acct.strip()
    if value.lower().startswith("acct:"):
        value = value[5:]
    username, at, domain = value.lstrip("@").partition("@")
    if not username or (at and not domain) or "@" in domain or "/" in domain or " " in value:
        raise ResolveError("not an account handle")
    return username, domain.lower()


def _self_link(doc: dict[str, Any]) -> str | None:
    for link in vocab.as_list(doc.get("links")):
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        kind = str(link.get("type") or "")
        if kind in AS2_LINK_TYPES or kind.startswith("application/ld+json"):
            href = link.get("href")
            if isinstance(href, str) and vocab.host_of(href) is not None:
                return href
    return None


async def webfinger(c: Container, username: str, domain: str) -> Finger:
    """The subject and ActivityPub actor WebFinger at `domain` gives for `acct:username@domain`."""
    resource = quote(f"acct:{username}@{domain}", safe=":@")
    url = f"https://{domain}/.well-known/webfinger?resource={resource}"
    try:
        _, body = await c.transport.fetch_bytes(url, accept=JRD_ACCEPT)
        doc = orjson.loads(body)
    except (TransportError, orjson.JSONDecodeError) as exc:
        raise ResolveError(f"WebFinger for {username}@{domain} failed") from exc
    if not isinstance(doc, dict):
        raise ResolveError(f"WebFinger for {username}@{domain} answered no document")
    subject = doc.get("subject")
    href = _self_link(doc)
    if not isinstance(subject, str) or href is None:
        raise ResolveError(f"WebFinger for {username}@{domain} names no ActivityPub actor")
    sub_user, sub_domain = split_acct(subject)
    if not sub_domain:
        raise ResolveError(f"WebFinger for {username}@{domain} answered an unusable subject")
    return Finger(sub_user, sub_domain, href)


async def confirmed_finger(c: Container, username: str, domain: str) -> Finger:
    """WebFinger for a handle, following one redirect to the subject's own
    server as Mastodon does (the subject's server must agree with itself)."""
    first = await webfinger(c, username, domain)
    if (first.username.lower(), first.domain) == (username.lower(), domain):
        return first
    second = await webfinger(c, first.username, first.domain)
    if (second.username.lower(), second.domain) != (first.username.lower(), first.domain) \
            or second.actor_uri != first.actor_uri:
        raise ResolveError(f"WebFinger for {username}@{domain} does not loop back")
    return second


async def handle_of_actor(c: Container, doc: dict[str, Any]) -> Finger:
    """The handle under which an actor's own server publishes it: WebFinger of
    `preferredUsername@actor host`, whose answer must point back to the actor."""
    actor_id = vocab.id_of(doc.get("id")) or ""
    username = vocab.get_str(doc, "preferredUsername", max_len=64)
    host = vocab.host_of(actor_id)
    if not username or host is None:
        raise ResolveError("not an actor")
    finger = await confirmed_finger(c, username, host)
    if finger.actor_uri != actor_id:
        raise ResolveError(f"WebFinger for {username}@{host} does not loop back to {actor_id}")
    return finger


async def _store_actor(c: Container, tenant: Tenant, doc: dict[str, Any], domain: str) -> Account:
    try:
        async with c.db.write() as conn:
            await upsert_remote_actor(conn, tenant, doc, domain=domain)
    except ActorError as exc:
        raise ResolveError(str(exc)) from exc
    account = await stored_actor(c, tenant, vocab.id_of(doc.get("id")) or "")
    if account is None:
        raise ResolveError("the actor could not be stored")
    return account


async def _fetch_actor(c: Container, tenant: Tenant, uri: str) -> dict[str, Any]:
    try:
        doc = await fetch_object(c, tenant, uri)
    except FetchError as exc:
        raise ResolveError(f"the actor could not be fetched: {exc}") from exc
    if vocab.id_of(doc.get("id")) != uri or not vocab.has_type(doc, *vocab.ACTOR_TYPES):
        raise ResolveError("the document is not that actor")
    return doc


def _fresh(account: Account) -> bool:
    fetched = aware(account.fetched_at)
    return fetched is not None and utcnow() - fetched < STALE_AFTER


async def resolve_account(c: Container, tenant: Tenant, acct: str, *, refresh: bool = False) -> Account:
    """The account for a handle: local, stored (fresh), or resolved through
    WebFinger and stored in this tenant. ResolveError when it cannot be."""
    username, domain = split_acct(acct)
    local = not domain or domain in {tenant.domain, tenant.web_domain}
    async with c.db.read() as conn:
        known = await find_by_acct(conn, tenant, f"{username}@{domain}" if domain else username)
    if local:
        if known is None:
            raise ResolveError("no such account here")
        return known
    if known is not None and not refresh and _fresh(known):
        return known
    if await policy.refuses(c, tenant, domain):
        # No WebFinger to a blocked (or, in limited mode, not allowed) domain; what is stored stays.
        if known is not None:
            return known
        raise ResolveError(f"{domain} is blocked or not allowed here")
    try:
        finger = await confirmed_finger(c, username, domain)
        if (finger.username.lower(), finger.domain) != (username.lower(), domain):
            raise ResolveError(f"{username}@{domain} is known there as {finger.username}@{finger.domain}")
        doc = await _fetch_actor(c, tenant, finger.actor_uri)
        owner = await handle_of_actor(c, doc)
        if (owner.username.lower(), owner.domain) != (username.lower(), domain):
            raise ResolveError(f"the actor's server does not confirm {username}@{domain}")
    except ResolveError:
        if known is not None:
            return known  # a remote server that is down does not make a known account vanish
        raise
    return await _store_actor(c, tenant, doc, domain)


async def resolve_actor_url(c: Container, tenant: Tenant, uri: str) -> Account:
    """A remote actor by its URI (stored, or fetched, checked by WebFinger and stored)."""
    known = await stored_actor(c, tenant, uri)
    if known is not None and _fresh(known):
        return known
    doc = await _fetch_actor(c, tenant, uri)
    finger = await handle_of_actor(c, doc)
    return await _store_actor(c, tenant, doc, finger.domain)


async def resolve_url(c: Container, tenant: Tenant, viewer_id: int | None,
                      url: str) -> tuple[Account | None, Status | None]:
    """What a URL in a search names: a local account or status, else a remote
    actor or status fetched from its server. (None, None) when nothing usable."""
    async with c.db.read() as conn:
        account, status = await resolve_local_url(conn, tenant, viewer_id, url)
    if account is not None or status is not None:
        return account, status
    host = vocab.host_of(url)
    if host is None or host in {tenant.domain, tenant.web_domain}:
        return None, None
    known = await stored_actor(c, tenant, url)
    if known is not None:
        return known, None
    try:
        doc = await fetch_object(c, tenant, url)
    except FetchError as exc:
        log.info("search: %s could not be fetched: %s", url, exc)
        return None, None
    if vocab.has_type(doc, *vocab.ACTOR_TYPES):
        try:
            return await resolve_actor_url(c, tenant, vocab.id_of(doc.get("id")) or url), None
        except ResolveError as exc:
            log.info("search: actor %s not resolved: %s", url, exc)
            return None, None
    return None, await _resolve_status(c, tenant, viewer_id, url, doc)


async def _resolve_status(c: Container, tenant: Tenant, viewer_id: int | None, url: str,
                          doc: dict[str, Any]) -> Status | None:
    from steward.federation.notes import resolve_visible_status

    return await resolve_visible_status(c, tenant, viewer_id, url, doc=doc)


async def lookup_account(c: Container, tenant: Tenant, acct: str) -> Account | None:
    """`resolve_account`, None instead of an error (for lookup and search)."""
    try:
        return await resolve_account(c, tenant, acct)
    except ResolveError as exc:
        log.info("%s not resolved: %s", acct, exc)
        return None


def looks_like_handle(q: str) -> bool:
    """`user@host` or `@user@host` (a remote handle worth a WebFinger), not free text."""
    try:
        _, domain = split_acct(q)
    except ResolveError:
        return False
    return "." in domain or ":" in domain


MENTION_LOOKUPS = 5
MENTION_BUDGET_SECONDS = 5.0


async def resolve_mentions(c: Container, tenant: Tenant, text: str) -> None:
    """Before a status is stored: look up the remote handles it mentions that
    this tenant does not know yet, as Mastodon does when posting, so the
    mention links and the status reaches them. At most MENTION_LOOKUPS at
    once within MENTION_BUDGET_SECONDS; a handle that cannot be resolved in
    time stays plain text, as in Mastodon."""
    wanted: dict[str, None] = {}
    for match in MENTION_RE.finditer(text):
        username, domain = match.group(1), (match.group(2) or "").lower()
        if domain and domain not in {tenant.domain, tenant.web_domain}:
            wanted[f"{username.lower()}@{domain}"] = None
    if not wanted:
        return
    async with c.db.read() as conn:
        unknown = [acct for acct in wanted if await find_by_acct(conn, tenant, acct) is None][:MENTION_LOOKUPS]

    async def one(acct: str) -> None:
        try:
            await resolve_account(c, tenant, acct)
        except Exception as exc:  # noqa: BLE001 - a remote failure only leaves the mention unlinked
            log.info("mention %s not resolved: %s", acct, exc)

    if unknown:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(one(a) for a in unknown)), MENTION_BUDGET_SECONDS)
