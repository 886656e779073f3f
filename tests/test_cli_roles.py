"""`steward role ...` through the command's entry point: the same rules as the admin API, and
a tenant's roles out of reach from another tenant."""

from __future__ import annotations

from pathlib import Path

from tests.admin.test_blocklists_cli import steward


def test_cli_custom_roles(tmp_path: Path) -> None:
    assert steward(tmp_path, "migrate").returncode == 0
    for domain in ("a.example.test", "b.example.test"):
        assert steward(tmp_path, "tenant", "create", domain, "--name", domain).returncode == 0
    for name, role in (("olga", "owner"), ("max", "moderator"), ("uma", "user")):
        r = steward(tmp_path, "user", "create", "a.example.test", name, "--email", f"{name}@a.test", "--role", role)
        assert r.returncode == 0, r.stderr
    assert steward(tmp_path, "user", "create", "b.example.test", "bo", "--email", "bo@b.test",
                   "--role", "owner").returncode == 0

    r = steward(tmp_path, "role", "create", "a.example.test", "Triage", "--permissions", "manage_reports",
                "--position", "50")
    assert r.returncode == 0, r.stderr
    role_id = r.stdout.split("\t")[0]
    assert "manage_reports" in r.stdout and "Triage" in r.stdout
    r = steward(tmp_path, "role", "assign", "a.example.test", "uma", role_id)
    assert r.returncode == 0 and f"custom:{role_id}" in r.stdout, r.stderr
    r = steward(tmp_path, "role", "update", "a.example.test", role_id, "--permissions", "manage_reports,manage_users")
    assert r.returncode == 0 and "manage_users" in r.stdout, r.stderr
    assert "Triage" in steward(tmp_path, "role", "list", "a.example.test").stdout

    # Bad input and rules: clear errors, nothing changed.
    r = steward(tmp_path, "role", "create", "a.example.test", "Bad", "--permissions", "fly", "--position", "1")
    assert r.returncode == 1 and "Unknown permission" in r.stderr
    r = steward(tmp_path, "role", "create", "a.example.test", "Mods2", "--position", "1", "--as", "max")
    assert r.returncode == 1 and "not allowed" in r.stderr
    r = steward(tmp_path, "role", "assign", "a.example.test", "ghost", role_id)
    assert r.returncode == 1 and "no local user" in r.stderr
    # Tenant B's owner cannot see, change or hand out tenant A's role.
    assert steward(tmp_path, "role", "list", "b.example.test").stdout.strip() == ""
    r = steward(tmp_path, "role", "update", "b.example.test", role_id, "--name", "Mine")
    assert r.returncode == 1 and "not found" in r.stderr
    r = steward(tmp_path, "role", "assign", "b.example.test", "bo", role_id)
    assert r.returncode == 1
    r = steward(tmp_path, "role", "assign", "b.example.test", "uma", "moderator")
    assert r.returncode == 1 and "no local user" in r.stderr

    assert steward(tmp_path, "role", "delete", "a.example.test", role_id).returncode == 0
    assert steward(tmp_path, "role", "list", "a.example.test").stdout.strip() == ""
