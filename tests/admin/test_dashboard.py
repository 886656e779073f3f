from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.schema import assert_matches
from tests.world import World


def _span(days: int = 2) -> dict[str, str]:
    now = datetime.now(UTC)
    return {"start_at": (now - timedelta(days=days - 1)).isoformat(), "end_at": now.isoformat()}


async def test_measures_count_real_rows(world: World) -> None:
    status = (await world.local_alice.post("/api/v1/statuses", data={"status": "hi", "language": "de"})).json()
    await world.local_bob.post(f"/api/v1/statuses/{status['id']}/favourite")
    await world.local_bob.post("/api/v1/statuses", data={"status": "re", "in_reply_to_id": status["id"]})
    await world.local_bob.post("/api/v1/reports", data={"account_id": world.local_alice.account_id})
    keys = ["new_users", "active_users", "interactions", "opened_reports", "resolved_reports",
            "instance_accounts", "instance_media_attachments", "unknown_key"]
    r = await world.admin_ann.post("/api/v1/admin/measures", json={
        "keys": keys, "instance_accounts": {"domain": "chitter.xyz"}, **_span()})
    assert r.status_code == 200, r.text
    body = {m["key"]: m for m in r.json()}
    assert_matches("AdminMeasure", r.json(), many=True)
    # Unknown keys (and ones Steward cannot compute) are left out, as Mastodon does with unknown keys.
    assert set(body) == {"new_users", "active_users", "interactions", "opened_reports", "resolved_reports",
                         "instance_accounts"}
    assert body["new_users"]["total"] == "3" and len(body["new_users"]["data"]) == 2
    assert body["new_users"]["data"][-1]["value"] == "3" and body["new_users"]["previous_total"] == "0"
    assert body["active_users"]["total"] == "2"
    assert body["interactions"]["total"] == "2"
    assert body["opened_reports"]["total"] == "1" and body["resolved_reports"]["total"] == "0"
    assert body["instance_accounts"]["total"] == "0"
    # Tenant b's dashboard sees none of it.
    r = await world.mod_mike.post("/api/v1/admin/measures", json={"keys": ["opened_reports", "new_users"],
                                                                   **_span()})
    counts = {m["key"]: m["total"] for m in r.json()}
    assert counts == {"opened_reports": "0", "new_users": "2"}


async def test_dimensions_and_retention(world: World) -> None:
    await world.local_alice.post("/api/v1/statuses", data={"status": "hallo", "language": "de"})
    await world.local_alice.post("/api/v1/statuses", data={"status": "hallo2", "language": "de"})
    await world.local_bob.post("/api/v1/statuses", data={"status": "hello", "language": "en"})
    r = await world.admin_ann.post("/api/v1/admin/dimensions", json={
        "keys": ["languages", "servers", "software_versions", "sources", "space_usage"], "limit": 3, **_span()})
    assert r.status_code == 200, r.text
    assert_matches("AdminDimension", r.json(), many=True)
    dims = {d["key"]: d["data"] for d in r.json()}
    assert set(dims) == {"languages", "servers", "software_versions"}
    assert [(d["key"], d["human_key"], d["value"]) for d in dims["languages"]] == [("de", "German", "2"),
                                                                                   ("en", "English", "1")]
    assert dims["servers"] == []
    assert {d["key"] for d in dims["software_versions"]} >= {"python", "sqlalchemy"}
    r = await world.admin_ann.post("/api/v1/admin/retention", data={**_span(3), "frequency": "day"})
    assert r.status_code == 200, r.text
    assert_matches("AdminCohort", r.json(), many=True)
    cohorts = r.json()
    assert len(cohorts) == 3 and [len(c["data"]) for c in cohorts] == [3, 2, 1]
    today = cohorts[-1]["data"][0]
    assert today["value"] == "3" and today["rate"] == 1.0
    r = await world.admin_ann.post("/api/v1/admin/retention", data={**_span(40), "frequency": "month"})
    assert r.status_code == 200 and r.json()[-1]["frequency"] == "month"


async def test_bad_input_and_permissions(world: World) -> None:
    ann = world.admin_ann
    assert (await ann.post("/api/v1/admin/measures", json={"keys": [], **_span()})).status_code == 422
    r = await ann.post("/api/v1/admin/measures", json={"keys": ["new_users"], "start_at": "yesterday",
                                                        "end_at": "today"})
    assert r.status_code == 422 and "error" in r.json()
    span = _span()
    r = await ann.post("/api/v1/admin/measures", json={"keys": ["new_users"], "start_at": span["end_at"],
                                                        "end_at": "2001-01-01"})
    assert r.status_code == 422
    r = await ann.post("/api/v1/admin/measures", json={"keys": ["new_users"], "start_at": "2001-01-01",
                                                        "end_at": span["end_at"]})
    assert r.status_code == 422
    r = await ann.post("/api/v1/admin/retention", data={**span, "frequency": "dayz"})
    assert r.status_code == 422
    r = await ann.post("/api/v1/admin/dimensions", json={"keys": ["languages"], "limit": "many", **span})
    assert r.status_code == 422
    assert (await world.local_alice.post("/api/v1/admin/measures", json={"keys": ["new_users"], **span})
            ).status_code == 403
    on_a = world.client(world.a, world.mod_mike.token)
    assert (await on_a.post("/api/v1/admin/measures", json={"keys": ["new_users"], **span})).status_code == 401


async def test_trends(world: World) -> None:
    for path in ("/api/v1/admin/trends/tags", "/api/v1/admin/trends/statuses", "/api/v1/admin/trends/links"):
        r = await world.admin_ann.get(path)
        assert r.status_code == 200 and r.json() == [], path
        assert (await world.local_alice.get(path)).status_code == 403
    # Tags used by two people trend; the admin view adds the review flags.
    await world.local_alice.post("/api/v1/statuses", data={"status": "#steward rocks"})
    await world.local_bob.post("/api/v1/statuses", data={"status": "#steward indeed"})
    tags = (await world.admin_ann.get("/api/v1/admin/trends/tags")).json()
    assert [t["name"] for t in tags] == ["steward"]
    assert tags[0]["requires_review"] is False and tags[0]["trendable"] is True and tags[0]["usable"] is True
