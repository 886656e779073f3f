"""The `steward` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
from typing import Any

from steward.settings import Settings


def _settings() -> Settings:
    return Settings.from_env()


async def _with_container(fn: Any) -> Any:
    from steward.container import Container
    from steward.db.migrate import needs_upgrade, upgrade_head

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    c = Container(settings)
    try:
        if await needs_upgrade(c.db.engine):
            await upgrade_head(c.db.engine)
        return await fn(c)
    finally:
        await c.close()


def cmd_migrate(_args: argparse.Namespace) -> int:
    from steward.db.migrate import head_revision

    async def run(_c: Any) -> None:
        print(f"database is at revision {head_revision()}")

    asyncio.run(_with_container(run))
    return 0


def cmd_tenant_create(args: argparse.Namespace) -> int:
    async def run(c: Any) -> None:
        tenant = await c.tenants.create(args.domain, args.name, web_domain=args.web_domain,
                                        settings={"password_grant": bool(args.password_grant)})
        print(f"created tenant {tenant.domain} (web {tenant.web_domain}) id={tenant.id}")

    return _run_or_fail(run)


def cmd_tenant_list(_args: argparse.Namespace) -> int:
    async def run(c: Any) -> None:
        for t in await c.tenants.list():
            print(f"{t.id}\t{t.domain}\t{t.web_domain}\t{t.name}")

    return _run_or_fail(run)


async def _tenant(c: Any, domain: str) -> Any:
    from steward.cli_common import tenant_by_domain

    return await tenant_by_domain(c, domain)


def cmd_user_create(args: argparse.Namespace) -> int:
    from steward.social.accounts import create_local_account

    async def run(c: Any) -> None:
        tenant = await _tenant(c, args.domain)
        password = args.password or secrets.token_urlsafe(12)
        async with c.db.write() as conn:
            account, _user = await create_local_account(
                conn, tenant, c.base_url(tenant), username=args.username, email=args.email,
                password=password, role=args.role, allow_reserved=True,
            )
        print(f"created @{account.username}@{tenant.domain} ({args.role}) id={account.id}")
        if not args.password:
            print(f"password: {password}")

    return _run_or_fail(run)


def cmd_token_create(args: argparse.Namespace) -> int:
    from steward.social.accounts import find_by_acct, get_user_for_account
    from steward.social.oauth import OAuthService, parse_scopes

    async def run(c: Any) -> None:
        from steward.core.errors import ApiError

        tenant = await _tenant(c, args.domain)
        async with c.db.read() as conn:
            account = await find_by_acct(conn, tenant, args.username)
            user = await get_user_for_account(conn, tenant.id, account.id) if account else None
        if user is None:
            raise ApiError(404, f"no local user {args.username} on {tenant.domain}")
        scopes = " ".join(parse_scopes(args.scopes))
        svc = OAuthService(c.db)
        app = await svc.create_app(tenant, "steward CLI", ["urn:ietf:wg:oauth:2.0:oob"], scopes.split(), None)
        raw, _refresh, _tok = await svc.issue_token(tenant, app.id, user.id, scopes, with_refresh=False,
                                                    raw_token=args.token)
        print(raw)

    return _run_or_fail(run)


def _run_or_fail(fn: Any) -> int:
    from steward.core.errors import ApiError

    try:
        asyncio.run(_with_container(fn))
    except ApiError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return 1
    return 0


async def ensure_demo_tenant(c: Any, port: int) -> None:
    """With no tenant at all, make one for localhost:PORT with an admin, and say how to log in."""
    from steward.social.accounts import create_local_account

    if await c.tenants.list():
        return
    domain = f"localhost:{port}"
    tenant = await c.tenants.create(domain, "Steward demo", settings={"password_grant": True,
                                                                      "description": "A demo server"})
    password = secrets.token_urlsafe(12)
    async with c.db.write() as conn:
        await create_local_account(conn, tenant, c.base_url(tenant), username="admin",
                                   email="admin@localhost.test", password=password, role="owner",
                                   allow_reserved=True)
    print(f"\nDemo server ready at http://{domain}/\n  log in as: admin  (admin@localhost.test)\n"
          f"  password:  {password}\n", flush=True)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from steward.app import create_app
    from steward.container import Container
    from steward.db.migrate import needs_upgrade, upgrade_head

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def prepare() -> None:
        c = Container(settings)
        try:
            if await needs_upgrade(c.db.engine):
                print("applying database migrations...", flush=True)
                await upgrade_head(c.db.engine)
            await ensure_demo_tenant(c, args.port)
        finally:
            await c.close()

    asyncio.run(prepare())
    app = create_app(settings)
    kwargs: dict[str, Any] = {"host": args.host, "port": args.port, "log_level": args.log_level,
                              "access_log": args.access_log, "lifespan": "on", "ws_max_size": 1 << 20}
    if args.tls_cert:
        kwargs["ssl_certfile"], kwargs["ssl_keyfile"] = args.tls_cert, args.tls_key
    print(f"Steward listening on {'https' if args.tls_cert else 'http'}://{args.host}:{args.port}", flush=True)
    uvicorn.run(app, **kwargs)
    return 0


def cmd_worker(_args: argparse.Namespace) -> int:
    from steward.container import Container

    async def run() -> None:
        c = Container(_settings())
        c.jobs.start()
        print(f"worker {c.jobs.worker_id} running", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await c.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="steward", description="Many Mastodon-compatible servers in one program.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve HTTP (runs migrations and jobs too)")
    serve.add_argument("--host", default=os.environ.get("STEWARD_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("STEWARD_PORT", "3000")))
    serve.add_argument("--tls-cert")
    serve.add_argument("--tls-key")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--access-log", action="store_true")
    serve.set_defaults(fn=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(fn=cmd_migrate)
    sub.add_parser("worker", help="run background jobs only").set_defaults(fn=cmd_worker)

    tenant = sub.add_parser("tenant", help="manage tenants").add_subparsers(dest="tenant_command", required=True)
    tc = tenant.add_parser("create", help="create a tenant")
    tc.add_argument("domain")
    tc.add_argument("--name", required=True)
    tc.add_argument("--web-domain")
    tc.add_argument("--password-grant", action="store_true", help="allow OAuth's password grant")
    tc.set_defaults(fn=cmd_tenant_create)
    tenant.add_parser("list", help="list tenants").set_defaults(fn=cmd_tenant_list)

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    uc = user.add_parser("create", help="create a local user")
    uc.add_argument("domain")
    uc.add_argument("username")
    uc.add_argument("--email", required=True)
    uc.add_argument("--password")
    uc.add_argument("--role", default="user", choices=["owner", "admin", "moderator", "user"])
    uc.set_defaults(fn=cmd_user_create)

    token = sub.add_parser("token", help="manage access tokens").add_subparsers(dest="token_command", required=True)
    tk = token.add_parser("create", help="print a new access token for a user")
    tk.add_argument("domain")
    tk.add_argument("username")
    tk.add_argument("--scopes", default="read write follow")
    tk.add_argument("--token", help=argparse.SUPPRESS)  # fixed token value, for test harnesses
    tk.set_defaults(fn=cmd_token_create)

    from steward.cli_federation import add_parsers as add_federation_parsers

    add_federation_parsers(sub)

    from steward.cli_moderation import add_parsers as add_moderation_parsers

    add_moderation_parsers(sub)

    from steward.cli_moderator import add_parsers as add_moderator_parsers

    add_moderator_parsers(sub)

    from steward.cli_roles import add_parsers as add_role_parsers

    add_role_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
