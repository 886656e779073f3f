from __future__ import annotations

from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import statuses
from tests.schema import assert_matches
from tests.world import World


async def _status(world: World, tenant, account_id: str, text: str = "hello") -> int:
    status_id = new_id()
    async with world.c.db.write() as conn:
        await conn.execute(statuses.insert().values(tenant_id=tenant.id, id=status_id, account_id=int(account_id),
                                                    text=text, content=f"<p>{text}</p>", created_at=utcnow()))
    return status_id


async def _create(world: World, **body) -> dict:
    payload = {"title": "Spoilers", "context": ["home", "public"], "filter_action": "warn",
               "keywords_attributes": [{"keyword": "finale", "whole_word": True},
                                       {"keyword": "ending", "whole_word": False}], **body}
    r = await world.local_alice.post("/api/v2/filters", json=payload)
    assert r.status_code == 200, r.text
    return r.json()


async def test_v2_filter_crud(world: World) -> None:
    created = await _create(world, expires_in=3600)
    assert_matches("Filter", created)
    assert created["title"] == "Spoilers" and created["context"] == ["home", "public"]
    assert [k["keyword"] for k in created["keywords"]] == ["finale", "ending"]
    assert created["expires_at"] is not None and created["statuses"] == []
    fid = created["id"]
    r = await world.local_alice.get("/api/v2/filters")
    assert [f["id"] for f in r.json()] == [fid]
    assert_matches("Filter", r.json(), many=True)
    finale = created["keywords"][0]["id"]
    ending = created["keywords"][1]["id"]
    r = await world.local_alice.put(f"/api/v2/filters/{fid}", json={
        "title": "TV", "context": ["thread"], "filter_action": "hide", "expires_in": "",
        "keywords_attributes": [{"id": finale, "keyword": "season finale"}, {"id": ending, "_destroy": True},
                                {"keyword": "cliffhanger"}]})
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["title"] == "TV" and updated["context"] == ["thread"] and updated["filter_action"] == "hide"
    assert updated["expires_at"] is None
    assert [(k["keyword"], k["whole_word"]) for k in updated["keywords"]] == [("season finale", True),
                                                                               ("cliffhanger", True)]
    # Form encoding, as many clients send it.
    r = await world.local_alice.post("/api/v2/filters", data={
        "title": "Form", "context[]": ["notifications", "account"], "filter_action": "blur",
        "keywords_attributes[0][keyword]": "x", "keywords_attributes[0][whole_word]": "false"})
    assert r.status_code == 200, r.text
    assert r.json()["context"] == ["notifications", "account"] and r.json()["keywords"][0]["whole_word"] is False
    r = await world.local_alice.delete(f"/api/v2/filters/{fid}")
    assert r.status_code == 200 and r.json() == {}
    assert (await world.local_alice.get(f"/api/v2/filters/{fid}")).status_code == 404
    assert (await world.local_alice.get(f"/api/v2/filters/keywords/{finale}")).status_code == 404


async def test_v2_keywords_and_statuses(world: World) -> None:
    created = await _create(world)
    fid = created["id"]
    r = await world.local_alice.post(f"/api/v2/filters/{fid}/keywords", data={"keyword": "plot", "whole_word": "0"})
    assert r.status_code == 200
    keyword = r.json()
    assert_matches("FilterKeyword", keyword)
    assert keyword["whole_word"] is False
    r = await world.local_alice.get(f"/api/v2/filters/{fid}/keywords")
    assert [k["keyword"] for k in r.json()] == ["finale", "ending", "plot"]
    r = await world.local_alice.put(f"/api/v2/filters/keywords/{keyword['id']}", json={"keyword": "plot twist",
                                                                                        "whole_word": True})
    assert r.json() == {"id": keyword["id"], "keyword": "plot twist", "whole_word": True}
    assert (await world.local_alice.get(f"/api/v2/filters/keywords/{keyword['id']}")).json()["keyword"] == "plot twist"
    r = await world.local_alice.delete(f"/api/v2/filters/keywords/{keyword['id']}")
    assert r.status_code == 200
    assert (await world.local_alice.get(f"/api/v2/filters/keywords/{keyword['id']}")).status_code == 404

    status_id = await _status(world, world.a, world.local_bob.account_id)
    r = await world.local_alice.post(f"/api/v2/filters/{fid}/statuses", json={"status_id": str(status_id)})
    assert r.status_code == 200, r.text
    entry = r.json()
    assert_matches("FilterStatus", entry)
    assert entry["status_id"] == str(status_id)
    r = await world.local_alice.post(f"/api/v2/filters/{fid}/statuses", json={"status_id": str(status_id)})
    assert r.status_code == 422
    assert (await world.local_alice.get(f"/api/v2/filters/{fid}/statuses")).json() == [entry]
    assert (await world.local_alice.get(f"/api/v2/filters/statuses/{entry['id']}")).json() == entry
    assert (await world.local_alice.get(f"/api/v2/filters/{fid}")).json()["statuses"] == [entry]
    assert (await world.local_alice.delete(f"/api/v2/filters/statuses/{entry['id']}")).status_code == 200
    assert (await world.local_alice.get(f"/api/v2/filters/statuses/{entry['id']}")).status_code == 404


