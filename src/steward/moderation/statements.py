"""Statements of reasons (EU Digital Services Act, art. 17 and 24(5)): one per
moderation decision, stored with what the Transparency Database needs, and
exported as dicts its submission API accepts. Facts are generated from the kind
of decision and report, never from free text, so they carry no personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import aware, utcnow
from steward.core.ids import new_id
from steward.db.tables import media_attachments, statements_of_reasons

# Account action -> (decision_visibility, decision_account, decision_provision, what happened)
_DECISIONS: dict[str, tuple[list[str], str | None, str | None, str]] = {
    "none": (["DECISION_VISIBILITY_OTHER"], None, None,
             "The account received a formal warning; no restriction was applied."),
    "sensitive": (["DECISION_VISIBILITY_CONTENT_LABELLED"], None, None,
                  "Media posted by the account is marked as sensitive and hidden behind a warning."),
    "silence": (["DECISION_VISIBILITY_CONTENT_DEMOTED"], None, "DECISION_PROVISION_PARTIAL_SUSPENSION",
                "The account was limited: its posts are hidden from public timelines and from people who "
                "do not follow it."),
    "disable": ([], "DECISION_ACCOUNT_SUSPENDED", None,
                "Login to the account was disabled; its public content remains visible."),
    "suspend": (["DECISION_VISIBILITY_CONTENT_DISABLED"], "DECISION_ACCOUNT_SUSPENDED", None,
                "The account was suspended: it can no longer be used and its content is no longer shown."),
    "delete": (["DECISION_VISIBILITY_CONTENT_REMOVED"], "DECISION_ACCOUNT_TERMINATED", None,
               "The data of a suspended account was deleted."),
    "delete_statuses": (["DECISION_VISIBILITY_CONTENT_REMOVED"], None, None,
                        "Posts of the account were removed."),
    "mark_statuses_as_sensitive": (["DECISION_VISIBILITY_CONTENT_LABELLED"], None, None,
                                   "Posts of the account were marked as sensitive and hidden behind a warning."),
}
_OTHER_VISIBILITY = "Formal warning without restriction"

# Mastodon report category -> DSA statement category
_CATEGORIES = {
    "spam": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "legal": "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "violation": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "other": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
}
_MEDIA_CONTENT = {"image": "CONTENT_TYPE_IMAGE", "gifv": "CONTENT_TYPE_VIDEO", "video": "CONTENT_TYPE_VIDEO",
                  "audio": "CONTENT_TYPE_AUDIO"}
ACTIONS = tuple(_DECISIONS)


async def _content_types(conn: AsyncConnection, tenant_id: int, status_ids: list[int]) -> list[str]:
    kinds = ["CONTENT_TYPE_TEXT"]
    if status_ids:
        media = (await conn.execute(select(media_attachments.c.type).distinct().where(
            media_attachments.c.tenant_id == tenant_id, media_attachments.c.status_id.in_(status_ids)))).scalars()
        kinds += sorted({_MEDIA_CONTENT[m] for m in media if m in _MEDIA_CONTENT})
    return kinds


async def record_statement(conn: AsyncConnection, tenant_id: int, *, action: str, target_account_id: int,
                           target_created_at: datetime | None, warning_id: int | None,
                           report: dict[str, Any] | None, rule_texts: list[str],
                           status_ids: list[int], content_date: datetime | None = None) -> int:
    """Store the statement of reasons for one decision; returns its id."""
    visibility, account_decision, provision, happened = _DECISIONS[action]
    now = utcnow()
    category_key = report["category"] if report else "other"
    legal = category_key == "legal"
    if legal:
        ground_text = "Content reported as illegal under the law applicable to this server"
        explanation = ("A notice reported the content as illegal; the moderators of this server reviewed it and "
                       "restricted it under the applicable law.")
    else:
        rules = "; ".join(rule_texts)
        ground_text = f"Server rules: {rules}"[:500] if rules else "Server rules and terms of service"
        explanation = ("The moderators of this server found that the account's content or behaviour is "
                       "incompatible with the server's rules.")
    source = "SOURCE_VOLUNTARY"
    facts = f"{happened} Decided by a human moderator on the server's own initiative."
    if report is not None:
        source = "SOURCE_ARTICLE_16" if legal else "SOURCE_TYPE_OTHER_NOTIFICATION"
        facts = (f"{happened} Decided by a human moderator after a report in the category "
                 f"'{category_key}'" + (f" concerning {len(status_ids)} post(s)." if status_ids else "."))
    statement_id = new_id()
    await conn.execute(statements_of_reasons.insert().values(
        tenant_id=tenant_id, id=statement_id, account_warning_id=warning_id, target_account_id=target_account_id,
        report_id=report["id"] if report else None, decision_visibility=visibility,
        decision_visibility_other=_OTHER_VISIBILITY if "DECISION_VISIBILITY_OTHER" in visibility else None,
        decision_account=account_decision, decision_provision=provision,
        decision_ground="DECISION_GROUND_ILLEGAL_CONTENT" if legal else "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        ground_text=ground_text, explanation=explanation, category=_CATEGORIES.get(category_key,
                                                                                   _CATEGORIES["other"]),
        content_type=await _content_types(conn, tenant_id, status_ids), decision_facts=facts, source_type=source,
        automated_detection=False, automated_decision="AUTOMATED_DECISION_NOT_AUTOMATED",
        content_date=content_date or target_created_at or now, application_date=now, created_at=now))
    return statement_id


def _date(value: datetime | None, floor: str) -> str:
    moment = aware(value)
    text = moment.date().isoformat() if moment else floor
    return max(text, floor)


def statement_to_dsa(row: Any) -> dict[str, Any]:
    """One stored statement as the Transparency Database's submission API takes it."""
    out: dict[str, Any] = {
        "decision_ground": row.decision_ground,
        "content_type": list(row.content_type) or ["CONTENT_TYPE_TEXT"],
        "category": row.category,
        "content_date": _date(row.content_date, "2000-01-01"),
        "application_date": _date(row.application_date, "2020-01-01"),
        "decision_facts": row.decision_facts[:5000],
        "source_type": row.source_type,
        "automated_detection": "Yes" if row.automated_detection else "No",
        "automated_decision": row.automated_decision,
        # Our ids are unique per tenant; prefixing the tenant makes them unique per platform.
        "puid": f"steward-{row.tenant_id}-{row.id}",
    }
    if row.decision_visibility:
        out["decision_visibility"] = list(row.decision_visibility)
        if "DECISION_VISIBILITY_OTHER" in row.decision_visibility:
            out["decision_visibility_other"] = (row.decision_visibility_other or _OTHER_VISIBILITY)[:500]
    if row.decision_account:
        out["decision_account"] = row.decision_account
    if row.decision_provision:
        out["decision_provision"] = row.decision_provision
    if row.decision_ground == "DECISION_GROUND_ILLEGAL_CONTENT":
        out["illegal_content_legal_ground"] = row.ground_text[:500]
        out["illegal_content_explanation"] = row.explanation[:2000]
    else:
        out["incompatible_content_ground"] = row.ground_text[:500]
        out["incompatible_content_explanation"] = row.explanation[:2000]
    return out


