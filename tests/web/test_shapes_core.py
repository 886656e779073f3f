"""Shapes of the OAuth and account responses, checked against Mastodon's OpenAPI schemas."""

from __future__ import annotations

from tests.schema import assert_matches
from tests.world import World


async def test_app_token_and_account_shapes(world: World) -> None:
    app = (await world.anon_a.post("/api/v1/apps", data={"client_name": "shape", "redirect_uris":
                                                          "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})).json()
    assert_matches("CredentialApplication", app)
    token = (await world.anon_a.post("/oauth/token", data={
        "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "username": "alice", "password": "correct horse battery", "scope": "read write"})).json()
    assert_matches("Token", token)
    client = world.client(world.a, token["access_token"])
    assert_matches("Application", (await client.get("/api/v1/apps/verify_credentials")).json())
    assert_matches("CredentialAccount", (await client.get("/api/v1/accounts/verify_credentials")).json())
    assert_matches("CredentialAccount", (await client.patch("/api/v1/accounts/update_credentials",
                                                            data={"note": "hi"})).json())
    assert_matches("Account", (await world.anon_a.get(f"/api/v1/accounts/{world.local_bob.account_id}")).json())
    assert_matches("Account", (await world.anon_a.get("/api/v1/accounts", params={
        "id[]": [world.local_bob.account_id]})).json(), many=True)
    assert_matches("Profile", (await client.get("/api/v1/profile")).json())


async def test_error_shapes(world: World) -> None:
    r = await world.anon_a.get("/api/v1/accounts/verify_credentials")
    assert_matches("Error", r.json())
    r = await world.local_alice.patch("/api/v1/accounts/update_credentials", data={"display_name": "x" * 40})
    assert_matches("Error", r.json())
