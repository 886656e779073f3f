"""Steward servers federating with each other over TLS on loopback, driven by Mastodon.py.

Nothing on the machine changes: each server gets a certificate from a test CA
(`trustme`), trusts that CA through `SSL_CERT_FILE`, and finds the other's name
through `STEWARD_HOSTS_FILE` (the guarded resolver's test-only override). The
test process reaches the same names through a wrapper around
`socket.getaddrinfo` for those names only, and gives `requests` the CA.

Each server listens on port 443 of a loopback address of its own picked at
random in 127/8 (Linux answers all of it), so domains carry no port and
parallel runs do not meet; without the right to bind 443 it falls back to a
high port and `name:port` domains.

Two topologies, each a session-scoped `Federation` with sides `a` and `b`:
- "two-processes": alpha.test and beta.test in two `steward serve` processes,
  each with its own data dir and (on PostgreSQL) its own database;
- "one-process": gamma.test and delta.test, two tenants of one process,
  federating with each other through the same HTTPS path.
When a test using them fails, the servers' log lines written during the test
are added to its report."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
import trustme
from mastodon import Mastodon

from tests.live import _create_pg_database

T = TypeVar("T")
PASSWORD = "correct horse battery"
USER_SCOPES = ["read", "write", "follow", "push"]
ADMIN_SCOPES = [*USER_SCOPES, "admin:read", "admin:write"]

TOPOLOGIES = {
    "two-processes": [["alpha.test"], ["beta.test"]],
    "one-process": [["gamma.test", "delta.test"]],
}


# --- name resolution for the test process ----------------------------------------------------------

@contextlib.contextmanager
def resolve_names(names: dict[str, str]) -> Iterator[None]:
    """While active, `socket.getaddrinfo` answers `names` (name -> address) from the
    map and everything else as before; requests/urllib3 and httpx resolve through it."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode()
        if isinstance(host, str) and host.lower().rstrip(".") in names:
            host = names[host.lower().rstrip(".")]
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = real


def _bindable(address: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def pick_address(taken: set[str], try_443: bool = True) -> tuple[str, int]:
    """A loopback address of this run's own, with port 443 when it can be bound
    (STEWARD_TEST_HIGH_PORTS=1 skips 443, to exercise the fallback as root)."""
    rng = random.Random()
    for _ in range(50):
        address = f"127.{rng.randint(16, 250)}.{rng.randint(0, 255)}.{rng.randint(2, 250)}"
        if address in taken:
            continue
        if try_443 and _bindable(address, 443):
            return address, 443
        if _bindable(address, 0):
            # No right to bind 443 (not root): a high port, and domains with the port.
            with socket.socket() as s:
                s.bind((address, 0))
                return address, int(s.getsockname()[1])
    raise RuntimeError("no free loopback address found")


# --- one server process ------------------------------------------------------------------------------

@dataclass
class ServerProcess:
    names: list[str]
    address: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def domain(self, name: str) -> str:
        return name if self.port == 443 else f"{name}:{self.port}"

    def cli(self, *args: str) -> str:
        r = subprocess.run([sys.executable, "-m", "steward.cli", *args], env=self.env, capture_output=True,
                           text=True, timeout=120, check=False)
        assert r.returncode == 0, f"steward {' '.join(args)}: {r.stderr}"
        return r.stdout.strip()

    def start(self, cert: Path, key: Path, session: requests.Session) -> None:
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "steward.cli", "serve", "--host", self.address, "--port", str(self.port),
             "--tls-cert", str(cert), "--tls-key", str(key), "--log-level", "info", "--access-log"],
            env=self.env, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        url = f"https://{self.domain(self.names[0])}/api/v1/instance"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text(errors='replace')}")
            try:
                if session.get(url, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log.read_text(errors='replace')}")

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait_or_kill(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def stop(self) -> None:
        self.terminate()
        self.wait_or_kill(10)

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0


# --- the sides a test talks to -----------------------------------------------------------------------

@dataclass
class Side:
    """One tenant (one Fediverse server, as the other side sees it)."""

    name: str
    server: ServerProcess
    http: requests.Session
    admin_token: str = ""
    _app: tuple[str, str] | None = None

    @property
    def domain(self) -> str:
        return self.server.domain(self.name)

    @property
    def base_url(self) -> str:
        return f"https://{self.domain}"

    def handle(self, username: str) -> str:
        return f"{username}@{self.domain}"

    def client(self, token: str | None = None) -> Mastodon:
        return Mastodon(api_base_url=self.base_url, access_token=token, version_check_mode="none",
                        request_timeout=30, session=self.http)

    def admin(self) -> Mastodon:
        return self.client(self.admin_token)

    def _app_keys(self) -> tuple[str, str]:
        if self._app is None:
            self._app = Mastodon.create_app("federation-pair", api_base_url=self.base_url, session=self.http,
                                            scopes=ADMIN_SCOPES, to_file=None)
        return self._app

    def _app_client(self) -> Mastodon:
        client_id, client_secret = self._app_keys()
        return Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=self.base_url,
                        version_check_mode="none", request_timeout=30, session=self.http)

    def log_in(self, username: str, scopes: list[str]) -> str:
        """A token by OAuth's password grant (the tenants allow it)."""
        return str(self._app_client().log_in(username, PASSWORD, scopes=scopes))

    def user(self, username: str) -> Mastodon:
        """Signs up a new user through the client API and returns a client logged in as them."""
        token = self._app_client().create_account(username, PASSWORD, f"{username}@{self.name}", agreement=True,
                                                  scopes=USER_SCOPES)
        assert token, f"sign-up of {username} on {self.domain} failed"
        return self.client(token)


