"""Actor documents, content negotiation, the instance actor and tenant isolation."""

from __future__ import annotations

from sqlalchemy import select

from steward.activitypub.keycache import load_public_key
from steward.db.tables import accounts
from tests.world import World

AS2 = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}


async def test_actor_json_shape(world: World) -> None:
    r = await world.anon_a.get("/users/alice", headers=AS2)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/activity+json")
    actor = r.json()
    base = f"http://{world.a.web_domain}"
    uri = f"{base}/users/alice"
    assert actor["@context"][:2] == ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
    assert actor["id"] == uri and actor["type"] == "Person" and actor["preferredUsername"] == "alice"
    assert actor["inbox"] == f"{uri}/inbox" and actor["outbox"] == f"{uri}/outbox"
    assert actor["followers"] == f"{uri}/followers" and actor["following"] == f"{uri}/following"
    assert actor["featured"] == f"{uri}/collections/featured"
    assert actor["endpoints"] == {"sharedInbox": f"{base}/inbox"}
    assert actor["url"] == f"{base}/@alice"
    assert actor["publicKey"]["id"] == f"{uri}#main-key" and actor["publicKey"]["owner"] == uri
    load_public_key(actor["publicKey"]["publicKeyPem"])
    for key in ("manuallyApprovesFollowers", "discoverable", "indexable", "published", "attachment", "summary"):
        assert key in actor, key
    # The key was made on first need and is stored: a second fetch shows the same one.
    again = (await world.anon_a.get("/@alice", headers=LD)).json()
    assert again["publicKey"]["publicKeyPem"] == actor["publicKey"]["publicKeyPem"]
    async with world.c.db.read() as conn:
        stored = (await conn.execute(select(accounts.c.public_key, accounts.c.private_key).where(
            accounts.c.tenant_id == world.a.id, accounts.c.username == "alice"))).first()
    assert stored.public_key == actor["publicKey"]["publicKeyPem"] and stored.private_key


async def test_profile_fields_and_bot(world: World) -> None:
    r = await world.local_alice.patch("/api/v1/accounts/update_credentials", data={
        "display_name": "Alice A", "note": "hello", "bot": "true",
        "fields_attributes[0][name]": "Site", "fields_attributes[0][value]": "https://example.com"})
    assert r.status_code == 200, r.text
    actor = (await world.anon_a.get("/users/alice", headers=AS2)).json()
    assert actor["type"] == "Service" and actor["name"] == "Alice A"
    assert actor["attachment"][0]["type"] == "PropertyValue" and actor["attachment"][0]["name"] == "Site"


async def test_html_profile(world: World) -> None:
    await world.local_alice.post("/api/v1/statuses", data={"status": "a public hello"})
    await world.local_alice.post("/api/v1/statuses", data={"status": "a secret", "visibility": "private"})
    for path in ("/users/alice", "/@alice"):
        r = await world.anon_a.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "a public hello" in r.text and "a secret" not in r.text and "@alice@" in r.text


async def test_unknown_and_bad_usernames(world: World) -> None:
    for path in ("/users/nobody", "/@nobody", "/users/" + "x" * 300, "/users/nobody/outbox",
                 "/users/alice/statuses/notanid", "/users/alice/statuses/123"):
        r = await world.anon_a.get(path, headers=AS2)
        assert r.status_code == 404 and "error" in r.json(), path


async def test_instance_actor(world: World) -> None:
    r = await world.anon_a.get("/actor", headers=AS2)
    assert r.status_code == 200
    actor = r.json()
    base = f"http://{world.a.web_domain}"
    assert actor["type"] == "Application" and actor["id"] == f"{base}/actor"
    assert actor["preferredUsername"] == world.a.web_domain and actor["inbox"] == f"{base}/actor/inbox"
    assert actor["publicKey"]["publicKeyPem"] == world.a.public_key
    outbox = (await world.anon_a.get("/actor/outbox")).json()
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 0


async def test_tenant_isolation(world: World) -> None:
    # alice lives on tenant a: b's host does not know her.
    r = await world.anon_b.get("/users/alice", headers=AS2)
    assert r.status_code == 404 and "error" in r.json()
    r = await world.anon_b.get("/@alice")
    assert r.status_code == 404
    status = (await world.local_alice.post("/api/v1/statuses", data={"status": "only on a"})).json()
    r = await world.anon_b.get(f"/users/alice/statuses/{status['id']}", headers=AS2)
    assert r.status_code == 404
    # Each tenant's instance actor has its own key.
    other = await world.c.tenants.create(f"iso-{world.a.id}.test", "Iso")
    a_key = (await world.anon_a.get("/actor", headers=AS2)).json()["publicKey"]["publicKeyPem"]
    o_key = (await world.client(other).get("/actor", headers=AS2)).json()["publicKey"]["publicKeyPem"]
    assert a_key != o_key and o_key == other.public_key
    # Accounts of the same name on two tenants get different keys.
    await world.person(other, "carol")
    carol_b = (await world.anon_b.get("/users/carol", headers=AS2)).json()
    carol_o = (await world.client(other).get("/users/carol", headers=AS2)).json()
    assert carol_b["publicKey"]["publicKeyPem"] != carol_o["publicKey"]["publicKeyPem"]
    assert carol_b["id"] != carol_o["id"]
