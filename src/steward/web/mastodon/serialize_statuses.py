"""Converters from our Status model to Mastodon's Status entity: the shared
presenter every status-returning route (statuses, timelines, notifications,
streaming, search) goes through.

`render_statuses` is batched: whatever the number of statuses it costs one
query each for reblogged originals, accounts, media, mentions, tags, polls and
applications, plus one for all of the viewer's flags (favourited, reblogged,
bookmarked, pinned, muted, poll votes)."""

from __future__ import annotations

import re
import time
from collections import OrderedDict, defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import iso, utcnow
from steward.db.tables import (
    accounts,
    bookmarks,
    custom_emojis,
    favourites,
    follows,
    media_attachments,
    mentions,
    oauth_apps,
    poll_votes,
    polls,
    status_mutes,
    status_pins,
    status_tags,
    statuses,
    tags,
)
from steward.model.entities import Account, MediaAttachment, Poll, Status, Tenant, from_row
from steward.social.quotes import effective_policy
from steward.web.mastodon.serialize_accounts import account_to_api

if TYPE_CHECKING:
    from steward.container import Container


_ACCOUNTS_BY_ID = select(accounts).where(accounts.c.tenant_id == bindparam("tid"),
                                         accounts.c.id.in_(bindparam("ids", expanding=True)))
# An app's name and website, shown on its user's own statuses; apps are never renamed.
_APPS_CACHE: dict[tuple[int, int], dict[str, Any]] = {}


async def _applications(conn: AsyncConnection, tid: int, app_ids: set[int]) -> dict[int, dict[str, Any]]:
    out = {i: _APPS_CACHE[(tid, i)] for i in app_ids if (tid, i) in _APPS_CACHE}
    missing = [i for i in app_ids if i not in out]
    if missing:
        rows = (await conn.execute(select(oauth_apps.c.id, oauth_apps.c.name, oauth_apps.c.website).where(
            oauth_apps.c.tenant_id == tid, oauth_apps.c.id.in_(missing)))).all()
        if len(_APPS_CACHE) > 50_000:
            _APPS_CACHE.clear()
        for r in rows:
            out[r.id] = _APPS_CACHE[(tid, r.id)] = {"name": r.name, "website": r.website}
    return out


async def load_statuses(conn: AsyncConnection, tenant_id: int, ids: list[int], *,
                        include_deleted: bool = False) -> dict[int, Status]:
    """Statuses by id (one query); deleted ones are left out unless asked for."""
    if not ids:
        return {}
    query = select(statuses).where(statuses.c.tenant_id == tenant_id, statuses.c.id.in_(list(set(ids))))
    if not include_deleted:
        query = query.where(statuses.c.deleted_at.is_(None))
    return {r.id: from_row(Status, r) for r in (await conn.execute(query)).all()}


def media_to_api(base: str, media: MediaAttachment) -> dict[str, Any]:
    url = f"{base}/system/{media.file_path}" if media.file_path else media.remote_url
    preview = f"{base}/system/{media.preview_path}" if media.preview_path else url
    return {
        "id": str(media.id),
        "type": media.type if media.type in {"image", "gifv", "video", "audio"} else "unknown",
        "url": url,
        "preview_url": preview,
        "remote_url": media.remote_url,
        "preview_remote_url": None,
        "text_url": None,
        "meta": media.meta or {},
        "description": media.description,
        "blurhash": media.blurhash,
    }


def poll_to_api(poll: Poll, *, own_votes: list[int] | None, viewer_is_author: bool = False,
                now: datetime | None = None) -> dict[str, Any]:
    """`own_votes` is None for an anonymous viewer (then `voted`/`own_votes` are left out)."""
    now = now or utcnow()
    expired = poll.expires_at is not None and poll.expires_at <= now
    show_totals = not poll.hide_totals or expired or viewer_is_author
    tallies = list(poll.tallies) + [0] * (len(poll.options) - len(poll.tallies))
    data: dict[str, Any] = {
        "id": str(poll.id),
        "expires_at": iso(poll.expires_at),
        "expired": expired,
        "multiple": poll.multiple,
        "votes_count": poll.votes_count,
        "voters_count": poll.voters_count if poll.multiple else None,
        "options": [{"title": title, "votes_count": tallies[i] if show_totals else None}
                    for i, title in enumerate(poll.options)],
        "emojis": [],
    }
    if own_votes is not None:
        data["voted"] = bool(own_votes) or viewer_is_author
        data["own_votes"] = list(own_votes)
    return data


async def render_status(c: Container, conn: AsyncConnection, tenant: Tenant, viewer_id: int | None,
                        status: Status) -> dict[str, Any]:
    rendered = await render_statuses(c, conn, tenant, viewer_id, [status])
    if not rendered:
        from steward.core.errors import not_found

        raise not_found()
    return rendered[0]


async def render_statuses(c: Container, conn: AsyncConnection, tenant: Tenant, viewer_id: int | None,
                          items: list[Status], *, quotes: bool = True) -> list[dict[str, Any]]:
    """Mastodon Status entities for `items`, in the same order. A boost whose
    original no longer exists is left out (deleting a status deletes its boosts,
    so this only happens in a race). Quoted statuses are rendered in full one
    level deep (`quotes=False` renders the inner level with shallow quotes)."""
    if not items:
        return []
    tid = tenant.id
    base = c.base_url(tenant)
    by_id: dict[int, Status] = {s.id: s for s in items}
    missing = [s.reblog_of_id for s in items if s.reblog_of_id and s.reblog_of_id not in by_id]
    if missing:
        by_id.update(await load_statuses(conn, tid, missing))
    shown = list(by_id.values())  # every status whose body is rendered
    content_ids = [s.id for s in shown if s.reblog_of_id is None]

    account_rows = (await conn.execute(_ACCOUNTS_BY_ID, {"tid": tid, "ids": list({s.account_id for s in shown})})
                    ).all()
    account_api = {r.id: account_to_api(base, tenant, from_row(Account, r)) for r in account_rows}
    parts = await _static_parts(conn, tid, base, shown, content_ids, {r.id: r.domain for r in account_rows})

    poll_ids = [s.poll_id for s in shown if s.poll_id]
    poll_by_id: dict[int, Poll] = {}
    if poll_ids:
        poll_rows = (await conn.execute(
            select(polls).where(polls.c.tenant_id == tid, polls.c.id.in_(poll_ids))
        )).all()
        poll_by_id = {r.id: from_row(Poll, r) for r in poll_rows}

    app_by_id = await _applications(conn, tid, {s.application_id for s in shown
                                                if s.application_id and s.account_id == viewer_id})

    flags = await _viewer_flags(conn, tid, viewer_id, shown, poll_ids) if viewer_id is not None else None
    now = utcnow()
    quoted_api: dict[int, dict[str, Any]] = {}
    quoted_live: set[int] = set()
    quoted_ids = list({s.quote_of_id for s in shown if s.quote_of_id and s.quote_state in (None, "accepted")})
    if quoted_ids and quotes:
        from steward.social.status_visibility import filter_visible

        found = await load_statuses(conn, tid, quoted_ids)
        quoted_live = set(found)
        visible = await filter_visible(conn, tid, viewer_id, list(found.values()))
        quoted_api = {int(r["id"]): r for r in await render_statuses(c, conn, tenant, viewer_id, visible,
                                                                     quotes=False)}

    def quote_of(s: Status) -> dict[str, Any] | None:
        if s.quote_of_id is None:
            return None
        state = s.quote_state or "accepted"
        if not quotes:
            return {"state": state, "quoted_status_id": str(s.quote_of_id) if state == "accepted" else None}
        if state == "accepted" and s.quote_of_id not in quoted_live:
            state = "deleted"
        elif state == "accepted" and s.quote_of_id not in quoted_api:
            state = "unauthorized"
        return {"state": state, "quoted_status": quoted_api.get(s.quote_of_id) if state == "accepted" else None}

    def approval(s: Status) -> dict[str, Any]:
        policy = effective_policy(s.visibility, s.quote_policy)
        if viewer_id is None:
            current = "unknown"
        elif s.account_id == viewer_id:
            current = "denied" if s.visibility == "direct" else "automatic"
        elif policy == "public" or (policy == "followers" and flags is not None
                                    and s.account_id in flags.following):
            current = "automatic"
        else:
            current = "denied"
        return {"automatic": [policy] if policy != "nobody" else [], "manual": [], "current_user": current}

    def body(s: Status) -> dict[str, Any]:
        author = account_api.get(s.account_id)
        poll = poll_by_id.get(s.poll_id) if s.poll_id else None
        data: dict[str, Any] = {
            "id": str(s.id),
            "created_at": iso(s.created_at),
            "in_reply_to_id": str(s.in_reply_to_id) if s.in_reply_to_id else None,
            "in_reply_to_account_id": str(s.in_reply_to_account_id) if s.in_reply_to_account_id else None,
            "sensitive": s.sensitive,
            "spoiler_text": s.spoiler_text,
            "visibility": s.visibility,
            "language": s.language,
            "uri": s.uri,
            "url": s.url,
            "replies_count": s.replies_count,
            "reblogs_count": s.reblogs_count,
            "favourites_count": s.favourites_count,
            "quotes_count": s.quotes_count,
            "edited_at": iso(s.edited_at),
            "content": s.content,
            "reblog": None,
            "application": app_by_id.get(s.application_id) if s.application_id and s.account_id == viewer_id
            else None,
            "account": author,
            "media_attachments": list(parts[s.id].media) if s.id in parts else [],
            "mentions": list(parts[s.id].mentions) if s.id in parts else [],
            "tags": list(parts[s.id].tags) if s.id in parts else [],
            "emojis": list(parts[s.id].emojis) if s.id in parts else [],
            "card": None,
            "poll": None,
            "quote": quote_of(s),
            "quote_approval": approval(s),
            "filtered": [],
        }
        if poll is not None:
            data["poll"] = poll_to_api(
                poll, own_votes=None if flags is None else flags.votes.get(poll.id, []),
                viewer_is_author=viewer_id == poll.account_id, now=now)
        if flags is not None:
            data["favourited"] = s.id in flags.favourited
            data["reblogged"] = s.id in flags.reblogged
            data["muted"] = s.conversation_id is not None and s.conversation_id in flags.muted
            data["bookmarked"] = s.id in flags.bookmarked
            data["pinned"] = s.id in flags.pinned
        return data

    out: list[dict[str, Any]] = []
    for s in items:
        if s.reblog_of_id is None:
            out.append(body(s))
            continue
        original = by_id.get(s.reblog_of_id)
        if original is None:
            continue
        inner = body(original)
        wrapper = body(s)
        wrapper.update(content="", spoiler_text="", sensitive=False, language=None, poll=None, tags=[],
                       mentions=[], media_attachments=[], application=None, url=original.url, reblog=inner,
                       quote=None, quote_approval=inner["quote_approval"])
        if flags is not None:
            # Clients read the boost's own flags as the original's.
            for key in ("favourited", "reblogged", "bookmarked", "muted"):
                wrapper[key] = inner[key]
            wrapper["pinned"] = False
        out.append(wrapper)
    return out


