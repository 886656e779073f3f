from __future__ import annotations

import io

from PIL import Image

from tests.world import World


async def _app_token(world: World, client) -> str:  # type: ignore[no-untyped-def]
    app = (await client.post("/api/v1/apps", data={"client_name": "reg", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                                   "scopes": "read write"})).json()
    r = await client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": app["client_id"],
                                                "client_secret": app["client_secret"], "scope": "read write"})
    return r.json()["access_token"]


async def test_registration_open(world: World) -> None:
    token = await _app_token(world, world.anon_a)
    client = world.client(world.a, token)
    r = await client.post("/api/v1/accounts", data={"username": "newbie", "email": "n@example.org",
                                                    "password": "long enough pw", "agreement": "true", "locale": "de"})
    assert r.status_code == 200, r.text
    me = await world.client(world.a, r.json()["access_token"]).get("/api/v1/accounts/verify_credentials")
    assert me.json()["username"] == "newbie" and me.json()["source"]["privacy"] == "public"
    # Username and email are unique per tenant, with Mastodon's error details.
    r = await client.post("/api/v1/accounts", data={"username": "NEWBIE", "email": "x@example.org",
                                                    "password": "long enough pw", "agreement": "true"})
    assert r.status_code == 422 and "username" in r.json()["details"]
    # ...but the same username is free on another tenant.
    token_b = await _app_token(world, world.anon_b)
    r = await world.client(world.b, token_b).post("/api/v1/accounts", data={
        "username": "newbie", "email": "n@example.org", "password": "long enough pw", "agreement": "true"})
    assert r.status_code == 200


async def test_registration_modes_and_validation(world: World) -> None:
    token = await _app_token(world, world.anon_a)
    client = world.client(world.a, token)
    r = await client.post("/api/v1/accounts", data={"username": "x", "agreement": "true"})
    assert r.status_code == 422 and {"email", "password"} <= set(r.json()["details"])
    r = await client.post("/api/v1/accounts", data={"username": "bad name!", "email": "b@e.org",
                                                    "password": "long enough pw", "agreement": "true"})
    assert r.status_code == 422
    r = await client.post("/api/v1/accounts", data={"username": "short", "email": "s@e.org", "password": "short",
                                                    "agreement": "true"})
    assert r.status_code == 422 and "password" in r.json()["details"]
    await world.c.tenants.update_settings(world.a.id, {"registration_mode": "closed"})
    r = await client.post("/api/v1/accounts", data={"username": "late", "email": "l@e.org",
                                                    "password": "long enough pw", "agreement": "true"})
    assert r.status_code == 403
    await world.c.tenants.update_settings(world.a.id, {"registration_mode": "approval"})
    r = await client.post("/api/v1/accounts", data={"username": "waiting", "email": "w@e.org",
                                                    "password": "long enough pw", "agreement": "true",
                                                    "reason": "I work here"})
    assert r.status_code == 200
    # Not approved yet: the token does not work.
    r = await world.client(world.a, r.json()["access_token"]).get("/api/v1/accounts/verify_credentials")
    assert r.status_code == 401


async def test_update_credentials(world: World) -> None:
    alice = world.local_alice
    r = await alice.patch("/api/v1/accounts/update_credentials", data={
        "display_name": "Alice A.", "note": "Hello #world https://example.org", "locked": "true", "bot": "1",
        "fields_attributes[0][name]": "Site", "fields_attributes[0][value]": "https://example.org",
        "source[privacy]": "unlisted", "source[sensitive]": "true",
    })
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["display_name"] == "Alice A." and body["locked"] and body["bot"]
    assert 'href="https://example.org"' in body["note"] and "hashtag" in body["note"]
    assert body["fields"][0]["name"] == "Site" and "example.org" in body["fields"][0]["value"]
    assert body["source"]["privacy"] == "unlisted" and body["source"]["sensitive"] is True
    assert body["source"]["note"] == "Hello #world https://example.org"
    # JSON bodies work as well as forms.
    r = await alice.patch("/api/v1/accounts/update_credentials", json={"display_name": "A", "discoverable": False})
    assert r.status_code == 200 and r.json()["display_name"] == "A" and r.json()["discoverable"] is False


