"""Outbound events about statuses (recorded by the social services through
`social.federate`): posts, edits, deletions, boosts, favourites and poll votes,
turned into activities and one delivery job per inbox.

Who gets what, as Mastodon decides it:
- a post goes to the author's remote followers (one per shared inbox) unless it
  is direct, and to the remote accounts it mentions; a public or unlisted reply
  also goes to the parent's author. A followers-only post never reaches an inbox
  of a server where no follower lives; a direct one only the mentioned.
- an edit, a deletion and new poll counts go to that audience and, for public
  and unlisted posts, to the remote accounts that boosted or favourited it
  (and, for polls, voted);
- a boost (and its undoing) goes to the booster's followers and the original's
  author; a favourite (and its undoing) and a vote go to the author only.
An event with no remote audience queues nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.activitypub.convert import actor_uri, status_to_announce, with_context
from steward.activitypub.convert_activities import (
    create_activity,
    delete_activity,
    like_activity,
    undo_announce,
    undo_like,
    update_activity,
    vote_activity,
)
from steward.db.tables import accounts, favourites, poll_votes, polls, statuses
from steward.federation.audience import account_inboxes, follower_inboxes
from steward.federation.delivery import queue_deliveries
from steward.federation.objects import load_note_parts
from steward.model.entities import Account, Poll, Status, Tenant, from_row
from steward.social.accounts import get_accounts

if TYPE_CHECKING:
    from steward.container import Container

PUBLISHED = ("public", "unlisted")


async def _status(conn: AsyncConnection, tenant_id: int, status_id: int) -> Status | None:
    row = (await conn.execute(select(statuses).where(statuses.c.tenant_id == tenant_id,
                                                     statuses.c.id == status_id))).first()
    return from_row(Status, row) if row else None


async def _poll(conn: AsyncConnection, tenant_id: int, poll_id: int | None) -> Poll | None:
    if poll_id is None:
        return None
    row = (await conn.execute(select(polls).where(polls.c.tenant_id == tenant_id, polls.c.id == poll_id))).first()
    return from_row(Poll, row) if row else None


async def _remote_ids(conn: AsyncConnection, tenant_id: int, column: Any, status_id: int, table: Any) -> list[int]:
    rows = await conn.execute(select(table.c.account_id).distinct()
                              .join(accounts, (accounts.c.tenant_id == table.c.tenant_id)
                                    & (accounts.c.id == table.c.account_id))
                              .where(table.c.tenant_id == tenant_id, column == status_id, accounts.c.domain != ""))
    return [r.account_id for r in rows]


async def status_audience(conn: AsyncConnection, tenant_id: int, status: Status, mention_ids: list[int], *,
                          wide: bool = False) -> set[str]:
    """Inboxes that get a status of our own (see the module's rules)."""
    inboxes: set[str] = set()
    if status.visibility != "direct":
        inboxes |= await follower_inboxes(conn, tenant_id, status.account_id)
    named = list(mention_ids)
    if status.visibility in PUBLISHED:
        if status.in_reply_to_account_id is not None:
            named.append(status.in_reply_to_account_id)
        if wide:
            named += await _remote_ids(conn, tenant_id, statuses.c.reblog_of_id, status.id, statuses)
            named += await _remote_ids(conn, tenant_id, favourites.c.status_id, status.id, favourites)
    return inboxes | await account_inboxes(conn, tenant_id, named)


async def _send(c: Container, tenant: Tenant, account_id: int, inboxes: set[str],
                activity: dict[str, Any]) -> None:
    if not inboxes:
        return
    async with c.db.write() as conn:
        await queue_deliveries(conn, tenant.id, account_id, sorted(inboxes), activity)
    c.jobs.wake()


async def _own_status(c: Container, tenant: Tenant, payload: dict[str, Any], build: str) -> None:
    """Create or Update of one of our statuses, to its audience."""
    base = c.base_url(tenant)
    async with c.db.read() as conn:
        status = await _status(conn, tenant.id, int(payload["status_id"]))
        if status is None or status.deleted_at is not None or status.reblog_of_id is not None or not status.local:
            return
        parts = (await load_note_parts(conn, tenant, base, [status])).get(status.id)
        if parts is None:
            return
        poll = await _poll(conn, tenant.id, status.poll_id)
        inboxes = await status_audience(conn, tenant.id, status, [m.id for m in parts.mentions],
                                        wide=build != "create")
        if build == "poll" and poll is not None and status.visibility in PUBLISHED:
            inboxes |= await account_inboxes(conn, tenant.id, await _remote_ids(
                conn, tenant.id, poll_votes.c.poll_id, poll.id, poll_votes))
    if build == "create":
        activity = create_activity(base, tenant, parts, poll)
    else:
        activity = update_activity(base, tenant, parts, poll, edited=build == "update")
    await _send(c, tenant, status.account_id, inboxes, activity)


async def on_created(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    await _own_status(c, tenant, payload, "create")


async def on_edited(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    await _own_status(c, tenant, payload, "update")


async def on_poll_updated(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    async with c.db.read() as conn:
        poll = await _poll(conn, tenant.id, int(payload["poll_id"]))
    if poll is not None:
        await _own_status(c, tenant, {"status_id": poll.status_id}, "poll")


async def _boost_parts(conn: AsyncConnection, tenant: Tenant, base: str, boost_id: int
                       ) -> tuple[Status, Account, dict[str, Any], set[str]] | None:
    boost = await _status(conn, tenant.id, boost_id)
    if boost is None or boost.reblog_of_id is None or not boost.local:
        return None
    original = await _status(conn, tenant.id, boost.reblog_of_id)
    if original is None:
        return None
    found = await get_accounts(conn, tenant.id, {boost.account_id, original.account_id})
    booster, author = found.get(boost.account_id), found.get(original.account_id)
    if booster is None or author is None:
        return None
    announce = with_context(status_to_announce(base, booster, boost, original.uri, actor_uri(base, author)))
    inboxes = await follower_inboxes(conn, tenant.id, booster.id) if boost.visibility != "direct" else set()
    inboxes |= await account_inboxes(conn, tenant.id, [author.id])
    return boost, booster, announce, inboxes


async def on_reblogged(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    base = c.base_url(tenant)
    async with c.db.read() as conn:
        found = await _boost_parts(conn, tenant, base, int(payload["status_id"]))
    if found is not None and found[0].deleted_at is None:
        _boost, booster, announce, inboxes = found
        await _send(c, tenant, booster.id, inboxes, announce)


async def _unreblogged(c: Container, tenant: Tenant, boost_id: int) -> None:
    base = c.base_url(tenant)
    async with c.db.read() as conn:
        found = await _boost_parts(conn, tenant, base, boost_id)
    if found is not None:
        boost, booster, announce, inboxes = found
        await _send(c, tenant, booster.id, inboxes, undo_announce(base, booster, boost.id, announce))


async def on_unreblogged(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    await _unreblogged(c, tenant, int(payload["status_id"]))


async def on_deleted(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    """A deleted status: Delete to everyone who got it; a deleted boost is an Undo."""
    base = c.base_url(tenant)
    async with c.db.read() as conn:
        status = await _status(conn, tenant.id, int(payload["status_id"]))
        if status is None or not status.local:
            return
        parts = None
        if status.reblog_of_id is None:
            parts = (await load_note_parts(conn, tenant, base, [status])).get(status.id)
            if parts is None:
                return
            inboxes = await status_audience(conn, tenant.id, status, [m.id for m in parts.mentions], wide=True)
    if parts is None:
        await _unreblogged(c, tenant, status.id)
        return
    await _send(c, tenant, status.account_id, inboxes, delete_activity(base, parts.author, status.uri))


async def _like(c: Container, tenant: Tenant, payload: dict[str, Any], undo: bool) -> None:
    base = c.base_url(tenant)
    async with c.db.read() as conn:
        status = await _status(conn, tenant.id, int(payload["status_id"]))
        if status is None:
            return
        found = await get_accounts(conn, tenant.id, {int(payload["account_id"]), status.account_id})
        liker, author = found.get(int(payload["account_id"])), found.get(status.account_id)
        if liker is None or author is None or author.local or not liker.local:
            return
        inboxes = await account_inboxes(conn, tenant.id, [author.id])
    build = undo_like if undo else like_activity
    await _send(c, tenant, liker.id, inboxes, build(base, liker, int(payload["favourite_id"]), status.uri))


async def on_favourited(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    await _like(c, tenant, payload, undo=False)


async def on_unfavourited(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    await _like(c, tenant, payload, undo=True)


async def on_voted(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    """Votes of a local account in a remote poll, one Create per chosen option."""
    base = c.base_url(tenant)
    vote_ids = [int(v) for v in payload.get("vote_ids", [])]
    async with c.db.read() as conn:
        poll = await _poll(conn, tenant.id, int(payload["poll_id"]))
        status = await _status(conn, tenant.id, poll.status_id) if poll else None
        if poll is None or status is None or not vote_ids:
            return
        found = await get_accounts(conn, tenant.id, {int(payload["account_id"]), poll.account_id})
        voter, author = found.get(int(payload["account_id"])), found.get(poll.account_id)
        if voter is None or author is None or author.local or not voter.local:
            return
        votes = (await conn.execute(select(poll_votes.c.id, poll_votes.c.choice).where(
            poll_votes.c.tenant_id == tenant.id, poll_votes.c.poll_id == poll.id,
            poll_votes.c.account_id == voter.id, poll_votes.c.id.in_(vote_ids)).order_by(poll_votes.c.id))).all()
        inboxes = await account_inboxes(conn, tenant.id, [author.id])
    for vote in votes:
        if 0 <= vote.choice < len(poll.options):
            await _send(c, tenant, voter.id, inboxes, vote_activity(
                base, voter, vote.id, poll.options[vote.choice], status.uri, actor_uri(base, author)))


EVENTS = {
    "status.created": on_created,
    "status.edited": on_edited,
    "status.deleted": on_deleted,
    "status.reblogged": on_reblogged,
    "status.unreblogged": on_unreblogged,
    "status.favourited": on_favourited,
    "status.unfavourited": on_unfavourited,
    "poll.voted": on_voted,
    "poll.updated": on_poll_updated,
}
