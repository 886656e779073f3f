"""`steward settings`, `steward rules`, `steward invites` and `steward legal`:
a tenant's server settings from the command line, through the services the
admin API uses. The acting staff user (named in the audit log) is `--as
USERNAME`, or else the tenant's oldest owner or admin."""

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


async def _actor(conn: Any, tenant: Any, username: str | None, flag: Any) -> int:
    from steward.moderation.blocklists import federation_manager

    return int((await federation_manager(conn, tenant.id, username, flag)).account_id)


def _id(raw: str) -> int:
    from steward.core.ids import parse_id

    parsed = parse_id(raw)
    if parsed is None:
        raise ApiError(404, f"no record {raw}")
    return parsed


def cmd_settings(args: argparse.Namespace) -> int:
    from steward.moderation import server_settings as svc
    from steward.moderation.roles import Permission

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        changes = {"title": args.title, "description": args.description, "contact_email": args.contact_email,
                   "contact_username": args.contact_username, "registration_mode": args.registration_mode}
        if any(v is not None for v in changes.values()):
            async with c.db.write() as conn:
                await svc.update_settings(conn, tenant, await _actor(conn, tenant, args.acting,
                                                                     Permission.MANAGE_SETTINGS), changes)
            c.tenants.invalidate()
            tenant = await c.tenants.get(tenant.id)
        for key, value in svc.settings_to_api(tenant).items():
            print(f"{key}\t{value}")

    return _run(run)


def cmd_rules(args: argparse.Namespace) -> int:
    from steward.moderation import server_settings as svc
    from steward.moderation.roles import Permission

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.write() as conn:
            if args.rules_command != "list":
                actor = await _actor(conn, tenant, args.acting, Permission.MANAGE_RULES)
            if args.rules_command == "add":
                await svc.create_rule(conn, tenant.id, actor, args.text, args.hint)
            elif args.rules_command == "remove":
                await svc.delete_rule(conn, tenant.id, actor, _id(args.id))
            elif args.rules_command == "reorder":
                await svc.reorder_rules(conn, tenant.id, actor, [_id(i) for i in args.ids])
            rows = await svc.list_rules(conn, tenant.id)
        for n, row in enumerate(rows, start=1):
            print(f"{n}. {row.text}" + (f" ({row.hint})" if row.hint else "") + f"\t[{row.id}]")

    return _run(run)


def cmd_invites(args: argparse.Namespace) -> int:
    from steward.moderation import server_settings as svc
    from steward.moderation.roles import Permission

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        base = c.base_url(tenant)
        async with c.db.write() as conn:
            if args.invites_command == "list":
                for row in await svc.list_invites(conn, tenant.id):
                    shown = svc.invite_to_api(row, base)
                    state = "revoked" if shown["revoked"] else f"{shown['uses']}/{shown['max_uses'] or '∞'} used"
                    print(f"{shown['id']}\t{shown['code']}\t{state}\texpires {shown['expires_at'] or 'never'}")
                return
            actor = await _actor(conn, tenant, args.acting, Permission.MANAGE_INVITES)
            if args.invites_command == "create":
                row = await svc.create_invite(conn, tenant.id, actor, max_uses=args.max_uses,
                                              expires_in=args.expires_in, comment=args.comment)
                print(svc.invite_to_api(row, base)["url"])
            else:
                await svc.revoke_invite(conn, tenant.id, actor, _id(args.id))
                print("revoked")

    return _run(run)


def cmd_legal(args: argparse.Namespace) -> int:
    from steward.moderation import server_settings as svc
    from steward.moderation.roles import Permission

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no file {path}", file=sys.stderr)
        return 1
    text = path.read_text(encoding="utf-8", errors="replace")

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.write() as conn:
            actor = await _actor(conn, tenant, args.acting, Permission.MANAGE_SETTINGS)
            row = await svc.publish_legal(conn, tenant, c.base_url(tenant), actor, args.kind, text=text,
                                          effective_date=args.effective_date, changelog=args.changelog,
                                          notify=not args.no_notify)
        told = ", users told by an announcement" if row.announcement_id else ""
        print(f"published the {args.kind.replace('_', ' ')} of {tenant.domain}, effective {row.effective_date}{told}")

    return _run(run)


def _acting(parser: Any) -> None:
    parser.add_argument("--as", dest="acting", metavar="USERNAME",
                        help="the staff user recorded as acting (default: the oldest owner or admin)")


def add_parsers(sub: Any) -> None:
    settings = sub.add_parser("settings", help="show or change a tenant's server settings")
    settings.add_argument("tenant")
    for name in ("title", "description", "contact-email", "contact-username"):
        settings.add_argument(f"--{name}")
    settings.add_argument("--registration-mode", choices=["open", "approval", "closed", "invite"])
    _acting(settings)
    settings.set_defaults(fn=cmd_settings)

    rules = sub.add_parser("rules", help="a tenant's rules").add_subparsers(dest="rules_command", required=True)
    for name, help_text in (("list", "list the rules in order"), ("add", "add a rule at the end"),
                            ("remove", "remove a rule"), ("reorder", "put the rules in this order (all ids)")):
        p = rules.add_parser(name, help=help_text)
        p.add_argument("tenant")
        if name == "add":
            p.add_argument("text")
            p.add_argument("--hint")
        elif name == "remove":
            p.add_argument("id")
        elif name == "reorder":
            p.add_argument("ids", nargs="+")
        _acting(p)
        p.set_defaults(fn=cmd_rules)

    invites = sub.add_parser("invites", help="invitation codes").add_subparsers(dest="invites_command",
                                                                                 required=True)
    create = invites.add_parser("create", help="make an invitation link")
    create.add_argument("tenant")
    create.add_argument("--max-uses", type=int)
    create.add_argument("--expires-in", type=int, metavar="SECONDS")
    create.add_argument("--comment")
    _acting(create)
    create.set_defaults(fn=cmd_invites)
    listing = invites.add_parser("list", help="list invitation codes")
    listing.add_argument("tenant")
    listing.set_defaults(fn=cmd_invites, acting=None)
    revoke = invites.add_parser("revoke", help="revoke an invitation code")
    revoke.add_argument("tenant")
    revoke.add_argument("id")
    _acting(revoke)
    revoke.set_defaults(fn=cmd_invites)

    legal = sub.add_parser("legal", help="versioned terms of service and privacy policy").add_subparsers(
        dest="legal_command", required=True)
    publish = legal.add_parser("publish", help="publish a new version from a file")
    publish.add_argument("tenant")
    publish.add_argument("kind", choices=["terms_of_service", "privacy_policy"])
    publish.add_argument("file")
    publish.add_argument("--effective-date", help="YYYY-MM-DD (default today)")
    publish.add_argument("--changelog")
    publish.add_argument("--no-notify", action="store_true", help="publish no announcement to users")
    _acting(publish)
    publish.set_defaults(fn=cmd_legal)