async def test_update_credentials_avatar(world: World) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (600, 500), (200, 30, 30)).save(buf, "PNG")
    r = await world.local_alice.patch("/api/v1/accounts/update_credentials",
                                      files={"avatar": ("a.png", buf.getvalue(), "image/png")})
    assert r.status_code == 200, r.text
    assert "/system/" in r.json()["avatar"]


async def test_update_credentials_bad_input(world: World) -> None:
    alice = world.local_alice
    r = await alice.patch("/api/v1/accounts/update_credentials", data={"display_name": "x" * 31})
    assert r.status_code == 422 and "error" in r.json()
    r = await alice.patch("/api/v1/accounts/update_credentials", data={"locked": "maybe"})
    assert r.status_code == 422
    r = await alice.patch("/api/v1/accounts/update_credentials", json={"fields_attributes": "nope"})
    assert r.status_code == 422
    r = await alice.patch("/api/v1/accounts/update_credentials", files={"avatar": ("a.png", b"not an image", "image/png")})
    assert r.status_code == 422
    r = await alice.patch("/api/v1/accounts/update_credentials", json={"source": {"privacy": "secret"}})
    assert r.status_code == 422
    me = (await alice.get("/api/v1/accounts/verify_credentials")).json()
    assert me["display_name"] == "" and me["locked"] is False


async def test_show_and_lookup(world: World) -> None:
    r = await world.anon_a.get(f"/api/v1/accounts/{world.local_alice.account_id}")
    assert r.status_code == 200 and r.json()["acct"] == "alice"
    r = await world.anon_a.get("/api/v1/accounts/lookup", params={"acct": f"alice@{world.a.domain}"})
    assert r.status_code == 200 and r.json()["id"] == world.local_alice.account_id
    r = await world.anon_a.get("/api/v1/accounts/lookup", params={"acct": "nobody"})
    assert r.status_code == 404 and "error" in r.json()
    r = await world.anon_a.get("/api/v1/accounts/lookup")
    assert r.status_code == 422
    r = await world.anon_a.get("/api/v1/accounts/notanid")
    assert r.status_code == 404


async def test_accounts_are_isolated_between_tenants(world: World) -> None:
    # Alice's id is unknown on tenant B, whoever asks.
    r = await world.anon_b.get(f"/api/v1/accounts/{world.local_alice.account_id}")
    assert r.status_code == 404
    r = await world.local_carol.get(f"/api/v1/accounts/{world.local_alice.account_id}")
    assert r.status_code == 404
    r = await world.local_carol.get("/api/v1/accounts/lookup", params={"acct": "alice"})
    assert r.status_code == 404
    r = await world.local_carol.get("/api/v1/accounts/lookup", params={"acct": f"alice@{world.a.domain}"})
    assert r.status_code == 404


async def test_profile_endpoint(world: World) -> None:
    alice = world.local_alice
    r = await alice.patch("/api/v1/profile", data={
        "display_name": "Alice", "note": "Plain *note*", "avatar_description": "a red square",
        "show_media": "false", "attribution_domains[]": ["Example.org", "news.example.org"],
        "fields_attributes[0][name]": "Web", "fields_attributes[0][value]": "https://example.org",
    })
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["note"] == "Plain *note*" and body["formatted_note"].startswith("<p>")
    assert body["avatar_description"] == "a red square" and body["show_media"] is False
    assert body["attribution_domains"] == ["example.org", "news.example.org"]
    assert body["fields"] == [{"name": "Web", "value": "https://example.org"}]
    assert (await alice.get("/api/v1/profile")).json() == body
    account = (await alice.get(f"/api/v1/accounts/{alice.account_id}")).json()
    assert account["avatar_description"] == "a red square"
    r = await alice.patch("/api/v1/profile", data={"attribution_domains[]": ["not a domain"]})
    assert r.status_code == 422
    r = await alice.patch("/api/v1/accounts/update_credentials", data={"source[quote_policy]": "everyone"})
    assert r.status_code == 422
    r = await alice.patch("/api/v1/accounts/update_credentials", data={"source[quote_policy]": "followers"})
    assert r.json()["source"]["quote_policy"] == "followers"
    assert (await world.anon_a.get("/api/v1/profile")).status_code == 401


