"""`steward domain-blocks`, `steward domain-allows` and `steward federation-mode`:
a tenant's federation policy from the command line. Changes are recorded in the
tenant's audit log as made by its first owner (or admin)."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import select

from steward.cli_common import tenant_by_domain as _tenant
from steward.core.errors import ApiError


async def _acting_admin(conn: Any, tenant_id: int) -> int:
    from steward.db.tables import users

    for role in ("owner", "admin"):
        found = (await conn.execute(select(users.c.account_id).where(
            users.c.tenant_id == tenant_id, users.c.role == role).order_by(users.c.id).limit(1))).first()
        if found is not None:
            return int(found.account_id)
    raise ApiError(422, "the tenant has no owner or admin to record the change as")


def _run(fn: Any) -> int:
    from steward.cli import _run_or_fail

    return _run_or_fail(fn)


def cmd_block_add(args: argparse.Namespace) -> int:
    from steward.moderation import domain_policy

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.write() as conn:
            row = await domain_policy.create_block(conn, tenant.id, await _acting_admin(conn, tenant.id),
                                                   args.domain, {
                "severity": args.severity, "reject_media": args.reject_media,
                "reject_reports": args.reject_reports, "public_comment": args.public_comment,
                "private_comment": args.private_comment})
        print(f"blocked {row.domain} on {tenant.domain}: {_describe(row)}")

    return _run(run)


def _describe(row: Any) -> str:
    extras = [name for name in ("reject_media", "reject_reports") if getattr(row, name)]
    return " ".join([row.severity, *extras])


def cmd_block_list(args: argparse.Namespace) -> int:
    from steward.db.tables import domain_blocks

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.read() as conn:
            rows = (await conn.execute(select(domain_blocks).where(
                domain_blocks.c.tenant_id == tenant.id).order_by(domain_blocks.c.domain))).all()
        for row in rows:
            print(f"{row.domain}\t{_describe(row)}")

    return _run(run)


def cmd_block_remove(args: argparse.Namespace) -> int:
    from steward.db.tables import domain_blocks
    from steward.moderation import domain_policy

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        domain = domain_policy.normalise_domain(args.domain)
        async with c.db.write() as conn:
            found = (await conn.execute(select(domain_blocks.c.id).where(
                domain_blocks.c.tenant_id == tenant.id, domain_blocks.c.domain == domain))).first()
            if found is None:
                raise ApiError(404, f"{domain} is not blocked on {tenant.domain}")
            await domain_policy.delete_block(conn, tenant.id, await _acting_admin(conn, tenant.id), found.id)
        print(f"unblocked {domain} on {tenant.domain}")

    return _run(run)


def cmd_allow_add(args: argparse.Namespace) -> int:
    from steward.moderation import domain_policy

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.write() as conn:
            row = await domain_policy.create_allow(conn, tenant.id, await _acting_admin(conn, tenant.id),
                                                   args.domain)
        print(f"allowed {row.domain} on {tenant.domain}")

    return _run(run)


def cmd_allow_list(args: argparse.Namespace) -> int:
    from steward.db.tables import domain_allows

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        async with c.db.read() as conn:
            domains = (await conn.execute(select(domain_allows.c.domain).where(
                domain_allows.c.tenant_id == tenant.id).order_by(domain_allows.c.domain))).scalars().all()
        for domain in domains:
            print(domain)

    return _run(run)


def cmd_allow_remove(args: argparse.Namespace) -> int:
    from steward.db.tables import domain_allows
    from steward.moderation import domain_policy

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        domain = domain_policy.normalise_domain(args.domain)
        async with c.db.write() as conn:
            found = (await conn.execute(select(domain_allows.c.id).where(
                domain_allows.c.tenant_id == tenant.id, domain_allows.c.domain == domain))).first()
            if found is None:
                raise ApiError(404, f"{domain} is not on the allow list of {tenant.domain}")
            await domain_policy.delete_allow(conn, tenant.id, await _acting_admin(conn, tenant.id), found.id)
        print(f"removed {domain} from the allow list of {tenant.domain}")

    return _run(run)


def cmd_federation_mode(args: argparse.Namespace) -> int:
    from steward.federation.policy import LIMITED_SETTING

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.tenant)
        if args.mode is not None:
            tenant = await c.tenants.update_settings(tenant.id, {LIMITED_SETTING: args.mode == "limited"})
        mode = "limited" if tenant.setting(LIMITED_SETTING, False) else "open"
        print(f"{tenant.domain} federation mode: {mode}")

    return _run(run)


def add_parsers(sub: Any) -> None:
    blocks = sub.add_parser("domain-blocks", help="a tenant's blocked remote domains").add_subparsers(
        dest="domain_blocks_command", required=True)
    add = blocks.add_parser("add", help="block a remote domain (and its subdomains)")
    add.add_argument("tenant")
    add.add_argument("domain")
    add.add_argument("--severity", choices=["silence", "suspend", "noop"], default="silence")
    add.add_argument("--reject-media", action="store_true")
    add.add_argument("--reject-reports", action="store_true")
    add.add_argument("--public-comment")
    add.add_argument("--private-comment")
    add.set_defaults(fn=cmd_block_add)
    listing = blocks.add_parser("list", help="list the blocked domains")
    listing.add_argument("tenant")
    listing.set_defaults(fn=cmd_block_list)
    remove = blocks.add_parser("remove", help="lift a domain block")
    remove.add_argument("tenant")
    remove.add_argument("domain")
    remove.set_defaults(fn=cmd_block_remove)

    allows = sub.add_parser("domain-allows", help="the allow list for limited federation mode").add_subparsers(
        dest="domain_allows_command", required=True)
    add = allows.add_parser("add", help="allow a remote domain")
    add.add_argument("tenant")
    add.add_argument("domain")
    add.set_defaults(fn=cmd_allow_add)
    listing = allows.add_parser("list", help="list the allowed domains")
    listing.add_argument("tenant")
    listing.set_defaults(fn=cmd_allow_list)
    remove = allows.add_parser("remove", help="take a domain off the allow list")
    remove.add_argument("tenant")
    remove.add_argument("domain")
    remove.set_defaults(fn=cmd_allow_remove)

    mode = sub.add_parser("federation-mode", help="show or set open or limited (allow-list) federation")
    mode.add_argument("tenant")
    mode.add_argument("mode", nargs="?", choices=["open", "limited"])
    mode.set_defaults(fn=cmd_federation_mode)
