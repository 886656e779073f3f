from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import accounts, custom_emojis, users
from tests.schema import assert_matches
from tests.world import World


async def test_custom_emojis(world: World) -> None:
    async with world.c.db.write() as conn:
        for shortcode, domain, disabled, picker in (("blobcat", "", False, True), ("hidden", "", False, False),
                                                    ("off", "", True, True), ("remote", "x.example", False, True)):
            await conn.execute(custom_emojis.insert().values(
                tenant_id=world.a.id, id=new_id(), shortcode=shortcode, domain=domain,
                image_path=f"{world.a.id}/emojis/{shortcode}.png", category="Cats", visible_in_picker=picker,
                disabled=disabled, created_at=utcnow()))
    r = await world.anon_a.get("/api/v1/custom_emojis")
    assert r.status_code == 200
    emojis = r.json()
    assert_matches("CustomEmoji", emojis, many=True)
    assert [e["shortcode"] for e in emojis] == ["blobcat", "hidden"]
    assert emojis[0]["url"] == f"http://{world.a.web_domain}/system/{world.a.id}/emojis/blobcat.png"
    assert emojis[1]["visible_in_picker"] is False
    assert (await world.anon_b.get("/api/v1/custom_emojis")).json() == []


async def test_preferences(world: World) -> None:
    r = await world.local_alice.get("/api/v1/preferences")
    assert r.status_code == 200
    assert_matches("Preferences", r.json())
    assert r.json() == {"posting:default:visibility": "public", "posting:default:sensitive": False,
                        "posting:default:language": None, "reading:expand:media": "default",
                        "reading:expand:spoilers": False, "reading:autoplay:gifs": True}
    r = await world.local_alice.patch("/api/v1/accounts/update_credentials",
                                      data={"source[privacy]": "unlisted", "source[sensitive]": "true",
                                            "source[language]": "de"})
    assert r.status_code == 200, r.text
    prefs = (await world.local_alice.get("/api/v1/preferences")).json()
    assert prefs["posting:default:visibility"] == "unlisted" and prefs["posting:default:sensitive"] is True
    assert prefs["posting:default:language"] == "de"
    # Bob's preferences are his own.
    assert (await world.local_bob.get("/api/v1/preferences")).json()["posting:default:visibility"] == "public"
    assert (await world.anon_a.get("/api/v1/preferences")).status_code == 401
    carol_on_a = world.client(world.a, world.local_carol.token)
    assert (await carol_on_a.get("/api/v1/preferences")).status_code == 401


async def test_announcements(world: World) -> None:
    from steward.social.announcements import create_announcement

    r = await world.local_alice.get("/api/v1/announcements")
    assert r.status_code == 200 and r.json() == []
    async with world.c.db.write() as conn:
        first = await create_announcement(conn, world.a, "http://x", "Maintenance tonight #ops")
        await create_announcement(conn, world.a, "http://x", "Draft", published=False)
        await conn.execute(custom_emojis.insert().values(
            tenant_id=world.a.id, id=new_id(), shortcode="blobcat", domain="", image_path=f"{world.a.id}/e.png",
            visible_in_picker=True, disabled=False, created_at=utcnow()))
    r = await world.local_alice.get("/api/v1/announcements")
    assert r.status_code == 200
    items = r.json()
    assert_matches("Announcement", items, many=True)
    assert [a["id"] for a in items] == [str(first)] and "Maintenance tonight" in items[0]["content"]
    assert items[0]["read"] is False
    alice = world.local_alice
    assert (await alice.put(f"/api/v1/announcements/{first}/reactions/%F0%9F%91%8D")).status_code == 200
    assert (await alice.put(f"/api/v1/announcements/{first}/reactions/blobcat")).status_code == 200
    assert (await world.local_bob.put(f"/api/v1/announcements/{first}/reactions/%F0%9F%91%8D")).status_code == 200
    reactions = (await alice.get("/api/v1/announcements")).json()[0]["reactions"]
    assert reactions[0] == {"name": "\U0001f44d", "count": 2, "me": True}
    assert reactions[1]["name"] == "blobcat" and reactions[1]["url"].endswith("/e.png")
    assert (await alice.delete(f"/api/v1/announcements/{first}/reactions/blobcat")).status_code == 200
    assert len((await alice.get("/api/v1/announcements")).json()[0]["reactions"]) == 1
    r = await alice.put(f"/api/v1/announcements/{first}/reactions/notanemoji")
    assert r.status_code == 422 and "error" in r.json()
    r = await alice.post(f"/api/v1/announcements/{first}/dismiss")
    assert r.status_code == 200
    assert (await alice.get("/api/v1/announcements")).json() == []
    dismissed = (await alice.get("/api/v1/announcements", params={"with_dismissed": "true"})).json()
    assert dismissed[0]["read"] is True
    # Bob has not dismissed it.
    assert len((await world.local_bob.get("/api/v1/announcements")).json()) == 1
    assert (await alice.post("/api/v1/announcements/123/dismiss")).status_code == 404
    assert (await alice.post("/api/v1/announcements/abc/dismiss")).status_code == 404
    r = await alice.get("/api/v1/announcements", params={"with_dismissed": "perhaps"})
    assert r.status_code == 422
    # Tenant b sees none of it and cannot act on it.
    assert (await world.local_carol.get("/api/v1/announcements")).json() == []
    assert (await world.local_carol.post(f"/api/v1/announcements/{first}/dismiss")).status_code == 404
    r = await world.local_carol.put(f"/api/v1/announcements/{first}/reactions/%F0%9F%91%8D")
    assert r.status_code == 404


