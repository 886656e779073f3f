"""Models and migrations agree: upgrading an empty database to head gives exactly
the tables of db/tables.py."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from steward.container import Container
from steward.db.tables import metadata


async def test_migrations_match_tables(container: Container) -> None:
    def diff(sync_conn):  # type: ignore[no-untyped-def]
        return compare_metadata(MigrationContext.configure(sync_conn), metadata)

    async with container.db.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []
