"""Account relationships: follows and follow requests, blocks, mutes,
endorsements, private notes, user-level domain blocks and follow suggestions, with Mastodon 4.x rules.

Writers take the container (each call is one transaction, with its
notification job queued inside it); readers take a connection. Every query is
scoped by tenant."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import BigInteger, Text, cast, delete, desc, exists, literal, null, or_, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from steward.core.clock import aware, utcnow
from steward.core.errors import forbidden, not_found, unprocessable
from steward.core.ids import new_id
from steward.db.tables import (
    account_notes,
    accounts,
    blocks,
    endorsements,
    follow_requests,
    follows,
    home_feed,
    list_accounts,
    lists,
    mutes,
    notifications,
    statuses,
    suggestion_dismissals,
    user_domain_blocks,
    users,
)
from steward.jobs.queue import enqueue
from steward.model.entities import Account, Tenant, from_row
from steward.social.accounts import touch_counts
from steward.social.federate import federate

if TYPE_CHECKING:
    from steward.container import Container

MAX_NOTE = 2000
MERGE_LIMIT = 100
MAX_LANGUAGES = 100
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class PageLike(Protocol):
    max_id: int | None
    since_id: int | None
    min_id: int | None
    limit: int


@dataclass(slots=True)
class Relationship:
    id: int
    following: bool = False
    showing_reblogs: bool = False
    notifying: bool = False
    languages: list[str] | None = None
    followed_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False
    muting_expires_at: datetime | None = None
    requested: bool = False
    requested_by: bool = False
    domain_blocking: bool = False
    endorsed: bool = False
    note: str = ""


# ---------------------------------------------------------------- helpers

async def insert_ignore(conn: AsyncConnection, table: Any, values: dict[str, Any]) -> bool:
    """Insert unless a unique key already holds the row; True when inserted."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    result = await conn.execute(insert(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


def paginate(query: Select[Any], column: Any, page: PageLike) -> tuple[Select[Any], bool]:
    """Apply Mastodon's max_id/since_id/min_id window; the bool says the rows come
    oldest first (min_id) and must be reversed to answer newest first."""
    if page.max_id is not None:
        query = query.where(column < page.max_id)
    if page.since_id is not None:
        query = query.where(column > page.since_id)
    if page.min_id is not None:
        return query.where(column > page.min_id).order_by(column.asc()).limit(page.limit), True
    return query.order_by(column.desc()).limit(page.limit), False


async def visible_target(conn: AsyncConnection, tenant_id: int, account_id: int) -> Account:
    """An account of this tenant that can be acted on: 404 when unknown or suspended."""
    row = (await conn.execute(select(accounts).where(
        accounts.c.tenant_id == tenant_id, accounts.c.id == account_id))).first()
    if row is None or row.suspended_at is not None:
        raise not_found()
    return from_row(Account, row)


def _pair(table: Any, tenant_id: int, source: int, target: int) -> Any:
    return (table.c.tenant_id == tenant_id) & (table.c.account_id == source) & (
        table.c.target_account_id == target)


async def _has(conn: AsyncConnection, table: Any, tenant_id: int, source: int, target: int) -> bool:
    return (await conn.execute(select(table.c.id).where(_pair(table, tenant_id, source, target)))).first() is not None


async def _blocked_either_way(conn: AsyncConnection, tenant_id: int, a: int, b: int) -> bool:
    query = select(blocks.c.id).where(blocks.c.tenant_id == tenant_id, or_(
        (blocks.c.account_id == a) & (blocks.c.target_account_id == b),
        (blocks.c.account_id == b) & (blocks.c.target_account_id == a)))
    return (await conn.execute(query.limit(1))).first() is not None


async def _domain_blocked(conn: AsyncConnection, tenant_id: int, me: int, domain: str) -> bool:
    if not domain:
        return False
    query = select(user_domain_blocks.c.id).where(
        user_domain_blocks.c.tenant_id == tenant_id, user_domain_blocks.c.account_id == me,
        user_domain_blocks.c.domain == domain)
    return (await conn.execute(query)).first() is not None


async def _drop_follow(conn: AsyncConnection, tenant_id: int, source: int, target: int) -> bool:
    """Remove `source` following `target` with everything hanging off it: the
    counters, `source`'s list memberships of `target` and `target`'s posts in
    `source`'s home feed (Mastodon's unmerge)."""
    result = await conn.execute(delete(follows).where(_pair(follows, tenant_id, source, target)))
    if not result.rowcount:
        return False
    await touch_counts(conn, tenant_id, source, following_count=-1)
    await touch_counts(conn, tenant_id, target, followers_count=-1)
    owned = select(lists.c.id).where(lists.c.tenant_id == tenant_id, lists.c.account_id == source)
    await conn.execute(delete(list_accounts).where(
        list_accounts.c.tenant_id == tenant_id, list_accounts.c.account_id == target,
        list_accounts.c.list_id.in_(owned.scalar_subquery())))
    await _unmerge(conn, tenant_id, source, target)
    return True


async def _drop_request(conn: AsyncConnection, tenant_id: int, source: int, target: int) -> None:
    """Remove a pending request and, as Mastodon does, the notification that announced it."""
    await conn.execute(delete(follow_requests).where(_pair(follow_requests, tenant_id, source, target)))
    await conn.execute(delete(notifications).where(
        notifications.c.tenant_id == tenant_id, notifications.c.account_id == target,
        notifications.c.from_account_id == source, notifications.c.type == "follow_request"))


async def _unmerge(conn: AsyncConnection, tenant_id: int, owner: int, author: int) -> None:
    await conn.execute(delete(home_feed).where(
        home_feed.c.tenant_id == tenant_id, home_feed.c.account_id == owner, home_feed.c.author_id == author))


async def _merge(conn: AsyncConnection, tenant_id: int, owner: int, author: int, *, show_reblogs: bool) -> None:
    """Bring a newly followed account's recent posts into a local follower's home
    feed (Mastodon's MergeWorker): no direct messages, no replies to people the
    follower does not follow, boosts only when shown and not of shunned authors."""
    s = statuses.c
    has_user = exists().where(users.c.tenant_id == tenant_id, users.c.account_id == owner)
    followed = select(follows.c.target_account_id).where(follows.c.tenant_id == tenant_id,
                                                         follows.c.account_id == owner)
    conds = [s.tenant_id == tenant_id, s.account_id == author, s.deleted_at.is_(None), s.visibility != "direct",
             has_user, or_(s.in_reply_to_account_id.is_(None), s.in_reply_to_account_id.in_([author, owner]),
                           s.in_reply_to_account_id.in_(followed))]
    if show_reblogs:
        shunned = select(blocks.c.target_account_id).where(blocks.c.tenant_id == tenant_id,
                                                           blocks.c.account_id == owner).union(
            select(mutes.c.target_account_id).where(mutes.c.tenant_id == tenant_id, mutes.c.account_id == owner))
        original = statuses.alias("original")
        conds.append(or_(s.reblog_of_id.is_(None), ~s.reblog_of_id.in_(select(original.c.id).where(
            original.c.tenant_id == tenant_id, original.c.account_id.in_(shunned)))))
    else:
        conds.append(s.reblog_of_id.is_(None))
    recent = select(s.id, s.account_id).where(*conds).order_by(s.id.desc()).limit(MERGE_LIMIT).subquery()
    rows = select(literal(tenant_id, BigInteger), literal(owner, BigInteger), recent.c.id, recent.c.account_id
                  ).where(recent.c.id.is_not(None))
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    await conn.execute(insert(home_feed).from_select(["tenant_id", "account_id", "status_id", "author_id"], rows)
                       .on_conflict_do_nothing())


async def create_follow(conn: AsyncConnection, tenant_id: int, source: int, target: int, *,
                        show_reblogs: bool, notify: bool, languages: list[str] | None) -> bool:
    """Record `source` following `target` (counters, home-feed merge); False when
    it already did. No rules checked: callers (and federation on Accept) decide."""
    inserted = await insert_ignore(conn, follows, {
        "tenant_id": tenant_id, "id": new_id(), "account_id": source, "target_account_id": target,
        "created_at": utcnow(), "show_reblogs": show_reblogs, "notify": notify, "languages": languages})
    if inserted:
        await touch_counts(conn, tenant_id, source, following_count=1)
        await touch_counts(conn, tenant_id, target, followers_count=1)
        await _merge(conn, tenant_id, source, target, show_reblogs=show_reblogs)
    return inserted


# ---------------------------------------------------------------- reading relationships

async def relationships(conn: AsyncConnection, tenant_id: int, me: int, targets: list[Account]) -> list[Relationship]:
    """Relationships of `me` with each target, in order, in two or three round
    trips: follows, requests and blocks both ways; my mutes, endorsements and
    notes; my domain blocks when a target is remote."""
    if not targets:
        return []
    ids = [t.id for t in targets]
    out = {t.id: Relationship(id=t.id) for t in targets}
    for kind, source, target, reblogs, notify, languages in (await conn.execute(_pair_rows(tenant_id, me, ids))).all():
        if source == me and target in out:
            rel = out[target]
            if kind == "b":
                rel.blocking = True
            elif kind == "f" or not rel.following:
                rel.following, rel.requested = kind == "f" or rel.following, kind == "r"
                rel.showing_reblogs, rel.notifying, rel.languages = bool(reblogs), bool(notify), languages
        elif target == me and source in out:
            rel = out[source]
            rel.followed_by = rel.followed_by or kind == "f"
            rel.requested_by = rel.requested_by or kind == "r"
            rel.blocked_by = rel.blocked_by or kind == "b"
    now = utcnow()
    for kind, target, hide, expires_at, comment in (await conn.execute(_own_rows(tenant_id, me, ids))).all():
        rel = out[target]
        if kind == "e":
            rel.endorsed = True
        elif kind == "n":
            rel.note = comment or ""
        else:
            expires = aware(expires_at)
            if expires is None or expires > now:
                rel.muting, rel.muting_notifications, rel.muting_expires_at = True, bool(hide), expires
    domains = {t.domain for t in targets if t.domain}
    if domains:
        blocked = set((await conn.execute(select(user_domain_blocks.c.domain).where(
            user_domain_blocks.c.tenant_id == tenant_id, user_domain_blocks.c.account_id == me,
            user_domain_blocks.c.domain.in_(domains)))).scalars())
        for t in targets:
            out[t.id].domain_blocking = t.domain in blocked
    return [out[i] for i in ids]


