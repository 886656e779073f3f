"""Domain blocklists as files: reading Mastodon's CSV (and the JSON lists that
Mastodon's API and fediblockhole publish), planning what a list would change
against a tenant's current blocks, applying that plan in one transaction, and
exporting a tenant's blocks in Mastodon's CSV format.

Reading is strict and all-or-nothing: the first bad row stops the whole file
with a 422 that names its line, so nothing is ever half-imported.

Accepted CSV forms (as Mastodon's admin import accepts them):
- a header row starting with `#domain` (Mastodon's export:
  `#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate`)
  or `domain` (fediblockhole's export); unknown columns are ignored;
- no header: one domain per line (lines starting with `#` are comments).
A missing or empty severity means `suspend`, as in Mastodon's import."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.errors import ApiError
from steward.db.tables import accounts, domain_blocks, users
from steward.model.entities import User, from_row
from steward.moderation import domain_policy
from steward.moderation.roles import Permission, has_permission

MAX_BYTES = 4 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COMMENT = 1000
SEVERITY_RANK = {"noop": 0, "silence": 1, "suspend": 2}
EXPORT_HEADER = ["#domain", "#severity", "#reject_media", "#reject_reports", "#public_comment", "#obfuscate"]
_TRUE = {"true", "t", "1", "yes", "y", "on"}
_FALSE = {"false", "f", "0", "no", "n", "off"}
# Fields compared to decide whether a listed domain changes an existing block.
COMPARED = ("severity", "reject_media", "reject_reports", "public_comment", "private_comment", "obfuscate")


@dataclass(frozen=True, slots=True)
class Entry:
    """One listed domain. None means "the list does not say" (keep what is there,
    or the default for a new block)."""

    domain: str
    severity: str
    reject_media: bool | None = None
    reject_reports: bool | None = None
    public_comment: str | None = None
    private_comment: str | None = None
    obfuscate: bool | None = None
    line: int = 0

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("domain", *COMPARED)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(domain=str(data["domain"]), severity=str(data["severity"]),
                   reject_media=data.get("reject_media"), reject_reports=data.get("reject_reports"),
                   public_comment=data.get("public_comment"), private_comment=data.get("private_comment"),
                   obfuscate=data.get("obfuscate"))


def invalid(line: int, message: str) -> ApiError:
    where = f"line {line}: " if line else ""
    return ApiError(422, f"The blocklist is invalid: {where}{message}",
                    {"data": [{"error": "ERR_INVALID", "description": f"{where}{message}"}]})


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise invalid(0, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if b"\x00" in data:
        raise invalid(0, "the file is binary, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise invalid(line, "the file is not UTF-8 text") from None


def _bool(value: Any, line: int, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "":
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise invalid(line, f"{name} must be true or false, not {str(value)[:40]!r}")


def _comment(value: Any, line: int, name: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > MAX_COMMENT:
        raise invalid(line, f"{name} is longer than {MAX_COMMENT} characters")
    return text or None


def _severity(value: Any, line: int) -> str:
    text = str(value or "").strip().lower() or "suspend"
    if text not in SEVERITY_RANK:
        raise invalid(line, f"unknown severity {str(value)[:40]!r} (noop, silence or suspend)")
    return text


def _domain(value: Any, line: int) -> str:
    raw = str(value or "").strip()
    try:
        return domain_policy.normalise_domain(raw)
    except ApiError:
        raise invalid(line, f"{raw[:80]!r} is not a domain name") from None


def make_entry(row: dict[str, Any], line: int) -> Entry:
    """An entry from one row whose keys are bare field names (no `#`)."""
    return Entry(
        domain=_domain(row.get("domain"), line), severity=_severity(row.get("severity"), line),
        reject_media=_bool(row.get("reject_media"), line, "reject_media"),
        reject_reports=_bool(row.get("reject_reports"), line, "reject_reports"),
        public_comment=_comment(row.get("public_comment", row.get("comment")), line, "public_comment"),
        private_comment=_comment(row.get("private_comment"), line, "private_comment"),
        obfuscate=_bool(row.get("obfuscate"), line, "obfuscate"), line=line)


def _obfuscated(domain: Any) -> bool:
    return "*" in str(domain or "")


def _unique(entries: Iterable[Entry]) -> list[Entry]:
    seen: dict[str, int] = {}
    out = []
    for entry in entries:
        if entry.domain in seen:
            raise invalid(entry.line, f"{entry.domain} is listed twice (first on line {seen[entry.domain]})")
        seen[entry.domain] = entry.line
        out.append(entry)
        if len(out) > MAX_ROWS:
            raise invalid(entry.line, f"the list has more than {MAX_ROWS} domains")
    return out


def parse_csv(data: bytes, skip_obfuscated: bool = False) -> list[Entry]:
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    entries: list[Entry] = []
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            first = row[0].strip().lower()
            if header is None and not entries and first in {"#domain", "domain"}:
                header = [cell.strip().lower().lstrip("#") for cell in row]
                continue
            if header is None:
                if first.startswith("#"):
                    continue
                if len([c for c in row if c.strip()]) > 1:
                    raise invalid(line, "several columns but no header row "
                                        "(start the file with #domain,#severity,...)")
                if not (skip_obfuscated and _obfuscated(row[0])):
                    entries.append(make_entry({"domain": row[0]}, line))
            else:
                if len(row) > len(header):
                    raise invalid(line, f"{len(row)} columns but the header names {len(header)}")
                fields = dict(zip(header, row, strict=False))
                if not (skip_obfuscated and _obfuscated(fields.get("domain"))):
                    entries.append(make_entry(fields, line))
            if len(entries) > MAX_ROWS:
                raise invalid(line, f"the list has more than {MAX_ROWS} domains")
    except csv.Error as exc:
        raise invalid(reader.line_num, f"malformed CSV ({exc})") from None
    return _unique(entries)


def parse_json(data: bytes, skip_obfuscated: bool = False) -> list[Entry]:
    """A JSON array of objects with `domain` and `severity`: Mastodon's admin
    DomainBlock list, its public `/api/v1/instance/domain_blocks` (`comment`),
    or fediblockhole's JSON export. Line numbers are 1-based array positions."""
    decode(data)
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise invalid(0, "the file is not valid JSON") from None
    if not isinstance(parsed, list):
        raise invalid(0, "the JSON must be an array of domain blocks")
    entries = []
    for n, item in enumerate(parsed, start=1):
        if not isinstance(item, dict):
            raise invalid(n, "each item must be an object with a domain")
        if not (skip_obfuscated and _obfuscated(item.get("domain"))):
            entries.append(make_entry(item, n))
    return _unique(entries)


