"""Fixtures of the end-to-end tests: Steward servers federating over TLS on loopback
(tests/federation_pair.py). Defined here once so every module shares the servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.federation_pair import TOPOLOGIES, Federation, Harness, harness_fixture


@pytest.fixture(scope="session")
def federation_harness(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[Harness]:
    yield from harness_fixture(tmp_path_factory, pytestconfig)


@pytest.fixture(scope="session", params=list(TOPOLOGIES))
def fed(request: pytest.FixtureRequest, federation_harness: Harness) -> Federation:
    """Two sides, `fed.a` and `fed.b`: two processes, or two tenants of one process."""
    return federation_harness.federation(request.param)
