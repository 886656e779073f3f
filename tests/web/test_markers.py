from __future__ import annotations

from tests.world import World


async def test_markers_round_trip_and_versions(world: World) -> None:
    alice = world.local_alice
    r = await alice.get("/api/v1/markers", params={"timeline[]": ["home", "notifications"]})
    assert r.status_code == 200 and r.json() == {}
    r = await alice.post("/api/v1/markers", data={"home[last_read_id]": "1000"})
    assert r.status_code == 200, r.text
    home = r.json()["home"]
    assert home["last_read_id"] == "1000" and home["version"] == 1 and home["updated_at"].endswith("Z")
    r = await alice.post("/api/v1/markers", json={"home": {"last_read_id": "2000"},
                                                  "notifications": {"last_read_id": "5"}})
    body = r.json()
    assert body["home"]["version"] == 2 and body["home"]["last_read_id"] == "2000"
    assert body["notifications"] == {**body["notifications"], "last_read_id": "5", "version": 1}
    r = await alice.get("/api/v1/markers", params={"timeline[]": "home"})
    assert list(r.json()) == ["home"] and r.json()["home"]["last_read_id"] == "2000"
    r = await world.local_bob.get("/api/v1/markers", params={"timeline[]": ["home", "notifications"]})
    assert r.json() == {}


async def test_bad_input(world: World) -> None:
    alice = world.local_alice
    r = await alice.post("/api/v1/markers", data={})
    assert r.status_code == 422 and "error" in r.json()
    r = await alice.post("/api/v1/markers", json={"home": {"last_read_id": -3}})
    assert r.status_code == 422 and "error" in r.json()
    r = await alice.post("/api/v1/markers", json={"home": "123"})
    assert r.status_code == 422
    r = await alice.get("/api/v1/markers", params={"timeline[]": "everything"})
    assert r.status_code == 422 and "error" in r.json()
    r = await world.anon_a.get("/api/v1/markers")
    assert r.status_code == 401
    reader = await world.person(world.a, "reader", scopes="read")
    r = await reader.post("/api/v1/markers", data={"home[last_read_id]": "1"})
    assert r.status_code == 403


async def test_tenant_isolation(world: World) -> None:
    await world.local_alice.post("/api/v1/markers", data={"home[last_read_id]": "77"})
    r = await world.local_carol.get("/api/v1/markers", params={"timeline[]": "home"})
    assert r.json() == {}
    r = await world.client(world.a, world.local_carol.token).post("/api/v1/markers",
                                                                  data={"home[last_read_id]": "1"})
    assert r.status_code == 401
    r = await world.local_alice.get("/api/v1/markers", params={"timeline[]": "home"})
    assert r.json()["home"]["last_read_id"] == "77" and r.json()["home"]["version"] == 1