def _pair_rows(tenant_id: int, me: int, ids: list[int]) -> Any:
    """(kind, account_id, target_account_id, show_reblogs, notify, languages) of
    follows (f), requests (r) and blocks (b) between me and `ids`, both ways."""
    def both_ways(table: Any) -> Any:
        return (table.c.tenant_id == tenant_id) & or_(
            (table.c.account_id == me) & table.c.target_account_id.in_(ids),
            table.c.account_id.in_(ids) & (table.c.target_account_id == me))

    def part(kind: str, table: Any) -> Any:
        return select(literal(kind).label("kind"), table.c.account_id, table.c.target_account_id,
                      table.c.show_reblogs, table.c.notify, table.c.languages).where(both_ways(table))

    none = null()
    return union_all(part("f", follows), part("r", follow_requests),
                     select(literal("b"), blocks.c.account_id, blocks.c.target_account_id, none, none, none)
                     .where(both_ways(blocks)))


def _own_rows(tenant_id: int, me: int, ids: list[int]) -> Any:
    """(kind, target, hide_notifications, expires_at, comment) of my mutes (m),
    endorsements (e) and notes (n) about `ids`."""
    def mine(table: Any) -> Any:
        return (table.c.tenant_id == tenant_id) & (table.c.account_id == me) & table.c.target_account_id.in_(ids)

    none = null()
    return union_all(
        select(literal("m").label("kind"), mutes.c.target_account_id, mutes.c.hide_notifications,
               mutes.c.expires_at, cast(none, Text).label("comment")).where(mine(mutes)),
        select(literal("e"), endorsements.c.target_account_id, none, none, none).where(mine(endorsements)),
        select(literal("n"), account_notes.c.target_account_id, none, none, account_notes.c.comment)
        .where(mine(account_notes)),
    )


async def relationship(conn: AsyncConnection, tenant_id: int, me: int, target: Account) -> Relationship:
    return (await relationships(conn, tenant_id, me, [target]))[0]


async def accounts_for_ids(conn: AsyncConnection, tenant_id: int, ids: list[int], *,
                           with_suspended: bool = False) -> list[Account]:
    """The accounts of `ids` that exist here, in the order asked, duplicates dropped."""
    if not ids:
        return []
    query = select(accounts).where(accounts.c.tenant_id == tenant_id, accounts.c.id.in_(set(ids)))
    if not with_suspended:
        query = query.where(accounts.c.suspended_at.is_(None))
    found = {r.id: from_row(Account, r) for r in (await conn.execute(query)).all()}
    seen: set[int] = set()
    ordered = []
    for i in ids:
        if i in found and i not in seen:
            seen.add(i)
            ordered.append(found[i])
    return ordered


# ---------------------------------------------------------------- follows