async def export_statements(conn: AsyncConnection, tenant_id: int, since: datetime | None = None,
                            until: datetime | None = None) -> list[dict[str, Any]]:
    """Statements decided in [since, until), oldest first, ready to submit."""
    query = select(statements_of_reasons).where(statements_of_reasons.c.tenant_id == tenant_id)
    if since is not None:
        query = query.where(statements_of_reasons.c.created_at >= since)
    if until is not None:
        query = query.where(statements_of_reasons.c.created_at < until)
    rows = (await conn.execute(query.order_by(statements_of_reasons.c.id))).all()
    return [statement_to_dsa(r) for r in rows]


async def statements_for_account(conn: AsyncConnection, tenant_id: int, account_id: int) -> list[dict[str, Any]]:
    """What the affected user may read about decisions on their account."""
    rows = (await conn.execute(select(statements_of_reasons).where(
        statements_of_reasons.c.tenant_id == tenant_id, statements_of_reasons.c.target_account_id == account_id)
        .order_by(statements_of_reasons.c.id.desc()))).all()
    return [{"id": str(r.id), **statement_to_dsa(r)} for r in rows]


async def statement_by_id(conn: AsyncConnection, tenant_id: int, statement_id: int) -> dict[str, Any] | None:
    """One statement of this tenant in the export's shape (with its id), or None."""
    row = (await conn.execute(select(statements_of_reasons).where(
        statements_of_reasons.c.tenant_id == tenant_id, statements_of_reasons.c.id == statement_id))).first()
    return {"id": str(row.id), **statement_to_dsa(row)} if row is not None else None
