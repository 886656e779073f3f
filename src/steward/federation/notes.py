"""Remote statuses into this tenant: a Note or Question document (delivered in
a Create, or fetched from its own server) resolved against what the tenant
knows, then stored through `social.remote_statuses`.

- `ingest_note` stores or finds one document and returns the status id;
- `resolve_status` finds a status by URL, fetching it from its origin when it
  is not stored (search `resolve=true`, boosts of unknown statuses, parents);
- reply chains: a reply whose parent is not stored is stored at once and an
  `ap.resolve_parent` job fetches the parent later and links the two, up to
  `MAX_THREAD_DEPTH` ancestors (each fetched parent queues its own parent), so
  `GET /api/v1/statuses/:id/context` shows the ancestors once the jobs ran.

Malformed documents are a logged no-op (None), never an exception: the
inbox job must not retry what will never work."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, or_, select

from steward.activitypub import vocab
from steward.activitypub.convert import CONVERTED_TYPES, NOTE_TYPES, ParsedNote, parse_note
from steward.core.clock import utcnow
from steward.core.errors import ApiError
from steward.core.text import sanitize_html, strip_tags
from steward.db.tables import accounts, follows, statuses
from steward.federation import policy
from steward.federation.fetch import FetchError, ensure_actor, fetch_object
from steward.jobs.queue import enqueue
from steward.model.entities import Account, Status, Tenant, from_row
from steward.social.remote_statuses import RemoteDraft, RemotePoll, by_uri, link_parent, store_remote_status
from steward.social.search import normalize_tag
from steward.social.status_visibility import get_visible

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from steward.container import Container

log = logging.getLogger(__name__)

STATUS_TYPES = NOTE_TYPES + CONVERTED_TYPES
MAX_THREAD_DEPTH = 20
# Mentioned remote accounts we do not know yet are fetched, at most this many per status.
MAX_MENTION_FETCHES = 5
RESOLVE_PARENT_JOB = "ap.resolve_parent"
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


@dataclass(slots=True)
class Prepared:
    """An inbound Note resolved against the tenant: the draft to store, and
    what the storing rules look at."""

    author: Account
    parsed: ParsedNote
    draft: RemoteDraft
    local_mentioned: bool
    missing_parent: str | None


def is_status_object(doc: Any) -> bool:
    return isinstance(doc, dict) and vocab.has_type(doc, *STATUS_TYPES)


def _own_host(tenant: Tenant, uri: str) -> bool:
    host = vocab.host_of(uri) or ""
    return host.split(":", 1)[0] in {tenant.domain.lower(), tenant.web_domain.lower()}


async def _accounts_named(conn: AsyncConnection, tenant_id: int, uris: list[str]) -> dict[str, Account]:
    """Stored accounts (local or remote) by any of their URI or profile URL."""
    if not uris:
        return {}
    rows = (await conn.execute(select(accounts).where(
        accounts.c.tenant_id == tenant_id, or_(accounts.c.uri.in_(uris), accounts.c.url.in_(uris))))).all()
    out: dict[str, Account] = {}
    for row in rows:
        account = from_row(Account, row)
        for key in (account.uri, account.url):
            if key in uris:
                out.setdefault(key, account)
    return out


async def _mentions(c: Container, tenant: Tenant, parsed: ParsedNote) -> tuple[list[int], list[int], bool]:
    """(mentioned account ids, accounts only addressed, whether a local account is among them)."""
    hrefs = list(dict.fromkeys(h for h in parsed.mentions if vocab.host_of(h)))
    addressed = [a for a in parsed.addressed if vocab.host_of(a) and _own_host(tenant, a)]
    async with c.db.read() as conn:
        known = await _accounts_named(conn, tenant.id, hrefs + addressed)
    fetches = 0
    for href in hrefs:
        if href not in known and not _own_host(tenant, href) and fetches < MAX_MENTION_FETCHES:
            fetches += 1
            found = await ensure_actor(c, tenant, href)
            if found is not None:
                known[href] = found
    mentioned = [known[h].id for h in hrefs if h in known]
    silent = [known[a].id for a in addressed if a in known and known[a].local and known[a].id not in mentioned]
    local = any(known[h].local for h in hrefs if h in known) or bool(silent)
    return list(dict.fromkeys(mentioned)), list(dict.fromkeys(silent)), local


def _language(parsed: ParsedNote) -> str | None:
    lang = parsed.language
    return lang.lower() if lang and len(lang) <= 16 and _LANGUAGE.match(lang) else None


async def prepare(c: Container, tenant: Tenant, doc: dict[str, Any]) -> Prepared | None:
    """The draft for a Note document; None (logged) when it is not usable."""
    if not is_status_object(doc):
        log.info("note %s: not a status object; ignored", vocab.id_of(doc.get("id")))
        return None
    attributed = vocab.id_of(doc.get("attributedTo"))
    uri = vocab.id_of(doc.get("id"))
    if not attributed or not uri or not vocab.same_origin(uri, attributed) or _own_host(tenant, uri):
        log.info("note %s: no author, or not on its author's server; ignored", uri)
        return None
    author = await ensure_actor(c, tenant, attributed)
    if author is None or author.suspended_at is not None:
        log.info("note %s: its author %s is unknown or suspended; ignored", uri, attributed)
        return None
    try:
        parsed = parse_note(doc, author.followers_url)
    except vocab.VocabError as exc:
        log.info("note %s: %s; ignored", uri, exc)
        return None
    if await policy.rejects_media(c, tenant, author.uri):
        # As Mastodon: media of a domain whose media is rejected is only linked, never shown inline.
        parsed.attachments = [{**m, "type": "unknown", "blurhash": None, "meta": {}} for m in parsed.attachments]
        parsed.emojis = []
    mention_ids, silent_ids, local_mentioned = await _mentions(c, tenant, parsed)
    parent: Status | None = None
    missing_parent = None
    if parsed.in_reply_to:
        async with c.db.read() as conn:
            parent = await by_uri(conn, tenant.id, parsed.in_reply_to)
        if parent is not None and parent.reblog_of_id is not None:
            parent = None
        if parent is None and vocab.host_of(parsed.in_reply_to) and not _own_host(tenant, parsed.in_reply_to):
            missing_parent = parsed.in_reply_to
    now = utcnow()
    published = min(parsed.published or now, now)
    poll = parsed.poll
    draft = RemoteDraft(
        uri=parsed.uri, url=parsed.url or parsed.uri, content=sanitize_html(parsed.content),
        spoiler_text=strip_tags(parsed.summary).strip()[:1000], sensitive=parsed.sensitive,
        visibility=parsed.visibility, language=_language(parsed), created_at=published, parent=parent,
        mention_ids=mention_ids, silent_mention_ids=silent_ids,
        tag_names=[n for n in (normalize_tag(t) for t in parsed.hashtags) if n],
        media=parsed.attachments, emojis=parsed.emojis,
        poll=RemotePoll(poll.options, poll.tallies, poll.multiple, poll.voters_count, poll.expires_at)
        if poll else None,
        edited_at=parsed.updated if parsed.updated and parsed.updated > published else None)
    return Prepared(author, parsed, draft, local_mentioned, missing_parent)


async def related_to_tenant(c: Container, tenant: Tenant, prepared: Prepared) -> bool:
    """Mastodon's rule against storing what nobody here asked for: the author is
    followed by a local account, or it mentions or addresses one, or it replies
    to a local status or to someone a local account follows."""
    if prepared.local_mentioned:
        return True
    parent = prepared.draft.parent
    if parent is not None and parent.local:
        return True
    authors = [prepared.author.id] + ([parent.account_id] if parent is not None else [])
    async with c.db.read() as conn:
        followed = (await conn.execute(select(exists().where(
            follows.c.tenant_id == tenant.id, follows.c.target_account_id.in_(authors),
            exists().where(accounts.c.tenant_id == tenant.id, accounts.c.id == follows.c.account_id,
                           accounts.c.domain == ""))))).scalar()
    return bool(followed)


async def store_prepared(c: Container, tenant: Tenant, prepared: Prepared, *, depth: int = 0) -> int | None:
    async with c.db.write() as conn:
        status_id, created = await store_remote_status(conn, tenant.id, prepared.author, prepared.draft)
        if created and prepared.missing_parent and depth < MAX_THREAD_DEPTH:
            await enqueue(conn, RESOLVE_PARENT_JOB, {"tenant_id": tenant.id, "status_id": status_id,
                                                     "parent_uri": prepared.missing_parent, "depth": depth + 1},
                          tenant_id=tenant.id, max_attempts=3)
        stored = await conn.execute(select(statuses.c.deleted_at).where(
            statuses.c.tenant_id == tenant.id, statuses.c.id == status_id))
        deleted = stored.scalar()
    if created:
        c.jobs.wake()
    return status_id if deleted is None else None


async def ingest_note(c: Container, tenant: Tenant, doc: dict[str, Any], *, fetched: bool,
                      depth: int = 0) -> int | None:
    """Store (or find) a remote Note/Question; returns its status id, None when
    it is unusable or was deleted. `fetched`: the document came from its own
    server by our request, so it is stored whoever it concerns; a delivered one
    is stored only when it concerns this tenant (`related_to_tenant`)."""
    uri = vocab.id_of(doc.get("id"))
    if uri:
        async with c.db.read() as conn:
            found = await by_uri(conn, tenant.id, uri, with_deleted=True)
        if found is not None:
            return found.id if found.deleted_at is None and found.reblog_of_id is None else None
    prepared = await prepare(c, tenant, doc)
    if prepared is None:
        return None
    if not fetched and not await related_to_tenant(c, tenant, prepared):
        log.info("note %s concerns nobody on tenant %s; not stored", uri, tenant.id)
        return None
    return await store_prepared(c, tenant, prepared, depth=depth)


async def resolve_status(c: Container, tenant: Tenant, url: str, *, exact: bool = False,
                         depth: int = 0) -> int | None:
    """A status by its URI or URL: the stored one, else fetched from its own
    server (signed by the tenant's instance actor) and stored with its author.
    `exact`: the fetched document's id must be `url` itself (a boost names the
    object by id). None when nothing usable is there."""
    if vocab.host_of(url) is None:
        return None
    async with c.db.read() as conn:
        found = await by_uri(conn, tenant.id, url)
    if found is not None:
        return found.id if found.reblog_of_id is None else None
    if _own_host(tenant, url):
        return None
    try:
        doc = await fetch_object(c, tenant, url)
    except FetchError as exc:
        log.info("status %s could not be fetched: %s", url, exc)
        return None
    if exact and vocab.id_of(doc.get("id")) != url:
        log.info("status %s: the fetched document has another id; ignored", url)
        return None
    if not is_status_object(doc):
        return None
    return await ingest_note(c, tenant, doc, fetched=True, depth=depth)


async def resolve_visible_status(c: Container, tenant: Tenant, viewer_id: int | None, url: str, *,
                                 doc: dict[str, Any] | None = None) -> Status | None:
    """`resolve_status` for a viewer (search `resolve=true`): the status when
    the viewer may see it. `doc`: the document already fetched from `url`."""
    status_id = None
    if doc is not None and is_status_object(doc):
        status_id = await ingest_note(c, tenant, doc, fetched=True)
    if status_id is None:
        status_id = await resolve_status(c, tenant, url)
    if status_id is None:
        return None
    async with c.db.read() as conn:
        try:
            return await get_visible(conn, tenant.id, viewer_id, status_id)
        except ApiError:
            return None


async def resolve_parent_job(c: Container, payload: dict[str, Any]) -> None:
    """Fetch a stored reply's parent and link them (one step up the thread)."""
    tenant = await c.tenants.get(int(payload["tenant_id"]))
    if tenant is None or tenant.suspended_at is not None:
        return
    depth = int(payload.get("depth") or 1)
    parent_id = await resolve_status(c, tenant, str(payload["parent_uri"]), depth=depth)
    if parent_id is None:
        return
    async with c.db.write() as conn:
        row = (await conn.execute(select(statuses).where(statuses.c.tenant_id == tenant.id,
                                                         statuses.c.id == parent_id))).first()
        if row is not None:
            await link_parent(conn, tenant.id, int(payload["status_id"]), from_row(Status, row))
