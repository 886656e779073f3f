"""`steward moderation ...`: the same services as the admin API, acting as a
named staff account; isolation between tenants holds through the CLI too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from steward.cli import build_parser
from steward.cli_moderator import execute
from steward.container import Container
from steward.core.errors import ApiError
from steward.db.migrate import upgrade_head
from steward.moderation.audit import list_actions
from steward.settings import Settings
from steward.social.accounts import create_local_account
from tests.world import World


async def cli(world: World, *argv: str) -> list[str]:
    return await execute(world.c, build_parser().parse_args(["moderation", *argv]))


async def test_reports_through_the_cli(world: World) -> None:
    r = await world.local_bob.post("/api/v1/reports", data={"account_id": world.local_alice.account_id,
                                                            "comment": "rude"})
    report_id = r.json()["id"]
    a = world.a.domain
    listed = await cli(world, "reports", "list", a, "--as", "ann")
    assert len(listed) == 1 and listed[0].startswith(f"{report_id}\topen") and "bob -> alice" in listed[0]
    assert await cli(world, "reports", "assign", a, report_id, "--as", "ann") == [f"report {report_id} assigned"]
    await cli(world, "reports", "note", a, report_id, "checked the posts", "--as", "ann")
    shown = await cli(world, "reports", "show", a, report_id, "--as", "ann")
    assert "assigned: ann" in shown[0] and any("checked the posts" in line for line in shown)
    out = await cli(world, "action", a, "alice", "--type", "silence", "--text", "Be nice", "--report", report_id,
                    "--as", "ann")
    assert out[0].startswith(f"silence on account {world.local_alice.account_id}: strike ")
    assert (await cli(world, "reports", "list", a, "--as", "ann")) == ["no reports"]
    assert (await world.admin_ann.get(f"/api/v1/admin/accounts/{world.local_alice.account_id}")).json()["silenced"]
    async with world.c.db.read() as conn:
        logged = [a["action"] for a in await list_actions(conn, world.a.id)]
    assert {"assigned_to_self", "create", "silence", "resolve"} <= set(logged)


async def test_appeals_and_presets_through_the_cli(world: World) -> None:
    b = world.b.domain
    # A moderator may not add presets (admins only).
    with pytest.raises(ApiError) as err:
        await cli(world, "presets", "add", b, "Spam is not allowed", "--as", "mike")
    assert err.value.status == 403
    out = await cli(world, "action", b, world.local_carol.account_id, "--type", "suspend", "--as", "mike")
    strike_id = out[0].rsplit(" ", 1)[1]
    await world.run_jobs()
    r = await world.local_carol.post(f"/api/v1/steward/strikes/{strike_id}/appeal", data={"text": "not me"})
    assert r.status_code == 200, r.text
    listed = await cli(world, "appeals", "list", b, "--as", "mike")
    assert len(listed) == 1 and "\tpending\tcarol\t" in listed[0]
    appeal_id = listed[0].split("\t")[0]
    assert await cli(world, "appeals", "approve", b, appeal_id, "--as", "mike") == [f"appeal {appeal_id} approved"]
    assert (await world.mod_mike.get(f"/api/v1/admin/accounts/{world.local_carol.account_id}")).json()[
        "suspended"] is False
    with pytest.raises(ApiError) as err:
        await cli(world, "appeals", "reject", b, appeal_id, "--as", "mike")
    assert err.value.status == 422
    numbers = dict(line.split("\t", 1) for line in await cli(world, "dashboard", b, "--as", "mike"))
    assert numbers["pending_appeals"] == "0" and "median_time_to_first_action_seconds" in numbers


async def test_cli_isolation_and_bad_input(world: World) -> None:
    r = await world.local_bob.post("/api/v1/reports", data={"account_id": world.local_alice.account_id})
    report_id = r.json()["id"]
    a, b = world.a.domain, world.b.domain
    # mike moderates tenant B: on tenant A he is nobody.
    for argv in (("reports", "list", a), ("reports", "resolve", a, report_id), ("appeals", "list", a),
                 ("action", a, "alice", "--type", "suspend"), ("dashboard", a), ("presets", "list", a),
                 ("reports", "note", a, report_id, "hello")):
        with pytest.raises(ApiError) as err:
            await cli(world, *argv, "--as", "mike")
        assert err.value.status == 404 and "no local user mike" in err.value.message
    # Nor does tenant A's report exist on tenant B.
    with pytest.raises(ApiError) as err:
        await cli(world, "reports", "resolve", b, report_id, "--as", "mike")
    assert err.value.status == 404
    # A plain user has no moderation rights.
    with pytest.raises(ApiError) as err:
        await cli(world, "reports", "list", a, "--as", "bob")
    assert err.value.status == 403
    with pytest.raises(ApiError):
        await cli(world, "reports", "show", a, "nope", "--as", "ann")
    with pytest.raises(ApiError) as err:
        await cli(world, "action", a, "nobody", "--type", "silence", "--as", "ann")
    assert err.value.status == 404
    with pytest.raises(SystemExit):
        build_parser().parse_args(["moderation", "action", a, "alice", "--type", "explode", "--as", "ann"])
    # Nothing happened to the report.
    assert (await world.admin_ann.get(f"/api/v1/admin/reports/{report_id}")).json()["action_taken"] is False


async def test_cli_as_a_real_process(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'steward.sqlite3'}",
                        media_dir=tmp_path / "media", run_jobs_in_process=False)
    c = Container(settings)
    try:
        await upgrade_head(c.db.engine)
        a = await c.tenants.create("a.test", "A")
        b = await c.tenants.create("b.test", "B")
        async with c.db.write() as conn:
            for tenant, name, role in ((a, "mo", "moderator"), (a, "al", "user"), (b, "bea", "admin")):
                await create_local_account(conn, tenant, c.base_url(tenant), username=name,
                                           email=f"{name}@{tenant.domain}", password=None, role=role)
    finally:
        await c.close()
    env = {**os.environ, "STEWARD_DATA_DIR": str(tmp_path), "STEWARD_DATABASE_URL": settings.database_url}

    def steward(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "steward.cli", *args], env=env, capture_output=True, text=True,
                              timeout=120, check=False)

    r = steward("moderation", "action", "a.test", "al", "--type", "none", "--text", "careful", "--as", "mo")
    assert r.returncode == 0 and "none on account" in r.stdout, r.stderr
    r = steward("moderation", "action", "a.test", "al", "--type", "silence", "--as", "bea")
    assert r.returncode == 1 and "no local user bea on a.test" in r.stderr