async def follow(c: Container, tenant: Tenant, me: Account, target_id: int, *, reblogs: bool | None = None,
                 notify: bool | None = None, languages: list[str] | None = None,
                 languages_given: bool = False) -> Relationship:
    """Follow, or ask to follow a locked (or remote) account. Following again
    changes only the options given (`languages_given` says whether languages were)."""
    if languages is not None and len(languages) > MAX_LANGUAGES:
        raise unprocessable("too many languages", "languages")
    queued = False
    async with c.db.write() as conn:
        target = await visible_target(conn, tenant.id, target_id)
        if target.id == me.id:
            raise forbidden("You cannot follow yourself")
        if (await _blocked_either_way(conn, tenant.id, me.id, target.id)
                or await _domain_blocked(conn, tenant.id, me.id, target.domain)
                or target.moved_to_account_id is not None):
            raise forbidden()
        changes: dict[str, Any] = {}
        if reblogs is not None:
            changes["show_reblogs"] = reblogs
        if notify is not None:
            changes["notify"] = notify
        if languages_given:
            changes["languages"] = languages or None
        for table in (follows, follow_requests):
            if await _has(conn, table, tenant.id, me.id, target.id):
                if changes:
                    await conn.execute(update(table).where(_pair(table, tenant.id, me.id, target.id))
                                       .values(**changes))
                return await relationship(conn, tenant.id, me.id, target)
        show_reblogs = True if reblogs is None else reblogs
        langs = languages or None
        # Remote follows wait for the remote server's Accept (federation delivers the Follow).
        if target.locked or not target.local:
            inserted = await insert_ignore(conn, follow_requests, {
                "tenant_id": tenant.id, "id": new_id(), "account_id": me.id, "target_account_id": target.id,
                "created_at": utcnow(), "show_reblogs": show_reblogs, "notify": bool(notify), "languages": langs})
            kind = "follow_request"
        else:
            inserted = await create_follow(conn, tenant.id, me.id, target.id, show_reblogs=show_reblogs,
                                           notify=bool(notify), languages=langs)
            kind = "follow"
        if inserted and target.local:
            await enqueue(conn, "notify", {"tenant_id": tenant.id, "account_id": target.id,
                                           "from_account_id": me.id, "type": kind}, tenant_id=tenant.id)
            queued = True
        elif inserted:
            await federate(conn, tenant.id, "follow.requested", account_id=me.id, target_id=target.id)
            queued = True
        rel = await relationship(conn, tenant.id, me.id, target)
    if queued:
        c.jobs.wake()
    return rel


async def unfollow(c: Container, tenant: Tenant, me: Account, target_id: int) -> Relationship:
    """Stop following, or withdraw a pending request (a remote account's
    server is sent the Undo of our Follow)."""
    async with c.db.write() as conn:
        target = await visible_target(conn, tenant.id, target_id)
        undone = await _end_following(conn, tenant.id, me, target)
        rel = await relationship(conn, tenant.id, me.id, target)
    if undone:
        c.jobs.wake()
    return rel


async def _follow_uri(conn: AsyncConnection, table: Any, tenant_id: int, source: int, target: int) -> Any:
    """The (id, uri) of a follow or request row, or None when there is none."""
    return (await conn.execute(select(table.c.id, table.c.uri).where(
        _pair(table, tenant_id, source, target)))).first()


async def _end_following(conn: AsyncConnection, tenant_id: int, me: Account, target: Account) -> bool:
    """Drop my follow of (or request to) `target`; for a remote target record
    the Undo Follow. True when an outbound event was recorded."""
    found = (await _follow_uri(conn, follows, tenant_id, me.id, target.id)
             or await _follow_uri(conn, follow_requests, tenant_id, me.id, target.id))
    await _drop_follow(conn, tenant_id, me.id, target.id)
    await _drop_request(conn, tenant_id, me.id, target.id)
    if found is None or target.local:
        return False
    await federate(conn, tenant_id, "follow.undone", account_id=me.id, target_id=target.id,
                   follow_id=found.id, uri=found.uri)
    return True


async def _end_followed_by(conn: AsyncConnection, tenant_id: int, me: Account, follower: Account) -> bool:
    """Drop `follower`'s follow of (or request to) me; a remote follower's
    server is sent a Reject of its Follow, as Mastodon does. True when recorded."""
    found = (await _follow_uri(conn, follows, tenant_id, follower.id, me.id)
             or await _follow_uri(conn, follow_requests, tenant_id, follower.id, me.id))
    await _drop_follow(conn, tenant_id, follower.id, me.id)
    await _drop_request(conn, tenant_id, follower.id, me.id)
    if found is None or follower.local:
        return False
    await federate(conn, tenant_id, "follower.removed", account_id=me.id, follower_id=follower.id,
                   uri=found.uri)
    return True


async def remove_from_followers(c: Container, tenant: Tenant, me: Account, target_id: int) -> Relationship:
    async with c.db.write() as conn:
        target = await visible_target(conn, tenant.id, target_id)
        was_following = await _has(conn, follows, tenant.id, target.id, me.id)
        told = was_following and await _end_followed_by(conn, tenant.id, me, target)
        rel = await relationship(conn, tenant.id, me.id, target)
    if told:
        c.jobs.wake()
    return rel


async def pending_request(conn: AsyncConnection, tenant_id: int, requester: int, me: int) -> Any:
    row = (await conn.execute(select(follow_requests).where(
        _pair(follow_requests, tenant_id, requester, me)))).first()
    if row is None:
        raise not_found()
    return row


async def authorize_request(c: Container, tenant: Tenant, me: Account, requester_id: int) -> Relationship:
    """Accept a follow request: the request becomes a follow (no notification, as in Mastodon)."""
    async with c.db.write() as conn:
        requester = await visible_target(conn, tenant.id, requester_id)
        row = await pending_request(conn, tenant.id, requester.id, me.id)
        await _drop_request(conn, tenant.id, requester.id, me.id)
        await create_follow(conn, tenant.id, requester.id, me.id, show_reblogs=row.show_reblogs,
                            notify=row.notify, languages=row.languages)
        await _tell_requester(conn, tenant.id, row, accepted=True)
        result = await relationship(conn, tenant.id, me.id, requester)
    c.jobs.wake()
    return result


