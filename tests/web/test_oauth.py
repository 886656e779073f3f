from __future__ import annotations

import base64
import hashlib
import re

from tests.world import World

OOB = "urn:ietf:wg:oauth:2.0:oob"


async def _app(world: World, scopes: str = "read write follow") -> dict:
    r = await world.anon_a.post("/api/v1/apps", data={"client_name": "t", "redirect_uris": OOB, "scopes": scopes})
    assert r.status_code == 200, r.text
    return r.json()


async def test_app_registration_and_verify(world: World) -> None:
    app = await _app(world)
    assert app["scopes"] == ["read", "write", "follow"]
    r = await world.anon_a.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": app["client_id"],
                                                      "client_secret": app["client_secret"], "scope": "read"})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    r = await world.client(world.a, token).get("/api/v1/apps/verify_credentials")
    assert r.status_code == 200 and r.json()["name"] == "t" and "client_secret" not in r.json()
    # An app token is not a user token.
    r = await world.client(world.a, token).get("/api/v1/accounts/verify_credentials")
    assert r.status_code == 422 and "error" in r.json()


async def test_authorization_code_with_pkce(world: World) -> None:
    app = await _app(world)
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    q = {"client_id": app["client_id"], "redirect_uri": OOB, "response_type": "code", "scope": "read write",
         "code_challenge": challenge, "code_challenge_method": "S256"}
    page = await world.anon_a.get("/oauth/authorize", params=q)
    assert page.status_code == 200 and "Authorize" in page.text
    bad = await world.anon_a.post("/oauth/authorize", data={**q, "login": "alice", "password": "wrong password"})
    assert bad.status_code == 401
    ok = await world.anon_a.post("/oauth/authorize", data={**q, "login": "alice", "password": "correct horse battery",
                                                           "decision": "allow"})
    code = re.search(r'id="authorization-code">([^<]+)<', ok.text).group(1)  # type: ignore[union-attr]
    token_req = {"grant_type": "authorization_code", "client_id": app["client_id"],
                 "client_secret": app["client_secret"], "code": code, "redirect_uri": OOB}
    r = await world.anon_a.post("/oauth/token", data={**token_req, "code_verifier": "wrong"})
    assert r.status_code == 400 and "error" in r.json()
    r = await world.anon_a.post("/oauth/token", data={**token_req, "code_verifier": verifier})
    assert r.status_code == 200, r.text
    body = r.json()
    me = await world.client(world.a, body["access_token"]).get("/api/v1/accounts/verify_credentials")
    assert me.json()["username"] == "alice"
    # A code works once.
    again = await world.anon_a.post("/oauth/token", data={**token_req, "code_verifier": verifier})
    assert again.status_code == 400
    # Refresh, then the old token is gone.
    r = await world.anon_a.post("/oauth/token", data={"grant_type": "refresh_token", "client_id": app["client_id"],
                                                      "client_secret": app["client_secret"],
                                                      "refresh_token": body["refresh_token"]})
    assert r.status_code == 200
    new = r.json()["access_token"]
    r = await world.anon_a.post("/oauth/revoke", data={"client_id": app["client_id"],
                                                       "client_secret": app["client_secret"], "token": new})
    assert r.status_code == 200
    r = await world.client(world.a, new).get("/api/v1/accounts/verify_credentials")
    assert r.status_code == 401


async def test_password_grant_and_scopes(world: World) -> None:
    app = await _app(world, "read")
    r = await world.anon_a.post("/oauth/token", data={"grant_type": "password", "client_id": app["client_id"],
                                                      "client_secret": app["client_secret"], "username": "alice",
                                                      "password": "correct horse battery", "scope": "read"})
    assert r.status_code == 200, r.text
    client = world.client(world.a, r.json()["access_token"])
    r = await client.patch("/api/v1/accounts/update_credentials", data={"display_name": "x"})
    assert r.status_code == 403 and r.json()["error"]
    r = await world.anon_a.post("/oauth/token", data={"grant_type": "password", "client_id": app["client_id"],
                                                      "client_secret": app["client_secret"], "username": "alice",
                                                      "password": "correct horse battery", "scope": "write"})
    assert r.status_code == 400


async def test_tokens_are_bound_to_their_tenant(world: World) -> None:
    carol_on_a = world.client(world.a, world.local_carol.token)
    r = await carol_on_a.get("/api/v1/accounts/verify_credentials")
    assert r.status_code == 401
    app = await _app(world)
    r = await world.anon_b.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": app["client_id"],
                                                      "client_secret": app["client_secret"]})
    assert r.status_code == 401


async def test_bad_input(world: World) -> None:
    r = await world.anon_a.post("/api/v1/apps", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()
    r = await world.anon_a.post("/api/v1/apps", data={"client_name": "x", "redirect_uris": "not a uri"})
    assert r.status_code == 422
    r = await world.anon_a.post("/api/v1/apps", data={"client_name": "x", "redirect_uris": OOB, "scopes": "root"})
    assert r.status_code == 422
    r = await world.anon_a.post("/oauth/token", data={"grant_type": "magic"})
    assert r.status_code in {400, 401} and "error" in r.json()
    r = await world.anon_a.get("/oauth/authorize", params={"client_id": "nope"})
    assert r.status_code == 400
    r = await world.client(world.a, "garbage").get("/api/v1/accounts/verify_credentials")
    assert r.status_code == 401
