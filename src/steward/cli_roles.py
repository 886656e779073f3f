"""`steward role list|create|update|delete|assign`: a tenant's custom staff
roles from the command line, through the same service and rules as the admin
API. The acting user (named in the audit log) is `--as USERNAME`, or else the
tenant's oldest owner."""

from __future__ import annotations

import argparse
from typing import Any

from steward.cli_common import tenant_by_domain as _tenant


def _run(fn: Any) -> int:
    from steward.cli import _run_or_fail

    return _run_or_fail(fn)


def _print(row: Any) -> None:
    from steward.moderation.roles import Permission

    perms = Permission(int(row.permissions))
    names = ",".join(sorted((p.name or "").lower() for p in Permission if p in perms)) or "-"
    print(f"{row.id}\t{row.position}\t{row.name}\t{names}")


def _role_input(args: argparse.Namespace, current: Any = None) -> Any:
    from steward.moderation import custom_roles as svc

    def pick(value: Any, field: str, default: Any) -> Any:
        if value is not None:
            return value
        return getattr(current, field) if current is not None else default

    perms = svc.parse_permissions(args.permissions) if args.permissions is not None else \
        svc.Permission(int(current.permissions) if current is not None else 0)
    return svc.RoleInput(name=pick(args.name, "name", ""), permissions=perms,
                         position=int(pick(args.position, "position", 0)), color=pick(args.color, "color", ""),
                         highlighted=bool(pick(args.highlighted, "highlighted", False)))


def cmd_list(args: argparse.Namespace) -> int:
    from steward.moderation import custom_roles as svc

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.read() as conn:
            for row in await svc.list_roles(conn, tenant.id):
                _print(row)

    return _run(run)


def cmd_create(args: argparse.Namespace) -> int:
    from steward.moderation import custom_roles as svc

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.write() as conn:
            actor, actor_user = await svc.acting_user(conn, tenant.id, args.acting)
            _print(await svc.create_role(conn, tenant.id, actor, actor_user, _role_input(args)))

    return _run(run)


def cmd_update(args: argparse.Namespace) -> int:
    from steward.core.ids import parse_id
    from steward.moderation import custom_roles as svc

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.write() as conn:
            actor, actor_user = await svc.acting_user(conn, tenant.id, args.acting)
            current = await svc.get_role(conn, tenant.id, parse_id(args.role_id) or 0)
            _print(await svc.update_role(conn, tenant.id, actor, actor_user, current.id, _role_input(args, current)))

    return _run(run)


def cmd_delete(args: argparse.Namespace) -> int:
    from steward.core.ids import parse_id
    from steward.moderation import custom_roles as svc

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.write() as conn:
            actor, actor_user = await svc.acting_user(conn, tenant.id, args.acting)
            await svc.delete_role(conn, tenant.id, actor, actor_user, parse_id(args.role_id) or 0)
        print(f"deleted role {args.role_id}")

    return _run(run)


def cmd_assign(args: argparse.Namespace) -> int:
    from steward.core.errors import not_found
    from steward.moderation import custom_roles as svc
    from steward.social.accounts import find_by_acct

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.write() as conn:
            actor, actor_user = await svc.acting_user(conn, tenant.id, args.acting)
            target = await find_by_acct(conn, tenant, args.username)
            if target is None or not target.local:
                raise not_found(f"no local user {args.username}")
            user = await svc.assign_role(conn, tenant.id, actor, actor_user, target.id, args.role)
        print(f"@{args.username} now has role {user.role}")

    return _run(run)


def add_parsers(sub: Any) -> None:
    role = sub.add_parser("role", help="a tenant's custom staff roles").add_subparsers(dest="role_cmd", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("tenant", help="the tenant's domain")
        p.add_argument("--as", dest="acting", help="acting local user (default: the tenant's oldest owner)")

    def fields(p: argparse.ArgumentParser, *, creating: bool) -> None:
        p.add_argument("--permissions", help="comma-separated names, e.g. manage_reports,manage_users")
        p.add_argument("--position", type=int, required=creating, help="0-999; staff act only below their own")
        p.add_argument("--color", help="#rrggbb")
        p.add_argument("--highlighted", action=argparse.BooleanOptionalAction, default=None)

    ls = role.add_parser("list")
    common(ls)
    ls.set_defaults(fn=cmd_list)
    cr = role.add_parser("create")
    common(cr)
    cr.add_argument("name")
    fields(cr, creating=True)
    cr.set_defaults(fn=cmd_create)
    up = role.add_parser("update")
    common(up)
    up.add_argument("role_id")
    up.add_argument("--name")
    fields(up, creating=False)
    up.set_defaults(fn=cmd_update)
    rm = role.add_parser("delete")
    common(rm)
    rm.add_argument("role_id")
    rm.set_defaults(fn=cmd_delete)
    asg = role.add_parser("assign")
    common(asg)
    asg.add_argument("username")
    asg.add_argument("role", help="user, moderator, admin, owner, or a custom role's id")
    asg.set_defaults(fn=cmd_assign)
