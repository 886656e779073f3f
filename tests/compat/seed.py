"""Seeds the tenant the Mastodon.py test suite expects (its tests/setup.sql and
tests/run_mastodon_for_tests.sh say what): a server at localhost:3000 with open
registrations, the users admin (owner), admin2 (owner), mastodonpy_test and
mastodonpy_test_2, the app with its fixed client id and secret, and the three fixed
access tokens.

`admin` is the account Mastodon's development seeds (db/seeds/04_admin.rb) make before
tootctl runs, so it is user id 1, the owner setup.sql gives token _2; the recordings
agree (token _2 verifies as `admin`, and a search for "admin" finds admin and admin2).

Run as `python -m tests.compat.seed` with STEWARD_DATA_DIR (and optionally
STEWARD_DATABASE_URL) pointing at a migrated, empty database."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from sqlalchemy import update

from steward.container import Container
from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import accounts, oauth_apps, users
from steward.model.entities import Tenant
from steward.settings import Settings
from steward.social.accounts import create_local_account
from steward.social.oauth import OAuthService

DOMAIN = "localhost:3000"
CLIENT_ID = "__MASTODON_PY_TEST_CLIENT_ID"
CLIENT_SECRET = "__MASTODON_PY_TEST_CLIENT_SECRET"
APP_SCOPES = "read write follow push admin:read admin:write"
USER_SCOPES = "read write follow push"
# The bcrypt hash setup.sql stores for admin2 and mastodonpy_test_2 (steward uses bcrypt too).
SETUP_SQL_HASH = "$2a$10$8eAdhF69RiZiV0puZ.8iOOgMqBACmwJu8Z9X4CiN91iwRXbeC2jvi"
# The password the suite's (pre-4.4, replayed) password-grant cassettes use for mastodonpy_test.
TEST_USER_PASSWORD = "5fc638e0e53eafd9c4145b6bb852667d"
# Mastodon's development seeds give `admin` this password.
DEV_ADMIN_PASSWORD = "mastodonadmin"
USER_SETTINGS = {"notification_emails.follow_request": False, "default_privacy": "public",
                 "default_sensitive": False}


@dataclass(frozen=True)
class SeedUser:
    username: str
    email: str
    role: str
    locale: str
    token: str | None
    token_scopes: str | None
    locked: bool
    password: str | None = None
    password_hash: str | None = None
    settings: dict[str, object] | None = None


def suite_users(token_prefix: str = "") -> list[SeedUser]:
    """In creation order: Mastodon's seeded `admin` is user id 1, which holds token _2."""
    return [
        SeedUser("admin", "admin@localhost", "owner", "en", f"{token_prefix}__MASTODON_PY_TEST_ACCESS_TOKEN_2",
                 APP_SCOPES, locked=False, password=DEV_ADMIN_PASSWORD),
        SeedUser("admin2", "zerocool@example.com", "owner", "de", None, None, locked=False,
                 password_hash=SETUP_SQL_HASH),
        SeedUser("mastodonpy_test", "mastodonpy_test@localhost", "user", "ja",
                 f"{token_prefix}__MASTODON_PY_TEST_ACCESS_TOKEN", USER_SCOPES, locked=True,
                 password=TEST_USER_PASSWORD, settings=USER_SETTINGS),
        SeedUser("mastodonpy_test_2", "mastodonpy_test_2@localhost", "user", "ja",
                 f"{token_prefix}__MASTODON_PY_TEST_ACCESS_TOKEN_3", USER_SCOPES, locked=False,
                 password_hash=SETUP_SQL_HASH, settings=USER_SETTINGS),
    ]


async def seed(c: Container, domain: str = DOMAIN, token_prefix: str = "") -> Tenant:
    """Create the tenant, users, app and tokens. `token_prefix` lets tests seed twice in one database."""
    tenant = await c.tenants.create(domain, "Mastodon", settings={
        "password_grant": True, "registration_mode": "open",
        "description": "Steward serving the Mastodon.py test suite", "contact_email": "zerocool@example.com",
    })
    base = c.base_url(tenant)
    now = utcnow()
    user_ids: dict[str, int] = {}
    people = suite_users(token_prefix)
    async with c.db.write() as conn:
        for person in people:
            account, user = await create_local_account(
                conn, tenant, base, username=person.username, email=person.email, password=person.password,
                role=person.role, locale=person.locale, allow_reserved=True)
            user_ids[person.username] = user.id
            values: dict[str, object] = {"current_sign_in_at": now, "settings": person.settings or {}}
            if person.password_hash:
                values["password_hash"] = person.password_hash
            await conn.execute(update(users).where(users.c.tenant_id == tenant.id, users.c.id == user.id)
                               .values(**values))
            account_values: dict[str, object] = {"locked": person.locked}
            if person.username == "mastodonpy_test_2":
                account_values.update(discoverable=True, indexable=True)
            await conn.execute(update(accounts).where(accounts.c.tenant_id == tenant.id,
                                                      accounts.c.id == account.id).values(**account_values))
        # A fixed client id and secret, as setup.sql inserts them (create_app would make random ones).
        app_id = new_id()
        await conn.execute(oauth_apps.insert().values(
            tenant_id=tenant.id, id=app_id, name="Mastodon.py test suite",
            client_id=f"{token_prefix}{CLIENT_ID}", client_secret=CLIENT_SECRET,
            redirect_uris=["urn:ietf:wg:oauth:2.0:oob"], scopes=APP_SCOPES, website=None,
            owner_user_id=user_ids["mastodonpy_test"], created_at=now))
    svc = OAuthService(c.db)
    for person in people:
        if person.token and person.token_scopes:
            await svc.issue_token(tenant, app_id, user_ids[person.username], person.token_scopes,
                                  with_refresh=False, raw_token=person.token)
    return tenant


async def _main() -> int:
    settings = Settings.from_env()
    c = Container(settings)
    try:
        tenant = await seed(c)
    finally:
        await c.close()
    print(f"seeded tenant {tenant.domain} (id {tenant.id}) with the Mastodon.py suite's users, app and tokens")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
