"""Statements of reasons exported for the EU DSA Transparency Database, checked
against the field rules of its submission API (shared/dsa-transparency-db beside the repository)."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from steward.moderation.statements import export_statements, statements_for_account
from tests.world import World

# shared/ lies beside the repository, on developer machines and in CI alike.
_DEFAULT_RULES = Path(__file__).resolve().parents[3] / "shared" / "dsa-transparency-db" / "statement-rules.json"
RULES_PATH = Path(os.environ.get("STEWARD_DSA_RULES", str(_DEFAULT_RULES)))


@cache
def _rules() -> dict[str, Any]:
    return json.loads(RULES_PATH.read_text())


def _present(value: Any) -> bool:
    return value is not None and value != [] and not (isinstance(value, str) and not value.strip())


def _condition(cond: dict[str, Any], item: dict[str, Any]) -> bool:
    value = item.get(cond["field"])
    if "in" in cond:
        return value in cond["in"]
    return isinstance(value, list) and any(v in value for v in cond["contains_any"])


def dsa_errors(item: dict[str, Any]) -> list[str]:
    """The rules in statement-rules.json applied to one statement (single endpoint)."""
    rules = _rules()
    errors = []
    for name, spec in rules["fields"].items():
        value = item.get(name)
        required = spec["required"]
        if isinstance(required, dict):
            if "required_if" in required:
                required = _condition(required["required_if"], item)
            else:
                required = not any(_present(item.get(f)) for f in required["required_without_all"])
        if not _present(value):
            if required:
                errors.append(f"{name}: required")
            if name in item and value is None and not spec.get("nullable", True):
                errors.append(f"{name}: null not allowed")
            continue
        kind = spec["type"]
        if kind == "array":
            if not isinstance(value, list):
                errors.append(f"{name}: not an array")
                continue
            allowed = spec.get("items", {}).get("allowed_values")
            errors += [f"{name}: {v!r} not allowed" for v in value if allowed and v not in allowed]
            continue
        if kind == "string" and not isinstance(value, str):
            errors.append(f"{name}: not a string")
            continue
        if "allowed_values" in spec and value not in spec["allowed_values"]:
            errors.append(f"{name}: {value!r} not allowed")
        if "max_length" in spec and len(value.strip()) > spec["max_length"]:
            errors.append(f"{name}: too long")
        if "python_pattern" in spec and not re.match(spec["python_pattern"], value):
            errors.append(f"{name}: does not match {spec['python_pattern']}")
        if spec.get("format") == "date":
            if "min" in spec and value < spec["min"]:
                errors.append(f"{name}: before {spec['min']}")
            if "max" in spec and value > spec["max"]:
                errors.append(f"{name}: after {spec['max']}")
    errors += [f"{k}: not a field of the API" for k in item if k not in rules["fields"]]
    return errors


def test_validator_catches_bad_statements() -> None:
    assert dsa_errors({}) != []
    bad = {"decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT", "content_type": ["CONTENT_TYPE_TEXT"],
           "category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "content_date": "2024-1-1",
           "application_date": "2024-01-01", "decision_facts": "x", "source_type": "SOURCE_VOLUNTARY",
           "automated_detection": "No", "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED", "puid": "a.b"}
    errors = dsa_errors(bad)
    assert any(e.startswith("content_date") for e in errors) and any(e.startswith("puid") for e in errors)
    assert any(e.startswith("decision_visibility") for e in errors)
    assert any(e.startswith("incompatible_content_ground") for e in errors)


async def test_every_action_exports_a_valid_statement(world: World) -> None:
    alice, bob = world.local_alice.account_id, world.local_bob.account_id
    status = (await world.local_alice.post("/api/v1/statuses", data={"status": "bad"})).json()
    legal = (await world.local_bob.post("/api/v1/reports", data={
        "account_id": alice, "status_ids[]": status["id"], "category": "legal"})).json()
    for kind in ("none", "sensitive", "silence", "disable"):
        r = await world.admin_ann.post(f"/api/v1/admin/accounts/{bob}/action", data={"type": kind, "text": "Bob!"})
        assert r.status_code == 200, r.text
    await world.admin_ann.post(f"/api/v1/admin/accounts/{alice}/action",
                               data={"type": "suspend", "report_id": legal["id"]})
    assert (await world.admin_ann.delete(f"/api/v1/admin/accounts/{alice}")).status_code == 200
    async with world.c.db.read() as conn:
        exported = await export_statements(conn, world.a.id)
        none_for_b = await export_statements(conn, world.b.id)
        future = await export_statements(conn, world.a.id, since=datetime.now(UTC) + timedelta(hours=1))
        mine = await statements_for_account(conn, world.a.id, int(bob))
    assert len(exported) == 6 and none_for_b == [] and future == [] and len(mine) == 4
    for item in exported:
        assert dsa_errors(item) == [], item
        # No personal data: neither handles nor the moderator's free text.
        blob = json.dumps(item).lower()
        assert "alice" not in blob and "bob" not in blob and "@" not in blob
    assert len({i["puid"] for i in exported}) == 6
    by_decision = [(i.get("decision_account"), i.get("decision_visibility")) for i in exported]
    assert by_decision[-1] == ("DECISION_ACCOUNT_TERMINATED", ["DECISION_VISIBILITY_CONTENT_REMOVED"])
    suspend = exported[-2]
    assert suspend["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert suspend["source_type"] == "SOURCE_ARTICLE_16"
    assert exported[0]["source_type"] == "SOURCE_VOLUNTARY"