async def _tell_requester(conn: AsyncConnection, tenant_id: int, request: Any, *, accepted: bool) -> None:
    """A request that came over ActivityPub (it has the Follow's id) is answered
    there too: the federation package sends the Accept or Reject."""
    if request.uri:
        await enqueue(conn, "follow_request.answered", {
            "tenant_id": tenant_id, "follower_id": request.account_id, "target_id": request.target_account_id,
            "follow_uri": request.uri, "accepted": accepted}, tenant_id=tenant_id)


async def authorize_all_requests(conn: AsyncConnection, tenant_id: int, account_id: int) -> int:
    """Accept every pending request to `account_id`, as Mastodon does when an
    account stops being locked; returns how many. For the profile update's transaction."""
    rows = (await conn.execute(select(follow_requests).where(
        follow_requests.c.tenant_id == tenant_id, follow_requests.c.target_account_id == account_id))).all()
    for row in rows:
        await _drop_request(conn, tenant_id, row.account_id, account_id)
        await create_follow(conn, tenant_id, row.account_id, account_id, show_reblogs=row.show_reblogs,
                            notify=row.notify, languages=row.languages)
        await _tell_requester(conn, tenant_id, row, accepted=True)
    return len(rows)


async def reject_request(c: Container, tenant: Tenant, me: Account, requester_id: int) -> Relationship:
    async with c.db.write() as conn:
        requester = await visible_target(conn, tenant.id, requester_id)
        row = await pending_request(conn, tenant.id, requester.id, me.id)
        await _drop_request(conn, tenant.id, requester.id, me.id)
        await _tell_requester(conn, tenant.id, row, accepted=False)
        result = await relationship(conn, tenant.id, me.id, requester)
    c.jobs.wake()
    return result


# ---------------------------------------------------------------- what remote servers tell us

async def follow_request_accepted(conn: AsyncConnection, tenant_id: int, request: Any) -> bool:
    """A remote account accepted a local account's request (a follow_requests
    row): it becomes a follow keeping its options and Follow id."""
    await conn.execute(delete(follow_requests).where(follow_requests.c.tenant_id == tenant_id,
                                                     follow_requests.c.id == request.id))
    inserted = await create_follow(conn, tenant_id, request.account_id, request.target_account_id,
                                   show_reblogs=request.show_reblogs, notify=request.notify,
                                   languages=request.languages)
    if inserted and request.uri:
        await conn.execute(update(follows).where(_pair(follows, tenant_id, request.account_id,
                                                       request.target_account_id)).values(uri=request.uri))
    return inserted


async def follow_ended(conn: AsyncConnection, tenant_id: int, source: int, target: int) -> bool:
    """`source` no longer follows or asks to follow `target` (a remote Reject,
    Block or Delete said so); nothing is sent. True when something was there."""
    had = await _has(conn, follows, tenant_id, source, target) or await _has(
        conn, follow_requests, tenant_id, source, target)
    await _drop_follow(conn, tenant_id, source, target)
    await _drop_request(conn, tenant_id, source, target)
    return had


async def blocked_by_remote(conn: AsyncConnection, tenant_id: int, remote: int, local: int, uri: str | None) -> None:
    """A remote account blocks a local one: follows and requests end both
    ways, as Mastodon does, and the block is recorded (it shows as `blocked_by`)."""
    for source, target in ((remote, local), (local, remote)):
        await follow_ended(conn, tenant_id, source, target)
        await conn.execute(delete(endorsements).where(_pair(endorsements, tenant_id, source, target)))
    await _unmerge(conn, tenant_id, local, remote)
    if not await insert_ignore(conn, blocks, {"tenant_id": tenant_id, "id": new_id(), "account_id": remote,
                                              "target_account_id": local, "created_at": utcnow(), "uri": uri}):
        await conn.execute(update(blocks).where(_pair(blocks, tenant_id, remote, local)).values(uri=uri))


# ---------------------------------------------------------------- blocks, mutes, endorsements, notes

