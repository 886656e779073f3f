"""Seed a benchmark database: one tenant with 10,000 accounts and 1,000,000
public statuses, a set of benchmark accounts that each follow 500 others with
their home feeds materialised (as the fan-out job would have written them),
and fresh OAuth tokens for the benchmark accounts.

    python bench/seed.py --db sqlite              # bench/data/sqlite/steward.sqlite3
    python bench/seed.py --db postgres            # $STEWARD_DATABASE_URL or steward_bench on :55432
    python bench/seed.py --db sqlite --reset      # throw the old data away first

The schema comes from Steward's own migrations and the tenant from
`TenantDirectory.create`; rows are bulk-inserted with SQLAlchemy Core
executemany (PostgreSQL: COPY for the big tables). A finished seed leaves a
marker in the tenant's settings, and a later run reuses the database."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import secrets
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.container import Container
from steward.core.ids import new_id
from steward.db.migrate import upgrade_head
from steward.db.tables import (
    accounts,
    follows,
    home_feed,
    metadata,
    oauth_apps,
    oauth_tokens,
    statuses,
    tenants,
    users,
)
from steward.model.entities import Tenant
from steward.settings import Settings
from steward.social.oauth import hash_secret

BENCH_DIR = Path(__file__).resolve().parent
DOMAIN = "bench.test"
SEED_VERSION = 1
DEFAULT_PG_URL = "postgresql://steward@127.0.0.1:55432/steward_bench"
APP_NAME = "steward bench"
SCOPES = "read write follow"


@dataclass(frozen=True)
class Plan:
    accounts: int = 10_000
    statuses: int = 1_000_000
    bench_accounts: int = 32
    following: int = 500  # each benchmark account follows this many others
    followers: int = 200  # and is followed by this many (its posts fan out to them)
    batch: int = 50_000
    seed: int = 42

    def marker(self) -> dict[str, Any]:
        return {"version": SEED_VERSION, "schema": schema_fingerprint(), "accounts": self.accounts, "statuses": self.statuses,
                "bench_accounts": self.bench_accounts, "following": self.following,
                "followers": self.followers, "seed": self.seed}


def schema_fingerprint() -> str:
    """A digest of the tables as the code defines them: a seed made under another schema is stale."""
    shape = [
        (t.name, [(c.name, str(c.type), bool(c.nullable)) for c in t.columns], sorted(i.name or "" for i in t.indexes))
        for t in metadata.sorted_tables
    ]
    return hashlib.sha256(repr(shape).encode()).hexdigest()[:16]


@dataclass
class Seeded:
    """What the load generator needs: where the data is and who to act as."""

    database_url: str
    data_dir: Path
    tenant: Tenant
    tokens: list[str] = field(default_factory=list)
    bench_account_ids: list[int] = field(default_factory=list)


def database_settings(db: str, database_url: str | None = None) -> Settings:
    """Settings for the bench database: a SQLite file under bench/data/sqlite, or PostgreSQL."""
    data_dir = BENCH_DIR / "data" / db
    env = {"STEWARD_DATA_DIR": str(data_dir)}
    if db == "postgres":
        env["STEWARD_DATABASE_URL"] = database_url or os.environ.get("STEWARD_DATABASE_URL") or DEFAULT_PG_URL
    elif database_url:
        env["STEWARD_DATABASE_URL"] = database_url
    return Settings.from_env(env)


def log(message: str) -> None:
    print(f"[seed {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _sqlite_value(value: Any) -> Any:
    """A value as SQLAlchemy's SQLite dialect stores it (DATETIME as text, BOOLEAN as 0/1)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def chunks(seq: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