async def test_many_accounts(world: World) -> None:
    ids = [world.local_bob.account_id, world.local_alice.account_id, "999", world.local_carol.account_id]
    r = await world.anon_a.get("/api/v1/accounts", params={"id[]": ids})
    assert r.status_code == 200
    # Unknown ids and other tenants' accounts are simply absent.
    assert [a["username"] for a in r.json()] == ["bob", "alice"]
    r = await world.anon_a.get("/api/v1/accounts", params={"id[]": ["x"]})
    assert r.status_code == 422


async def test_unlocking_accepts_pending_requests(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    await alice.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    r = await bob.post(f"/api/v1/accounts/{alice.account_id}/follow")
    assert r.json()["requested"] is True
    await alice.patch("/api/v1/accounts/update_credentials", data={"locked": "false"})
    rel = (await bob.get("/api/v1/accounts/relationships", params={"id[]": alice.account_id})).json()[0]
    assert rel["following"] is True and rel["requested"] is False
    assert (await alice.get("/api/v1/follow_requests")).json() == []
    me = (await alice.get("/api/v1/accounts/verify_credentials")).json()
    assert me["followers_count"] == 1


async def test_registration_respects_email_domain_blocks(world: World) -> None:
    r = await world.admin_ann.post("/api/v1/admin/email_domain_blocks", data={"domain": "spam.example"})
    assert r.status_code == 200, r.text
    token = await _app_token(world, world.anon_a)
    client = world.client(world.a, token)
    r = await client.post("/api/v1/accounts", data={"username": "spammer", "email": "x@mail.spam.example",
                                                    "password": "long enough pw", "agreement": "true"})
    assert r.status_code == 422 and "email" in r.json()["details"]
    # The block is tenant A's alone.
    token_b = await _app_token(world, world.anon_b)
    r = await world.client(world.b, token_b).post("/api/v1/accounts", data={
        "username": "fine", "email": "x@mail.spam.example", "password": "long enough pw", "agreement": "true"})
    assert r.status_code == 200


async def test_delete_profile_images(world: World) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (600, 300), (20, 30, 200)).save(buf, "PNG")
    alice = world.local_alice
    r = await alice.patch("/api/v1/profile", files={"header": ("h.png", buf.getvalue(), "image/png")},
                          data={"header_description": "blue"})
    assert r.status_code == 200 and r.json()["header"] and r.json()["header_description"] == "blue"
    stored = r.json()["header"].split("/system/", 1)[1]
    assert (await world.anon_a.get(f"/system/{stored}")).status_code == 200
    r = await alice.delete("/api/v1/profile/header")
    # Mastodon answers with the CredentialAccount, showing the default header again.
    assert r.status_code == 200 and r.json()["header"].endswith("/headers/original/missing.png")
    assert r.json()["header_description"] == "" and "source" in r.json()
    assert (await world.anon_a.get(f"/system/{stored}")).status_code == 404
    assert (await alice.get("/api/v1/profile")).json()["header"] is None
    # Removing what isn't there is fine; without a token it is not.
    assert (await alice.delete("/api/v1/profile/avatar")).status_code == 200
    assert (await world.anon_a.delete("/api/v1/profile/avatar")).status_code == 401
    # Carol on tenant B cannot touch Alice's profile: her token means nothing on A.
    r = await world.client(world.a, world.local_carol.token).delete("/api/v1/profile/avatar")
    assert r.status_code == 401
