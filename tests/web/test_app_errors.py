"""Whole-app behaviour on bad requests: every answer is a 4xx in Mastodon's shape."""

from __future__ import annotations

import httpx

from tests.world import World


async def test_unknown_host_and_route(world: World) -> None:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=world.app), base_url="http://unknown.example")
    r = await client.get("/api/v1/instance")
    assert r.status_code == 404 and "error" in r.json()
    await client.aclose()
    r = await world.anon_a.get("/api/v1/no/such/route")
    assert r.status_code == 404 and r.json() == {"error": "Record not found"}
    r = await world.anon_a.delete("/api/v1/apps")
    assert r.status_code == 405 and "error" in r.json()


async def test_oversized_and_malformed_bodies(world: World) -> None:
    alice = world.local_alice
    huge = b"x" * (world.c.settings.max_request_body + 1)
    r = await alice.patch("/api/v1/accounts/update_credentials", content=huge,
                          headers={"content-type": "application/octet-stream"})
    assert r.status_code == 413 and "error" in r.json()
    r = await alice.patch("/api/v1/accounts/update_credentials", content=b"[1,2,3]",
                          headers={"content-type": "application/json"})
    assert r.status_code == 400
    nested = b'{"a":' * 100 + b"1" + b"}" * 100
    r = await alice.patch("/api/v1/accounts/update_credentials", content=nested,
                          headers={"content-type": "application/json"})
    assert r.status_code == 400
    r = await alice.patch("/api/v1/accounts/update_credentials", content=b"--x\r\nbroken",
                          headers={"content-type": "multipart/form-data; boundary=x"})
    # A truncated multipart body carries no fields: nothing changes, nothing breaks.
    assert r.status_code < 500 and r.json().get("display_name", "") == ""
    r = await alice.patch("/api/v1/accounts/update_credentials",
                          content=b"a[b][c][d][e][f][g][h][i][j]=1",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400


async def test_missing_token_and_scope(world: World) -> None:
    r = await world.anon_a.get("/api/v1/accounts/verify_credentials")
    assert r.status_code == 401 and "error" in r.json()
    r = await world.anon_a.get("/api/v1/accounts/verify_credentials", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401