class Seeder:
    def __init__(self, c: Container, plan: Plan) -> None:
        self.c = c
        self.plan = plan
        self.is_pg = not c.db.is_sqlite
        self.rng = random.Random(plan.seed)

    # -- the database ---------------------------------------------------------------

    async def existing(self) -> tuple[str, Tenant | None]:
        """("ready", tenant) for a finished seed of this plan and schema; ("empty", None) when there is
        nothing to keep; ("stale", None) for a bench-only database with an unfinished seed, another
        plan or an older schema (the schema's single migration is rewritten while nothing is
        released, so the revision alone does not tell); ("foreign", None) when it holds other tenants."""
        async with self.c.db.read() as conn:
            has_tables = await conn.run_sync(lambda sync: sync.dialect.has_table(sync, "tenants"))
            if not has_tables:
                return "empty", None
            rows = (await conn.execute(select(tenants.c.domain, tenants.c.settings))).all()
        ours = [r for r in rows if r.domain == DOMAIN]
        if len(rows) > len(ours):
            return "foreign", None
        if not ours:
            return "empty", None
        if (ours[0].settings or {}).get("bench_seed") != self.plan.marker():
            return "stale", None
        return "ready", await self.c.tenants.by_domain(DOMAIN)

    # -- seeding --------------------------------------------------------------------

    async def seed(self) -> Tenant:
        plan = self.plan
        started = time.perf_counter()
        log(f"migrating {self.c.settings.database_url}")
        await upgrade_head(self.c.db.engine)
        tenant = await self.c.tenants.create(DOMAIN, "Steward bench")
        base = self.c.base_url(tenant)
        log(f"tenant {tenant.domain} id={tenant.id}")

        # Who wrote what: statuses spread at random over all accounts, oldest first.
        authors = [self.rng.randrange(plan.accounts) for _ in range(plan.statuses)]
        per_account = Counter(authors)
        now = datetime.now(UTC).replace(microsecond=0)
        first_status_at = now - timedelta(days=60)
        # Strictly increasing milliseconds so every id is unique and ids sort by time.
        step_ms = max(1, int(timedelta(days=59).total_seconds() * 1000) // max(1, plan.statuses))
        account_created = first_status_at - timedelta(days=30)

        # Accounts 0..bench_accounts-1 are the benchmark accounts.
        account_ids: list[int] = []
        usernames: list[str] = []
        for i in range(plan.accounts):
            account_ids.append(new_id(at=account_created + timedelta(milliseconds=i)))
            usernames.append(f"bench{i:02d}" if i < plan.bench_accounts else f"user{i:05d}")

        # The follow graph around the benchmark accounts.
        pool = list(range(plan.bench_accounts, plan.accounts))
        following: dict[int, list[int]] = {}
        followers: dict[int, list[int]] = {}
        for b in range(plan.bench_accounts):
            following[b] = self.rng.sample(pool, plan.following)
            followers[b] = self.rng.sample(pool, plan.followers)
        following_count: Counter[int] = Counter()
        followers_count: Counter[int] = Counter()
        for b in range(plan.bench_accounts):
            following_count[b] += len(following[b])
            for t in following[b]:
                followers_count[t] += 1
            followers_count[b] += len(followers[b])
            for f in followers[b]:
                following_count[f] += 1

        last_status_index: dict[int, int] = {}
        for index, author in enumerate(authors):
            last_status_index[author] = index

        def status_time(index: int) -> datetime:
            return first_status_at + timedelta(milliseconds=index * step_ms)

        t0 = time.perf_counter()
        account_rows = []
        for i in range(plan.accounts):
            username = usernames[i]
            last = last_status_index.get(i)
            account_rows.append({
                "tenant_id": tenant.id, "id": account_ids[i], "username": username,
                "username_lower": username, "domain": "", "display_name": f"Bench {username}",
                "note": "", "note_source": "", "fields": [], "uri": f"{base}/users/{username}",
                "url": f"{base}/@{username}", "locked": False, "bot": False, "group": False,
                "discoverable": True, "indexable": True, "hide_collections": False, "memorial": False,
                "statuses_count": per_account.get(i, 0), "followers_count": followers_count.get(i, 0),
                "following_count": following_count.get(i, 0),
                "last_status_at": status_time(last) if last is not None else None,
                "created_at": account_created, "updated_at": account_created, "also_known_as": [],
                "actor_type": "Person", "inbox_url": f"{base}/users/{username}/inbox",
                "outbox_url": f"{base}/users/{username}/outbox",
                "followers_url": f"{base}/users/{username}/followers",
                "featured_url": f"{base}/users/{username}/collections/featured",
                "shared_inbox_url": f"{base}/inbox",
            })
        await self.insert_core(accounts, account_rows, "accounts")
        user_rows = [{
            "tenant_id": tenant.id, "id": new_id(at=account_created + timedelta(milliseconds=b)),
            "account_id": account_ids[b],
            "email": f"{usernames[b]}@{DOMAIN}", "password_hash": None, "role": "user", "locale": "en",
            "approved": True, "confirmed_at": account_created, "disabled": False, "settings": {},
            "created_at": account_created,
        } for b in range(plan.bench_accounts)]
        await self.insert_core(users, user_rows, "users")
        log(f"accounts and users in {time.perf_counter() - t0:.1f}s")

        t0 = time.perf_counter()
        await self.drop_indexes(statuses)
        status_ids: list[int] = [0] * plan.statuses
        columns = ("tenant_id", "id", "account_id", "uri", "url", "text", "content", "spoiler_text",
                   "sensitive", "visibility", "language", "conversation_id", "local", "replies_count",
                   "reblogs_count", "favourites_count", "quotes_count", "created_at")
        done = 0
        for start in range(0, plan.statuses, plan.batch):
            records = []
            for index in range(start, min(start + plan.batch, plan.statuses)):
                author = authors[index]
                at = status_time(index)
                sid = new_id(at=at)
                status_ids[index] = sid
                username = usernames[author]
                body = f"Status {index} from {username}: the quick brown fox jumps over the lazy dog."
                records.append((tenant.id, sid, account_ids[author], f"{base}/users/{username}/statuses/{sid}",
                                f"{base}/@{username}/{sid}", body, f"<p>{body}</p>", "", False, "public", "en",
                                sid, True, 0, 0, 0, 0, at))
            await self.insert_records(statuses, columns, records)
            done += len(records)
            rate = done / (time.perf_counter() - t0)
            log(f"statuses {done:>9,}/{plan.statuses:,}  ({rate:,.0f} rows/s)")
        await self.create_indexes(statuses)
        log(f"statuses in {time.perf_counter() - t0:.1f}s")

        t0 = time.perf_counter()
        follow_rows = []
        follow_at = first_status_at - timedelta(days=1)
        for b in range(plan.bench_accounts):
            pairs = [(b, t) for t in following[b]] + [(f, b) for f in followers[b]]
            for src, dst in pairs:
                follow_rows.append({
                    "tenant_id": tenant.id, "id": new_id(at=follow_at + timedelta(milliseconds=len(follow_rows))), "account_id": account_ids[src],
                    "target_account_id": account_ids[dst], "created_at": follow_at, "show_reblogs": True,
                    "notify": False, "languages": None, "uri": None,
                })
        # Two benchmark accounts may pick the same follower; the pair is unique.
        seen: set[tuple[int, int]] = set()
        unique_follows = []
        for row in follow_rows:
            pair = (row["account_id"], row["target_account_id"])
            if pair not in seen:
                seen.add(pair)
                unique_follows.append(row)
        await self.insert_core(follows, unique_follows, "follows")
        log(f"{len(unique_follows):,} follows in {time.perf_counter() - t0:.1f}s")

        # Home feeds of the benchmark accounts: every status of the accounts they
        # follow and their own, as the fan-out job writes them.
        t0 = time.perf_counter()
        by_author: dict[int, list[int]] = {}
        for index, author in enumerate(authors):
            by_author.setdefault(author, []).append(index)
        feed_rows: list[tuple[int, int, int, int]] = []
        total_feed = 0
        for b in range(plan.bench_accounts):
            for author in [b, *following[b]]:
                for index in by_author.get(author, ()):
                    feed_rows.append((tenant.id, account_ids[b], status_ids[index], account_ids[author]))
            if len(feed_rows) >= plan.batch or b == plan.bench_accounts - 1:
                await self.insert_records(home_feed, ("tenant_id", "account_id", "status_id", "author_id"),
                                          feed_rows)
                total_feed += len(feed_rows)
                log(f"home_feed {total_feed:>9,} rows (after account {b + 1}/{plan.bench_accounts})")
                feed_rows = []
        log(f"home feeds in {time.perf_counter() - t0:.1f}s")

        if self.is_pg:
            t0 = time.perf_counter()
            async with self.c.db.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
            log(f"VACUUM ANALYZE in {time.perf_counter() - t0:.1f}s")
        else:
            async with self.c.db.write() as conn:
                await conn.execute(text("ANALYZE"))

        async with self.c.db.write() as conn:
            row = (await conn.execute(select(tenants.c.settings).where(tenants.c.id == tenant.id))).one()
            await conn.execute(update(tenants).where(tenants.c.id == tenant.id)
                               .values(settings={**row.settings, "bench_seed": plan.marker()}))
        self.c.tenants.invalidate()
        log(f"seeded in {time.perf_counter() - started:.1f}s")
        result = await self.c.tenants.by_domain(DOMAIN)
        assert result is not None
        return result

    async def insert_core(self, table: Any, rows: list[dict[str, Any]], label: str) -> None:
        for part in chunks(rows, self.plan.batch):
            async with self.c.db.write() as conn:
                await self._fast(conn)
                await conn.execute(table.insert(), list(part))
            log(f"{label}: {len(part):,} rows")

    async def insert_records(self, table: Any, columns: Sequence[str], records: list[tuple[Any, ...]]) -> None:
        """Positional records: COPY on PostgreSQL, Core executemany on SQLite."""
        if not records:
            return
        async with self.c.db.write() as conn:
            if self.is_pg:
                raw = await conn.get_raw_connection()
                await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                    table.name, records=records, columns=list(columns))
            else:
                # The driver's executemany without SQLAlchemy's per-row type processing; values are
                # stored as SQLAlchemy stores them on SQLite (see _sqlite_value).
                await self._fast(conn)
                sql = str(table.insert().compile(dialect=conn.dialect, column_keys=list(columns)))
                await conn.exec_driver_sql(sql, [tuple(_sqlite_value(v) for v in r) for r in records])

    async def drop_indexes(self, table: Any) -> None:
        """Secondary indexes cost more row by row than built once at the end."""
        async with self.c.db.write() as conn:
            for index in table.indexes:
                await conn.run_sync(lambda sync, index=index: index.drop(sync, checkfirst=True))

    async def create_indexes(self, table: Any) -> None:
        t0 = time.perf_counter()
        async with self.c.db.write() as conn:
            await self._fast(conn)
            for index in table.indexes:
                await conn.run_sync(lambda sync, index=index: index.create(sync, checkfirst=True))
        log(f"{table.name}: indexes built in {time.perf_counter() - t0:.1f}s")

    async def _fast(self, conn: AsyncConnection) -> None:
        if not self.is_pg:
            # Only for the load: a crash mid-seed means --reset anyway.
            await conn.exec_driver_sql("PRAGMA cache_size=-400000")

    # -- tokens ---------------------------------------------------------------------

    async def fresh_tokens(self, tenant: Tenant) -> tuple[list[str], list[int]]:
        """Replace the bench app's tokens with new ones, one per benchmark account."""
        async with self.c.db.write() as conn:
            app_id = (await conn.execute(select(oauth_apps.c.id).where(
                oauth_apps.c.tenant_id == tenant.id, oauth_apps.c.name == APP_NAME))).scalar()
            if app_id is None:
                app_id = new_id()
                await conn.execute(oauth_apps.insert().values(
                    tenant_id=tenant.id, id=app_id, name=APP_NAME, client_id=secrets.token_urlsafe(32),
                    client_secret=secrets.token_urlsafe(32), redirect_uris=["urn:ietf:wg:oauth:2.0:oob"],
                    scopes=SCOPES, created_at=datetime.now(UTC)))
            await conn.execute(delete(oauth_tokens).where(oauth_tokens.c.tenant_id == tenant.id,
                                                          oauth_tokens.c.app_id == app_id))
            rows = (await conn.execute(
                select(users.c.id, users.c.account_id).join(accounts, (accounts.c.tenant_id == users.c.tenant_id)
                                                            & (accounts.c.id == users.c.account_id))
                .where(users.c.tenant_id == tenant.id, accounts.c.username_lower.like("bench%"))
                .order_by(accounts.c.username_lower))).all()
            tokens = []
            for row in rows:
                raw = secrets.token_urlsafe(32)
                tokens.append(raw)
                await conn.execute(oauth_tokens.insert().values(
                    tenant_id=tenant.id, id=new_id(), token_hash=hash_secret(raw), app_id=app_id,
                    user_id=row.id, scopes=SCOPES, created_at=datetime.now(UTC)))
        return tokens, [r.account_id for r in rows]