EMOJI_RE = re.compile(r":([a-zA-Z0-9_]{2,64}):")


class _Parts:
    """What a status shows that changes only when it is edited: its media,
    mentions, tags and custom emoji."""

    __slots__ = ("emojis", "expires", "media", "mentions", "tags")

    def __init__(self, expires: float) -> None:
        self.expires = expires
        self.media: list[dict[str, Any]] = []
        self.mentions: list[dict[str, Any]] = []
        self.tags: list[dict[str, Any]] = []
        self.emojis: list[dict[str, Any]] = []


# Per process, keyed by (tenant, status, edit time): an edit makes a new key, so
# no other process has to be told. Entries also expire, for custom emoji changes.
_PARTS_CACHE: OrderedDict[tuple[int, int, float], _Parts] = OrderedDict()
PARTS_CACHE_SIZE = 20_000
PARTS_TTL = 300.0


def _parts_key(tid: int, s: Status) -> tuple[int, int, float]:
    return (tid, s.id, s.edited_at.timestamp() if s.edited_at else 0.0)


async def _static_parts(conn: AsyncConnection, tid: int, base: str, shown: list[Status], content_ids: list[int],
                        author_domain: dict[int, str]) -> dict[int, _Parts]:
    """Media, mentions, tags and emoji of each status, from the cache or in one
    query each for the statuses the cache lacks."""
    now = time.monotonic()
    out: dict[int, _Parts] = {}
    wanted = set(content_ids)
    for s in shown:
        if s.id in wanted:
            hit = _PARTS_CACHE.get(_parts_key(tid, s))
            if hit is not None and hit.expires > now:
                out[s.id] = hit
    missing = [i for i in content_ids if i not in out]
    if not missing:
        return out
    fresh = {i: _Parts(now + PARTS_TTL) for i in missing}
    media_rows = (await conn.execute(
        select(media_attachments).where(media_attachments.c.tenant_id == tid,
                                        media_attachments.c.status_id.in_(missing))
        .order_by(media_attachments.c.status_id, media_attachments.c.position, media_attachments.c.id)
    )).all()
    for r in media_rows:
        fresh[r.status_id].media.append(media_to_api(base, from_row(MediaAttachment, r)))
    mention_rows = (await conn.execute(
        select(mentions.c.status_id, accounts.c.id, accounts.c.username, accounts.c.domain, accounts.c.url)
        .join(accounts, (accounts.c.tenant_id == mentions.c.tenant_id) & (accounts.c.id == mentions.c.account_id))
        .where(mentions.c.tenant_id == tid, mentions.c.status_id.in_(missing))
        .order_by(mentions.c.status_id, mentions.c.id)
    )).all()
    for r in mention_rows:
        fresh[r.status_id].mentions.append({
            "id": str(r.id), "username": r.username, "url": r.url or f"{base}/@{r.username}",
            "acct": r.username if not r.domain else f"{r.username}@{r.domain}",
        })
    tag_rows = (await conn.execute(
        select(status_tags.c.status_id, tags.c.name)
        .join(tags, (tags.c.tenant_id == status_tags.c.tenant_id) & (tags.c.id == status_tags.c.tag_id))
        .where(status_tags.c.tenant_id == tid, status_tags.c.status_id.in_(missing))
        .order_by(status_tags.c.status_id, tags.c.name)
    )).all()
    for r in tag_rows:
        fresh[r.status_id].tags.append({"name": r.name, "url": f"{base}/tags/{r.name}"})
    missing_set = set(missing)
    emojis = await _status_emojis(conn, tid, base, [s for s in shown if s.id in missing_set], author_domain)
    for status_id, items in emojis.items():
        fresh[status_id].emojis = items
    for s in shown:
        if s.id in fresh:
            _PARTS_CACHE[_parts_key(tid, s)] = fresh[s.id]
    while len(_PARTS_CACHE) > PARTS_CACHE_SIZE:
        _PARTS_CACHE.popitem(last=False)
    out.update(fresh)
    return out


