"""Client input as Mastodon accepts it: query string, form (urlencoded or multipart)
or JSON, merged; Rails-style keys (`media_ids[]`, `poll[options][]`,
`fields_attributes[0][name]`) are folded into nested values."""

from __future__ import annotations

import re
from typing import Any, TypeAlias

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

from steward.core.errors import ApiError
from steward.core.ids import parse_id

_KEY_PART = re.compile(r"\[([^\]]*)\]")
MAX_JSON_DEPTH = 32


def _split_key(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    if not rest:
        return [key]
    return [head, *_KEY_PART.findall("[" + rest)]


def _insert(target: dict[str, Any], parts: list[str], value: Any) -> None:
    node: Any = target
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = None if last else parts[i + 1]
        if part == "":
            if not isinstance(node, list):
                return
            if last:
                node.append(value)
                return
            node.append({} if nxt != "" else [])
            node = node[-1]
            continue
        if not isinstance(node, dict):
            return
        if last:
            if part in node and isinstance(node[part], list) and not isinstance(value, list):
                node[part].append(value)
            else:
                node[part] = value
            return
        child = node.get(part)
        if child is None or not isinstance(child, dict | list):
            child = [] if nxt == "" else {}
            node[part] = child
        node = child


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


# The class below names methods after builtins (str, int, ...), so its annotations
# use these aliases.
_str: TypeAlias = str
_int: TypeAlias = int
_bool: TypeAlias = bool
_list: TypeAlias = list
_dict: TypeAlias = dict


class Params:
    def __init__(self, data: _dict[_str, Any]) -> None:
        self.data = data

    def __contains__(self, key: _str) -> _bool:
        return key in self.data

    def raw(self, key: _str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def str(self, key: _str, default: _str | None = None, *, max_len: _int | None = None,
            required: _bool = False) -> _str | None:
        value = self.data.get(key)
        if value is None or value == [] or value == {}:
            if required:
                raise ApiError(422, f"Validation failed: {key} can't be blank",
                               {key: [{"error": "ERR_BLANK", "description": "can't be blank"}]})
            return default
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str):
            raise ApiError(422, f"Validation failed: {key} must be a string")
        if required and not value.strip():
            raise ApiError(422, f"Validation failed: {key} can't be blank",
                           {key: [{"error": "ERR_BLANK", "description": "can't be blank"}]})
        if max_len is not None and len(value) > max_len:
            raise ApiError(422, f"Validation failed: {key} is too long (maximum is {max_len} characters)")
        return value

    def bool(self, key: _str, default: _bool | None = None) -> _bool | None:
        value = self.data.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in {"true", "1", "t", "on", "yes"}:
                return True
            if lowered in {"false", "0", "f", "off", "no"}:
                return False
        raise ApiError(422, f"Validation failed: {key} must be a boolean")

    def int(self, key: _str, default: _int | None = None, *, lo: _int | None = None,
            hi: _int | None = None, clamp: _bool = False) -> _int | None:
        value = self.data.get(key)
        if value is None or value == "":
            return default
        try:
            number = int(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None:
            raise ApiError(422, f"Validation failed: {key} must be an integer")
        if clamp:
            if lo is not None:
                number = max(lo, number)
            if hi is not None:
                number = min(hi, number)
        elif (lo is not None and number < lo) or (hi is not None and number > hi):
            raise ApiError(422, f"Validation failed: {key} is out of range")
        return number

    def id(self, key: _str) -> _int | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        parsed = parse_id(value)
        if parsed is None:
            raise ApiError(422, f"Validation failed: {key} is not a valid id")
        return parsed

    def list(self, key: _str) -> _list[Any]:
        """A list parameter, whether sent as `key[]=a&key[]=b`, `key=a`, or JSON."""
        value = self.data.get(key)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        if isinstance(value, dict):
            # Rails-style indexed hash: {"0": ..., "1": ...}
            try:
                return [value[k] for k in sorted(value, key=lambda k: int(k))]
            except (ValueError, TypeError):
                return list(value.values())
        return [value]

    def str_list(self, key: _str, *, max_items: _int = 100) -> _list[_str]:
        items = self.list(key)
        if len(items) > max_items:
            raise ApiError(422, f"Validation failed: too many values for {key}")
        out = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise ApiError(422, f"Validation failed: {key} must be a list of strings")
            out.append(str(item))
        return out

    def id_list(self, key: _str, *, max_items: _int = 100) -> _list[_int]:
        out = []
        for item in self.str_list(key, max_items=max_items):
            parsed = parse_id(item)
            if parsed is None:
                raise ApiError(422, f"Validation failed: {key} contains an invalid id")
            out.append(parsed)
        return out

    def dict(self, key: _str) -> _dict[_str, Any]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ApiError(422, f"Validation failed: {key} must be an object")
        return value

    def sub(self, key: _str) -> Params:
        return Params(self.dict(key))

    def file(self, key: _str) -> UploadFile | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, UploadFile):
            raise ApiError(422, f"Validation failed: {key} must be a file upload")
        return value


def _fold(items: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in items:
        parts = _split_key(key)
        if len(parts) > 8:
            raise ApiError(400, "Parameter nesting is too deep")
        _insert(out, parts, value)
    return out


async def read_params(request: Request, max_json: int = 1024 * 1024) -> Params:
    data = _fold(list(request.query_params.multi_items()))
    if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json" or ctype.endswith("+json"):
            body = await request.body()
            if len(body) > max_json:
                raise ApiError(413, "Request body is too large")
            if body.strip():
                try:
                    parsed = orjson.loads(body)
                except orjson.JSONDecodeError:
                    raise ApiError(400, "The request body is not valid JSON") from None
                if not isinstance(parsed, dict):
                    raise ApiError(400, "The request body must be a JSON object")
                if _depth(parsed) > MAX_JSON_DEPTH:
                    raise ApiError(400, "The request body is nested too deeply")
                data.update(parsed)
        elif ctype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            try:
                form = await request.form(max_files=16, max_fields=1000)
            except ApiError:
                raise
            except Exception:  # noqa: BLE001 - any parser failure is the client's malformed body
                raise ApiError(400, "The request body could not be parsed") from None
            data.update(_fold(list(form.multi_items())))
    return Params(data)
