"""Federation between two Steward servers (tests/federation_pair.py) that does not
work yet: these tests describe Mastodon's behaviour and fail until Steward has it.
When one passes, move it to test_federation_pair.py."""

from __future__ import annotations

from tests.federation_pair import Federation, eventually, marker, notification


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