async def _status_emojis(conn: AsyncConnection, tid: int, base: str, shown: list[Status],
                         author_domain: dict[int, str]) -> dict[int, list[dict[str, Any]]]:
    """Custom emoji used in each status's content or content warning (the
    author's server's emoji), in one query."""
    wanted: dict[int, set[str]] = {}
    for s in shown:
        if ":" in s.content or ":" in s.spoiler_text:
            names = set(EMOJI_RE.findall(s.content)) | set(EMOJI_RE.findall(s.spoiler_text))
            if names:
                wanted[s.id] = names
    if not wanted:
        return {}
    domains = {author_domain.get(s.account_id, "") for s in shown if s.id in wanted}
    rows = (await conn.execute(select(custom_emojis).where(
        custom_emojis.c.tenant_id == tid, custom_emojis.c.disabled.is_(False),
        custom_emojis.c.domain.in_(domains), custom_emojis.c.shortcode.in_(set().union(*wanted.values())))
    )).all()
    found = {(r.shortcode, r.domain): r for r in rows}
    out: dict[int, list[dict[str, Any]]] = {}
    for s in shown:
        domain = author_domain.get(s.account_id, "")
        items = [found[(n, domain)] for n in sorted(wanted.get(s.id, ())) if (n, domain) in found]
        if items:
            out[s.id] = [emoji_to_api(base, r) for r in items]
    return out


