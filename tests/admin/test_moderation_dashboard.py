"""The moderation dashboard: Mastodon's measures plus Steward's own figures."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.world import World


async def test_dashboard_numbers(world: World) -> None:
    today = datetime.now(UTC).date().isoformat()
    period = {"start_at": today, "end_at": today}
    r = await world.local_bob.post("/api/v1/reports", data={"account_id": world.local_alice.account_id})
    report_id = r.json()["id"]
    await world.local_alice.post("/api/v1/reports", data={"account_id": world.local_bob.account_id})
    ann = world.admin_ann
    numbers = (await ann.get("/api/v1/admin/steward/dashboard", params=period)).json()
    assert numbers["opened_reports"] == 2 and numbers["open_reports"] == 2
    assert numbers["median_time_to_first_action_seconds"] is None and numbers["new_users"] == 3
    await ann.post(f"/api/v1/admin/steward/reports/{report_id}/notes", data={"content": "on it"})
    await ann.post("/api/v1/admin/domain_blocks", data={"domain": "bad.example", "severity": "suspend"})
    await ann.post("/api/v1/admin/domain_blocks", data={"domain": "meh.example", "severity": "noop"})
    await ann.post(f"/api/v1/admin/reports/{report_id}/resolve")
    numbers = (await ann.get("/api/v1/admin/steward/dashboard", params=period)).json()
    assert numbers["resolved_reports"] == 1 and numbers["open_reports"] == 1
    assert numbers["reports_with_an_action"] == 1
    assert numbers["median_time_to_first_action_seconds"] is not None
    assert numbers["blocked_domains"] == 1 and numbers["blocked_domains_by_severity"]["noop"] == 1
    # Tenant B sees its own (empty) numbers; bad periods are refused; users may not look.
    theirs = (await world.mod_mike.get("/api/v1/admin/steward/dashboard", params=period)).json()
    assert theirs["opened_reports"] == 0 and theirs["blocked_domains"] == 0
    assert (await ann.get("/api/v1/admin/steward/dashboard", params={"start_at": "x", "end_at": today})
            ).status_code == 422
    assert (await world.local_bob.get("/api/v1/admin/steward/dashboard", params=period)).status_code == 403
