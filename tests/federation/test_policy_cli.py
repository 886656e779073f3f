"""`steward domain-blocks`, `domain-allows` and `federation-mode`, through the command's entry point."""

from __future__ import annotations

from pathlib import Path

from tests.admin.test_blocklists_cli import steward


def test_domain_policy_commands(tmp_path: Path) -> None:
    assert steward(tmp_path, "migrate").returncode == 0
    for domain in ("one.test", "two.test"):
        assert steward(tmp_path, "tenant", "create", domain, "--name", domain).returncode == 0
    r = steward(tmp_path, "domain-blocks", "add", "one.test", "evil.example", "--severity", "suspend")
    assert r.returncode == 1 and "owner or admin" in r.stderr  # the change is recorded as someone's
    assert steward(tmp_path, "user", "create", "one.test", "boss", "--email", "b@one.test",
                   "--role", "owner").returncode == 0
    r = steward(tmp_path, "domain-blocks", "add", "one.test", "Evil.Example", "--severity", "suspend",
                "--reject-reports")
    assert r.returncode == 0 and "evil.example" in r.stdout, r.stderr
    r = steward(tmp_path, "domain-blocks", "add", "one.test", "loud.example", "--reject-media")
    assert r.returncode == 0, r.stderr
    assert steward(tmp_path, "domain-blocks", "add", "one.test", "evil.example").returncode == 1  # already blocked
    assert steward(tmp_path, "domain-blocks", "add", "one.test", "not a domain").returncode == 1
    listed = steward(tmp_path, "domain-blocks", "list", "one.test").stdout.splitlines()
    assert listed == ["evil.example\tsuspend reject_reports", "loud.example\tsilence reject_media"]
    assert steward(tmp_path, "domain-blocks", "list", "two.test").stdout == ""  # per tenant
    assert steward(tmp_path, "domain-blocks", "remove", "one.test", "loud.example").returncode == 0
    assert steward(tmp_path, "domain-blocks", "remove", "one.test", "loud.example").returncode == 1
    assert steward(tmp_path, "domain-blocks", "list", "one.test").stdout.splitlines() == [
        "evil.example\tsuspend reject_reports"]

    assert "open" in steward(tmp_path, "federation-mode", "one.test").stdout
    assert "limited" in steward(tmp_path, "federation-mode", "one.test", "limited").stdout
    assert "open" in steward(tmp_path, "federation-mode", "two.test").stdout
    assert steward(tmp_path, "domain-allows", "add", "one.test", "friend.example").returncode == 0
    assert steward(tmp_path, "domain-allows", "list", "one.test").stdout.split() == ["friend.example"]
    assert steward(tmp_path, "domain-allows", "remove", "one.test", "friend.example").returncode == 0
    assert steward(tmp_path, "domain-allows", "list", "one.test").stdout == ""
    assert steward(tmp_path, "domain-blocks", "list", "nowhere.test").returncode == 1