def emoji_to_api(base: str, row: Any) -> dict[str, Any]:
    url = f"{base}/system/{row.image_path}" if row.image_path else (row.remote_url or "")
    return {"shortcode": row.shortcode, "url": url, "static_url": url,
            "visible_in_picker": bool(row.visible_in_picker), "category": row.category}


class _Flags:
    __slots__ = ("bookmarked", "favourited", "following", "muted", "pinned", "reblogged", "votes")

    def __init__(self) -> None:
        self.favourited: set[int] = set()
        self.reblogged: set[int] = set()
        self.bookmarked: set[int] = set()
        self.pinned: set[int] = set()
        self.muted: set[int] = set()
        self.following: set[int] = set()  # authors the viewer follows, where a quote policy asks
        self.votes: dict[int, list[int]] = defaultdict(list)


def _flags_query(with_following: bool, with_votes: bool) -> Any:
    """The viewer's flags as one UNION ALL, built once per shape: id lists are
    expanding parameters, so the statement and its cache key never change."""
    zero = literal(0)
    tid: Any = bindparam("tid")
    viewer: Any = bindparam("viewer")
    ids: Any = bindparam("ids", expanding=True)
    parts = [
        select(literal("f").label("k"), favourites.c.status_id.label("ref"), zero.label("extra"),
               zero.label("seq")).where(
            favourites.c.tenant_id == tid, favourites.c.account_id == viewer, favourites.c.status_id.in_(ids)),
        select(literal("b"), bookmarks.c.status_id, zero, zero).where(
            bookmarks.c.tenant_id == tid, bookmarks.c.account_id == viewer, bookmarks.c.status_id.in_(ids)),
        select(literal("p"), status_pins.c.status_id, zero, zero).where(
            status_pins.c.tenant_id == tid, status_pins.c.account_id == viewer, status_pins.c.status_id.in_(ids)),
        select(literal("r"), statuses.c.reblog_of_id, zero, zero).where(
            statuses.c.tenant_id == tid, statuses.c.account_id == viewer, statuses.c.reblog_of_id.in_(ids),
            statuses.c.deleted_at.is_(None)),
        select(literal("m"), status_mutes.c.conversation_id, zero, zero).where(
            status_mutes.c.tenant_id == tid, status_mutes.c.account_id == viewer,
            status_mutes.c.conversation_id.in_(bindparam("conversations", expanding=True))),
    ]
    if with_following:
        parts.append(select(literal("o"), follows.c.target_account_id, zero, zero).where(
            follows.c.tenant_id == tid, follows.c.account_id == viewer,
            follows.c.target_account_id.in_(bindparam("authors", expanding=True))))
    if with_votes:
        parts.append(select(literal("v"), poll_votes.c.poll_id, poll_votes.c.choice, poll_votes.c.id).where(
            poll_votes.c.tenant_id == tid, poll_votes.c.account_id == viewer,
            poll_votes.c.poll_id.in_(bindparam("polls", expanding=True))))
    return union_all(*parts)


_FLAGS_QUERIES = {(a, b): _flags_query(a, b) for a in (False, True) for b in (False, True)}


