"""Two Steward servers federating over TLS on loopback, driven with Mastodon.py on
both sides (tests/federation_pair.py). Every test runs twice: between two
processes (alpha.test, beta.test) and between two tenants of one process
(gamma.test, delta.test). Each side should see what Mastodon would show."""

from __future__ import annotations

import pytest
import requests

from tests.federation_pair import Federation


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
