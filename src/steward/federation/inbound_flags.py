"""Inbound `Flag` (a remote server forwards a report about accounts of ours):
one report per named local account, with the named statuses of that account,
filed by the sender's representative actor (stored as a remote account), as
Mastodon does. Dropped when this tenant rejects reports from that domain (or
suspends it). Objects that are not this tenant's own accounts or statuses (a
remote URI, another tenant's account) are ignored. Idempotent per Flag id."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from steward.activitypub import vocab
from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import accounts, reports, statuses
from steward.federation.fetch import ensure_actor
from steward.federation.policy import rejects_reports
from steward.model.entities import Tenant
from steward.moderation.reports import notify_staff

if TYPE_CHECKING:
    from steward.container import Container

log = logging.getLogger(__name__)
MAX_COMMENT = 5000
MAX_OBJECTS = 200


async def on_flag(c: Container, tenant: Tenant, doc: dict[str, Any], payload: dict[str, Any]) -> None:
    actor_uri = vocab.id_of(doc.get("actor"))
    if not actor_uri or payload.get("signed_by") not in (None, actor_uri):
        return
    reporter = await ensure_actor(c, tenant, actor_uri)
    if reporter is None:
        log.info("Flag %s from an actor we cannot store; ignored", doc.get("id"))
        return
    flag_id = vocab.id_of(doc.get("id"))
    uri = flag_id if flag_id and vocab.same_origin(flag_id, actor_uri) else None
    named = vocab.ids_of(doc.get("object"))[:MAX_OBJECTS]
    comment = (vocab.get_str(doc, "content") or "")[:MAX_COMMENT]
    async with c.db.write() as conn:
        if await rejects_reports(conn, tenant.id, reporter.domain):
            log.info("Flag %s from %s dropped: reports from that domain are rejected", flag_id, reporter.domain)
            return
        targets = (await conn.execute(select(accounts.c.id).where(
            accounts.c.tenant_id == tenant.id, accounts.c.domain == "", accounts.c.uri.in_(named),
            accounts.c.suspended_at.is_(None)))).scalars().all()
        named_statuses = (await conn.execute(select(statuses.c.id, statuses.c.account_id).where(
            statuses.c.tenant_id == tenant.id, statuses.c.local.is_(True), statuses.c.uri.in_(named),
            statuses.c.deleted_at.is_(None)))).all() if named else []
        for target_id in targets:
            if uri is not None and (await conn.execute(select(reports.c.id).where(
                    reports.c.tenant_id == tenant.id, reports.c.uri == uri,
                    reports.c.target_account_id == target_id))).first() is not None:
                continue  # the same Flag again
            now = utcnow()
            report_id = new_id()
            await conn.execute(reports.insert().values(
                tenant_id=tenant.id, id=report_id, account_id=reporter.id, target_account_id=target_id,
                status_ids=[s.id for s in named_statuses if s.account_id == target_id], rule_ids=[],
                category="other", comment=comment, forwarded=False, uri=uri, created_at=now, updated_at=now))
            await notify_staff(conn, tenant.id, report_id, reporter.id)
    c.jobs.wake()


HANDLERS = {"Flag": on_flag}
