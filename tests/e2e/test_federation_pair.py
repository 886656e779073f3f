"""Two Steward servers federating over TLS on loopback, driven with Mastodon.py on
both sides (tests/federation_pair.py). Every test runs twice: between two
processes (alpha.test, beta.test) and between two tenants of one process
(gamma.test, delta.test). Each side should see what Mastodon would show."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from mastodon import MastodonNotFoundError

from tests.federation_pair import (
    PASSWORD,
    Federation,
    eventually,
    follow,
    in_timeline,
    marker,
    notification,
    raw,
    resolve_account,
)


def test_servers_answer_over_tls_with_the_test_ca(fed: Federation) -> None:
    for side in (fed.a, fed.b):
        name = fed.username("tls")
        api = side.user(name)
        me = api.account_verify_credentials()
        assert me.acct == name
        assert me.url == f"{side.base_url}/@{name}"
        finger = side.http.get(f"{side.base_url}/.well-known/webfinger",
                               params={"resource": f"acct:{side.handle(name)}"}, timeout=10)
        assert finger.status_code == 200
        self_link = next(link for link in finger.json()["links"] if link["rel"] == "self")
        actor = side.http.get(self_link["href"], headers={"Accept": "application/activity+json"}, timeout=10)
        assert actor.json()["inbox"].startswith(f"{side.base_url}/")
        # Without the test CA the certificate is refused: TLS is real.
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{side.base_url}/api/v1/instance", timeout=10)


def test_resolve_and_follow(fed: Federation) -> None:
    alice_name, bob_name = fed.username("alice"), fed.username("bob")
    alice, bob = fed.a.user(alice_name), fed.b.user(bob_name)
    bob_seen = resolve_account(alice, fed.b.handle(bob_name))
    assert bob_seen.username == bob_name
    assert bob_seen.url == f"{fed.b.base_url}/@{bob_name}"
    assert alice.account_lookup(fed.b.handle(bob_name)).id == bob_seen.id
    rel = alice.account_follow(bob_seen.id)
    assert rel.following or rel.requested
    eventually(lambda: alice.account_relationships(bob_seen.id)[0].following)
    bob_id = bob.account_verify_credentials().id
    followers = eventually(lambda: bob.account_followers(bob_id))
    assert [f.acct for f in followers] == [fed.a.handle(alice_name)]
    assert eventually(lambda: notification(bob, "follow", acct=fed.a.handle(alice_name)))
    assert bob.account_verify_credentials().followers_count == 1
    # Unfollow reaches the other side too.
    alice.account_unfollow(bob_seen.id)
    eventually(lambda: bob.account_verify_credentials().followers_count == 0)


def test_locked_account_follow_request(fed: Federation) -> None:
    alice_name, carol_name = fed.username("alice"), fed.username("carol")
    alice, carol = fed.a.user(alice_name), fed.b.user(carol_name)
    carol.account_update_credentials(locked=True)
    carol_seen = resolve_account(alice, fed.b.handle(carol_name))
    assert carol_seen.locked
    rel = alice.account_follow(carol_seen.id)
    assert not rel.following
    eventually(lambda: alice.account_relationships(carol_seen.id)[0].requested)
    requests_seen = eventually(lambda: carol.follow_requests())
    assert [r.acct for r in requests_seen] == [fed.a.handle(alice_name)]
    assert eventually(lambda: notification(carol, "follow_request", acct=fed.a.handle(alice_name)))
    assert not alice.account_relationships(carol_seen.id)[0].following
    carol.follow_request_authorize(requests_seen[0].id)
    eventually(lambda: alice.account_relationships(carol_seen.id)[0].following)
    assert not alice.account_relationships(carol_seen.id)[0].requested
    # Now a follower, alice sees carol's followers-only posts.
    text = marker()
    carol.status_post(f"for followers {text}", visibility="private")
    assert eventually(lambda: in_timeline(alice.timeline_home(), text)).visibility == "private"


def test_every_visibility_reaches_whom_mastodon_shows_it_to(fed: Federation) -> None:
    alice_name, dave_name, bob_name = fed.username("alice"), fed.username("dave"), fed.username("bob")
    alice, dave, bob = fed.a.user(alice_name), fed.a.user(dave_name), fed.b.user(bob_name)
    follow(alice, fed.b.handle(bob_name))
    resolve_account(bob, fed.a.handle(dave_name))  # as a client's autocomplete does before posting
    texts = {v: marker() for v in ("to_dave", "public", "unlisted", "private", "direct")}
    bob.status_post(f"@{fed.a.handle(dave_name)} only for dave {texts['to_dave']}", visibility="direct")
    bob.status_post(f"public {texts['public']}", visibility="public")
    bob.status_post(f"unlisted {texts['unlisted']}", visibility="unlisted")
    bob.status_post(f"private {texts['private']}", visibility="private")
    bob.status_post(f"@{fed.a.handle(alice_name)} direct {texts['direct']}", visibility="direct")

    def home_has_all() -> list[Any]:
        home = alice.timeline_home(limit=40)
        found = [in_timeline(home, texts[v]) for v in ("public", "unlisted", "private", "direct")]
        return found if all(found) else []

    public, unlisted, private, direct = eventually(home_has_all)
    assert [s.visibility for s in (public, unlisted, private, direct)] == ["public", "unlisted", "private", "direct"]
    assert all(s.account.acct == fed.b.handle(bob_name) for s in (public, unlisted, private, direct))
    assert direct.mentions[0].acct == alice_name
    assert in_timeline(alice.timeline_home(limit=40), texts["to_dave"]) is None
    # Dave does not follow bob: he sees only what was addressed to him.
    to_dave = eventually(lambda: notification(dave, "mention", texts["to_dave"]))
    assert to_dave.status.visibility == "direct"
    assert in_timeline(dave.timeline_home(limit=40), texts["private"]) is None
    with pytest.raises(MastodonNotFoundError):
        dave.status(private.id)
    # The federated timeline shows public posts only.
    federated = alice.timeline_public(limit=40)
    assert in_timeline(federated, texts["public"]) is not None
    assert all(in_timeline(federated, texts[v]) is None for v in ("unlisted", "private", "direct"))
    assert in_timeline(alice.timeline_public(local=True, limit=40), texts["public"]) is None
    # The direct message opens a conversation with bob.
    conversations = alice.conversations()
    assert any(c.last_status and texts["direct"] in c.last_status.content for c in conversations)


def test_reply_and_mention_notify_the_other_side(fed: Federation) -> None:
    alice_name, bob_name = fed.username("alice"), fed.username("bob")
    alice, bob = fed.a.user(alice_name), fed.b.user(bob_name)
    resolve_account(alice, fed.b.handle(bob_name))
    text, reply_text = marker(), marker()
    original = alice.status_post(f"hello @{fed.b.handle(bob_name)} {text}")
    assert original.mentions[0].acct == fed.b.handle(bob_name)
    mention = eventually(lambda: notification(bob, "mention", text))
    assert mention.account.acct == fed.a.handle(alice_name)
    assert mention.status.mentions[0].acct == bob_name
    reply = bob.status_reply(mention.status, f"hi back {reply_text}")
    assert reply.in_reply_to_id == mention.status.id
    back = eventually(lambda: notification(alice, "mention", reply_text))
    assert back.account.acct == fed.b.handle(bob_name)
    assert back.status.in_reply_to_id == original.id
    assert back.status.in_reply_to_account_id == original.account.id
    context = alice.status_context(original.id)
    assert [s.id for s in context.descendants] == [back.status.id]


def test_boost_and_favourite(fed: Federation) -> None:
    alice_name, bob_name, carol_name = fed.username("alice"), fed.username("bob"), fed.username("carol")
    alice, bob, carol = fed.a.user(alice_name), fed.b.user(bob_name), fed.b.user(carol_name)
    follow(alice, fed.b.handle(bob_name))
    follow(carol, fed.a.handle(alice_name))  # carol (beside bob) follows alice
    text = marker()
    original = bob.status_post(f"boost me {text}")
    seen = eventually(lambda: in_timeline(alice.timeline_home(), text))
    alice.status_favourite(seen.id)
    boost = alice.status_reblog(seen.id)
    assert boost.reblog.id == seen.id
    assert eventually(lambda: notification(bob, "favourite", text, acct=fed.a.handle(alice_name)))
    assert eventually(lambda: notification(bob, "reblog", text, acct=fed.a.handle(alice_name)))
    counted = eventually(lambda: (s := bob.status(original.id)).favourites_count == 1 and s.reblogs_count == 1 and s)
    assert counted.favourites_count == 1
    assert [a.acct for a in bob.status_favourited_by(original.id)] == [fed.a.handle(alice_name)]
    assert [a.acct for a in bob.status_reblogged_by(original.id)] == [fed.a.handle(alice_name)]
    # Carol, who follows alice, sees alice's boost of bob's post (a local post on her side).
    boosted = eventually(lambda: in_timeline(carol.timeline_home(), text))
    assert boosted.reblog is not None
    assert boosted.account.acct == fed.a.handle(alice_name)
    assert boosted.reblog.id == original.id
    # Undoing both reaches bob's side.
    alice.status_unfavourite(seen.id)
    alice.status_unreblog(seen.id)
    eventually(lambda: (s := bob.status(original.id)).favourites_count == 0 and s.reblogs_count == 0)


def test_edit_reaches_the_other_side(fed: Federation) -> None:
    alice_name, bob_name = fed.username("alice"), fed.username("bob")
    alice, bob = fed.a.user(alice_name), fed.b.user(bob_name)
    follow(alice, fed.b.handle(bob_name))
    text, edited = marker(), marker()
    original = bob.status_post(f"first version {text}")
    seen = eventually(lambda: in_timeline(alice.timeline_home(), text))
    assert seen.edited_at is None
    bob.status_update(original.id, f"second version {edited}")
    after = eventually(lambda: (s := alice.status(seen.id)).edited_at is not None and edited in s.content and s)
    assert text not in after.content
    history = alice.status_history(seen.id)
    assert len(history) == 2
    assert text in history[0].content and edited in history[1].content


def test_delete_reaches_the_other_side(fed: Federation) -> None:
    alice_name, bob_name = fed.username("alice"), fed.username("bob")
    alice, bob = fed.a.user(alice_name), fed.b.user(bob_name)
    follow(alice, fed.b.handle(bob_name))
    text = marker()
    original = bob.status_post(f"soon gone {text}")
    seen = eventually(lambda: in_timeline(alice.timeline_home(), text))
    bob.status_delete(original.id)

    def gone() -> bool:
        try:
            alice.status(seen.id)
        except MastodonNotFoundError:
            return True
        return False

    eventually(gone)
    assert in_timeline(alice.timeline_home(), text) is None


def test_block_across_servers(fed: Federation) -> None:
    alice_name, bob_name = fed.username("alice"), fed.username("bob")
    alice, bob = fed.a.user(alice_name), fed.b.user(bob_name)
    bob_seen = follow(alice, fed.b.handle(bob_name))
    eventually(lambda: bob.account_verify_credentials().followers_count == 1)
    alice_seen = resolve_account(bob, fed.a.handle(alice_name))
    assert bob.account_block(alice_seen.id).blocking
    # Mastodon: a block received removes the follow both ways and shows as blocked_by.
    rel = eventually(lambda: (r := alice.account_relationships(bob_seen.id)[0]).blocked_by and r)
    assert not rel.following
    assert bob.account_verify_credentials().followers_count == 0
    # Bob's posts no longer reach alice: a post after the block stays out of her home.
    text = marker()
    bob.status_post(f"after the block {text}")
    with pytest.raises(AssertionError):
        eventually(lambda: in_timeline(alice.timeline_home(), text), timeout=5)
    # Unblocking reaches alice's side as well.
    bob.account_unblock(alice_seen.id)
    eventually(lambda: not alice.account_relationships(bob_seen.id)[0].blocked_by)


def test_report_is_forwarded_only_when_asked(fed: Federation) -> None:
    alice_name, bob_name = fed.username("alice"), fed.username("bob")
    alice, bob = fed.a.user(alice_name), fed.b.user(bob_name)
    bob_seen = follow(alice, fed.b.handle(bob_name))
    text = marker()
    original = bob.status_post(f"reportable {text}")
    seen = eventually(lambda: in_timeline(alice.timeline_home(), text))
    local_only, forwarded = marker(), marker()
    alice.report(bob_seen.id, status_ids=[seen.id], comment=f"kept here {local_only}", forward=False,
                 category="other")
    alice.report(bob_seen.id, status_ids=[seen.id], comment=f"sent on {forwarded}", forward=True, category="other")
    # Alice's own server has both reports.
    here = [r.comment for r in fed.a.admin().admin_reports()]
    assert any(local_only in c for c in here) and any(forwarded in c for c in here)
    admin_b = fed.b.admin()

    def arrived() -> Any:
        return next((r for r in admin_b.admin_reports() if forwarded in (r.comment or "")), None)

    report = eventually(arrived)
    assert report.target_account.username == bob_name
    assert report.target_account.domain is None  # bob is local on his server
    assert report.account.domain == fed.a.domain  # filed by alice's server, not by alice
    assert [s.id for s in report.statuses] == [original.id]
    assert not any(local_only in (r.comment or "") for r in admin_b.admin_reports())


def test_poll_and_vote(fed: Federation) -> None:
    alice_name, bob_name = fed.username("alice"), fed.username("bob")
    alice, bob = fed.a.user(alice_name), fed.b.user(bob_name)
    follow(alice, fed.b.handle(bob_name))
    text = marker()
    posted = bob.status_post(f"tea or coffee {text}", poll=bob.make_poll(["tea", "coffee"], expires_in=3600))
    seen = eventually(lambda: in_timeline(alice.timeline_home(), text))
    assert seen.poll is not None
    assert [o.title for o in seen.poll.options] == ["tea", "coffee"]
    assert not seen.poll.voted
    voted = alice.poll_vote(seen.poll.id, [1])
    assert voted.voted and voted.own_votes == [1]
    origin = eventually(lambda: (p := bob.poll(posted.poll.id)).votes_count == 1 and p)
    assert [o.votes_count for o in origin.options] == [0, 1]
    assert origin.voters_count is None  # Mastodon counts voters only for multiple-choice polls


def test_profile_update_is_seen_on_the_other_side(fed: Federation) -> None:
    alice_name, bob_name = fed.username("alice"), fed.username("bob")
    alice, bob = fed.a.user(alice_name), fed.b.user(bob_name)
    bob_seen = follow(alice, fed.b.handle(bob_name))
    text = marker()
    bob.account_update_credentials(display_name=f"Bob {text}", note=f"about me {text}",
                                   fields=[("Site", "https://example.org")])
    updated = eventually(lambda: (a := alice.account(bob_seen.id)).display_name == f"Bob {text}" and a)
    assert text in updated.note
    assert updated.fields[0].name == "Site"


def test_account_migration_moves_followers_on_both_sides(fed: Federation) -> None:
    bob_name, nova_name = fed.username("bob"), fed.username("nova")
    carol_name, dave_name = fed.username("carol"), fed.username("dave")
    bob, dave = fed.b.user(bob_name), fed.b.user(dave_name)  # bob moves out of b
    nova, carol = fed.a.user(nova_name), fed.a.user(carol_name)  # to nova on a
    bob_at_carol = follow(carol, fed.b.handle(bob_name))  # a remote follower of bob
    bob_at_dave = follow(dave, bob_name)  # a local follower of bob
    # Mastodon keeps these in its web settings; Steward has them under /api/v1/steward.
    alias = raw(nova, "POST", "/api/v1/steward/aliases", {"acct": fed.b.handle(bob_name)})
    assert alias.status_code == 200, alias.text
    refused = raw(bob, "POST", "/api/v1/steward/migration", {"acct": fed.a.handle(nova_name),
                                                              "current_password": "wrong password"})
    assert refused.status_code in (401, 403, 422), refused.text
    moved = raw(bob, "POST", "/api/v1/steward/migration", {"acct": fed.a.handle(nova_name),
                                                            "current_password": PASSWORD})
    assert moved.status_code == 200, moved.text
    assert bob.account_verify_credentials().moved.acct == fed.a.handle(nova_name)
    nova_at_carol = carol.account_lookup(nova_name)
    nova_at_dave = resolve_account(dave, fed.a.handle(nova_name))
    # Followers on both sides now follow nova and no longer bob, as Mastodon's MoveWorker does.
    eventually(lambda: carol.account_relationships(nova_at_carol.id)[0].following)
    eventually(lambda: dave.account_relationships(nova_at_dave.id)[0].following)
    eventually(lambda: not carol.account_relationships(bob_at_carol.id)[0].following)
    assert not dave.account_relationships(bob_at_dave.id)[0].following
    seen = eventually(lambda: carol.account(bob_at_carol.id).moved)
    assert seen.acct == nova_name
    eventually(lambda: nova.account_verify_credentials().followers_count == 2)


def test_mention_of_an_account_the_server_does_not_know_yet(fed: Federation) -> None:
    """Mastodon resolves `@user@host` through WebFinger when the status is posted."""
    dave_name, bob_name = fed.username("dave"), fed.username("bob")
    dave, bob = fed.a.user(dave_name), fed.b.user(bob_name)
    text = marker()
    posted = bob.status_post(f"@{fed.a.handle(dave_name)} hello stranger {text}", visibility="direct")
    assert [m.acct for m in posted.mentions] == [fed.a.handle(dave_name)]
    seen = eventually(lambda: notification(dave, "mention", text))
    assert seen.status.visibility == "direct"
    assert seen.account.acct == fed.b.handle(bob_name)
