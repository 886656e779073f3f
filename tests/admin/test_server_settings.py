"""Server settings for tenant admins: settings, rules, invites, versioned legal texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from steward.moderation.audit import list_actions
from tests.world import Person, World

BASE = "/api/v1/admin/steward"


async def sign_up(world: World, tenant: Any, username: str, **extra: Any) -> Any:
    client = world.client(tenant)
    app = (await client.post("/api/v1/apps", data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                                    "scopes": "read write"})).json()
    token = (await client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": app["client_id"],
                                                     "client_secret": app["client_secret"],
                                                     "scope": "read write"})).json()["access_token"]
    return await world.client(tenant, token).post("/api/v1/accounts", data={
        "username": username, "email": f"{username}@mail.example", "password": "long enough password",
        "agreement": "true", "locale": "en", **extra})


async def b_admin(world: World) -> Person:
    return await world.person(world.b, "bea", role="admin", scopes="read write admin:read admin:write")


async def test_settings_show_in_the_instance_entity(world: World) -> None:
    ann = world.admin_ann
    r = await ann.patch(f"{BASE}/settings", json={"title": "City Social", "description": "The city's server",
                                                  "contact_email": "press@city.example",
                                                  "registration_mode": "approval"})
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "City Social" and r.json()["registration_mode"] == "approval"
    v2 = (await world.anon_a.get("/api/v2/instance")).json()
    assert v2["title"] == "City Social" and v2["description"] == "The city's server"
    assert v2["contact"]["email"] == "press@city.example"
    assert v2["registrations"]["approval_required"] is True
    for bad in ({"registration_mode": "sometimes"}, {"contact_email": "nope"}, {"title": "x" * 201}):
        r = await ann.patch(f"{BASE}/settings", json=bad)
        assert r.status_code == 422 and "error" in r.json(), bad
    assert (await ann.get(f"{BASE}/settings")).json()["registration_mode"] == "approval"
    # Tenant b is untouched, and b's admin cannot read a's settings.
    assert (await world.anon_b.get("/api/v2/instance")).json()["title"] != "City Social"
    other = await b_admin(world)
    assert (await other.get(f"{BASE}/settings")).json()["title"] != "City Social"
    assert (await world.local_alice.patch(f"{BASE}/settings", json={"title": "Mine"})).status_code == 403
    assert (await world.mod_mike.get(f"{BASE}/settings")).status_code == 403
    async with world.c.db.read() as conn:
        logged = await list_actions(conn, world.a.id, target_type="Settings")
    assert len(logged) == 1 and logged[0]["details"]["changed"] == [
        "contact_email", "description", "registration_mode", "title"]


async def test_rules_crud_and_reorder(world: World) -> None:
    ann = world.admin_ann
    ids = []
    for text, hint in (("Be kind", "No harassment"), ("No spam", ""), ("Mark NSFW", "Use content warnings")):
        r = await ann.post(f"{BASE}/rules", data={"text": text, "hint": hint})
        assert r.status_code == 200, r.text
        ids.append(r.json()["id"])
    public = (await world.anon_a.get("/api/v1/instance/rules")).json()
    assert [x["text"] for x in public] == ["Be kind", "No spam", "Mark NSFW"]
    assert public[0]["hint"] == "No harassment"
    r = await ann.post(f"{BASE}/rules/reorder", json={"ids": [ids[2], ids[0], ids[1]]})
    assert r.status_code == 200 and [x["id"] for x in r.json()] == [ids[2], ids[0], ids[1]]
    r = await ann.put(f"{BASE}/rules/{ids[1]}", data={"text": "No spam or scams"})
    assert r.json()["text"] == "No spam or scams" and r.json()["hint"] == ""
    assert (await ann.delete(f"{BASE}/rules/{ids[0]}")).status_code == 200
    v2 = (await world.anon_a.get("/api/v2/instance")).json()
    assert [x["text"] for x in v2["rules"]] == ["Mark NSFW", "No spam or scams"]
    # Bad input.
    assert (await ann.post(f"{BASE}/rules", data={"text": " "})).status_code == 422
    assert (await ann.post(f"{BASE}/rules", data={"text": "x" * 301})).status_code == 422
    assert (await ann.post(f"{BASE}/rules/reorder", json={"ids": [ids[2]]})).status_code == 422
    assert (await ann.post(f"{BASE}/rules/reorder", json={"ids": [ids[2], ids[2], ids[1]]})).status_code == 422
    assert (await ann.put(f"{BASE}/rules/777", data={"text": "x"})).status_code == 404
    # Isolation: b's admin sees none of a's rules and cannot touch them.
    other = await b_admin(world)
    assert (await other.get(f"{BASE}/rules")).json() == []
    assert (await other.delete(f"{BASE}/rules/{ids[2]}")).status_code == 404
    assert (await other.post(f"{BASE}/rules/reorder", json={"ids": [ids[2], ids[1]]})).status_code == 422
    assert len((await world.anon_a.get("/api/v1/instance/rules")).json()) == 2


async def test_invite_only_registration(world: World) -> None:
    ann = world.admin_ann
    await ann.patch(f"{BASE}/settings", json={"registration_mode": "invite"})
    v1 = (await world.anon_a.get("/api/v1/instance")).json()
    assert v1["registrations"] is False and v1["invites_enabled"] is True
    r = await sign_up(world, world.a, "nocode")
    assert r.status_code == 403 and "invitation" in r.json()["error"]
    invite = (await ann.post(f"{BASE}/invites", data={"max_uses": "1", "expires_in": "3600"})).json()
    assert invite["uses"] == 0 and invite["url"].endswith(invite["code"])
    r = await sign_up(world, world.a, "invited", invite_code=invite["code"])
    assert r.status_code == 200, r.text
    me = await world.client(world.a, r.json()["access_token"]).get("/api/v1/accounts/verify_credentials")
    assert me.status_code == 200 and me.json()["username"] == "invited"  # approved at once
    r = await sign_up(world, world.a, "second", invite_code=invite["code"])
    assert r.status_code == 422 and "invite" in r.json()["error"].lower()
    assert (await ann.get(f"{BASE}/invites")).json()[0]["uses"] == 1
    # A revoked code, an unknown one, and a's code on tenant b.
    other = (await ann.post(f"{BASE}/invites", data={})).json()
    assert (await ann.delete(f"{BASE}/invites/{other['id']}")).json()["revoked"] is True
    assert (await sign_up(world, world.a, "revoked", invite_code=other["code"])).status_code == 422
    assert (await sign_up(world, world.a, "unknown", invite_code="nope")).status_code == 422
    fresh = (await ann.post(f"{BASE}/invites", data={})).json()
    r = await sign_up(world, world.b, "crosser", invite_code=fresh["code"])
    assert r.status_code == 422
    # Closed registrations still take an invite; bad invite parameters are refused.
    await ann.patch(f"{BASE}/settings", json={"registration_mode": "closed"})
    assert (await sign_up(world, world.a, "closedout")).status_code == 403
    assert (await sign_up(world, world.a, "closedin", invite_code=fresh["code"])).status_code == 200
    assert (await ann.post(f"{BASE}/invites", data={"max_uses": "0"})).status_code == 422
    assert (await ann.post(f"{BASE}/invites", data={"expires_in": "5"})).status_code == 422
    bee = await b_admin(world)
    assert (await bee.get(f"{BASE}/invites")).json() == []
    assert (await bee.delete(f"{BASE}/invites/{fresh['id']}")).status_code == 404
    assert (await world.local_alice.post(f"{BASE}/invites", data={})).status_code == 403


async def test_terms_of_service_versions_and_notice(world: World) -> None:
    ann = world.admin_ann
    today = datetime.now(UTC).date()
    assert (await world.anon_a.get("/api/v1/instance/terms_of_service")).status_code == 404
    r = await ann.post(f"{BASE}/terms_of_service", data={"text": "Version one.\n\nBe nice."})
    assert r.status_code == 200, r.text
    assert r.json()["effective_date"] == today.isoformat() and r.json()["announcement_id"] is None
    later = (today + timedelta(days=14)).isoformat()
    r = await ann.post(f"{BASE}/terms_of_service", data={"text": "Version two.", "effective_date": later,
                                                         "changelog": "We added a section on bots."})
    assert r.status_code == 200, r.text
    assert r.json()["effective"] is False and r.json()["announcement_id"] is not None
    current = (await world.anon_a.get("/api/v1/instance/terms_of_service")).json()
    assert current["effective_date"] == today.isoformat() and current["effective"] is True
    assert current["succeeded_by"] == later and "Version one." in current["content"]
    upcoming = (await world.anon_a.get(f"/api/v1/instance/terms_of_service/{later}")).json()
    assert upcoming["effective"] is False and "Version two." in upcoming["content"]
    assert (await world.anon_a.get("/api/v1/instance/terms_of_service/2001-01-01")).status_code == 404
    # Users are told through an announcement every client shows.
    notices = (await world.local_alice.get("/api/v1/announcements")).json()
    assert any(later in n["content"] and "bots" in n["content"] for n in notices)
    # Bad input.
    for form in ({"text": ""}, {"text": "x", "effective_date": "2001-01-01"},
                 {"text": "x", "effective_date": "tomorrow"}, {"text": "x", "effective_date": later}):
        r = await ann.post(f"{BASE}/terms_of_service", data=form)
        assert r.status_code == 422 and "error" in r.json(), form
    assert len((await ann.get(f"{BASE}/terms_of_service")).json()) == 2
    # Privacy policy versions; tenant b sees neither.
    assert (await ann.post(f"{BASE}/privacy_policy", data={"text": "We keep little."})).status_code == 200
    assert "We keep little." in (await world.anon_a.get("/api/v1/instance/privacy_policy")).json()["content"]
    assert (await world.anon_b.get("/api/v1/instance/terms_of_service")).status_code == 404
    bee = await b_admin(world)
    assert (await bee.get(f"{BASE}/terms_of_service")).json() == []
    assert (await world.mod_mike.post(f"{BASE}/terms_of_service", data={"text": "x"})).status_code == 403
    async with world.c.db.read() as conn:
        logged = await list_actions(conn, world.a.id, target_type="LegalDocument")
    assert [a["details"]["notified"] for a in reversed(logged)] == [False, True, False]


def png(side: int = 32, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (side, side), colour).save(out, format="PNG")
    return out.getvalue()


async def test_custom_emoji_upload_change_delete(world: World) -> None:
    ann = world.admin_ann
    r = await ann.post(f"{BASE}/custom_emojis", data={"shortcode": "blobcat", "category": "Cats"},
                       files={"image": ("blobcat.png", png(), "image/png")})
    assert r.status_code == 200, r.text
    emoji = r.json()
    public = (await world.anon_a.get("/api/v1/custom_emojis")).json()
    assert [(e["shortcode"], e["category"]) for e in public] == [("blobcat", "Cats")]
    path = public[0]["url"].split(world.a.web_domain, 1)[1]
    served = await world.anon_a.get(path)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert (await world.anon_b.get(path)).status_code == 404  # not through tenant b's host
    assert (await world.anon_b.get("/api/v1/custom_emojis")).json() == []
    for form, files in (({"shortcode": "blobcat"}, {"image": ("x.png", png(), "image/png")}),
                        ({"shortcode": "a b"}, {"image": ("x.png", png(), "image/png")}),
                        ({"shortcode": "text"}, {"image": ("x.png", b"not an image at all", "image/png")}),
                        ({"shortcode": "huge"}, {"image": ("x.png", png(600), "image/png")}),
                        ({"shortcode": "big"}, {"image": ("x.png", b"\x89PNG" + b"0" * 300_000, "image/png")}),
                        ({"shortcode": "noimage"}, None)):
        r = await ann.post(f"{BASE}/custom_emojis", data=form, files=files)
        assert r.status_code == 422 and "error" in r.json(), form
    r = await ann.patch(f"{BASE}/custom_emojis/{emoji['id']}", json={"disabled": True})
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert (await world.anon_a.get("/api/v1/custom_emojis")).json() == []
    bee = await b_admin(world)
    assert (await bee.get(f"{BASE}/custom_emojis")).json() == []
    assert (await bee.delete(f"{BASE}/custom_emojis/{emoji['id']}")).status_code == 404
    assert (await world.local_alice.post(f"{BASE}/custom_emojis", data={})).status_code == 403
    assert (await ann.delete(f"{BASE}/custom_emojis/{emoji['id']}")).status_code == 200
    assert (await world.anon_a.get(path)).status_code == 404
    async with world.c.db.read() as conn:
        logged = await list_actions(conn, world.a.id, target_type="CustomEmoji")
    assert [a["action"] for a in reversed(logged)] == ["create", "update", "destroy"]


async def test_copy_a_remote_emoji(world: World, monkeypatch: Any) -> None:
    from steward.activitypub.transport import FakeTransport, TransportTimeout
    from steward.core.clock import utcnow
    from steward.core.ids import new_id
    from steward.db.tables import custom_emojis

    fake = FakeTransport()
    monkeypatch.setattr(world.c, "transport", fake)
    remote_url = "https://remote.example/emoji/party.png"
    fake.files[remote_url] = ("image/png", png(colour=(10, 200, 10)))
    ids = {}
    async with world.c.db.write() as conn:
        for code, url in (("party", remote_url), ("slow", "https://remote.example/emoji/slow.png"),
                          ("fake", "https://remote.example/emoji/fake.png")):
            ids[code] = new_id()
            await conn.execute(custom_emojis.insert().values(
                tenant_id=world.a.id, id=ids[code], shortcode=code, domain="remote.example", remote_url=url,
                visible_in_picker=False, disabled=False, created_at=utcnow()))
    fake.files["https://remote.example/emoji/slow.png"] = TransportTimeout("timed out")
    fake.files["https://remote.example/emoji/fake.png"] = ("image/png", b"<html>not an image</html>")
    ann = world.admin_ann
    listed = (await ann.get(f"{BASE}/custom_emojis", params={"remote": "true"})).json()
    assert sorted(e["shortcode"] for e in listed) == ["fake", "party", "slow"]
    r = await ann.post(f"{BASE}/custom_emojis/{ids['party']}/copy")
    assert r.status_code == 200, r.text
    assert r.json()["shortcode"] == "party" and r.json()["domain"] is None
    assert [e["shortcode"] for e in (await world.anon_a.get("/api/v1/custom_emojis")).json()] == ["party"]
    # Once more under another shortcode; copying a local emoji, a fetch failure, a non-image: refused.
    assert (await ann.post(f"{BASE}/custom_emojis/{ids['party']}/copy")).status_code == 422
    r = await ann.post(f"{BASE}/custom_emojis/{ids['party']}/copy", data={"shortcode": "party2"})
    assert r.status_code == 200
    assert (await ann.post(f"{BASE}/custom_emojis/{r.json()['id']}/copy")).status_code == 422
    r = await ann.post(f"{BASE}/custom_emojis/{ids['slow']}/copy")
    assert r.status_code == 502 and "timed out" in r.json()["error"]
    assert (await ann.post(f"{BASE}/custom_emojis/{ids['fake']}/copy")).status_code == 422
    bee = await b_admin(world)
    assert (await bee.post(f"{BASE}/custom_emojis/{ids['party']}/copy")).status_code == 404
    assert len((await world.anon_a.get("/api/v1/custom_emojis")).json()) == 2


def test_settings_cli(tmp_path: Any) -> None:
    from tests.admin.test_blocklists_cli import steward

    assert steward(tmp_path, "tenant", "create", "s.test", "--name", "S").returncode == 0
    assert steward(tmp_path, "tenant", "create", "t.test", "--name", "T").returncode == 0
    assert steward(tmp_path, "user", "create", "s.test", "boss", "--email", "b@s.test", "--role", "owner"
                   ).returncode == 0
    assert steward(tmp_path, "user", "create", "s.test", "mo", "--email", "m@s.test", "--role", "moderator"
                   ).returncode == 0
    r = steward(tmp_path, "settings", "s.test", "--title", "S Social", "--registration-mode", "invite")
    assert r.returncode == 0 and "title\tS Social" in r.stdout and "registration_mode\tinvite" in r.stdout
    assert "S Social" not in steward(tmp_path, "settings", "t.test").stdout
    r = steward(tmp_path, "settings", "s.test", "--title", "Mine", "--as", "mo")
    assert r.returncode == 1 and "may not" in r.stderr
    assert steward(tmp_path, "rules", "add", "s.test", "Be kind", "--hint", "Really").returncode == 0
    r = steward(tmp_path, "rules", "add", "s.test", "No spam")
    first, second = (line.rsplit("[", 1)[1].rstrip("]") for line in r.stdout.splitlines())
    r = steward(tmp_path, "rules", "reorder", "s.test", second, first)
    assert r.stdout.splitlines()[0].startswith("1. No spam"), r.stderr
    assert steward(tmp_path, "rules", "list", "t.test").stdout == ""
    assert steward(tmp_path, "rules", "remove", "t.test", first).returncode == 1  # not t's rule
    r = steward(tmp_path, "invites", "create", "s.test", "--max-uses", "2")
    assert r.returncode == 0 and "/invite/" in r.stdout
    assert "0/2 used" in steward(tmp_path, "invites", "list", "s.test").stdout
    terms = tmp_path / "terms.md"
    terms.write_text("Be excellent to each other.")
    r = steward(tmp_path, "legal", "publish", "s.test", "terms_of_service", str(terms))
    assert r.returncode == 0 and "effective" in r.stdout, r.stderr
    r = steward(tmp_path, "legal", "publish", "s.test", "terms_of_service", str(terms), "--effective-date", "1999-01-01")
    assert r.returncode == 1 and "past" in r.stderr