async def ensure_seeded(settings: Settings, plan: Plan | None = None, *, reset: bool = False) -> Seeded:
    """Reuse the bench database when it holds a finished seed of `plan` under today's schema;
    otherwise (re)seed it. A database holding other tenants is never dropped without `reset`."""
    plan = plan or Plan()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(2):
        await _drop_database(settings, reset=reset)
        c = Container(settings)
        try:
            seeder = Seeder(c, plan)
            state, tenant = await seeder.existing()
            if state == "foreign":
                raise SystemExit(f"{settings.database_url} holds tenants other than {DOMAIN}; pick another "
                                 "database or pass --reset to drop it")
            if state == "stale":
                if attempt:
                    raise SystemExit("the bench database is still stale after a reset")
                log("the bench database holds an unfinished seed, another plan or an older schema: reseeding")
                reset = True
                continue
            if tenant is None:
                tenant = await seeder.seed()
            else:
                log(f"reusing the seeded database ({plan.accounts:,} accounts, {plan.statuses:,} statuses)")
            tokens, account_ids = await seeder.fresh_tokens(tenant)
            return Seeded(settings.database_url, settings.data_dir, tenant, tokens, account_ids)
        finally:
            await c.close()
    raise AssertionError("unreachable")


async def _drop_database(settings: Settings, *, reset: bool) -> None:
    if not settings.is_sqlite:
        await _ensure_pg_database(settings.database_url, reset=reset)
    elif reset:
        _drop_sqlite_files(settings.database_url)
    if reset:
        log("reset: dropped the old bench data")


