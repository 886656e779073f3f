"""Mastodon.py, the real client library, against a real Steward process."""

from __future__ import annotations

import httpx
import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError, MastodonUnauthorizedError

from tests.live import LiveServer


def client(server: LiveServer, token: str | None) -> Mastodon:
    return Mastodon(api_base_url=server.base_url, access_token=token, version_check_mode="none",
                    request_timeout=30)


def test_register_app_and_log_in_with_oauth(live_server: LiveServer) -> None:
    live_server.user("oauth_user")
    client_id, client_secret = Mastodon.create_app("e2e", api_base_url=live_server.base_url,
                                                   scopes=["read", "write"], to_file=None)
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=live_server.base_url,
                   version_check_mode="none")
    token = api.log_in("oauth_user", "correct horse battery", scopes=["read", "write"], allow_http=True)
    assert token
    me = api.account_verify_credentials()
    assert me.username == "oauth_user"
    # Mastodon.py's own revoke refuses plain-HTTP servers, so revoke as any OAuth client would.
    r = httpx.post(f"{live_server.base_url}/oauth/revoke",
                   data={"client_id": client_id, "client_secret": client_secret, "token": token}, timeout=10)
    assert r.status_code == 200
    with pytest.raises(MastodonUnauthorizedError):
        client(live_server, token).account_verify_credentials()


def test_profile_and_errors(live_server: LiveServer) -> None:
    api = client(live_server, live_server.user("profile_user"))
    updated = api.account_update_credentials(display_name="Profile", note="Hi #there",
                                             fields=[("Web", "https://example.org")])
    assert updated.display_name == "Profile"
    assert updated.fields[0].name == "Web"
    found = api.account_lookup("profile_user")
    assert found.id == updated.id
    with pytest.raises(MastodonNotFoundError):
        api.account(123456789)
    with pytest.raises(MastodonAPIError):
        api.account_update_credentials(display_name="x" * 200)
    anon = client(live_server, None)
    with pytest.raises(MastodonUnauthorizedError):
        anon.account_verify_credentials()