def parse(data: bytes, fmt: str = "csv", content_type: str = "", *, skip_obfuscated: bool = False) -> list[Entry]:
    """`skip_obfuscated` passes over domains published with `*` in them (which
    cannot be blocked as such) instead of refusing the list."""
    if fmt == "auto":
        ctype = content_type.split(";", 1)[0].strip().lower()
        looks_json = ctype.endswith("json") or data.lstrip()[:1] == b"["
        fmt = "json" if looks_json else "csv"
    if fmt == "json":
        return parse_json(data, skip_obfuscated)
    return parse_csv(data, skip_obfuscated)


@dataclass(slots=True)
class Plan:
    adds: list[Entry] = field(default_factory=list)
    changes: list[tuple[Any, Entry, list[str]]] = field(default_factory=list)
    removals: list[Any] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {
            "adds": [{k: v for k, v in e.to_json().items()} for e in self.adds],
            "changes": [{"domain": row.domain, "id": str(row.id), "fields": fields,
                         "from": {f: getattr(row, f) for f in fields},
                         "to": {f: getattr(entry, f) for f in fields}} for row, entry, fields in self.changes],
            "removals": [{"domain": row.domain, "id": str(row.id)} for row in self.removals],
            "unchanged": len(self.unchanged),
            "summary": {"adds": len(self.adds), "changes": len(self.changes), "removals": len(self.removals),
                        "unchanged": len(self.unchanged)},
        }


async def current_blocks(conn: AsyncConnection, tenant_id: int) -> dict[str, Any]:
    rows = (await conn.execute(select(domain_blocks).where(domain_blocks.c.tenant_id == tenant_id))).all()
    return {row.domain: row for row in rows}