async def block(c: Container, tenant: Tenant, me: Account, target_id: int) -> Relationship:
    """Block: follows and requests both ways end, the endorsement goes, and
    each side's posts leave the other's home feed."""
    async with c.db.write() as conn:
        target = await visible_target(conn, tenant.id, target_id)
        if target.id == me.id:
            raise forbidden("You cannot block yourself")
        # A remote account's server hears the Undo of our Follow, the Reject of theirs, then the Block.
        await _end_following(conn, tenant.id, me, target)
        await _end_followed_by(conn, tenant.id, me, target)
        await _unmerge(conn, tenant.id, me.id, target.id)
        await _unmerge(conn, tenant.id, target.id, me.id)
        for source, dest in ((me.id, target.id), (target.id, me.id)):
            await conn.execute(delete(endorsements).where(_pair(endorsements, tenant.id, source, dest)))
        block_id = new_id()
        inserted = await insert_ignore(conn, blocks, {"tenant_id": tenant.id, "id": block_id, "account_id": me.id,
                                                      "target_account_id": target.id, "created_at": utcnow()})
        if inserted and not target.local:
            await federate(conn, tenant.id, "block", account_id=me.id, target_id=target.id, block_id=block_id)
        rel = await relationship(conn, tenant.id, me.id, target)
    c.jobs.wake()
    return rel


async def unblock(c: Container, tenant: Tenant, me: Account, target_id: int) -> Relationship:
    async with c.db.write() as conn:
        target = await visible_target(conn, tenant.id, target_id)
        gone = (await conn.execute(delete(blocks).where(_pair(blocks, tenant.id, me.id, target.id))
                                   .returning(blocks.c.id, blocks.c.uri))).first()
        if gone is not None and not target.local:
            await federate(conn, tenant.id, "block.undone", account_id=me.id, target_id=target.id,
                           block_id=gone.id, uri=gone.uri)
        rel = await relationship(conn, tenant.id, me.id, target)
    c.jobs.wake()
    return rel


async def mute(c: Container, tenant: Tenant, me: Account, target_id: int, *, notifications: bool = True,
               duration: int = 0) -> Relationship:
    """Mute (again: the options are replaced); `duration` seconds, 0 for ever."""
    expires_at = utcnow() + timedelta(seconds=duration) if duration > 0 else None
    async with c.db.write() as conn:
        target = await visible_target(conn, tenant.id, target_id)
        if target.id == me.id:
            raise forbidden("You cannot mute yourself")
        values = {"hide_notifications": notifications, "expires_at": expires_at}
        inserted = await insert_ignore(conn, mutes, {"tenant_id": tenant.id, "id": new_id(), "account_id": me.id,
                                                     "target_account_id": target.id, "created_at": utcnow(),
                                                     **values})
        if not inserted:
            await conn.execute(update(mutes).where(_pair(mutes, tenant.id, me.id, target.id)).values(**values))
        await _unmerge(conn, tenant.id, me.id, target.id)
        return await relationship(conn, tenant.id, me.id, target)


async def unmute(c: Container, tenant: Tenant, me: Account, target_id: int) -> Relationship:
    async with c.db.write() as conn:
        target = await visible_target(conn, tenant.id, target_id)
        await conn.execute(delete(mutes).where(_pair(mutes, tenant.id, me.id, target.id)))
        return await relationship(conn, tenant.id, me.id, target)


async def endorse(c: Container, tenant: Tenant, me: Account, target_id: int) -> Relationship:
    """Feature an account on my profile; as in Mastodon, only one I follow."""
    async with c.db.write() as conn:
        target = await visible_target(conn, tenant.id, target_id)
        if not await _has(conn, follows, tenant.id, me.id, target.id):
            raise unprocessable("You must be following the person you want to endorse", "base")
        await insert_ignore(conn, endorsements, {"tenant_id": tenant.id, "id": new_id(), "account_id": me.id,
                                                 "target_account_id": target.id, "created_at": utcnow()})
        return await relationship(conn, tenant.id, me.id, target)


async def unendorse(c: Container, tenant: Tenant, me: Account, target_id: int) -> Relationship:
    async with c.db.write() as conn:
        target = await visible_target(conn, tenant.id, target_id)
        await conn.execute(delete(endorsements).where(_pair(endorsements, tenant.id, me.id, target.id)))
        return await relationship(conn, tenant.id, me.id, target)


async def set_note(c: Container, tenant: Tenant, me: Account, target_id: int, comment: str) -> Relationship:
    if len(comment) > MAX_NOTE:
        raise unprocessable(f"Comment is too long (maximum is {MAX_NOTE} characters)", "comment", "ERR_TOO_LONG")
    async with c.db.write() as conn:
        target = await visible_target(conn, tenant.id, target_id)
        if not comment.strip():
            await conn.execute(delete(account_notes).where(_pair(account_notes, tenant.id, me.id, target.id)))
        elif not await insert_ignore(conn, account_notes, {
                "tenant_id": tenant.id, "id": new_id(), "account_id": me.id, "target_account_id": target.id,
                "created_at": utcnow(), "comment": comment}):
            await conn.execute(update(account_notes).where(_pair(account_notes, tenant.id, me.id, target.id))
                               .values(comment=comment))
        return await relationship(conn, tenant.id, me.id, target)


# ---------------------------------------------------------------- account collections

