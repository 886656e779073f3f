"""Polls: validating a new poll, storing it, and voting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import aware, utcnow
from steward.core.errors import ApiError, not_found
from steward.core.ids import new_id
from steward.db.tables import accounts, poll_votes, polls, statuses
from steward.jobs.queue import enqueue, enqueue_once
from steward.model.entities import Account, Poll, Status, Tenant, from_row
from steward.social.federate import federate
from steward.social.status_visibility import get_visible

if TYPE_CHECKING:
    from steward.container import Container
    from steward.web.params import Params

MIN_EXPIRY = 300
MAX_EXPIRY = 31 * 24 * 3600
MAX_OPTION_CHARS = 50
ENDED_JOB = "poll.ended"
# Votes on our polls reach remote servers as new counts this long after a vote.
POLL_UPDATE_DELAY = 180.0


@dataclass
class PollDraft:
    options: list[str]
    expires_in: int
    multiple: bool = False
    hide_totals: bool = False


def poll_from_params(tenant: Tenant, params: Params) -> PollDraft | None:
    """The `poll[...]` parameters, validated; None when no poll was sent."""
    if "poll" not in params or params.raw("poll") in (None, "", {}):
        return None
    sub = params.sub("poll")
    # Params.str_list's annotation confuses mypy (the class defines a `list` method).
    sent: Any = sub.str_list("options", max_items=100)
    options: list[str] = [str(o).strip() for o in sent]
    limit = int(tenant.setting("max_poll_options", 4))
    if not 2 <= len(options) <= limit:
        raise ApiError(422, f"Validation failed: Poll must have between 2 and {limit} options")
    if any(not o for o in options):
        raise ApiError(422, "Validation failed: Poll options can't be blank")
    if any(len(o) > MAX_OPTION_CHARS for o in options):
        raise ApiError(422, f"Validation failed: Poll options are limited to {MAX_OPTION_CHARS} characters")
    if len(set(options)) != len(options):
        raise ApiError(422, "Validation failed: Poll options must be unique")
    expires_in = sub.int("expires_in")
    if expires_in is None:
        raise ApiError(422, "Validation failed: Poll expires_in can't be blank")
    if not MIN_EXPIRY <= expires_in <= MAX_EXPIRY:
        raise ApiError(422, "Validation failed: Poll duration must be between 5 minutes and a month")
    return PollDraft(options, expires_in, bool(sub.bool("multiple", False)), bool(sub.bool("hide_totals", False)))


async def insert_poll(conn: AsyncConnection, tenant_id: int, account_id: int, status_id: int,
                      draft: PollDraft) -> int:
    poll_id = new_id()
    now = utcnow()
    await conn.execute(polls.insert().values(
        tenant_id=tenant_id, id=poll_id, status_id=status_id, account_id=account_id, options=draft.options,
        tallies=[0] * len(draft.options), multiple=draft.multiple, hide_totals=draft.hide_totals,
        votes_count=0, voters_count=0, expires_at=now + timedelta(seconds=draft.expires_in), created_at=now,
    ))
    await enqueue(conn, ENDED_JOB, {"tenant_id": tenant_id, "poll_id": poll_id}, tenant_id=tenant_id,
                  delay=draft.expires_in)
    return poll_id


async def notify_ended(c: Container, payload: dict[str, Any]) -> None:
    """The job run when a poll ends: a `poll` notification to each local voter
    (and to the author, which the notifier leaves out as self-notification)."""
    tenant_id, poll_id = int(payload["tenant_id"]), int(payload["poll_id"])
    async with c.db.write() as conn:
        row = (await conn.execute(select(polls.c.expires_at, polls.c.account_id, polls.c.status_id).where(
            polls.c.tenant_id == tenant_id, polls.c.id == poll_id))).first()
        ends = aware(row.expires_at) if row is not None else None
        if row is None or ends is None or ends > utcnow() + timedelta(seconds=1):
            return
        current = (await conn.execute(select(statuses.c.id).where(
            statuses.c.tenant_id == tenant_id, statuses.c.id == row.status_id, statuses.c.poll_id == poll_id,
            statuses.c.deleted_at.is_(None)))).first()
        if current is None:
            return  # deleted, or the poll was replaced by an edit
        voters = (await conn.execute(select(poll_votes.c.account_id).distinct().join(
            accounts, (accounts.c.tenant_id == poll_votes.c.tenant_id) & (accounts.c.id == poll_votes.c.account_id)
        ).where(poll_votes.c.tenant_id == tenant_id, poll_votes.c.poll_id == poll_id, accounts.c.domain == "")
        )).all()
        for account_id in sorted({row.account_id, *(v.account_id for v in voters)}):
            await enqueue(conn, "notify", {"tenant_id": tenant_id, "account_id": account_id,
                                           "from_account_id": row.account_id, "type": "poll",
                                           "status_id": row.status_id}, tenant_id=tenant_id)
        await federate(conn, tenant_id, "poll.updated", poll_id=poll_id)
    c.jobs.wake()


async def get_poll(conn: AsyncConnection, tenant_id: int, viewer_id: int | None, poll_id: int) -> tuple[Poll, Status]:
    """The poll and its status, when the viewer may see the status; else 404."""
    row = (await conn.execute(select(polls).where(polls.c.tenant_id == tenant_id, polls.c.id == poll_id))).first()
    if row is None:
        raise not_found()
    poll = from_row(Poll, row)
    status = await get_visible(conn, tenant_id, viewer_id, poll.status_id)
    return poll, status


async def own_votes(conn: AsyncConnection, tenant_id: int, account_id: int, poll_id: int) -> list[int]:
    """The account's choices in the order it made them."""
    rows = (await conn.execute(select(poll_votes.c.choice).where(
        poll_votes.c.tenant_id == tenant_id, poll_votes.c.poll_id == poll_id,
        poll_votes.c.account_id == account_id).order_by(poll_votes.c.id))).all()
    return [r.choice for r in rows]


