"""`steward domain-blocks import|export` and `steward blocklist-subscriptions ...`:
blocklist files and subscriptions from the command line, through the same
services as the admin API. The acting staff user (named in the audit log) is
`--as USERNAME`, or else the tenant's oldest owner or admin."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from steward.cli_common import tenant_by_domain as _tenant
from steward.core.errors import ApiError


def _run(fn: Any) -> int:
    from steward.cli import _run_or_fail

    return _run_or_fail(fn)


def _id(raw: str) -> int:
    from steward.core.ids import parse_id

    parsed = parse_id(raw)
    if parsed is None:
        raise ApiError(404, f"no subscription {raw}")
    return parsed


def _print_plan(plan: dict[str, Any], verbose: bool = True) -> None:
    s = plan["summary"]
    if verbose:
        for add in plan["adds"]:
            print(f"+ {add['domain']}\t{add['severity']}")
        for change in plan["changes"]:
            moves = ", ".join(f"{f}: {change['from'][f]} -> {change['to'][f]}" for f in change["fields"])
            print(f"~ {change['domain']}\t{moves}")
        for removal in plan["removals"]:
            print(f"- {removal['domain']}")
    print(f"{s['adds']} to add, {s['changes']} to change, {s['removals']} to lift, {s['unchanged']} unchanged")


def cmd_import(args: argparse.Namespace) -> int:
    from steward.moderation import blocklists

    def progress(done: int, total: int) -> None:
        print(f"applied {done}/{total}", flush=True)

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no file {path}", file=sys.stderr)
        return 1
    if path.stat().st_size > blocklists.MAX_BYTES:
        print(f"error: the file is larger than {blocklists.MAX_BYTES // (1024 * 1024)} MB", file=sys.stderr)
        return 1
    data = path.read_bytes()

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        print(f"read {len(blocklists.parse(data, args.format))} domains from {path}", flush=True)
        async with c.db.write() as conn:
            actor = await blocklists.federation_manager(conn, tenant.id, args.acting)
            plan = await blocklists.import_blocks(conn, tenant.id, actor.account_id, data, fmt=args.format,
                                                  dry_run=args.dry_run, progress=progress)
        _print_plan(plan, verbose=args.dry_run)
        print("dry run: nothing changed" if args.dry_run else f"imported into {tenant.domain}")

    return _run(run)


def cmd_export(args: argparse.Namespace) -> int:
    from steward.moderation import blocklists

    out: list[str] = []

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.read() as conn:
            out.append(await blocklists.export_blocks(conn, tenant.id))

    status = _run(run)
    if status == 0:
        if args.file == "-":
            sys.stdout.write(out[0])
        else:
            Path(args.file).write_text(out[0], encoding="utf-8")
            print(f"exported {len(out[0].splitlines()) - 1} domain blocks of {args.tenant} to {args.file}")
    return status


def _overrides(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        domain, sep, severity = pair.partition("=")
        if not sep:
            raise ApiError(422, f"--override takes DOMAIN=SEVERITY, not {pair}")
        out[domain] = severity
    return out


def _describe(row: Any) -> str:
    from steward.moderation.blocklist_subscriptions import subscription_to_api

    s = subscription_to_api(row)
    pending = f", {s['pending_count']} listed, waiting for review" if s["pending_review"] else ""
    error = f", last error: {s['last_error']}" if s["last_error"] else ""
    return f"{s['id']}\t{s['url']}\t{s['state']} (cap {s['max_severity']}{pending}{error})"


async def _fetch(c: Any, tenant_id: int, sub_id: int) -> Any:
    from steward.moderation import blocklist_subscriptions as subs

    print("fetching...", flush=True)
    await subs.fetch_now(c, tenant_id, sub_id)
    async with c.db.read() as conn:
        return await subs.get(conn, tenant_id, sub_id)


def cmd_subscribe(args: argparse.Namespace) -> int:
    from steward.moderation import blocklist_subscriptions as subs
    from steward.moderation import blocklists

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        fields = {"format": args.format, "max_severity": args.max_severity,
                  "excluded_domains": args.exclude or None, "severity_overrides": _overrides(args.override) or None}
        async with c.db.write() as conn:
            actor = await blocklists.federation_manager(conn, tenant.id, args.acting)
            row = await subs.subscribe(conn, tenant.id, actor.account_id, args.url, fields, queue=False)
        print(_describe(await _fetch(c, tenant.id, row.id)))

    return _run(run)


def cmd_list(args: argparse.Namespace) -> int:
    from steward.moderation import blocklist_subscriptions as subs

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.read() as conn:
            rows = await subs.list_all(conn, tenant.id)
        for row in rows:
            print(_describe(row))

    return _run(run)


def cmd_refresh(args: argparse.Namespace) -> int:
    from steward.moderation import blocklist_subscriptions as subs
    from steward.moderation import blocklists

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.write() as conn:
            actor = await blocklists.federation_manager(conn, tenant.id, args.acting)
            row = await subs.refresh(conn, tenant.id, actor.account_id, _id(args.id), queue=False)
        row = await _fetch(c, tenant.id, row.id)
        print(_describe(row))
        if row.state == "error":
            raise ApiError(502, row.last_error)

    return _run(run)


def cmd_review(args: argparse.Namespace) -> int:
    from steward.moderation import blocklist_subscriptions as subs

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.read() as conn:
            plan = await subs.review(conn, tenant.id, _id(args.id))
        if plan["excluded"]:
            print(f"excluded by this tenant: {', '.join(plan['excluded'])}")
        _print_plan(plan)

    return _run(run)


def cmd_apply(args: argparse.Namespace) -> int:
    from steward.moderation import blocklist_subscriptions as subs
    from steward.moderation import blocklists

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.write() as conn:
            actor = await blocklists.federation_manager(conn, tenant.id, args.acting)
            plan = await subs.apply(conn, tenant.id, actor.account_id, _id(args.id))
        _print_plan(plan, verbose=False)
        print(f"applied to {tenant.domain}")

    return _run(run)


def cmd_remove(args: argparse.Namespace) -> int:
    from steward.moderation import blocklist_subscriptions as subs
    from steward.moderation import blocklists

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.write() as conn:
            actor = await blocklists.federation_manager(conn, tenant.id, args.acting)
            await subs.unsubscribe(conn, tenant.id, actor.account_id, _id(args.id))
        print(f"unsubscribed (the blocks it applied stay on {tenant.domain})")

    return _run(run)


def _subcommands(sub: Any, name: str, help_text: str) -> Any:
    """The sub-command group `name`, reusing one another module already added
    (`domain-blocks` belongs to cli_federation; argparse has no public lookup)."""
    existing = sub.choices.get(name)
    if existing is None:
        return sub.add_parser(name, help=help_text).add_subparsers(dest=f"{name}_command", required=True)
    for action in existing._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return existing.add_subparsers(dest=f"{name}_command", required=True)


def _acting(parser: Any) -> None:
    parser.add_argument("--as", dest="acting", metavar="USERNAME",
                        help="the staff user recorded as acting (default: the oldest owner or admin)")


def add_parsers(sub: Any) -> None:
    blocks = _subcommands(sub, "domain-blocks", "a tenant's blocked remote domains")
    imp = blocks.add_parser("import", help="import a blocklist file (Mastodon CSV, plain list, or JSON)")
    imp.add_argument("tenant")
    imp.add_argument("file")
    imp.add_argument("--format", choices=["csv", "json", "auto"], default="csv")
    imp.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    _acting(imp)
    imp.set_defaults(fn=cmd_import)
    exp = blocks.add_parser("export", help="write the domain blocks as Mastodon's CSV (FILE - for stdout)")
    exp.add_argument("tenant")
    exp.add_argument("file")
    exp.set_defaults(fn=cmd_export)

    subs = _subcommands(sub, "blocklist-subscriptions", "published blocklists a tenant follows, with review")
    new = subs.add_parser("subscribe", help="subscribe to a blocklist URL and fetch it (applies nothing)")
    new.add_argument("tenant")
    new.add_argument("url")
    new.add_argument("--format", choices=["auto", "csv", "json"], default="auto")
    new.add_argument("--max-severity", choices=["noop", "silence", "suspend"], default="suspend")
    new.add_argument("--exclude", action="append", metavar="DOMAIN", help="never block DOMAIN from this list")
    new.add_argument("--override", action="append", default=[], metavar="DOMAIN=SEVERITY")
    _acting(new)
    new.set_defaults(fn=cmd_subscribe)
    listing = subs.add_parser("list", help="list the subscriptions")
    listing.add_argument("tenant")
    listing.set_defaults(fn=cmd_list)
    for name, fn, help_text in (("refresh", cmd_refresh, "fetch the list again now"),
                                ("review", cmd_review, "show what applying the fetched list would change"),
                                ("apply", cmd_apply, "apply the fetched list (audited)"),
                                ("remove", cmd_remove, "unsubscribe (applied blocks stay)")):
        p = subs.add_parser(name, help=help_text)
        p.add_argument("tenant")
        p.add_argument("id")
        if name != "review":
            _acting(p)
        p.set_defaults(fn=fn)

    from steward.cli_settings import add_parsers as add_settings_parsers

    add_settings_parsers(sub)
