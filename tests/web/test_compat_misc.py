from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from steward.db.tables import users
from steward.social.oauth import OAuthService
from tests.world import World


def _keys() -> dict[str, str]:
    public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"subscription[keys][p256dh]": base64.b64encode(public).decode(),
            "subscription[keys][auth]": base64.urlsafe_b64encode(b"0123456789abcdef").decode().rstrip("=")}


def _subscription(endpoint: str = "https://push.example/abc", **extra: str) -> dict[str, str]:
    return {"subscription[endpoint]": endpoint, **_keys(), **extra}


async def test_push_subscription_round_trip(world: World) -> None:
    r = await world.local_alice.post("/api/v1/push/subscription", data=_subscription(
        **{"data[alerts][mention]": "true", "data[alerts][follow]": "true", "policy": "followed"}))
    assert r.status_code == 200, r.text
    sub = r.json()
    assert sub["endpoint"] == "https://push.example/abc" and sub["policy"] == "followed"
    assert sub["alerts"]["mention"] is True and sub["alerts"]["favourite"] is False
    assert len(base64.urlsafe_b64decode(sub["server_key"] + "==")) == 65
    assert (await world.local_alice.get("/api/v1/push/subscription")).json() == sub
    r = await world.local_alice.put("/api/v1/push/subscription", data={"data[alerts][favourite]": "true",
                                                                       "data[alerts][mention]": "false"})
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["alerts"]["favourite"] is True and updated["alerts"]["mention"] is False
    assert updated["alerts"]["follow"] is True and updated["policy"] == "followed"
    # Subscribing again replaces the token's subscription; the server key stays the tenant's.
    again = (await world.local_alice.post("/api/v1/push/subscription", data=_subscription())).json()
    assert again["id"] != sub["id"] and again["server_key"] == sub["server_key"]
    assert (await world.local_alice.delete("/api/v1/push/subscription")).status_code == 200
    r = await world.local_alice.get("/api/v1/push/subscription")
    assert r.status_code == 404 and "error" in r.json()


async def test_push_subscription_bad_input(world: World) -> None:
    alice = world.local_alice
    for bad in (_subscription("http://push.example/plain"), _subscription("not a url"),
                {**_subscription(), "subscription[keys][p256dh]": "short"},
                {**_subscription(), "subscription[keys][auth]": "!!!"},
                {"subscription[endpoint]": "https://push.example/x"},
                _subscription(policy="everyone"),
                _subscription(**{"data[alerts][mention]": "maybe"})):
        r = await alice.post("/api/v1/push/subscription", data=bad)
        assert r.status_code == 422 and "error" in r.json(), (bad, r.text)
    r = await alice.put("/api/v1/push/subscription", data={"data[alerts][mention]": "true"})
    assert r.status_code == 404 and "error" in r.json()
    # A token without the push scope.
    svc = OAuthService(world.c.db)
    app = await svc.create_app(world.a, "no push", ["urn:ietf:wg:oauth:2.0:oob"], ["read"], None)
    async with world.c.db.read() as conn:
        user_id = (await conn.execute(select(users.c.id).where(
            users.c.tenant_id == world.a.id, users.c.account_id == int(alice.account_id)))).scalar_one()
    raw, _, _ = await svc.issue_token(world.a, app.id, user_id, "read", with_refresh=False)
    r = await world.client(world.a, raw).post("/api/v1/push/subscription", data=_subscription())
    assert r.status_code == 403 and "error" in r.json()
    r = await world.anon_a.get("/api/v1/push/subscription")
    assert r.status_code == 401 and "error" in r.json()


async def test_push_subscription_isolation(world: World) -> None:
    assert (await world.local_alice.post("/api/v1/push/subscription", data=_subscription())).status_code == 200
    # Another person of the same tenant has their own (none), and tenant b's token is unknown on a's host.
    assert (await world.local_bob.get("/api/v1/push/subscription")).status_code == 404
    r = await world.client(world.a, world.local_carol.token).get("/api/v1/push/subscription")
    assert r.status_code == 401
    assert (await world.local_carol.get("/api/v1/push/subscription")).status_code == 404
    carol = (await world.local_carol.post("/api/v1/push/subscription", data=_subscription())).json()
    alice = (await world.local_alice.get("/api/v1/push/subscription")).json()
    assert carol["server_key"] != alice["server_key"]


