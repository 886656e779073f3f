"""`steward domain-blocks import|export` and `steward blocklist-subscriptions`."""

from __future__ import annotations

import contextlib
import http.server
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from steward.cli import main


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def steward(tmp: Path, *args: str) -> Result:
    """The steward command's own entry point, in this process (a subprocess per
    call costs seconds of start-up): its exit status and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STEWARD_DATA_DIR", str(tmp))
        mp.setenv("STEWARD_ALLOW_PRIVATE_ADDRESSES", "1")
        mp.delenv("STEWARD_DATABASE_URL", raising=False)  # an empty SQLite database of its own
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    for domain in ("a.test", "b.test"):
        assert steward(tmp, "tenant", "create", domain, "--name", domain).returncode == 0
    assert steward(tmp, "user", "create", "a.test", "boss", "--email", "boss@a.test", "--role", "owner").returncode == 0
    assert steward(tmp, "user", "create", "a.test", "mo", "--email", "mo@a.test", "--role", "moderator"
                   ).returncode == 0
    assert steward(tmp, "user", "create", "b.test", "bea", "--email", "bea@b.test", "--role", "admin").returncode == 0
    return tmp


@pytest.fixture
def list_server() -> Iterator[dict[str, bytes]]:
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    files["__base__"] = f"http://127.0.0.1:{server.server_address[1]}".encode()
    yield files
    server.shutdown()
    server.server_close()


def test_import_with_progress_dry_run_and_export(home: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_text("#domain,#severity,#reject_media\n" + "".join(f"d{i}.example,silence,true\n" for i in range(1200)))
    r = steward(home, "domain-blocks", "import", "a.test", str(big), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "1200 to add" in r.stdout and "dry run: nothing changed" in r.stdout
    assert steward(home, "domain-blocks", "list", "a.test").stdout.strip() == ""
    r = steward(home, "domain-blocks", "import", "a.test", str(big))
    assert r.returncode == 0, r.stderr
    assert "read 1200 domains" in r.stdout and "applied 500/1200" in r.stdout and "applied 1200/1200" in r.stdout
    out = tmp_path / "out.csv"
    r = steward(home, "domain-blocks", "export", "a.test", str(out))
    assert r.returncode == 0 and "exported 1200" in r.stdout
    lines = out.read_text().splitlines()
    assert lines[0].startswith("#domain,#severity") and "d0.example,silence,true,false,,false" in lines
    # Tenant b sees none of it.
    assert steward(home, "domain-blocks", "export", "b.test", "-").stdout.strip().count("\n") == 0


def test_bad_files_and_actors(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("#domain,#severity\nok.example,suspend\nworse.example,obliterate\n")
    r = steward(home, "domain-blocks", "import", "b.test", str(bad))
    assert r.returncode == 1 and "line 3" in r.stderr and "obliterate" in r.stderr
    assert "ok.example" not in steward(home, "domain-blocks", "export", "b.test", "-").stdout
    r = steward(home, "domain-blocks", "import", "b.test", str(tmp_path / "missing.csv"))
    assert r.returncode == 1 and "no file" in r.stderr
    good = tmp_path / "good.csv"
    good.write_text("fine.example\n")
    r = steward(home, "domain-blocks", "import", "a.test", str(good), "--as", "mo")
    assert r.returncode == 1 and "may not manage federation" in r.stderr, r.stderr[-1500:]
    r = steward(home, "domain-blocks", "import", "a.test", str(good), "--as", "bea")  # b's admin, not a's
    assert r.returncode == 1 and "no local user" in r.stderr


def test_subscription_commands(home: Path, list_server: dict[str, bytes]) -> None:
    base = list_server["__base__"].decode()
    list_server["/tier0.csv"] = b"#domain,#severity\nnasty.example,suspend\nfriend.example,suspend\n"
    r = steward(home, "blocklist-subscriptions", "subscribe", "b.test", f"{base}/tier0.csv",
                "--exclude", "friend.example", "--max-severity", "silence")
    assert r.returncode == 0, r.stderr
    assert "pending_review" in r.stdout and "2 listed" in r.stdout
    sub_id = r.stdout.strip().splitlines()[-1].split("\t")[0]
    r = steward(home, "blocklist-subscriptions", "review", "b.test", sub_id)
    assert "+ nasty.example\tsilence" in r.stdout and "excluded by this tenant: friend.example" in r.stdout
    assert steward(home, "blocklist-subscriptions", "review", "a.test", sub_id).returncode == 1  # not a's
    assert steward(home, "blocklist-subscriptions", "apply", "a.test", sub_id).returncode == 1
    r = steward(home, "blocklist-subscriptions", "apply", "b.test", sub_id)
    assert r.returncode == 0 and "1 to add" in r.stdout, r.stderr
    assert "nasty.example\tsilence" in steward(home, "domain-blocks", "list", "b.test").stdout
    list_server["/tier0.csv"] = b"\x00\x01 not a list"
    r = steward(home, "blocklist-subscriptions", "refresh", "b.test", sub_id)
    assert r.returncode == 1 and "binary" in r.stderr
    assert "last error" in steward(home, "blocklist-subscriptions", "list", "b.test").stdout
    assert steward(home, "blocklist-subscriptions", "list", "a.test").stdout.strip() == ""
    assert steward(home, "blocklist-subscriptions", "remove", "b.test", sub_id).returncode == 0
    assert steward(home, "blocklist-subscriptions", "list", "b.test").stdout.strip() == ""
