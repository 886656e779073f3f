"""fediblockhole (the real tool, from PyPI) merges two blocklists, pushes the
result to a Steward tenant through the Mastodon admin API, and reads it back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import LiveServer

# The live server is shared with other tests: these domains are this test's own.
TAG = f"fbh{uuid.uuid4().hex[:6]}"

LIST_ONE = f"""#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
spam.{TAG}.example,suspend,true,true,Spam source,false
loud.{TAG}.example,silence,false,false,Harassment,false
both.{TAG}.example,silence,false,false,Listed twice,false
"""
# fediblockhole's own CSV form: bare headers.
LIST_TWO = f"""domain,severity,reject_media,reject_reports,public_comment,obfuscate
both.{TAG}.example,suspend,true,false,Listed twice,false
quiet.{TAG}.example,noop,true,false,Media only,false
*.hidden.{TAG}.example,suspend,false,false,Obfuscated,true
"""


def ours(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """This test's blocks, by domain without the tag."""
    return {b["domain"].replace(f".{TAG}", ""): b for b in blocks if b["domain"].endswith(f".{TAG}.example")}


def _sync_command() -> list[str]:
    script = Path(sys.executable).with_name("fediblock-sync")
    if script.exists():
        return [str(script)]
    found = shutil.which("fediblock-sync")
    if found is None:
        pytest.fail("fediblockhole is not installed (pip install -e '.[test]')")
    return [found]


def _admin_token(server: LiveServer) -> str:
    server.cli("user", "create", server.domain, "blockhole", "--email", "blockhole@example.test",
               "--password", "correct horse battery", "--role", "admin")
    return server.cli("token", "create", server.domain, "blockhole", "--scopes",
                      "read write admin:read admin:write")


def _run_sync(tmp_path: Path, server: LiveServer, token: str) -> subprocess.CompletedProcess[str]:
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    one.write_text(LIST_ONE)
    two.write_text(LIST_TWO)
    config = tmp_path / "fediblockhole.conf.toml"
    config.write_text(f"""
blocklist_url_sources = [
  {{ url = '{one.as_uri()}', format = 'mastodon_csv' }},
  {{ url = '{two.as_uri()}', format = 'csv' }},
]
blocklist_instance_destinations = [
  {{ domain = '{server.domain}', token = '{token}', scheme = 'http', max_followed_severity = 'silence' }},
]
no_fetch_instance = true
mergeplan = 'max'
import_fields = ['public_comment', 'reject_media', 'reject_reports', 'obfuscate']
savedir = '{tmp_path}'
blocklist_savefile = '{tmp_path / "merged.csv"}'
""")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PROXY") and not k.endswith("_proxy")}
    return subprocess.run([*_sync_command(), "-c", str(config)], capture_output=True, text=True, timeout=240,
                          check=False, env=env, cwd=tmp_path)


def test_fediblockhole_pushes_a_merged_list_and_reads_it_back(live_server: LiveServer, tmp_path: Path) -> None:
    token = _admin_token(live_server)
    headers = {"Authorization": f"Bearer {token}"}
    api = f"{live_server.base_url}/api/v1/admin/domain_blocks"
    # A block the tenant already has: the merged list raises it from noop to silence.
    r = httpx.post(api, headers=headers, data={"domain": f"loud.{TAG}.example", "severity": "noop"}, timeout=10)
    assert r.status_code == 200, r.text

    first = _run_sync(tmp_path, live_server, token)
    assert first.returncode == 0, first.stderr[-3000:]
    blocks = ours(httpx.get(api, headers=headers, timeout=10).json())
    assert sorted(blocks) == ["both.example", "loud.example", "quiet.example", "spam.example"]
    assert blocks["spam.example"]["severity"] == "suspend" and blocks["spam.example"]["reject_media"] is True
    assert blocks["spam.example"]["reject_reports"] is True
    assert blocks["spam.example"]["public_comment"] == "Spam source"
    # Merged with 'max': the harsher severity and either list's media rejection.
    assert blocks["both.example"]["severity"] == "suspend" and blocks["both.example"]["reject_media"] is True
    assert blocks["quiet.example"]["severity"] == "noop" and blocks["quiet.example"]["reject_media"] is True
    assert blocks["loud.example"]["severity"] == "silence" and blocks["loud.example"]["id"] == r.json()["id"]

    # A second run finds nothing to change.
    second = _run_sync(tmp_path, live_server, token)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Change detected" not in second.stderr and "Adding new block" not in second.stderr
    again = ours(httpx.get(api, headers=headers, timeout=10).json())
    assert again == blocks

    # The same blocks in Steward's own export.
    exported = httpx.get(f"{live_server.base_url}/api/v1/admin/steward/domain_blocks/export", headers=headers,
                         timeout=10)
    assert exported.status_code == 200
    assert f"both.{TAG}.example,suspend,true,false,Listed twice,false" in exported.text.splitlines()
