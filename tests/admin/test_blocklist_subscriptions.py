"""Blocklist subscriptions: fetch as a job, review the diff, apply explicitly."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from steward.activitypub import transport as transport_module
from steward.activitypub.transport import FakeTransport, HttpTransport, Limits, TransportTimeout
from steward.moderation.audit import list_actions
from tests.world import Person, World

SUBS = "/api/v1/admin/steward/blocklist_subscriptions"
LIST_URL = "https://lists.example/oliphant-tier0.csv"
LIST_V1 = (b"#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
           b"spam.example,suspend,true,true,Spam,false\n"
           b"loud.example,suspend,false,false,Harassment,false\n"
           b"friend.example,suspend,false,false,Disputed,false\n"
           b"mild.example,silence,false,false,,false\n")


@pytest.fixture
def fake(world: World, monkeypatch: pytest.MonkeyPatch) -> FakeTransport:
    transport = FakeTransport()
    transport.files[LIST_URL] = ("text/csv", LIST_V1)
    monkeypatch.setattr(world.c, "transport", transport)
    return transport


async def blocks(person: Person) -> dict[str, dict[str, Any]]:
    return {b["domain"]: b for b in (await person.get("/api/v1/admin/domain_blocks")).json()}


async def subscribe(world: World, person: Person, url: str = LIST_URL, **form: Any) -> dict[str, Any]:
    r = await person.post(SUBS, json={"url": url, **form})
    assert r.status_code == 200, r.text
    await world.run_jobs()
    return dict((await person.get(f"{SUBS}/{r.json()['id']}")).json())


async def test_subscribe_review_apply_and_a_later_version(world: World, fake: FakeTransport) -> None:
    ann = world.admin_ann
    await ann.post("/api/v1/admin/domain_blocks", data={"domain": "mild.example", "severity": "suspend",
                                                        "private_comment": "our own"})
    sub = await subscribe(world, ann, max_severity="suspend", excluded_domains=["friend.example"],
                          severity_overrides={"loud.example": "silence"})
    assert sub["state"] == "pending_review" and sub["pending_count"] == 4 and sub["last_error"] is None
    assert [s.url for s in fake.sent] == [LIST_URL]
    # Nothing is applied before the review.
    assert list(await blocks(ann)) == ["mild.example"]
    review = (await ann.get(f"{SUBS}/{sub['id']}/review")).json()
    assert review["excluded"] == ["friend.example"]
    assert sorted(a["domain"] for a in review["adds"]) == ["loud.example", "spam.example"]
    assert {a["domain"]: a["severity"] for a in review["adds"]}["loud.example"] == "silence"
    assert [(c["domain"], c["to"]["severity"]) for c in review["changes"]] == [("mild.example", "silence")]
    assert review["removals"] == []
    applied = await ann.post(f"{SUBS}/{sub['id']}/apply")
    assert applied.status_code == 200, applied.text
    now = await blocks(ann)
    assert sorted(now) == ["loud.example", "mild.example", "spam.example"]
    assert now["spam.example"]["reject_media"] is True and now["loud.example"]["severity"] == "silence"
    assert now["spam.example"]["private_comment"] == f"From blocklist subscription {LIST_URL}"
    assert now["mild.example"]["severity"] == "silence" and now["mild.example"]["private_comment"] == "our own"
    # The review is used up.
    assert (await ann.post(f"{SUBS}/{sub['id']}/apply")).status_code == 422
    # A later version drops spam.example (which this list added) and mild.example
    # (which was ours before): only spam.example is lifted.
    fake.files[LIST_URL] = ("text/csv", b"#domain,#severity\nloud.example,suspend\nnew.example,noop\n")
    r = await ann.post(f"{SUBS}/{sub['id']}/refresh")
    assert r.status_code == 200 and r.json()["state"] == "fetching"
    await world.run_jobs()
    review = (await ann.get(f"{SUBS}/{sub['id']}/review")).json()
    assert [a["domain"] for a in review["adds"]] == ["new.example"]
    assert [r["domain"] for r in review["removals"]] == ["spam.example"]
    assert review["changes"] == [] and review["unchanged"] == 1  # loud.example stays overridden to silence
    assert (await ann.post(f"{SUBS}/{sub['id']}/apply")).status_code == 200
    assert sorted(await blocks(ann)) == ["loud.example", "mild.example", "new.example"]
    async with world.c.db.read() as conn:
        subs_log = await list_actions(conn, world.a.id, target_type="BlocklistSubscription")
        block_log = await list_actions(conn, world.a.id, target_type="DomainBlock")
    assert [a["action"] for a in reversed(subs_log)] == ["create", "apply", "refresh", "apply"]
    assert subs_log[0]["details"]["adds"] == 1 and subs_log[0]["details"]["removals"] == 1
    assert ("destroy", "spam.example") in [(a["action"], a["human_identifier"]) for a in block_log]


async def test_severity_cap_and_changing_overrides(world: World, fake: FakeTransport) -> None:
    ann = world.admin_ann
    sub = await subscribe(world, ann, max_severity="silence")
    review = (await ann.get(f"{SUBS}/{sub['id']}/review")).json()
    assert {a["severity"] for a in review["adds"]} == {"silence"}
    r = await ann.put(f"{SUBS}/{sub['id']}", json={"severity_overrides": {"spam.example": "suspend"},
                                                  "excluded_domains": ["mild.example"]})
    assert r.status_code == 200, r.text
    review = (await ann.get(f"{SUBS}/{sub['id']}/review")).json()
    assert {a["domain"]: a["severity"] for a in review["adds"]} == {
        "spam.example": "suspend", "loud.example": "silence", "friend.example": "silence"}


async def test_failures_are_recorded_and_nothing_applied(world: World, fake: FakeTransport) -> None:
    ann = world.admin_ann
    bad = {
        "https://lists.example/bad.csv": ("text/csv", b"#domain,#severity\nok.example,suspend\nx.example,nuke\n"),
        "https://lists.example/junk": ("application/octet-stream", b"\x00\x01\x02junk"),
        "https://lists.example/slow.csv": TransportTimeout("GET https://lists.example/slow.csv timed out"),
    }
    fake.files.update(bad)
    for url, expected in zip(bad, ("line 3", "binary", "timed out"), strict=True):
        sub = await subscribe(world, ann, url=url)
        assert sub["state"] == "error" and expected in sub["last_error"], sub
        assert sub["pending_review"] is False
        r = await ann.post(f"{SUBS}/{sub['id']}/apply")
        assert r.status_code == 422 and expected in r.json()["error"]
    sub = await subscribe(world, ann, url="https://lists.example/missing.csv")
    assert "404" in sub["last_error"]
    # A good list fetched, then a broken version: the reviewed one is kept, not replaced.
    good = await subscribe(world, ann)
    fake.files[LIST_URL] = ("text/csv", b"#domain,#severity\nok.example,explode\n")
    await ann.post(f"{SUBS}/{good['id']}/refresh")
    await world.run_jobs()
    shown = (await ann.get(f"{SUBS}/{good['id']}")).json()
    assert shown["state"] == "error" and shown["pending_count"] == 4
    assert await blocks(ann) == {}


async def test_bad_input(world: World, fake: FakeTransport) -> None:
    ann = world.admin_ann
    for form in ({"url": ""}, {"url": "ftp://lists.example/x"}, {"url": "not a url"},
                 {"url": LIST_URL, "format": "xml"}, {"url": LIST_URL, "max_severity": "nuke"},
                 {"url": LIST_URL, "excluded_domains": ["http://x/"]},
                 {"url": LIST_URL, "severity_overrides": {"a.example": "ban"}},
                 {"url": LIST_URL, "severity_overrides": "suspend"}):
        r = await ann.post(SUBS, json=form)
        assert r.status_code == 422 and "error" in r.json(), form
    assert (await ann.get(SUBS)).json() == []
    await subscribe(world, ann)
    assert (await ann.post(SUBS, json={"url": LIST_URL})).status_code == 422
    for path in ("", "/review"):
        assert (await ann.get(f"{SUBS}/777{path}")).status_code == 404
    for path in ("/refresh", "/apply"):
        assert (await ann.post(f"{SUBS}/777{path}")).status_code == 404
    assert (await ann.delete(f"{SUBS}/777")).status_code == 404


async def test_isolation(world: World, fake: FakeTransport) -> None:
    ann = world.admin_ann
    sub = await subscribe(world, ann)
    b_admin = await world.person(world.b, "bea", role="admin", scopes="read write admin:read admin:write")
    assert (await b_admin.get(SUBS)).json() == []
    for method, path in (("get", ""), ("get", "/review"), ("post", "/apply"), ("post", "/refresh"),
                         ("put", ""), ("delete", "")):
        r = await getattr(b_admin, method)(f"{SUBS}/{sub['id']}{path}")
        assert r.status_code == 404, (method, path, r.text)
    assert (await world.mod_mike.get(SUBS)).status_code == 403
    assert (await world.local_alice.post(f"{SUBS}/{sub['id']}/apply")).status_code == 403
    on_a = world.client(world.a, b_admin.token)
    assert (await on_a.post(f"{SUBS}/{sub['id']}/apply")).status_code == 401
    assert await blocks(ann) == {}
    # b subscribes to the same list independently; applying it touches only b.
    b_sub = await subscribe(world, b_admin)
    assert (await b_admin.post(f"{SUBS}/{b_sub['id']}/apply")).status_code == 200
    assert len(await blocks(b_admin)) == 4 and await blocks(ann) == {}
    assert (await ann.delete(f"{SUBS}/{sub['id']}")).status_code == 200
    assert [s["id"] for s in (await b_admin.get(SUBS)).json()] == [b_sub["id"]]


# Real HTTP on loopback: a server that never answers, and one that redirects to a private address.

@contextlib.asynccontextmanager
async def tcp_server(handler: Any) -> AsyncIterator[int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, family=socket.AF_INET)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1)


async def test_a_list_that_hangs_times_out(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    hold = asyncio.Event()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(hold.wait(), 10)
        writer.close()

    transport = HttpTransport(allow_private=True, limits=Limits(total_timeout=1.0, connect_timeout=1.0))
    monkeypatch.setattr(world.c, "transport", transport)
    try:
        async with tcp_server(hang) as port:
            sub = await subscribe(world, world.admin_ann, url=f"http://127.0.0.1:{port}/list.csv")
            hold.set()
    finally:
        await transport.close()
    assert sub["state"] == "error" and "timed out" in sub["last_error"], sub
    assert await blocks(world.admin_ann) == {}


async def test_a_redirect_to_a_private_address_is_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    hits: list[bytes] = []

    async def secret(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hits.append(await reader.readline())
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 17\r\n\r\n#domain\nx.example")
        await writer.drain()
        writer.close()

    async with tcp_server(secret) as secret_port:
        async def redirect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readline()
            writer.write(f"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{secret_port}/admin.csv\r\n"
                         "Content-Length: 0\r\n\r\n".encode())
            await writer.drain()
            writer.close()

        async with tcp_server(redirect) as public_port:
            # The redirecting server stands in for a public host: its origin alone
            # passes the address check; the transport refuses private addresses.
            public = f"http://127.0.0.1:{public_port}"
            real_check = transport_module.check_url

            def check(url: str, allow_private: bool) -> str:
                if url.startswith(public + "/"):
                    return url
                return real_check(url.replace("http://", "https://", 1), allow_private)

            monkeypatch.setattr(transport_module, "check_url", check)
            transport = HttpTransport(allow_private=False, limits=Limits(total_timeout=3.0))
            monkeypatch.setattr(world.c, "transport", transport)
            try:
                sub = await subscribe(world, world.admin_ann, url=f"{public}/list.csv")
            finally:
                await transport.close()
    assert sub["state"] == "error" and "127.0.0.1 is not allowed" in sub["last_error"], sub
    assert hits == []
    assert await blocks(world.admin_ann) == {}
