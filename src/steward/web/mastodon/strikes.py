"""What a user sees of moderation on their own account: their strikes
(Mastodon's AccountWarning entity, with the statement of reasons of each) and
the appeal of one; and the reports they filed, with the outcome
(`/api/v1/steward/...`: Mastodon's client API has no such routes). A suspended
or disabled user keeps the strike routes, as Mastodon lets them sign in to appeal."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import Route

from steward.core.clock import iso
from steward.model.entities import Account, Tenant
from steward.moderation import appeals
from steward.moderation.reports import own_reports
from steward.moderation.statements import statement_by_id
from steward.social.accounts import get_accounts
from steward.web.base import Ctx, endpoint
from steward.web.mastodon.compat_misc import report_to_api
from steward.web.mastodon.serialize_accounts import account_to_api


def warning_to_api(base: str, tenant: Tenant, warning: dict[str, Any], target: Account) -> dict[str, Any]:
    """Mastodon's AccountWarning, with its appeal ({text, state}) when there is one."""
    appeal = warning.get("appeal")
    return {
        "id": str(warning["id"]), "action": warning["action"], "text": warning["text"],
        "status_ids": [str(i) for i in warning["status_ids"]] or None, "created_at": iso(warning["created_at"]),
        "target_account": account_to_api(base, tenant, target),
        "appeal": {"text": appeal.text, "state": appeals.appeal_state(appeal)} if appeal is not None else None,
    }


async def warnings_by_id(conn: AsyncConnection, base: str, tenant: Tenant,
                         pairs: list[tuple[int, int]]) -> dict[int, dict[str, Any]]:
    """AccountWarning entities for (target account, strike id) pairs, e.g. of notifications."""
    people = await get_accounts(conn, tenant.id, {a for a, _ in pairs})
    out: dict[int, dict[str, Any]] = {}
    for account_id in {a for a, _ in pairs}:
        if account_id not in people:
            continue
        wanted = {w for a, w in pairs if a == account_id}
        for row in await appeals.strikes(conn, tenant.id, account_id):
            if row["id"] in wanted:
                out[row["id"]] = warning_to_api(base, tenant, row, people[account_id])
    return out


async def _statement(conn: AsyncConnection, tenant_id: int, statement_id: int | None) -> dict[str, Any] | None:
    if statement_id is None:
        return None
    return await statement_by_id(conn, tenant_id, statement_id)


async def _full(conn: AsyncConnection, ctx: Ctx, row: dict[str, Any]) -> dict[str, Any]:
    out = warning_to_api(ctx.base_url, ctx.tenant, row, ctx.me)
    out["overruled_at"] = iso(row["overruled_at"])
    out["statement_of_reasons"] = await _statement(conn, ctx.tenant.id, row["statement_id"])
    return out


@endpoint("read:accounts", auth="sanctioned")
async def list_strikes(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return [await _full(conn, ctx, r) for r in await appeals.strikes(conn, ctx.tenant.id, ctx.me.id)]


@endpoint("read:accounts", auth="sanctioned")
async def show_strike(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return await _full(conn, ctx, await appeals.strike(conn, ctx.tenant.id, ctx.me.id, ctx.path_id()))


@endpoint("write:accounts", auth="sanctioned")
async def appeal(ctx: Ctx) -> Any:
    async with ctx.c.db.write() as conn:
        row = await appeals.file_appeal(conn, ctx.tenant.id, ctx.me, ctx.path_id(),
                                        ctx.params.str("text", "", max_len=100_000) or "")
        return await _full(conn, ctx, row)


@endpoint("read:accounts")
async def my_reports(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        rows = await own_reports(conn, ctx.tenant.id, ctx.me.id)
        targets = await get_accounts(conn, ctx.tenant.id, {r["target_account_id"] for r in rows})
    return [{**report_to_api(ctx.base_url, ctx.tenant, r, targets[r["target_account_id"]]), "outcome": r["outcome"]}
            for r in rows if r["target_account_id"] in targets]


routes = [
    Route("/api/v1/steward/strikes", list_strikes, methods=["GET"]),
    Route("/api/v1/steward/strikes/{id}", show_strike, methods=["GET"]),
    Route("/api/v1/steward/strikes/{id}/appeal", appeal, methods=["POST"]),
    Route("/api/v1/steward/reports", my_reports, methods=["GET"]),
]
