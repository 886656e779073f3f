"""A tolerant typed reader over parsed ActivityStreams JSON. No JSON-LD
processing and no network: values are read as the Fediverse writes them
(a single value or a list, a string id or an embedded object, a plain string or
a language map), and bodies are bounded in size and nesting before anything
else looks at them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson

MAX_BODY = 1024 * 1024
MAX_DEPTH = 32
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = {PUBLIC, "as:Public", "Public"}
ACTOR_TYPES = {"Person", "Service", "Application", "Group", "Organization"}


class VocabError(ValueError):
    """The document cannot be used; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _depth_ok(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))
    return True


def parse_document(body: bytes, *, max_bytes: int = MAX_BODY, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """A JSON object from `body`: 413 past `max_bytes`, 400 when it is not JSON,
    not an object, or nested deeper than `max_depth`."""
    if len(body) > max_bytes:
        raise VocabError("the document is too large", 413)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise VocabError("the document is not valid JSON") from exc
    if not isinstance(data, dict):
        raise VocabError("the document is not a JSON object")
    if not _depth_ok(data, max_depth):
        raise VocabError("the document is nested too deeply")
    return data


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def first(value: Any) -> Any:
    items = as_list(value)
    return items[0] if items else None


def id_of(value: Any) -> str | None:
    """The id a value names: a string, an object's `id`, or a Link's `href`."""
    value = first(value)
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        found = value.get("id")
        if found is None and value.get("type") in {"Link", "Mention"}:
            found = value.get("href")
        return found if isinstance(found, str) and found else None
    return None


def ids_of(value: Any) -> list[str]:
    return [i for i in (id_of(v) for v in as_list(value)) if i]


def types_of(obj: Any) -> set[str]:
    if not isinstance(obj, dict):
        return set()
    return {t for t in as_list(obj.get("type")) if isinstance(t, str)}


def type_of(obj: Any) -> str | None:
    kinds = as_list(obj.get("type")) if isinstance(obj, dict) else []
    return next((t for t in kinds if isinstance(t, str)), None)


def has_type(obj: Any, *names: str) -> bool:
    return bool(types_of(obj) & set(names))


def get_str(obj: Any, key: str, *, max_len: int | None = None) -> str | None:
    value = first(obj.get(key)) if isinstance(obj, dict) else None
    if not isinstance(value, str):
        return None
    return value[:max_len] if max_len else value


def get_bool(obj: Any, key: str, default: bool = False) -> bool:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, bool) else default


def get_int(obj: Any, key: str) -> int | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def object_of(obj: Any, key: str = "object") -> dict[str, Any] | None:
    """An embedded object, when the value is one (not just an id)."""
    value = first(obj.get(key)) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else None


def language_text(obj: Any, key: str) -> tuple[str | None, dict[str, str]]:
    """`content` and `contentMap`-style values: the plain text (falling back to the
    first language's) and the language map."""
    plain = get_str(obj, key)
    raw_map = obj.get(f"{key}Map") if isinstance(obj, dict) else None
    mapping = {k: v for k, v in raw_map.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(raw_map, dict) else {}
    if plain is None and mapping:
        plain = next(iter(mapping.values()))
    return plain, mapping


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    return parts.netloc.lower()


def same_origin(a: str | None, b: str | None) -> bool:
    host_a, host_b = host_of(a), host_of(b)
    return host_a is not None and host_a == host_b


def is_public(value: Any) -> bool:
    return any(i in PUBLIC_ALIASES for i in ids_of(value))


def visibility_of(obj: dict[str, Any], followers_url: str | None) -> str:
    """Mastodon's reading of addressing: Public in `to` is public, in `cc`
    unlisted; the author's followers make it private; otherwise direct."""
    to, cc = ids_of(obj.get("to")), ids_of(obj.get("cc"))
    if any(i in PUBLIC_ALIASES for i in to):
        return "public"
    if any(i in PUBLIC_ALIASES for i in cc):
        return "unlisted"
    if followers_url and followers_url in to + cc:
        return "private"
    return "direct"