async def _account_page(conn: AsyncConnection, tenant_id: int, query: Select[Any], key: Any,
                        page: PageLike) -> list[tuple[int, Account]]:
    query, ascending = paginate(query, key, page)
    rows = (await conn.execute(query)).all()
    items = [(r.page_key, from_row(Account, r)) for r in rows]
    return items[::-1] if ascending else items


def _accounts_joined(table: Any, tenant_id: int, join_on: str) -> Select[Any]:
    return select(accounts, table.c.id.label("page_key")).join(
        table, (table.c.tenant_id == accounts.c.tenant_id) & (table.c[join_on] == accounts.c.id)).where(
        table.c.tenant_id == tenant_id, accounts.c.suspended_at.is_(None))


async def collection_hidden(conn: AsyncConnection, tenant_id: int, owner: Account, viewer_id: int | None) -> bool:
    """Followers/following lists are hidden from others when the owner hides them
    and from anyone the owner blocks."""
    if viewer_id == owner.id:
        return False
    if owner.hide_collections:
        return True
    return viewer_id is not None and await _has(conn, blocks, tenant_id, owner.id, viewer_id)


async def followers(conn: AsyncConnection, tenant_id: int, account_id: int,
                    page: PageLike) -> list[tuple[int, Account]]:
    query = _accounts_joined(follows, tenant_id, "account_id").where(follows.c.target_account_id == account_id)
    return await _account_page(conn, tenant_id, query, follows.c.id, page)


async def following(conn: AsyncConnection, tenant_id: int, account_id: int,
                    page: PageLike) -> list[tuple[int, Account]]:
    query = _accounts_joined(follows, tenant_id, "target_account_id").where(follows.c.account_id == account_id)
    return await _account_page(conn, tenant_id, query, follows.c.id, page)


async def requesters(conn: AsyncConnection, tenant_id: int, me: int, page: PageLike) -> list[tuple[int, Account]]:
    query = _accounts_joined(follow_requests, tenant_id, "account_id").where(
        follow_requests.c.target_account_id == me)
    return await _account_page(conn, tenant_id, query, follow_requests.c.id, page)


async def blocked_accounts(conn: AsyncConnection, tenant_id: int, me: int, page: PageLike) -> list[tuple[int, Account]]:
    query = _accounts_joined(blocks, tenant_id, "target_account_id").where(blocks.c.account_id == me)
    return await _account_page(conn, tenant_id, query, blocks.c.id, page)


async def muted_accounts(conn: AsyncConnection, tenant_id: int, me: int, page: PageLike) -> list[tuple[int, Account]]:
    live = or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > utcnow())
    query = _accounts_joined(mutes, tenant_id, "target_account_id").where(mutes.c.account_id == me, live)
    return await _account_page(conn, tenant_id, query, mutes.c.id, page)


async def endorsed_accounts(conn: AsyncConnection, tenant_id: int, owner: int,
                            page: PageLike) -> list[tuple[int, Account]]:
    query = _accounts_joined(endorsements, tenant_id, "target_account_id").where(endorsements.c.account_id == owner)
    return await _account_page(conn, tenant_id, query, endorsements.c.id, page)


async def familiar_followers(conn: AsyncConnection, tenant_id: int, me: int, ids: list[int],
                             per_account: int = 40) -> dict[int, list[Account]]:
    """For each id, the accounts I follow that follow it (those hiding their
    collections left out): one query."""
    if not ids:
        return {}
    mine = select(follows.c.target_account_id).where(follows.c.tenant_id == tenant_id, follows.c.account_id == me)
    query = _accounts_joined(follows, tenant_id, "account_id").add_columns(
        follows.c.target_account_id.label("followed")).where(
        follows.c.target_account_id.in_(ids), follows.c.account_id.in_(mine.scalar_subquery()),
        accounts.c.hide_collections.is_(False), accounts.c.id != me).order_by(desc(follows.c.id))
    out: dict[int, list[Account]] = {i: [] for i in ids}
    for row in (await conn.execute(query)).all():
        bucket = out[row.followed]
        if len(bucket) < per_account:
            bucket.append(from_row(Account, row))
    return out


# ---------------------------------------------------------------- user-level domain blocks

def normalize_domain(raw: str) -> str:
    value = raw.strip().lower()
    if "://" in value:
        value = value.split("://", 1)[1]
    value = value.split("/", 1)[0].split("?", 1)[0].rstrip(".")
    if "@" in value:
        value = value.rsplit("@", 1)[1]
    value = value.split(":", 1)[0]
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        raise unprocessable("Domain is not a valid domain name", "domain") from None
    if not DOMAIN_RE.match(value) or "." not in value:
        raise unprocessable("Domain is not a valid domain name", "domain")
    return value