def parse_choices(raw: list[str], poll: Poll) -> list[int]:
    if not raw:
        raise ApiError(422, "Validation failed: choices can't be blank")
    choices = []
    for item in raw:
        number = int(item) if item.isdigit() and len(item) < 6 else -1
        if not 0 <= number < len(poll.options):
            raise ApiError(422, "Validation failed: choices must be indices of the poll's options")
        choices.append(number)
    if len(set(choices)) != len(choices):
        raise ApiError(422, "Validation failed: choices must not repeat")
    if not poll.multiple and len(choices) > 1:
        raise ApiError(422, "Validation failed: this poll allows only one choice")
    return choices


async def vote(c: Container, tenant: Tenant, me: Account, poll_id: int, raw_choices: list[str]) -> Poll:
    async with c.db.write() as conn:
        query = select(polls).where(polls.c.tenant_id == tenant.id, polls.c.id == poll_id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()  # tallies are read, changed and written back
        row = (await conn.execute(query)).first()
        if row is None:
            raise not_found()
        poll = from_row(Poll, row)
        await get_visible(conn, tenant.id, me.id, poll.status_id)
        if poll.expires_at is not None and poll.expires_at <= utcnow():
            raise ApiError(422, "Validation failed: The poll has already ended")
        choices = parse_choices(raw_choices, poll)
        earlier = await own_votes(conn, tenant.id, me.id, poll.id)
        # As in Mastodon, a multiple-choice poll takes further votes for other options.
        if earlier and (not poll.multiple or set(earlier) & set(choices)):
            raise ApiError(422, "Validation failed: You have already voted on this poll")
        now = utcnow()
        vote_ids = [new_id() for _ in choices]
        await conn.execute(poll_votes.insert(), [
            {"tenant_id": tenant.id, "id": vote_id, "poll_id": poll.id, "account_id": me.id, "choice": choice,
             "created_at": now} for vote_id, choice in zip(vote_ids, choices, strict=True)
        ])
        tallies = list(poll.tallies) + [0] * (len(poll.options) - len(poll.tallies))
        for choice in choices:
            tallies[choice] += 1
        poll.tallies = tallies
        poll.votes_count += len(choices)
        poll.voters_count += 0 if earlier else 1
        await conn.execute(update(polls).where(polls.c.tenant_id == tenant.id, polls.c.id == poll.id).values(
            tallies=tallies, votes_count=poll.votes_count, voters_count=poll.voters_count))
        author_domain = (await conn.execute(select(accounts.c.domain).where(
            accounts.c.tenant_id == tenant.id, accounts.c.id == poll.account_id))).scalar()
        if author_domain:
            await federate(conn, tenant.id, "poll.voted", poll_id=poll.id, account_id=me.id, vote_ids=vote_ids)
        else:
            await schedule_poll_update(conn, tenant.id, poll.id)
    c.jobs.wake()
    return poll


async def schedule_poll_update(conn: AsyncConnection, tenant_id: int, poll_id: int) -> None:
    """New counts of one of our polls go out as an Update of its Question a few
    minutes after a vote, once for all the votes of those minutes."""
    await enqueue_once(conn, "ap.outbox", {"tenant_id": tenant_id, "event": "poll.updated", "poll_id": poll_id},
                       tenant_id=tenant_id, delay=POLL_UPDATE_DELAY, dedupe_key=f"poll.updated:{tenant_id}:{poll_id}")


# ---------------------------------------------------------------- remote polls and votes

async def insert_remote_poll(conn: AsyncConnection, tenant_id: int, account_id: int, status_id: int, *,
                             options: list[str], tallies: list[int], multiple: bool, voters_count: int | None,
                             expires_at: datetime | None) -> int:
    """A remote Question's poll with the counts its server reports; local voters
    hear when it ends, as with our own polls."""
    poll_id = new_id()
    now = utcnow()
    await conn.execute(polls.insert().values(
        tenant_id=tenant_id, id=poll_id, status_id=status_id, account_id=account_id, options=options,
        tallies=tallies, multiple=multiple, hide_totals=False, votes_count=sum(tallies),
        voters_count=voters_count if voters_count is not None else sum(tallies), expires_at=expires_at,
        created_at=now))
    if expires_at is not None and expires_at > now:
        await enqueue(conn, ENDED_JOB, {"tenant_id": tenant_id, "poll_id": poll_id}, tenant_id=tenant_id,
                      delay=int((expires_at - now).total_seconds()) + 1)
    return poll_id


async def refresh_remote_poll(conn: AsyncConnection, tenant_id: int, poll_id: int, *, tallies: list[int],
                              voters_count: int | None, expires_at: datetime | None) -> None:
    """New counts from the poll's own server (its Update of the Question)."""
    values: dict[str, Any] = {"tallies": tallies, "votes_count": sum(tallies)}
    if voters_count is not None:
        values["voters_count"] = voters_count
    if expires_at is not None:
        values["expires_at"] = expires_at
    await conn.execute(update(polls).where(polls.c.tenant_id == tenant_id, polls.c.id == poll_id).values(**values))


async def record_remote_vote(conn: AsyncConnection, tenant_id: int, poll_id: int, voter_id: int, choice: int,
                             uri: str | None) -> bool:
    """A remote account's vote on one of our polls (one choice per activity, as
    Mastodon sends them). Same rules as a local vote: not after the end, one
    choice unless the poll is multiple, never the same choice twice. False when
    the vote does not count."""
    query = select(polls).where(polls.c.tenant_id == tenant_id, polls.c.id == poll_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return False
    poll = from_row(Poll, row)
    if poll.expires_at is not None and poll.expires_at <= utcnow():
        return False
    if not 0 <= choice < len(poll.options):
        return False
    earlier = await own_votes(conn, tenant_id, voter_id, poll_id)
    if earlier and (not poll.multiple or choice in earlier):
        return False
    await conn.execute(poll_votes.insert().values(tenant_id=tenant_id, id=new_id(), poll_id=poll_id,
                                                  account_id=voter_id, choice=choice, uri=uri, created_at=utcnow()))
    tallies = list(poll.tallies) + [0] * (len(poll.options) - len(poll.tallies))
    tallies[choice] += 1
    await conn.execute(update(polls).where(polls.c.tenant_id == tenant_id, polls.c.id == poll_id).values(
        tallies=tallies, votes_count=poll.votes_count + 1,
        voters_count=poll.voters_count + (0 if earlier else 1)))
    return True
