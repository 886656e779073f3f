"""Outbound activities about statuses, shaped as Mastodon writes them: Create
and Update of a Note or Question, Delete with a Tombstone, Undo of an
Announce, Like and Undo Like, and a poll vote (a Create of a named Note
addressed to the poll's author only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from steward.activitypub.convert import PUBLIC, NoteParts, actor_uri, as2_time, status_to_note, with_context
from steward.model.entities import Account, Poll, Tenant


def _question(note: dict[str, Any], poll: Poll, now: datetime) -> dict[str, Any]:
    """A Note with a poll becomes a Question: options under `oneOf` or `anyOf`
    with their counts, `endTime`, `votersCount`, and `closed` once it ended."""
    tallies = list(poll.tallies) + [0] * (len(poll.options) - len(poll.tallies))
    options = [{"type": "Note", "name": name, "replies": {"type": "Collection", "totalItems": count}}
               for name, count in zip(poll.options, tallies, strict=False)]
    question = {**note, "type": "Question"}
    question["anyOf" if poll.multiple else "oneOf"] = options
    if poll.expires_at is not None:
        question["endTime"] = as2_time(poll.expires_at)
        if poll.expires_at.astimezone(UTC) <= now:
            question["closed"] = as2_time(poll.expires_at)
    question["votersCount"] = poll.voters_count
    return question


def status_object(base: str, tenant: Tenant, parts: NoteParts, poll: Poll | None = None,
                  now: datetime | None = None) -> dict[str, Any]:
    note = status_to_note(base, tenant, parts)
    if poll is None:
        return note
    return _question(note, poll, now or datetime.now(UTC))


def create_activity(base: str, tenant: Tenant, parts: NoteParts, poll: Poll | None = None) -> dict[str, Any]:
    obj = status_object(base, tenant, parts, poll)
    return with_context({"id": f"{parts.status.uri}/activity", "type": "Create", "actor": obj["attributedTo"],
                         "published": obj["published"], "to": obj["to"], "cc": obj["cc"], "object": obj})


def update_activity(base: str, tenant: Tenant, parts: NoteParts, poll: Poll | None = None, *,
                    edited: bool = True, now: datetime | None = None) -> dict[str, Any]:
    """An edit (dated by `edited_at`, which the Note carries as `updated`), or new
    poll counts (`edited=False`: dated now). Each Update gets its own id."""
    now = now or datetime.now(UTC)
    obj = status_object(base, tenant, parts, poll, now)
    at = parts.status.edited_at if edited and parts.status.edited_at else now
    return with_context({"id": f"{parts.status.uri}#updates/{int(at.timestamp())}", "type": "Update",
                         "actor": obj["attributedTo"], "published": as2_time(at), "to": obj["to"], "cc": obj["cc"],
                         "object": obj})


def delete_activity(base: str, author: Account, object_uri: str) -> dict[str, Any]:
    return with_context({"id": f"{object_uri}#delete", "type": "Delete", "actor": actor_uri(base, author),
                         "to": [PUBLIC], "object": {"id": object_uri, "type": "Tombstone", "atomUri": object_uri}})


def undo_announce(base: str, booster: Account, boost_id: int, announce: dict[str, Any]) -> dict[str, Any]:
    actor = actor_uri(base, booster)
    inner = {k: v for k, v in announce.items() if k != "@context"}
    return with_context({"id": f"{actor}#announces/{boost_id}/undo", "type": "Undo", "actor": actor,
                         "to": [PUBLIC], "object": inner})


def like_activity(base: str, liker: Account, favourite_id: int, object_uri: str) -> dict[str, Any]:
    actor = actor_uri(base, liker)
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}#likes/{favourite_id}",
            "type": "Like", "actor": actor, "object": object_uri}


def undo_like(base: str, liker: Account, favourite_id: int, object_uri: str) -> dict[str, Any]:
    like = like_activity(base, liker, favourite_id, object_uri)
    like.pop("@context")
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{like['id']}/undo", "type": "Undo",
            "actor": like["actor"], "object": like}


def vote_activity(base: str, voter: Account, vote_id: int, option: str, question_uri: str,
                  poll_author_uri: str) -> dict[str, Any]:
    """One chosen option of a remote poll, as Mastodon sends it: a Create of a
    Note whose `name` is the option, in reply to the Question, to its author only."""
    actor = actor_uri(base, voter)
    note = {"id": f"{actor}#votes/{vote_id}", "type": "Note", "name": option, "attributedTo": actor,
            "inReplyTo": question_uri, "to": poll_author_uri}
    return with_context({"id": f"{actor}#votes/{vote_id}/activity", "type": "Create", "actor": actor,
                         "to": poll_author_uri, "object": note})