def changed_fields(row: Any, entry: Entry) -> list[str]:
    return [f for f in COMPARED if getattr(entry, f) is not None and getattr(entry, f) != getattr(row, f)]


def make_plan(current: dict[str, Any], entries: list[Entry], removable: Iterable[str] = ()) -> Plan:
    """What writing `entries` would do; `removable` are domains whose blocks
    may be lifted when the list no longer names them."""
    plan = Plan()
    listed = set()
    for entry in entries:
        listed.add(entry.domain)
        row = current.get(entry.domain)
        if row is None:
            plan.adds.append(entry)
            continue
        fields = changed_fields(row, entry)
        if fields:
            plan.changes.append((row, entry, fields))
        else:
            plan.unchanged.append(entry.domain)
    plan.removals = [current[d] for d in sorted(set(removable) - listed) if d in current]
    return plan


Progress = Callable[[int, int], None]


async def apply_plan(conn: AsyncConnection, tenant_id: int, actor_id: int, plan: Plan,
                     progress: Progress | None = None) -> None:
    """Writes the plan through the domain-block service (each step audited); the
    caller's transaction makes it all-or-nothing. `progress(done, total)` is
    called every 500 steps and at the end."""
    total = len(plan.adds) + len(plan.changes) + len(plan.removals)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None and (done % 500 == 0 or done == total):
            progress(done, total)

    for start in range(0, len(plan.adds), 500):
        batch = plan.adds[start:start + 500]
        await domain_policy.create_blocks(conn, tenant_id, actor_id, [e.to_json() for e in batch])
        for _ in batch:
            step()
    for row, entry, fields in plan.changes:
        await domain_policy.update_block(conn, tenant_id, actor_id, row.id, {f: getattr(entry, f) for f in fields})
        step()
    for row in plan.removals:
        await domain_policy.delete_block(conn, tenant_id, actor_id, row.id)
        step()


async def import_blocks(conn: AsyncConnection, tenant_id: int, actor_id: int, data: bytes, *,
                        fmt: str = "csv", dry_run: bool = False, progress: Progress | None = None
                        ) -> dict[str, Any]:
    """Imports a file: new domains are blocked, listed domains already blocked
    take the file's values, nothing is lifted. With `dry_run` only the plan is
    returned."""
    entries = parse(data, fmt)
    plan = make_plan(await current_blocks(conn, tenant_id), entries)
    if not dry_run:
        await apply_plan(conn, tenant_id, actor_id, plan, progress)
    return {"dry_run": dry_run, **plan.to_api()}


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def export_csv(rows: Iterable[Any]) -> str:
    """Mastodon's export format, sorted by domain."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    for row in sorted(rows, key=lambda r: r.domain):
        writer.writerow([row.domain, row.severity, _cell(row.reject_media), _cell(row.reject_reports),
                         _cell(row.public_comment), _cell(row.obfuscate)])
    return out.getvalue()


async def export_blocks(conn: AsyncConnection, tenant_id: int) -> str:
    return export_csv((await current_blocks(conn, tenant_id)).values())


async def federation_manager(conn: AsyncConnection, tenant_id: int, username: str | None,
                             flag: Permission = Permission.MANAGE_FEDERATION) -> User:
    """The local staff user who acts (and is named in the audit log) when the CLI
    changes federation policy (or, with another `flag`, settings): `username`,
    or else the tenant's oldest owner or admin. 403/404 when that user's role
    lacks `flag`."""
    query = select(users).where(users.c.tenant_id == tenant_id)
    if username is not None:
        query = query.join(accounts, (accounts.c.tenant_id == users.c.tenant_id)
                           & (accounts.c.id == users.c.account_id)).where(
            accounts.c.username_lower == username.lower(), accounts.c.domain == "")
    else:
        query = query.where(users.c.role.in_(("owner", "admin"))).order_by(users.c.id)
    row = (await conn.execute(query.limit(1))).first()
    if row is None:
        raise ApiError(404, f"no local user {username}" if username else "the tenant has no owner or admin")
    user = from_row(User, row)
    if not has_permission(user, flag):
        what = "manage federation" if flag == Permission.MANAGE_FEDERATION else "do this"
        raise ApiError(403, f"{username or user.id} may not {what}")
    return user