@dataclass
class Federation:
    topology: str
    a: Side
    b: Side
    servers: list[ServerProcess]
    _counter: int = 0
    _run: str = field(default_factory=lambda: uuid.uuid4().hex[:4])

    def username(self, base: str) -> str:
        """A username not used before in this run (tests share the servers)."""
        self._counter += 1
        return f"{base}{self._counter}{self._run}"


# --- setting it all up -------------------------------------------------------------------------------

@dataclass
class Harness:
    tmp: Path
    ca: trustme.CA
    ca_file: Path
    hosts_file: Path
    http: requests.Session
    plan: dict[str, list[ServerProcess]]
    started: dict[str, Federation] = field(default_factory=dict)
    pg_url: str | None = None

    def federation(self, topology: str) -> Federation:
        if topology not in self.started:
            self.started[topology] = self._start(topology)
        return self.started[topology]

    def _start(self, topology: str) -> Federation:
        servers = self.plan[topology]
        # The servers of a topology are prepared and started side by side: the CLI calls dominate.
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(self._prepare_and_start, servers))
        sides = [Side(name, server, self.http) for server in servers for name in server.names]
        for side in sides:
            side.admin_token = side.log_in("admin_" + side.name.split(".")[0], ADMIN_SCOPES)
        return Federation(topology, sides[0], sides[1], servers)

    def _prepare_and_start(self, server: ServerProcess) -> None:
        data = server.log.parent
        cert = self.ca.issue_cert(*server.names)
        cert_file, key_file = data / "cert.pem", data / "key.pem"
        cert_file.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        cert.private_key_pem.write_to_path(str(key_file))
        if self.pg_url:
            name = f"steward_fed_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            server.env["STEWARD_DATABASE_URL"] = asyncio.run(_create_pg_database(self.pg_url, name))
        for name in server.names:
            short = name.split(".")[0]
            server.cli("tenant", "create", server.domain(name), "--name", short.capitalize(), "--password-grant")
            server.cli("user", "create", server.domain(name), f"admin_{short}", "--email", f"admin@{name}",
                       "--password", PASSWORD, "--role", "admin")
        server.start(cert_file, key_file, self.http)

    def stop(self) -> None:
        running = [s for servers in self.plan.values() for s in servers if s.process is not None]
        for server in running:
            server.terminate()
        deadline = time.monotonic() + 10
        for server in running:
            server.wait_or_kill(max(0.1, deadline - time.monotonic()))