def _drop_sqlite_files(url: str) -> None:
    path = url.split(":///", 1)[1]
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def _ensure_pg_database(url: str, *, reset: bool) -> None:
    """Create the database when the server has none of that name; with `reset`, drop and recreate it."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    connect = {"host": parsed.host, "port": parsed.port, "user": parsed.username, "password": parsed.password}
    name = parsed.database
    admin = await asyncpg.connect(database="postgres", **connect)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and reset:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
            log(f"created database {name}")
    finally:
        await admin.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", help="overrides the default database of --db")
    parser.add_argument("--reset", action="store_true", help="drop the existing bench data first")
    parser.add_argument("--accounts", type=int, default=Plan.accounts)
    parser.add_argument("--statuses", type=int, default=Plan.statuses)
    parser.add_argument("--bench-accounts", type=int, default=Plan.bench_accounts)
    parser.add_argument("--following", type=int, default=Plan.following)
    return parser.parse_args(argv)


def plan_from_args(args: argparse.Namespace) -> Plan:
    plan = Plan(accounts=args.accounts, statuses=args.statuses, bench_accounts=args.bench_accounts,
                following=args.following)
    if plan.accounts < plan.bench_accounts + max(plan.following, plan.followers):
        raise SystemExit("--accounts must exceed --bench-accounts plus the follows per benchmark account")
    return plan


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = database_settings(args.db, args.database_url)
    seeded = asyncio.run(ensure_seeded(settings, plan_from_args(args), reset=args.reset))
    print(f"tenant {seeded.tenant.domain} (id {seeded.tenant.id}) ready at {seeded.database_url}; "
          f"{len(seeded.tokens)} benchmark tokens issued")
    return 0


if __name__ == "__main__":
    sys.exit(main())
