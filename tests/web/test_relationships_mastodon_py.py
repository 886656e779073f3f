"""Mastodon.py, the real client library, driving relationships, lists, search
and hashtags on a real Steward process (the live server of tests/e2e)."""

from __future__ import annotations

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

from tests.live import LiveServer


def client(server: LiveServer, token: str | None) -> Mastodon:
    return Mastodon(api_base_url=server.base_url, access_token=token, version_check_mode="none",
                    request_timeout=30)


def test_relationships_with_mastodon_py(live_server: LiveServer) -> None:
    a = client(live_server, live_server.user("rel_a"))
    b = client(live_server, live_server.user("rel_b"))
    a_id, b_id = a.me().id, b.me().id
    rel = a.account_follow(b_id, reblogs=False, notify=True)
    assert rel.following and not rel.showing_reblogs and rel.notifying
    assert a.account_relationships([b_id])[0].following
    assert [x.id for x in b.account_followers(b_id)] == [a_id]
    assert [x.id for x in a.account_following(a_id, limit=1)] == [b_id]
    assert a.account_pin(b_id).endorsed and [x.id for x in a.endorsements()] == [b_id]
    assert a.account_note_set(b_id, "met at a conference").note == "met at a conference"
    assert b.account_mute(a_id, duration=60).muting and [x.id for x in b.mutes()] == [a_id]
    assert not b.account_unmute(a_id).muting
    assert b.account_block(a_id).blocking and [x.id for x in b.blocks()] == [a_id]
    assert not a.account_relationships([b_id])[0].following
    with pytest.raises(MastodonAPIError):
        a.account_follow(b_id)
    assert not b.account_unblock(a_id).blocking
    b.domain_block("spam.example")
    assert b.domain_blocks() == ["spam.example"]
    b.domain_unblock("spam.example")
    assert b.domain_blocks() == []
    assert a_id in [x.id for x in b.suggestions()]
    b.suggestion_delete(a_id)
    assert a_id not in [x.id for x in b.suggestions()]
    with pytest.raises(MastodonNotFoundError):
        a.account_follow(987654321)


def test_follow_requests_with_mastodon_py(live_server: LiveServer) -> None:
    a = client(live_server, live_server.user("req_a"))
    b = client(live_server, live_server.user("req_b"))
    b.account_update_credentials(locked=True)
    assert a.account_follow(b.me().id).requested
    assert [x.id for x in b.follow_requests()] == [a.me().id]
    assert b.follow_request_authorize(a.me().id).followed_by
    assert a.account_relationships([b.me().id])[0].following


def test_lists_search_and_tags_with_mastodon_py(live_server: LiveServer) -> None:
    a = client(live_server, live_server.user("list_a"))
    b = client(live_server, live_server.user("list_b"))
    b_id = b.me().id
    a.account_follow(b_id)
    lst = a.list_create("Friends")
    a.list_accounts_add(lst, [b_id])
    assert [x.id for x in a.list_accounts(lst)] == [b_id]
    assert [x.id for x in a.account_lists(b_id)] == [lst.id]
    assert a.list_update(lst, title="Pals", replies_policy="none").title == "Pals"
    a.list_accounts_delete(lst, [b_id])
    a.list_delete(lst)
    assert a.lists() == []

    b.status_post("Growing #MastodonPyTomatoes in the garden")
    found = a.search_v2("garden", result_type="statuses")
    assert len(found.statuses) == 1
    assert [t.name for t in a.search_v2("#mastodonpytom").hashtags] == ["mastodonpytomatoes"]
    assert [x.id for x in a.account_search("list_b")] == [b_id]
    assert a.tag_follow("mastodonpytomatoes").following
    assert [t.name for t in a.followed_tags()] == ["mastodonpytomatoes"]
    assert not a.tag_unfollow("mastodonpytomatoes").following
    assert a.featured_tag_create("mastodonpytomatoes").statuses_count in (0, "0")
    assert [t.name for t in a.account_featured_tags(a.me().id)] == ["mastodonpytomatoes"]
