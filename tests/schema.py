"""Check API responses against Mastodon's OpenAPI description.

    from tests.schema import assert_matches
    assert_matches("Instance", r.json())
    assert_matches("Status", r.json(), many=True)   # a list of them

The document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12; `$ref`s to
`#/components/schemas/...` resolve inside the same document. Nullable fields are
type lists (`["string", "null"]`); where such a field also has an `enum`, null is
added to the enum, which is what the description means."""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# shared/ lies beside the repository (on developer machines and in CI alike).
_DEFAULT_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "mastodon-openapi" / "schema.json"
SCHEMA_PATH = Path(os.environ.get("STEWARD_MASTODON_OPENAPI", str(_DEFAULT_SCHEMA)))
DOCUMENT_URI = "urn:mastodon-openapi"


def _allow_null_in_enums(node: Any) -> Any:
    if isinstance(node, dict):
        kinds = node.get("type")
        if isinstance(kinds, list) and "null" in kinds and isinstance(node.get("enum"), list) \
                and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        for value in node.values():
            _allow_null_in_enums(value)
    elif isinstance(node, list):
        for value in node:
            _allow_null_in_enums(value)
    return node


@cache
def _registry() -> Registry:
    document = _allow_null_in_enums(copy.deepcopy(json.loads(SCHEMA_PATH.read_text())))
    return Registry().with_resource(DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012))


@cache
def _validator(schema_name: str, many: bool) -> Draft202012Validator:
    ref = {"$ref": f"{DOCUMENT_URI}#/components/schemas/{schema_name}"}
    if _registry().contents(DOCUMENT_URI)["components"]["schemas"].get(schema_name) is None:
        raise KeyError(f"no schema named {schema_name!r} in {SCHEMA_PATH}")
    schema = {"type": "array", "items": ref} if many else ref
    return Draft202012Validator(schema, registry=_registry())


def schema_errors(schema_name: str, data: Any, *, many: bool = False) -> list[str]:
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
            for e in _validator(schema_name, many).iter_errors(data)]


def assert_matches(schema_name: str, data: Any, *, many: bool = False) -> None:
    """Fail with every mismatch listed when `data` is not a valid `schema_name`
    (or, with many=True, a list of them)."""
    errors = schema_errors(schema_name, data, many=many)
    assert not errors, f"{schema_name} does not match the Mastodon schema:\n" + "\n".join(errors[:30])