def make_harness(tmp: Path) -> Harness:
    ca = trustme.CA()
    ca_file = tmp / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    plan: dict[str, list[ServerProcess]] = {}
    taken: set[str] = set()
    hosts: dict[str, str] = {}
    for topology, groups in TOPOLOGIES.items():
        plan[topology] = []
        for names in groups:
            address, port = pick_address(taken, try_443=os.environ.get("STEWARD_TEST_HIGH_PORTS") != "1")
            taken.add(address)
            data = tmp / names[0].split(".")[0]
            data.mkdir()
            hosts.update(dict.fromkeys(names, address))
            plan[topology].append(ServerProcess(names, address, port, {}, data / "server.log"))
    hosts_file = tmp / "hosts"
    hosts_file.write_text("".join(f"{address} {name}\n" for name, address in hosts.items()), encoding="utf-8")
    for servers in plan.values():
        for server in servers:
            env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
            env.update({"STEWARD_DATA_DIR": str(server.log.parent), "STEWARD_ALLOW_PRIVATE_ADDRESSES": "1",
                        "STEWARD_HOSTS_FILE": str(hosts_file), "STEWARD_SCHEME": "https",
                        "SSL_CERT_FILE": str(ca_file)})
            server.env = env
    http = requests.Session()
    http.verify = str(ca_file)
    http.trust_env = False  # no proxy, no REQUESTS_CA_BUNDLE from the environment
    return Harness(tmp, ca, ca_file, hosts_file, http, plan,
                   pg_url=os.environ.get("STEWARD_TEST_DATABASE_URL") or None)


class _LogsOnFailure:
    """A pytest plugin registered while the harness lives: a failed test that used
    a federation gets the servers' log lines written during it in its report."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.offsets: dict[str, dict[Path, int]] = {}

    def _servers(self) -> list[ServerProcess]:
        return [s for servers in self.harness.plan.values() for s in servers]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]
                                  ) -> Generator[None, Any, None]:
        outcome = yield
        report = outcome.get_result()
        if "fed" not in getattr(item, "fixturenames", ()):
            return
        if call.when == "setup":
            self.offsets[item.nodeid] = {s.log: s.log_size() for s in self._servers()}
        if report.failed:
            for server in self._servers():
                start = self.offsets.get(item.nodeid, {}).get(server.log, 0)
                if server.log_size() > start:
                    with server.log.open("rb") as f:
                        f.seek(start)
                        text = f.read()[-20000:].decode(errors="replace")
                    report.sections.append((f"steward log {'+'.join(server.names)}", text))


def harness_fixture(tmp_path_factory: pytest.TempPathFactory, config: pytest.Config) -> Iterator[Harness]:
    harness = make_harness(tmp_path_factory.mktemp("federation"))
    plugin = _LogsOnFailure(harness)
    config.pluginmanager.register(plugin, "steward-federation-logs")
    names = {name: server.address for servers in harness.plan.values() for server in servers
             for name in server.names}
    try:
        with resolve_names(names):
            yield harness
    finally:
        harness.http.close()
        harness.stop()
        config.pluginmanager.unregister(plugin)


# --- waiting for asynchronous delivery ------------------------------------------------------------

def eventually(fn: Callable[[], T], timeout: float = 30, interval: float = 0.25) -> T:
    """Calls `fn` until it returns a truthy value without raising; returns that value.
    At the deadline the last exception (an assertion, an API error) is raised."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = fn()
            if value:
                return value
            error: BaseException = AssertionError(f"still {value!r} after {timeout} s")
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"; the last one is raised at the deadline
            error = exc
        if time.monotonic() >= deadline:
            raise error
        time.sleep(interval)


# --- what a test asks of a side ------------------------------------------------------------------

def marker() -> str:
    return "m" + uuid.uuid4().hex[:12]


def resolve_account(api: Mastodon, handle: str) -> Any:
    """The account `handle` as `api`'s server knows it, fetched from its home if needed
    (Mastodon: GET /api/v2/search?resolve=true)."""
    found = [a for a in api.search_v2(handle, resolve=True, result_type="accounts").accounts if a.acct == handle]
    assert found, f"{handle} not resolved"
    return found[0]


def follow(api: Mastodon, handle: str) -> Any:
    target = resolve_account(api, handle)
    api.account_follow(target.id)
    eventually(lambda: api.account_relationships(target.id)[0].following)
    return target


def in_timeline(statuses: list[Any], text: str) -> Any:
    for status in statuses:
        if text in (status.content or "") or (status.reblog and text in (status.reblog.content or "")):
            return status
    return None


def notification(api: Mastodon, kind: str, text: str | None = None, acct: str | None = None) -> Any:
    for n in api.notifications(types=[kind], limit=40):
        if text is not None and (n.status is None or text not in n.status.content):
            continue
        if acct is not None and n.account.acct != acct:
            continue
        return n
    return None


def raw(api: Mastodon, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
    """A request Mastodon.py has no method for (Steward's own endpoints), with `api`'s token."""
    session: requests.Session = api.session
    return session.request(method, f"{api.api_base_url}{path}", json=body, timeout=30,
                           headers={"Authorization": f"Bearer {api.access_token}"})
