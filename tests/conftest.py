"""Test set-up. The database is SQLite in a temporary folder, or PostgreSQL when
STEWARD_TEST_DATABASE_URL names one (CI runs the suite both ways)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from steward.app import create_app
from steward.container import Container
from steward.db.migrate import upgrade_head
from steward.settings import Settings, normalise_database_url
from tests.live import LiveServer, live_server_fixture
from tests.world import World


def _database_url(tmp: Path) -> str:
    url = os.environ.get("STEWARD_TEST_DATABASE_URL")
    return normalise_database_url(url) if url else f"sqlite+aiosqlite:///{tmp / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("steward")
    return Settings(data_dir=tmp, database_url=_database_url(tmp), media_dir=tmp / "media",
                    allow_private_addresses=True, run_jobs_in_process=False, default_scheme="http")


async def _fresh_pg_database(settings: Settings) -> Settings:
    """A database of its own for this run, so parallel runs on one server never meet."""
    url = make_url(settings.database_url)
    name = f"{url.database}_{os.getpid()}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return dataclasses.replace(settings, database_url=url.set(database=name).render_as_string(hide_password=False))


@pytest.fixture(scope="session")
async def container(settings: Settings) -> AsyncIterator[Container]:
    if not settings.is_sqlite:
        settings = await _fresh_pg_database(settings)
    c = Container(settings)
    await upgrade_head(c.db.engine)
    await c.hub.start(c)
    yield c
    await c.hub.stop()
    await c.close()


@pytest.fixture(scope="session")
def app(container: Container):  # type: ignore[no-untyped-def]
    return create_app(container=container, run_jobs=False)


@pytest.fixture
async def world(container: Container, app) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    w = World(container, app)
    await w.build()
    yield w
    await w.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real `steward serve` process for the whole run (tests/live.py)."""
    yield from live_server_fixture(tmp_path_factory)
