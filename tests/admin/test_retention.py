"""A suspended account's data is kept 30 days, then erased by a job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from steward.core.clock import aware, utcnow
from steward.db.tables import accounts, admin_action_logs, jobs, statuses
from steward.moderation.retention import PURGE_AFTER, PURGE_JOB, purge_suspended
from tests.world import World


async def _suspend(world: World) -> tuple[int, dict]:
    alice = int(world.local_alice.account_id)
    await world.local_alice.post("/api/v1/statuses", data={"status": "kept for a while"})
    r = await world.admin_ann.post(f"/api/v1/admin/accounts/{alice}/action", data={"type": "suspend"})
    assert r.status_code == 200, r.text
    async with world.c.db.read() as conn:
        job = (await conn.execute(select(jobs).where(jobs.c.kind == PURGE_JOB, jobs.c.tenant_id == world.a.id)
                                  .order_by(jobs.c.id.desc()).limit(1))).one()
    return alice, dict(job._mapping)


async def _backdate(world: World, account_id: int) -> None:
    async with world.c.db.write() as conn:
        await conn.execute(update(accounts).where(accounts.c.tenant_id == world.a.id, accounts.c.id == account_id)
                           .values(suspended_at=utcnow() - PURGE_AFTER - timedelta(hours=1)))


async def _live_statuses(world: World, account_id: int) -> int:
    async with world.c.db.read() as conn:
        return len((await conn.execute(select(statuses.c.id).where(
            statuses.c.tenant_id == world.a.id, statuses.c.account_id == account_id,
            statuses.c.deleted_at.is_(None)))).all())


async def test_suspension_schedules_erasure_after_30_days(world: World) -> None:
    alice, job = await _suspend(world)
    run_at = aware(job["run_at"])
    assert run_at is not None and run_at - utcnow() > PURGE_AFTER - timedelta(minutes=1)
    assert job["payload"] == {"tenant_id": world.a.id, "account_id": alice,
                              "actor_id": int(world.admin_ann.account_id)}
    # Too early: nothing is erased.
    assert await purge_suspended(world.c, job["payload"]) is False
    assert await _live_statuses(world, alice) == 1
    await _backdate(world, alice)
    assert await purge_suspended(world.c, job["payload"]) is True
    assert await _live_statuses(world, alice) == 0
    async with world.c.db.read() as conn:
        actions = (await conn.execute(select(admin_action_logs.c.action).where(
            admin_action_logs.c.tenant_id == world.a.id, admin_action_logs.c.target_id == alice))).scalars().all()
    assert "destroy" in actions
    # Erased once only.
    assert await purge_suspended(world.c, job["payload"]) is False
    r = await world.admin_ann.get(f"/api/v1/admin/accounts/{alice}")
    assert r.json()["suspended"] is True and r.json()["account"]["statuses_count"] == 0


async def test_unsuspended_account_is_kept(world: World) -> None:
    alice, job = await _suspend(world)
    assert (await world.admin_ann.post(f"/api/v1/admin/accounts/{alice}/unsuspend")).status_code == 200
    assert await purge_suspended(world.c, job["payload"]) is False
    assert await _live_statuses(world, alice) == 1


async def test_purge_job_cannot_reach_another_tenant(world: World) -> None:
    alice, job = await _suspend(world)
    await _backdate(world, alice)
    # The same account id under tenant B's id names nothing there.
    assert await purge_suspended(world.c, {**job["payload"], "tenant_id": world.b.id}) is False
    assert await _live_statuses(world, alice) == 1
