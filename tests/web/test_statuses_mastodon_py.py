"""Mastodon.py, the real client library, posting and reading statuses on a real
Steward process (the live server of tests/e2e)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

from tests.live import LiveServer


def client(server: LiveServer, token: str | None) -> Mastodon:
    return Mastodon(api_base_url=server.base_url, access_token=token, version_check_mode="none",
                    request_timeout=30)


def test_statuses_with_mastodon_py(live_server: LiveServer) -> None:
    api = client(live_server, live_server.user("poster"))
    other = client(live_server, live_server.user("reader"))
    status = api.status_post("Hello @reader #python https://example.org", visibility="unlisted",
                             spoiler_text="cw", language="en", idempotency_key="k-1")
    assert status.visibility == "unlisted" and status.mentions[0].username == "reader"
    assert api.status_post("Hello again", idempotency_key="k-1").id == status.id
    assert other.status(status.id).content == status.content
    reply = other.status_reply(status, "a reply")
    assert reply.in_reply_to_id == status.id
    context = api.status_context(status.id)
    assert [s.id for s in context.descendants] == [reply.id]
    assert other.status_favourite(status.id).favourited is True
    assert [a.username for a in api.status_favourited_by(status.id)] == ["reader"]
    boost = other.status_reblog(status.id, visibility="public")
    assert boost.reblog.id == status.id
    assert [a.username for a in api.status_reblogged_by(status.id)] == ["reader"]
    assert other.status_unreblog(status.id).reblogged is False
    assert other.status_bookmark(status.id).bookmarked is True
    assert [s.id for s in other.bookmarks()] == [status.id]
    assert [s.id for s in other.favourites()] == [status.id]
    assert api.status_pin(status.id).pinned is True
    assert [s.id for s in api.account_statuses(status.account.id, pinned=True)] == [status.id]
    assert api.status_mute(status.id).muted is True
    edited = api.status_update(status.id, "Hello edited", spoiler_text="")
    assert edited.edited_at is not None and "edited" in edited.content
    assert len(api.status_history(status.id)) == 2
    assert api.status_source(status.id).text == "Hello edited"
    with_poll = api.status_post("Tea?", poll=api.make_poll(["yes", "no"], expires_in=600))
    voted = other.poll_vote(with_poll.poll.id, [0])
    assert voted.own_votes == [0] and voted.votes_count == 1
    assert api.poll(with_poll.poll.id).votes_count == 1
    later = api.status_post("Later", scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    assert [s.id for s in api.scheduled_statuses()] == [later.id]
    api.scheduled_status_delete(later.id)
    deleted = api.status_delete(status.id)
    assert deleted.text == "Hello edited"
    with pytest.raises(MastodonNotFoundError):
        other.status(status.id)
    with pytest.raises(MastodonAPIError):
        api.status_post("x" * 501)