async def block_domain(c: Container, tenant: Tenant, me: Account, raw_domain: str) -> None:
    """Hide a whole remote server from me: its accounts stop following me and I
    stop following them (Mastodon's AfterBlockDomainFromAccountService)."""
    domain = normalize_domain(raw_domain)
    if domain in {tenant.domain, tenant.web_domain}:
        raise unprocessable("You cannot block your own server's domain", "domain")
    async with c.db.write() as conn:
        await insert_ignore(conn, user_domain_blocks, {"tenant_id": tenant.id, "id": new_id(), "account_id": me.id,
                                                       "domain": domain, "created_at": utcnow()})
        on_domain = select(accounts.c.id).where(accounts.c.tenant_id == tenant.id, accounts.c.domain == domain)
        theirs = on_domain.scalar_subquery()
        pairs = (await conn.execute(select(follows.c.account_id, follows.c.target_account_id, follows.c.uri).where(
            follows.c.tenant_id == tenant.id, or_(
                (follows.c.account_id == me.id) & follows.c.target_account_id.in_(theirs),
                follows.c.account_id.in_(theirs) & (follows.c.target_account_id == me.id))))).all()
        requests = (await conn.execute(select(follow_requests.c.account_id, follow_requests.c.target_account_id,
                                              follow_requests.c.uri)
                                       .where(follow_requests.c.tenant_id == tenant.id, or_(
            (follow_requests.c.target_account_id == me.id) & follow_requests.c.account_id.in_(theirs),
            (follow_requests.c.account_id == me.id) & follow_requests.c.target_account_id.in_(theirs))))).all()
        for source, target, _uri in pairs:
            await _drop_follow(conn, tenant.id, source, target)
        for source, target, _uri in requests:
            await _drop_request(conn, tenant.id, source, target)
        # Their server hears that its accounts no longer follow me (Mastodon rejects them).
        for source, target, uri in [*pairs, *requests]:
            if target == me.id:
                await federate(conn, tenant.id, "follower.removed", account_id=me.id, follower_id=source, uri=uri)
    c.jobs.wake()


async def unblock_domain(c: Container, tenant: Tenant, me: Account, raw_domain: str) -> None:
    domain = normalize_domain(raw_domain)
    async with c.db.write() as conn:
        await conn.execute(delete(user_domain_blocks).where(
            user_domain_blocks.c.tenant_id == tenant.id, user_domain_blocks.c.account_id == me.id,
            user_domain_blocks.c.domain == domain))


async def blocked_domains(conn: AsyncConnection, tenant_id: int, me: int, page: PageLike) -> list[tuple[int, str]]:
    query = select(user_domain_blocks.c.id, user_domain_blocks.c.domain).where(
        user_domain_blocks.c.tenant_id == tenant_id, user_domain_blocks.c.account_id == me)
    query, ascending = paginate(query, user_domain_blocks.c.id, page)
    rows = [(r.id, r.domain) for r in (await conn.execute(query)).all()]
    return rows[::-1] if ascending else rows


# ---------------------------------------------------------------- suggestions

async def suggestions(conn: AsyncConnection, tenant_id: int, me: int, limit: int) -> list[Account]:
    """Who to follow: the most-followed discoverable local accounts that I do not
    follow, have not asked to follow, block, mute, am blocked by or dismissed."""

    def excluded(table: Any, source: Any, target: Any) -> Any:
        return exists().where(table.c.tenant_id == tenant_id, source == me, target == accounts.c.id)

    query = select(accounts).where(
        accounts.c.tenant_id == tenant_id, accounts.c.domain == "", accounts.c.id != me,
        accounts.c.suspended_at.is_(None), accounts.c.discoverable.is_(True),
        accounts.c.moved_to_account_id.is_(None),
        ~excluded(follows, follows.c.account_id, follows.c.target_account_id),
        ~excluded(follow_requests, follow_requests.c.account_id, follow_requests.c.target_account_id),
        ~excluded(blocks, blocks.c.account_id, blocks.c.target_account_id),
        ~excluded(blocks, blocks.c.target_account_id, blocks.c.account_id),
        ~excluded(mutes, mutes.c.account_id, mutes.c.target_account_id),
        ~excluded(suggestion_dismissals, suggestion_dismissals.c.account_id,
                  suggestion_dismissals.c.target_account_id),
    ).order_by(accounts.c.followers_count.desc(), accounts.c.id.desc()).limit(limit)
    return [from_row(Account, r) for r in (await conn.execute(query)).all()]


async def dismiss_suggestion(c: Container, tenant: Tenant, me: Account, target_id: int) -> None:
    async with c.db.write() as conn:
        target = await visible_target(conn, tenant.id, target_id)
        await insert_ignore(conn, suggestion_dismissals, {
            "tenant_id": tenant.id, "id": new_id(), "account_id": me.id, "target_account_id": target.id,
            "created_at": utcnow()})