async def test_v2_bad_input(world: World) -> None:
    post = world.local_alice.post
    for body in ({"context": ["home"]}, {"title": "", "context": ["home"]}, {"title": "x"},
                 {"title": "x", "context": ["everywhere"]}, {"title": "x", "context": ["home"], "filter_action": "nuke"},
                 {"title": "x", "context": ["home"], "expires_in": "soon"},
                 {"title": "x", "context": ["home"], "expires_in": -5},
                 {"title": "x" * 300, "context": ["home"]},
                 {"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": ""}]},
                 {"title": "x", "context": ["home"], "keywords_attributes": ["word"]},
                 {"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": "a", "whole_word": "maybe"}]},
                 {"title": 5, "context": ["home"]}, {"title": "x", "context": [{"a": 1}]}):
        r = await post("/api/v2/filters", json=body)
        assert r.status_code == 422 and "error" in r.json(), body
    created = await _create(world)
    fid = created["id"]
    r = await world.local_alice.put(f"/api/v2/filters/{fid}", json={"context": []})
    assert r.status_code == 422
    r = await world.local_alice.put(f"/api/v2/filters/{fid}", json={"keywords_attributes": [{"id": "999",
                                                                                            "keyword": "a"}]})
    assert r.status_code == 404
    r = await post(f"/api/v2/filters/{fid}/keywords", json={"keyword": "   "})
    assert r.status_code == 422
    r = await post(f"/api/v2/filters/{fid}/statuses", json={})
    assert r.status_code == 422
    r = await post(f"/api/v2/filters/{fid}/statuses", json={"status_id": "nope"})
    assert r.status_code == 422
    r = await post(f"/api/v2/filters/{fid}/statuses", json={"status_id": "12345"})
    assert r.status_code == 404
    assert (await world.local_alice.get("/api/v2/filters/abc")).status_code == 404
    assert (await world.anon_a.get("/api/v2/filters")).status_code == 401
    # Nothing half-written: the filter still has its two keywords.
    assert len((await world.local_alice.get(f"/api/v2/filters/{fid}")).json()["keywords"]) == 2


async def test_filters_are_private_and_tenant_scoped(world: World) -> None:
    created = await _create(world)
    fid, kid = created["id"], created["keywords"][0]["id"]
    bob = world.local_bob
    assert (await bob.get("/api/v2/filters")).json() == []
    assert (await bob.get(f"/api/v2/filters/{fid}")).status_code == 404
    assert (await bob.put(f"/api/v2/filters/{fid}", json={"title": "mine"})).status_code == 404
    assert (await bob.delete(f"/api/v2/filters/{fid}")).status_code == 404
    assert (await bob.post(f"/api/v2/filters/{fid}/keywords", json={"keyword": "x"})).status_code == 404
    assert (await bob.get(f"/api/v2/filters/keywords/{kid}")).status_code == 404
    assert (await bob.delete(f"/api/v2/filters/keywords/{kid}")).status_code == 404
    assert (await bob.get(f"/api/v1/filters/{kid}")).status_code == 404
    assert (await bob.delete(f"/api/v1/filters/{kid}")).status_code == 404
    carol = world.local_carol
    assert (await carol.get(f"/api/v2/filters/{fid}")).status_code == 404
    assert (await carol.get("/api/v1/filters")).json() == []
    carol_on_a = world.client(world.a, carol.token)
    assert (await carol_on_a.get(f"/api/v2/filters/{fid}")).status_code == 401
    # A tenant b status cannot be added to a tenant a filter.
    status_b = await _status(world, world.b, carol.account_id)
    r = await world.local_alice.post(f"/api/v2/filters/{fid}/statuses", json={"status_id": str(status_b)})
    assert r.status_code == 404
    r = await world.local_alice.get(f"/api/v2/filters/{fid}")
    assert r.json()["title"] == "Spoilers" and len(r.json()["keywords"]) == 2


