"""The compat harness's seed gives the Mastodon.py suite the server it expects
(the suite itself runs from scripts/compat-mastodon-py, never in this test run)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from steward.core.errors import ApiError
from steward.core.passwords import check_password
from steward.social.accounts import find_user_by_login
from tests.compat import report
from tests.compat.seed import CLIENT_SECRET, SETUP_SQL_HASH, seed
from tests.world import World

_n = itertools.count(1)


async def _seeded(world: World) -> tuple[object, str]:
    n = next(_n)
    prefix = f"t{os.getpid()}x{n}"
    tenant = await seed(world.c, domain=f"mpy{n}-{os.getpid()}.test", token_prefix=prefix)
    return tenant, prefix


async def test_seed_tokens_users_and_app(world: World) -> None:
    tenant, prefix = await _seeded(world)
    me = world.client(tenant, f"{prefix}__MASTODON_PY_TEST_ACCESS_TOKEN")  # type: ignore[arg-type]
    r = await me.get("/api/v1/accounts/verify_credentials")
    assert r.status_code == 200, r.text
    assert r.json()["username"] == "mastodonpy_test" and r.json()["locked"] is True
    r = await world.client(tenant, f"{prefix}__MASTODON_PY_TEST_ACCESS_TOKEN_3").get(  # type: ignore[arg-type]
        "/api/v1/accounts/verify_credentials")
    assert r.json()["username"] == "mastodonpy_test_2" and r.json()["locked"] is False
    r = await world.client(tenant, f"{prefix}__MASTODON_PY_TEST_ACCESS_TOKEN_2").get(  # type: ignore[arg-type]
        "/api/v1/accounts/verify_credentials")
    assert r.json()["username"] == "admin"
    found = await find_user_by_login(world.c.db, tenant, "zerocool@example.com")  # type: ignore[arg-type]
    assert found is not None and found[0].role == "owner" and found[0].locale == "de"
    assert found[0].password_hash == SETUP_SQL_HASH
    assert not check_password("wrong password", found[0].password_hash)
    # The app's fixed credentials work for a client-credentials token.
    r = await world.client(tenant).post("/oauth/token", data={  # type: ignore[arg-type]
        "grant_type": "client_credentials", "client_id": f"{prefix}__MASTODON_PY_TEST_CLIENT_ID",
        "client_secret": CLIENT_SECRET, "scope": "read"})
    assert r.status_code == 200, r.text


async def test_seeded_tokens_stay_in_their_tenant(world: World) -> None:
    _tenant, prefix = await _seeded(world)
    # The suite's token means nothing on another tenant's host.
    r = await world.client(world.a, f"{prefix}__MASTODON_PY_TEST_ACCESS_TOKEN").get(
        "/api/v1/accounts/verify_credentials")
    assert r.status_code == 401 and "error" in r.json()


async def test_seed_refuses_a_second_tenant_on_the_same_domain(world: World) -> None:
    tenant, _prefix = await _seeded(world)
    with pytest.raises(ApiError) as err:
        await seed(world.c, domain=tenant.domain, token_prefix="again")  # type: ignore[attr-defined]
    assert err.value.status == 422 and "already hosted" in err.value.message


def test_failing_report_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite>'
        '<testcase classname="tests.test_a" name="test_ok"><properties><property name="server" value="1"/>'
        '</properties></testcase>'
        '<testcase classname="tests.test_a" name="test_bad[x]"><properties><property name="server" value="1"/>'
        '</properties><failure message="boom">trace</failure></testcase>'
        '<testcase classname="tests.test_b" name="test_local"><failure message="local">t</failure></testcase>'
        '<testcase classname="tests.test_b" name="test_skip"><skipped message="s"/></testcase>'
        '</testsuite></testsuites>')
    results = report.parse_junit(junit)
    assert [r.outcome for r in results] == ["passed", "failed", "failed", "skipped"]
    assert report.pass_rate(report.count(results, server_only=True)) == (1, 2, 0.5)
    assert report.pass_rate(report.count(results))[:2] == (1, 3)
    text = report.failing_markdown(results, "9.9.9")
    assert "- `tests/test_a.py::test_bad[x]`: unexplained: boom" in text
    assert "test_ok" not in text and "test_skip" not in text
    monkeypatch.setattr(report, "REASONS", {"tests/test_b.py": "statuses.py: no such thing",
                                            "tests/test_gone.py": "fixed long ago"})
    text = report.failing_markdown(results, "9.9.9")
    assert "- `tests/test_b.py::test_local`: statuses.py: no such thing" in text
    assert "by who can fix them: statuses.py 1, unexplained 1." in text
    assert report.stale_reasons(results) == ["tests/test_gone.py"]
    log = tmp_path / "pytest.log"
    log.write_text("....\nFAILED x\n3 failed, 5 passed, 1 skipped in 2.00s\n")
    assert report.summary_line(log) == "3 failed, 5 passed, 1 skipped in 2.00s"
