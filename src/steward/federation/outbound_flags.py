"""Report forwarding: a `Flag` to the reported remote account's server, signed
by the tenant's instance actor (Mastodon's shape: the actor is the server's
representative, the object is the account URI followed by the reported status
URIs, the content is the reporter's comment; the reporter is never named)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from steward.activitypub.convert import with_context
from steward.db.tables import reports, statuses
from steward.federation.audience import queue_to
from steward.model.entities import Tenant
from steward.social.accounts import get_accounts

if TYPE_CHECKING:
    from steward.container import Container


def flag_activity(base: str, report: Any, target_uri: str, status_uris: list[str]) -> dict[str, Any]:
    actor = f"{base}/actor"
    return with_context({"id": f"{actor}#reports/{report.id}", "type": "Flag", "actor": actor,
                         "content": report.comment or "", "object": [target_uri, *status_uris]})


async def on_forward(c: Container, tenant: Tenant, payload: dict[str, Any]) -> None:
    async with c.db.write() as conn:
        report = (await conn.execute(select(reports).where(
            reports.c.tenant_id == tenant.id, reports.c.id == int(payload["report_id"])))).first()
        if report is None:
            return
        target = (await get_accounts(conn, tenant.id, [report.target_account_id])).get(report.target_account_id)
        inbox = (target.inbox_url or target.shared_inbox_url) if target is not None else None
        if target is None or target.local or not inbox or not target.uri:
            return
        ids = [int(i) for i in report.status_ids]
        uris = list((await conn.execute(select(statuses.c.uri).where(
            statuses.c.tenant_id == tenant.id, statuses.c.id.in_(ids), statuses.c.account_id == target.id,
            statuses.c.uri != "").order_by(statuses.c.id))).scalars()) if ids else []
        # account_id None: signed with the instance actor's key, as the Flag's actor says.
        await queue_to(conn, tenant.id, None, [inbox], flag_activity(c.base_url(tenant), report, target.uri, uris))
    c.jobs.wake()


EVENTS = {"report.forward": on_forward}