async def test_v1_filters(world: World) -> None:
    r = await world.local_alice.post("/api/v1/filters", data={"phrase": "crypto", "context[]": ["home", "public"],
                                                              "irreversible": "true", "whole_word": "false",
                                                              "expires_in": "600"})
    assert r.status_code == 200, r.text
    v1 = r.json()
    assert_matches("V1Filter", v1)
    assert v1["phrase"] == "crypto" and v1["irreversible"] is True and v1["whole_word"] is False
    assert v1["expires_at"] is not None
    # The v2 API sees it as a filter with one keyword.
    v2 = (await world.local_alice.get("/api/v2/filters")).json()
    assert len(v2) == 1 and v2[0]["filter_action"] == "hide" and v2[0]["keywords"][0]["id"] == v1["id"]
    r = await world.local_alice.put(f"/api/v1/filters/{v1['id']}", json={"phrase": "bitcoin", "context": ["home"],
                                                                         "irreversible": False})
    assert r.status_code == 200, r.text
    assert r.json()["phrase"] == "bitcoin" and r.json()["context"] == ["home"] and r.json()["irreversible"] is False
    assert (await world.local_alice.get(f"/api/v1/filters/{v1['id']}")).json()["phrase"] == "bitcoin"
    # A v2 filter with two keywords shows as two v1 filters; its shared settings cannot change through v1.
    two = await _create(world)
    listed = (await world.local_alice.get("/api/v1/filters")).json()
    assert_matches("V1Filter", listed, many=True)
    assert sorted(f["phrase"] for f in listed) == ["bitcoin", "ending", "finale"]
    kid = two["keywords"][0]["id"]
    r = await world.local_alice.put(f"/api/v1/filters/{kid}", json={"context": ["thread"]})
    assert r.status_code == 422 and "error" in r.json()
    r = await world.local_alice.put(f"/api/v1/filters/{kid}", json={"phrase": "series finale"})
    assert r.status_code == 200 and r.json()["phrase"] == "series finale"
    r = await world.local_alice.delete(f"/api/v1/filters/{v1['id']}")
    assert r.status_code == 200
    assert [f["id"] for f in (await world.local_alice.get("/api/v2/filters")).json()] == [two["id"]]


async def test_v1_bad_input(world: World) -> None:
    post = world.local_alice.post
    assert (await post("/api/v1/filters", json={"context": ["home"]})).status_code == 422
    assert (await post("/api/v1/filters", json={"phrase": "x", "context": []})).status_code == 422
    assert (await post("/api/v1/filters", json={"phrase": "x", "context": ["nowhere"]})).status_code == 422
    assert (await post("/api/v1/filters", json={"phrase": "x", "context": ["home"], "irreversible": "maybe"})
            ).status_code == 422
    assert (await world.local_alice.get("/api/v1/filters/999")).status_code == 404
    assert (await world.local_alice.put("/api/v1/filters/999", json={"phrase": "x"})).status_code == 404


async def test_active_filters_and_matching(world: World) -> None:
    from steward.social.filters import active_filters, match_filters

    await _create(world)
    old = await _create(world, title="Old", context=["home"], expires_in=60,
                        keywords_attributes=[{"keyword": "anything"}])
    from datetime import timedelta

    from sqlalchemy import update

    from steward.db.tables import filters
    async with world.c.db.write() as conn:
        await conn.execute(update(filters).where(filters.c.tenant_id == world.a.id, filters.c.id == int(old["id"]))
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
    status_id = await _status(world, world.a, world.local_bob.account_id)
    async with world.c.db.read() as conn:
        home = await active_filters(conn, world.a.id, int(world.local_alice.account_id), "home")
        thread = await active_filters(conn, world.a.id, int(world.local_alice.account_id), "thread")
        bob = await active_filters(conn, world.a.id, int(world.local_bob.account_id), "home")
    assert thread == [] and bob == []
    assert [f.title for f in home] == ["Spoilers"]
    spoilers = [f for f in home if f.title == "Spoilers"]
    assert match_filters(spoilers, status_id, "The finale was great")[0][1] == ["finale"]
    assert match_filters(spoilers, status_id, "The finales were great") == []
    assert match_filters(spoilers, status_id, "unending story")[0][1] == ["ending"]