async def test_report_create(world: World) -> None:
    posted = await world.local_bob.post("/api/v1/statuses", data={"status": "something reportable"})
    assert posted.status_code == 200, posted.text
    status_id = posted.json()["id"]
    r = await world.local_alice.post("/api/v1/reports", data={
        "account_id": world.local_bob.account_id, "status_ids[]": [status_id], "comment": "makes the bad post",
        "category": "spam"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["target_account"]["id"] == world.local_bob.account_id
    assert report["status_ids"] == [status_id] and report["comment"] == "makes the bad post"
    assert report["category"] == "spam" and report["action_taken"] is False and report["forwarded"] is False
    r = await world.local_alice.post("/api/v1/reports", json={"account_id": world.local_bob.account_id})
    assert r.status_code == 200 and r.json()["category"] == "other" and r.json()["status_ids"] is None


async def test_report_bad_input(world: World) -> None:
    alice, bob = world.local_alice, world.local_bob
    own = (await alice.post("/api/v1/statuses", data={"status": "mine"})).json()["id"]
    cases = [
        ({}, 422),
        ({"account_id": "not-an-id"}, 422),
        ({"account_id": "12345"}, 404),
        ({"account_id": bob.account_id, "category": "rude"}, 422),
        ({"account_id": bob.account_id, "comment": "x" * 1001}, 422),
        # A status that is not the reported account's.
        ({"account_id": bob.account_id, "status_ids[]": [own]}, 404),
        ({"account_id": bob.account_id, "rule_ids[]": ["99999"]}, 422),
    ]
    for body, status in cases:
        r = await alice.post("/api/v1/reports", data=body)
        assert r.status_code == status and "error" in r.json(), (body, r.text)
    assert (await world.anon_a.post("/api/v1/reports", data={"account_id": bob.account_id})).status_code == 401


async def test_report_tenant_isolation(world: World) -> None:
    # Carol (tenant b) cannot report tenant a's bob, on either host.
    r = await world.local_carol.post("/api/v1/reports", data={"account_id": world.local_bob.account_id})
    assert r.status_code == 404 and "error" in r.json()
    r = await world.client(world.a, world.local_carol.token).post(
        "/api/v1/reports", data={"account_id": world.local_bob.account_id})
    assert r.status_code == 401 and "error" in r.json()


async def test_email_confirmation_endpoints(world: World) -> None:
    r = await world.local_alice.get("/api/v1/emails/check_confirmation")
    assert r.status_code == 200 and r.json() is True
    # Alice is confirmed, so there is nothing to resend, as Mastodon answers.
    r = await world.local_alice.post("/api/v1/emails/confirmations", data={"email": "new@example.test"})
    assert r.status_code == 403 and "error" in r.json()
    r = await world.local_alice.post("/api/v1/emails/confirmations", json={"email": ["not", "a", "string"]})
    assert r.status_code == 422 and "error" in r.json()
    assert (await world.anon_a.get("/api/v1/emails/check_confirmation")).status_code == 401
    # Tenant b's token means nothing on tenant a's host.
    r = await world.client(world.a, world.local_carol.token).post("/api/v1/emails/confirmations")
    assert r.status_code == 401 and "error" in r.json()


async def test_annual_reports_none_and_ineligible(world: World) -> None:
    alice = world.local_alice
    r = await alice.get("/api/v1/annual_reports")
    assert r.status_code == 200 and r.json() == {"annual_reports": [], "accounts": [], "statuses": []}
    assert (await alice.get("/api/v1/annual_reports/2025/state")).json() == {"state": "ineligible"}
    r = await alice.post("/api/v1/annual_reports/2025/generate")
    assert r.status_code == 200 and r.json() == {}
    # Nothing was generated.
    assert (await alice.get("/api/v1/annual_reports")).json()["annual_reports"] == []
    for path in ("/api/v1/annual_reports/2025", "/api/v1/annual_reports/not-a-year/state"):
        r = await alice.get(path)
        assert r.status_code == 404 and "error" in r.json()
    r = await alice.post("/api/v1/annual_reports/2025/read")
    assert r.status_code == 404 and "error" in r.json()
    assert (await world.anon_a.get("/api/v1/annual_reports")).status_code == 401
    r = await world.client(world.a, world.local_carol.token).get("/api/v1/annual_reports")
    assert r.status_code == 401 and "error" in r.json()