async def test_directory(world: World) -> None:
    now = utcnow()
    async with world.c.db.write() as conn:
        await conn.execute(update(accounts).where(accounts.c.tenant_id == world.a.id,
                                                  accounts.c.id == int(world.local_bob.account_id))
                           .values(last_status_at=now))
        await conn.execute(update(accounts).where(accounts.c.tenant_id == world.a.id,
                                                  accounts.c.id == int(world.local_alice.account_id))
                           .values(last_status_at=now - timedelta(days=1)))
        await conn.execute(update(accounts).where(accounts.c.tenant_id == world.a.id,
                                                  accounts.c.id == int(world.admin_ann.account_id))
                           .values(discoverable=False))
        await conn.execute(accounts.insert().values(
            tenant_id=world.a.id, id=new_id(), username="far", username_lower="far", domain="remote.example",
            discoverable=True, created_at=now, updated_at=now))
    r = await world.anon_a.get("/api/v1/directory", params={"local": "true"})
    assert r.status_code == 200
    assert_matches("Account", r.json(), many=True)
    assert [a["username"] for a in r.json()] == ["bob", "alice"]
    r = await world.anon_a.get("/api/v1/directory", params={"order": "new"})
    assert [a["acct"] for a in r.json()] == ["far@remote.example", "bob", "alice"]
    r = await world.anon_a.get("/api/v1/directory", params={"order": "new", "offset": 1, "limit": 1})
    assert [a["acct"] for a in r.json()] == ["bob"]
    # A disabled user drops out of the directory.
    async with world.c.db.write() as conn:
        await conn.execute(update(users).where(users.c.tenant_id == world.a.id,
                                               users.c.account_id == int(world.local_bob.account_id))
                           .values(disabled=True))
    r = await world.anon_a.get("/api/v1/directory", params={"local": "true"})
    assert [a["username"] for a in r.json()] == ["alice"]
    r = await world.anon_b.get("/api/v1/directory")
    assert sorted(a["username"] for a in r.json()) == ["carol", "mike"]
    for bad in ({"order": "random"}, {"limit": "many"}, {"local": "perhaps"}):
        r = await world.anon_a.get("/api/v1/directory", params=bad)
        assert r.status_code == 422 and "error" in r.json(), bad


async def test_trends(world: World) -> None:
    for path in ("/api/v1/trends", "/api/v1/trends/tags", "/api/v1/trends/statuses", "/api/v1/trends/links"):
        r = await world.anon_a.get(path)
        assert r.status_code == 200 and r.json() == [], path
    alice, bob, ann = world.local_alice, world.local_bob, world.admin_ann
    for person, text in ((alice, "Reading #books today"), (bob, "More #books and #tea"), (alice, "#tea alone"),
                         (ann, "#books again")):
        r = await person.post("/api/v1/statuses", json={"status": text})
        assert r.status_code == 200, r.text
    popular = (await bob.post("/api/v1/statuses", json={"status": "Popular post"})).json()
    quiet = (await bob.post("/api/v1/statuses", json={"status": "Quiet post"})).json()
    hidden = (await bob.post("/api/v1/statuses", json={"status": "Private", "visibility": "private"})).json()
    for person in (alice, ann):
        assert (await person.post(f"/api/v1/statuses/{popular['id']}/favourite")).status_code == 200
    await world.run_jobs()
    r = await world.anon_a.get("/api/v1/trends/tags")
    assert r.status_code == 200
    assert_matches("Tag", r.json(), many=True)
    # #books: three people; #tea: two; each tag needs two people to trend.
    assert [t["name"] for t in r.json()] == ["books", "tea"]
    assert r.json()[0]["history"][0]["accounts"] == "3"
    assert [t["name"] for t in (await world.anon_a.get("/api/v1/trends", params={"limit": 1})).json()] == ["books"]
    r = await world.local_alice.get("/api/v1/trends/statuses")
    assert r.status_code == 200
    assert_matches("Status", r.json(), many=True)
    ids = [s["id"] for s in r.json()]
    assert ids == [popular["id"]] and quiet["id"] not in ids and hidden["id"] not in ids
    # Not for someone who mutes its author.
    assert (await alice.post(f"/api/v1/accounts/{bob.account_id}/mute")).status_code == 200
    assert (await alice.get("/api/v1/trends/statuses")).json() == []
    assert [s["id"] for s in (await world.anon_a.get("/api/v1/trends/statuses")).json()] == [popular["id"]]
    # Tenant b has its own (empty) trends.
    assert (await world.anon_b.get("/api/v1/trends/tags")).json() == []
    assert (await world.anon_b.get("/api/v1/trends/statuses")).json() == []
    await world.c.tenants.update_settings(world.a.id, {"trends": False})
    assert (await world.anon_a.get("/api/v1/trends/tags")).json() == []
    r = await world.anon_a.get("/api/v1/trends/tags", params={"limit": "x"})
    assert r.status_code == 422 and "error" in r.json()


async def test_health(world: World) -> None:
    r = await world.anon_a.get("/health")
    assert r.status_code == 200 and r.text == "OK"
    r = await world.anon_a.get("/health", headers={"host": "nowhere.invalid"})
    assert r.status_code == 404
