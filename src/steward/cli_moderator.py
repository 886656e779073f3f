"""`steward moderation ...`: a tenant's report queue, account actions, appeals,
warning presets and dashboard from the command line, through the same services
as the admin API. Every command acts as a named staff account of that tenant
(`--as USERNAME`) whose role must hold the permission the admin API asks for;
a staff member of another tenant is not a user here and is refused."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from steward.cli_common import tenant_by_domain as _tenant
from steward.core.errors import ApiError

Lines = list[str]


def _id(raw: str) -> int:
    from steward.core.ids import parse_id

    parsed = parse_id(raw)
    if parsed is None:
        raise ApiError(422, f"not an id: {raw}")
    return parsed


async def _actor(c: Any, tenant: Any, username: str, flag: Any) -> tuple[Any, Any]:
    """The acting staff member: a local user of this tenant whose role holds `flag`."""
    from steward.moderation.roles import require
    from steward.social.accounts import find_by_acct, get_user_for_account

    async with c.db.read() as conn:
        account = await find_by_acct(conn, tenant, username)
        user = await get_user_for_account(conn, tenant.id, account.id) if account and account.local else None
    if account is None or user is None:
        raise ApiError(404, f"no local user {username} on {tenant.domain}")
    try:
        return account, require(user, flag)
    except ApiError:
        raise ApiError(403, f"{username} may not do this on {tenant.domain}") from None


async def _account_id(c: Any, tenant: Any, ref: str) -> int:
    from steward.core.ids import parse_id
    from steward.social.accounts import find_by_acct

    if parse_id(ref) is not None and not ref.startswith("@"):
        return _id(ref)
    async with c.db.read() as conn:
        account = await find_by_acct(conn, tenant, ref)
    if account is None:
        raise ApiError(404, f"no account {ref} on {tenant.domain}")
    return int(account.id)


def _report_line(r: dict[str, Any], names: dict[int, str]) -> str:
    state = "resolved" if r["action_taken_at"] is not None else "open"
    assigned = names.get(r["assigned_account_id"], "-") if r["assigned_account_id"] else "-"
    return (f"{r['id']}\t{state}\t{r['category']}\t{names.get(r['account_id'], '?')} -> "
            f"{names.get(r['target_account_id'], '?')}\tassigned: {assigned}\tforwarded: {r['forwarded']}")


async def _names(conn: Any, tenant_id: int, ids: set[int]) -> dict[int, str]:
    from steward.social.accounts import get_accounts

    return {i: a.acct() for i, a in (await get_accounts(conn, tenant_id, [i for i in ids if i])).items()}


async def reports_cmd(c: Any, args: argparse.Namespace) -> Lines:
    from steward.moderation import report_notes, reports
    from steward.moderation.roles import Permission

    tenant = await _tenant(c, args.domain)
    actor, _ = await _actor(c, tenant, args.acting_as, Permission.MANAGE_REPORTS)
    step = args.reports_command
    if step == "list":
        async with c.db.read() as conn:
            rows = await reports.list_reports(conn, tenant.id, resolved=None if args.all else bool(args.resolved),
                                              account_id=None, target_account_id=None, max_id=None, since_id=None,
                                              min_id=None, limit=args.limit)
            names = await _names(conn, tenant.id, {i for r in rows for i in (
                r["account_id"], r["target_account_id"], r["assigned_account_id"])})
        return [_report_line(r, names) for r in rows] or ["no reports"]
    report_id = _id(args.id)
    if step == "show":
        async with c.db.read() as conn:
            r = await reports.get_report(conn, tenant.id, report_id)
            notes = await report_notes.list_notes(conn, tenant.id, report_id)
            names = await _names(conn, tenant.id, {r["account_id"], r["target_account_id"],
                                                   r["assigned_account_id"], *(n["account_id"] for n in notes)})
        return [_report_line(r, names), f"comment: {r['comment']}",
                f"statuses: {' '.join(str(i) for i in r['status_ids']) or '-'}",
                f"rules: {' '.join(str(i) for i in r['rule_ids']) or '-'}",
                *(f"note {n['id']} by {names.get(n['account_id'], '?')}: {n['content']}" for n in notes)]
    async with c.db.write() as conn:
        if step == "note":
            note = await report_notes.add_note(conn, tenant.id, actor.id, report_id, args.text)
            return [f"note {note['id']} added to report {report_id}"]
        if step == "forward":
            await reports.forward(conn, tenant.id, actor.id, report_id)
            done = "forwarded"
        else:
            change: Callable[..., Awaitable[Any]] = getattr(reports, {"assign": "assign", "unassign": "unassign",
                                                                      "resolve": "resolve", "reopen": "reopen"}[step])
            await change(conn, tenant.id, actor.id, report_id)
            done = {"assign": "assigned", "unassign": "unassigned", "resolve": "resolved", "reopen": "reopened"}[step]
    c.jobs.wake()
    return [f"report {report_id} {done}"]


async def action_cmd(c: Any, args: argparse.Namespace) -> Lines:
    from steward.moderation.admin_accounts import take_action
    from steward.moderation.roles import Permission

    tenant = await _tenant(c, args.domain)
    actor, actor_user = await _actor(c, tenant, args.acting_as, Permission.MANAGE_USERS)
    target_id = await _account_id(c, tenant, args.account)
    async with c.db.write() as conn:
        strike_id = await take_action(conn, tenant.id, actor, actor_user, target_id, action=args.type,
                                      report_id=_id(args.report) if args.report else None, text=args.text or "",
                                      warning_preset_id=_id(args.preset) if args.preset else None)
    c.auth_cache.clear()
    c.jobs.wake()
    return [f"{args.type} on account {target_id}: strike {strike_id}"]


async def appeals_cmd(c: Any, args: argparse.Namespace) -> Lines:
    from steward.moderation import appeals
    from steward.moderation.roles import Permission

    tenant = await _tenant(c, args.domain)
    actor, actor_user = await _actor(c, tenant, args.acting_as, Permission.MANAGE_APPEALS)
    if args.appeals_command == "list":
        async with c.db.read() as conn:
            rows = await appeals.list_appeals(conn, tenant.id, state=None if args.state == "all" else args.state)
            names = await _names(conn, tenant.id, {r["account_id"] for r in rows})
        return [f"{r['id']}\t{r['state']}\t{names.get(r['account_id'], '?')}\tstrike {r['account_warning_id']} "
                f"({r['action']})\t{r['text']}" for r in rows] or ["no appeals"]
    async with c.db.write() as conn:
        if args.appeals_command == "approve":
            row = await appeals.approve(conn, tenant.id, actor, actor_user, _id(args.id))
        else:
            row = await appeals.reject(conn, tenant.id, actor, _id(args.id))
    c.auth_cache.clear()
    return [f"appeal {row['id']} {row['state']}"]


async def presets_cmd(c: Any, args: argparse.Namespace) -> Lines:
    from steward.moderation import presets
    from steward.moderation.roles import Permission

    tenant = await _tenant(c, args.domain)
    if args.presets_command == "list":
        await _actor(c, tenant, args.acting_as, Permission.MANAGE_USERS)
        async with c.db.read() as conn:
            rows = await presets.list_presets(conn, tenant.id)
        return [f"{r['id']}\t{r['title'] or '-'}\t{r['text']}" for r in rows] or ["no presets"]
    actor, _ = await _actor(c, tenant, args.acting_as, Permission.MANAGE_SETTINGS)
    async with c.db.write() as conn:
        if args.presets_command == "add":
            row = await presets.create_preset(conn, tenant.id, actor.id, title=args.title, text=args.text)
            return [f"preset {row['id']} added"]
        await presets.delete_preset(conn, tenant.id, actor.id, _id(args.id))
    return [f"preset {args.id} removed"]


async def dashboard_cmd(c: Any, args: argparse.Namespace) -> Lines:
    from steward.moderation.dashboard import summary
    from steward.moderation.measures import span_of
    from steward.moderation.roles import Permission

    tenant = await _tenant(c, args.domain)
    await _actor(c, tenant, args.acting_as, Permission.VIEW_DASHBOARD)
    today = datetime.now(UTC)
    span = span_of((today - timedelta(days=args.days - 1)).isoformat(), today.isoformat())
    async with c.db.read() as conn:
        numbers = await summary(conn, tenant.id, span)
    return [f"{key}\t{value}" for key, value in numbers.items()]


COMMANDS: dict[str, Callable[[Any, argparse.Namespace], Awaitable[Lines]]] = {
    "reports": reports_cmd, "action": action_cmd, "appeals": appeals_cmd, "presets": presets_cmd,
    "dashboard": dashboard_cmd,
}


async def execute(c: Any, args: argparse.Namespace) -> Lines:
    return await COMMANDS[args.moderation_command](c, args)


def _main(args: argparse.Namespace) -> int:
    from steward.cli import _run_or_fail

    async def run(c: Any) -> None:
        for line in await execute(c, args):
            print(line)
        sys.stdout.flush()

    return _run_or_fail(run)


def _common(p: argparse.ArgumentParser, *, with_id: bool = False) -> None:
    p.add_argument("domain", help="the tenant's domain")
    if with_id:
        p.add_argument("id")
    p.add_argument("--as", dest="acting_as", required=True, metavar="USERNAME",
                   help="the staff account of this tenant who acts (named in the audit log)")


def add_parsers(sub: Any) -> None:
    mod = sub.add_parser("moderation", help="a tenant's reports, actions, appeals, presets and dashboard")
    mod.set_defaults(fn=_main)
    cmds = mod.add_subparsers(dest="moderation_command", required=True)

    reports = cmds.add_parser("reports", help="the report queue").add_subparsers(dest="reports_command",
                                                                                   required=True)
    listing = reports.add_parser("list", help="open reports (--resolved, --all)")
    _common(listing)
    listing.add_argument("--resolved", action="store_true")
    listing.add_argument("--all", action="store_true")
    listing.add_argument("--limit", type=int, default=100)
    for name, text in (("show", "one report with its notes"), ("assign", "assign to yourself"),
                       ("unassign", "unassign"), ("resolve", "resolve"), ("reopen", "reopen"),
                       ("forward", "send the report to the remote account's server as a Flag")):
        _common(reports.add_parser(name, help=text), with_id=True)
    note = reports.add_parser("note", help="add a note to a report")
    _common(note, with_id=True)
    note.add_argument("text")

    action = cmds.add_parser("action", help="act on an account: warn (none), sensitive, disable, silence, suspend")
    action.add_argument("domain")
    action.add_argument("account", help="account id or user@domain")
    action.add_argument("--type", required=True, choices=["none", "sensitive", "disable", "silence", "suspend"])
    action.add_argument("--text", default="")
    action.add_argument("--report", help="the report this action settles")
    action.add_argument("--preset", help="a warning preset id whose text comes first")
    action.add_argument("--as", dest="acting_as", required=True, metavar="USERNAME")

    appeals = cmds.add_parser("appeals", help="appeals of strikes").add_subparsers(dest="appeals_command",
                                                                                 required=True)
    listing = appeals.add_parser("list", help="appeals (pending by default)")
    _common(listing)
    listing.add_argument("--state", default="pending", choices=["pending", "approved", "rejected", "all"])
    _common(appeals.add_parser("approve", help="approve: the strike's action is reversed"), with_id=True)
    _common(appeals.add_parser("reject", help="reject: the action stays"), with_id=True)

    presets = cmds.add_parser("presets", help="warning presets").add_subparsers(dest="presets_command",
                                                                              required=True)
    _common(presets.add_parser("list", help="list presets"))
    add = presets.add_parser("add", help="add a preset")
    _common(add)
    add.add_argument("text")
    add.add_argument("--title", default="")
    _common(presets.add_parser("remove", help="remove a preset"), with_id=True)

    dash = cmds.add_parser("dashboard", help="the tenant's moderation numbers")
    _common(dash)
    dash.add_argument("--days", type=int, default=30)