async def _viewer_flags(conn: AsyncConnection, tid: int, viewer_id: int, shown: list[Status],
                        poll_ids: list[int]) -> _Flags:
    """All of the viewer's relations to these statuses in one round trip."""
    asks_following = list({s.account_id for s in shown if s.quote_policy == "followers"
                           and s.account_id != viewer_id})
    params: dict[str, Any] = {
        "tid": tid, "viewer": viewer_id, "ids": [s.id for s in shown],
        "conversations": list({s.conversation_id for s in shown if s.conversation_id}),
    }
    if asks_following:
        params["authors"] = asks_following
    if poll_ids:
        params["polls"] = poll_ids
    query = _FLAGS_QUERIES[(bool(asks_following), bool(poll_ids))]
    flags = _Flags()
    targets = {"f": flags.favourited, "b": flags.bookmarked, "p": flags.pinned, "r": flags.reblogged,
               "m": flags.muted, "o": flags.following}
    votes: list[tuple[int, int, int]] = []
    for k, ref, extra, seq in (await conn.execute(query, params)).all():
        if k == "v":
            votes.append((int(seq), ref, int(extra)))
        else:
            targets[k].add(ref)
    for _, poll_id, choice in sorted(votes):
        flags.votes[poll_id].append(choice)
    return flags


async def edits_to_api(c: Container, conn: AsyncConnection, tenant: Tenant, status: Status,
                       edits: list[Any]) -> list[dict[str, Any]]:
    """StatusEdit entities, oldest first; a status never edited has one version."""
    base = c.base_url(tenant)
    row = (await conn.execute(select(accounts).where(accounts.c.tenant_id == tenant.id,
                                                     accounts.c.id == status.account_id))).first()
    author = account_to_api(base, tenant, from_row(Account, row)) if row else None
    if not edits:
        current = (await render_statuses(c, conn, tenant, None, [status]))[0]
        return [{"content": current["content"], "spoiler_text": current["spoiler_text"],
                 "sensitive": current["sensitive"], "created_at": current["created_at"], "account": author,
                 "poll": {"options": [{"title": o["title"]} for o in current["poll"]["options"]]}
                 if current["poll"] else None,
                 "media_attachments": current["media_attachments"], "emojis": []}]
    wanted = {int(i) for e in edits for i in (e.media_ids or [])}
    media: dict[int, dict[str, Any]] = {}
    if wanted:
        media_rows = (await conn.execute(select(media_attachments).where(
            media_attachments.c.tenant_id == tenant.id, media_attachments.c.id.in_(wanted)))).all()
        media = {r.id: media_to_api(base, from_row(MediaAttachment, r)) for r in media_rows}
    return [{
        "content": e.content, "spoiler_text": e.spoiler_text, "sensitive": e.sensitive,
        "created_at": iso(e.created_at),
        "account": author,
        "poll": {"options": [{"title": o} for o in e.poll_options]} if e.poll_options else None,
        "media_attachments": [media[int(i)] for i in (e.media_ids or []) if int(i) in media],
        "emojis": [],
    } for e in edits]


async def scheduled_to_api(c: Container, conn: AsyncConnection, tenant: Tenant,
                           rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ScheduledStatus entities (rows as mappings), with their media in one query."""
    base = c.base_url(tenant)
    wanted = {int(m) for r in rows for m in (r["media_ids"] or [])}
    media: dict[int, dict[str, Any]] = {}
    if wanted:
        media_rows = (await conn.execute(select(media_attachments).where(
            media_attachments.c.tenant_id == tenant.id, media_attachments.c.id.in_(wanted)))).all()
        media = {r.id: media_to_api(base, from_row(MediaAttachment, r)) for r in media_rows}
    out = []
    for r in rows:
        p = r["params"]
        media_ids = [str(m) for m in (r["media_ids"] or [])]
        out.append({
            "id": str(r["id"]),
            "scheduled_at": iso(r["scheduled_at"]),
            "params": {
                "text": p.get("text") or "", "spoiler_text": p.get("spoiler_text") or None,
                "sensitive": p.get("sensitive"), "language": p.get("language"),
                "visibility": p.get("visibility") or "public", "in_reply_to_id": p.get("in_reply_to_id"),
                "poll": p.get("poll"), "media_ids": media_ids or None, "idempotency": p.get("idempotency"),
                "application_id": p.get("application_id") or 0, "scheduled_at": None, "with_rate_limit": False,
            },
            "media_attachments": [media[int(m)] for m in media_ids if int(m) in media],
        })
    return out
