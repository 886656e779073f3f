"""The one guarded outbound HTTP client for federation.

Every request, and every redirect hop, is checked: the scheme must be https
(http too when private addresses are allowed, for tests and labs), and every
address the host resolves to must be public. The check happens inside the
connector's resolver, so the connection goes to an address that was checked
(a DNS answer that changes between check and connect cannot slip through).
Link-local, multicast, reserved and unspecified addresses are always refused;
loopback and private ones only unless `Settings.allow_private_addresses`.
Bodies are read streamed and abandoned past a size limit; requests have total
and connect timeouts."""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from steward.activitypub import vocab
from steward.activitypub.signatures import sign_request

AS2_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
AS2_TYPES = {"application/activity+json", "application/ld+json"}
USER_AGENT = "Steward (+https://github.com/steward-social)"


class TransportError(Exception):
    """An outbound request failed; `status` is the remote HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BlockedAddress(TransportError):
    pass


class TooLarge(TransportError):
    pass


class TransportTimeout(TransportError):
    pass


@dataclass(frozen=True, slots=True)
class Signer:
    key_id: str
    private_pem: str


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = vocab.MAX_BODY
    total_timeout: float = 20.0
    connect_timeout: float = 5.0
    max_redirects: int = 3


class Transport(Protocol):
    async def fetch_json(self, url: str, signer: Signer | None = None) -> dict[str, Any]: ...

    async def post_signed(self, url: str, body: bytes, key_id: str, private_pem: str) -> int: ...

    async def fetch_bytes(self, url: str, accept: str = "*/*") -> tuple[str, bytes]: ...

    async def close(self) -> None: ...


def address_allowed(address: str, allow_private: bool) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_private
    if ip.is_unspecified or ip.is_multicast or ip.is_link_local or ip.is_reserved:
        return False
    if ip.is_private or not ip.is_global:
        return allow_private
    return True


def check_url(url: str, allow_private: bool) -> str:
    """The URL when it may be requested at all (scheme, host, literal address);
    names are checked again when resolved."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError as exc:
        raise BlockedAddress("the URL cannot be read") from exc
    allowed_schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in allowed_schemes:
        raise BlockedAddress(f"the scheme {parts.scheme or '(none)'} is not allowed")
    if not host:
        raise BlockedAddress("the URL has no host")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if (host == "localhost" or host.endswith(".localhost")) and not allow_private:
            raise BlockedAddress("the host is a loopback name") from None
        return url
    if not address_allowed(host, allow_private):
        raise BlockedAddress(f"the address {host} is not allowed")
    return url


def read_hosts_file(path: str | os.PathLike[str]) -> dict[str, tuple[str, ...]]:
    """Name -> addresses from a file in /etc/hosts format (`ADDRESS NAME...`,
    `#` comments). Lines whose first field is not an IP address are skipped."""
    names: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if len(fields) < 2:
                continue
            try:
                address = str(ipaddress.ip_address(fields[0]))
            except ValueError:
                continue
            for name in fields[1:]:
                names.setdefault(name.lower().rstrip("."), []).append(address)
    return {name: tuple(addresses) for name, addresses in names.items()}


class GuardedResolver(AbstractResolver):
    """Resolves with the system resolver, then drops every address that may not
    be contacted; a name left with none fails. `hosts` (name -> addresses, for
    test harnesses) answers for its names before the system resolver; its
    addresses pass the same check."""

    def __init__(self, allow_private: bool, hosts: Mapping[str, Sequence[str]] | None = None) -> None:
        self.allow_private = allow_private
        self.hosts = dict(hosts or {})
        self._inner = aiohttp.ThreadedResolver()

    def _from_hosts(self, host: str, port: int, family: int) -> list[ResolveResult] | None:
        addresses = self.hosts.get(host.lower().rstrip("."))
        if addresses is None:
            return None
        results: list[ResolveResult] = []
        for address in addresses:
            af = socket.AF_INET6 if ":" in address else socket.AF_INET
            if family in (af, socket.AF_UNSPEC):
                results.append(ResolveResult(hostname=host, host=address, port=port, family=af,
                                             proto=socket.IPPROTO_TCP, flags=socket.AI_NUMERICHOST))
        if not results:
            raise OSError(f"{host} has no address of the wanted family in the hosts override")
        return results

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        results = self._from_hosts(host, port, family)
        if results is None:
            results = await self._inner.resolve(host, port, family)
        if any(not address_allowed(r["host"], self.allow_private) for r in results):
            # One bad address is enough: a name that also points inside is not trusted.
            raise BlockedAddress(f"{host} resolves to an address that is not allowed")
        return results

    async def close(self) -> None:
        await self._inner.close()


def ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or None)


class HttpTransport:
    """aiohttp with one pooled session (keep-alive per host), created on first use."""

    def __init__(self, allow_private: bool = False, limits: Limits | None = None,
                 hosts: Mapping[str, Sequence[str]] | None = None) -> None:
        self.allow_private = allow_private
        self.hosts = hosts
        self.limits = limits or Limits()
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(resolver=GuardedResolver(self.allow_private, self.hosts), limit=200,
                                             limit_per_host=8, ttl_dns_cache=60, ssl=ssl_context())
            timeout = aiohttp.ClientTimeout(total=self.limits.total_timeout, connect=self.limits.connect_timeout)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False,
                                                  headers={"User-Agent": USER_AGENT})
        return self._session

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        limit = self.limits.max_bytes
        if resp.content_length is not None and resp.content_length > limit:
            raise TooLarge("the response is too large")
        buf = bytearray()
        async for chunk in resp.content.iter_chunked(64 * 1024):
            buf += chunk
            if len(buf) > limit:
                raise TooLarge("the response is too large")
        return bytes(buf)

    async def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                      body: bytes | None = None, signer: Signer | None = None,
                      follow: bool = True) -> tuple[int, str, bytes]:
        """(status, content type, body) after following up to `max_redirects`
        redirects (each checked like the first URL and signed anew)."""
        session = self._client()
        for _hop in range(self.limits.max_redirects + 1):
            check_url(url, self.allow_private)
            sent = dict(headers or {})
            if signer is not None:
                sent.update(sign_request(method, url, signer.key_id, signer.private_pem, body=body))
            try:
                async with session.request(method, url, headers=sent, data=body, allow_redirects=False) as resp:
                    location = resp.headers.get("Location")
                    if follow and resp.status in {301, 302, 303, 307, 308} and location:
                        url = urljoin(url, location)
                        continue
                    data = await self._read(resp)
                    return resp.status, resp.headers.get("Content-Type", ""), data
            except BlockedAddress:
                raise
            except TimeoutError as exc:
                raise TransportTimeout(f"{method} {url} timed out") from exc
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, BlockedAddress):
                    raise exc.os_error from exc
                raise TransportError(f"{method} {url} failed: {exc}") from exc
            except aiohttp.ClientError as exc:
                raise TransportError(f"{method} {url} failed: {exc}") from exc
        raise TransportError("too many redirects")

    async def fetch_json(self, url: str, signer: Signer | None = None) -> dict[str, Any]:
        status, content_type, data = await self.request("GET", url, headers={"Accept": AS2_ACCEPT}, signer=signer)
        if status != 200:
            raise TransportError(f"GET {url} answered {status}", status)
        if content_type.split(";", 1)[0].strip().lower() not in AS2_TYPES:
            raise TransportError(f"GET {url} answered {content_type or 'no content type'}, not ActivityStreams")
        try:
            return vocab.parse_document(data, max_bytes=self.limits.max_bytes)
        except vocab.VocabError as exc:
            raise TransportError(f"GET {url}: {exc}") from exc

    async def post_signed(self, url: str, body: bytes, key_id: str, private_pem: str) -> int:
        status, _, _ = await self.request("POST", url, headers={"Content-Type": "application/activity+json"},
                                          body=body, signer=Signer(key_id, private_pem), follow=False)
        return status

    async def fetch_bytes(self, url: str, accept: str = "*/*") -> tuple[str, bytes]:
        """(content type, body) of an unsigned GET that answered 200 (a published
        file such as a blocklist), under the same guards and limits."""
        status, content_type, data = await self.request("GET", url, headers={"Accept": accept})
        if status != 200:
            raise TransportError(f"GET {url} answered {status}", status)
        return content_type, data

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@dataclass(slots=True)
class Sent:
    method: str
    url: str
    body: bytes | None = None
    key_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeTransport:
    """Answers from `documents` (url -> JSON) and records every request, for tests."""

    def __init__(self, documents: dict[str, dict[str, Any]] | None = None, post_status: int = 202) -> None:
        self.documents = dict(documents or {})
        self.post_status = post_status
        self.sent: list[Sent] = []
        # url -> (content type, body) for fetch_bytes, or an exception to raise.
        self.files: dict[str, tuple[str, bytes] | Exception] = {}

    async def fetch_json(self, url: str, signer: Signer | None = None) -> dict[str, Any]:
        headers = sign_request("GET", url, signer.key_id, signer.private_pem) if signer else {}
        self.sent.append(Sent("GET", url, None, signer.key_id if signer else None, headers))
        if url not in self.documents:
            raise TransportError(f"GET {url} answered 404", 404)
        return self.documents[url]

    async def post_signed(self, url: str, body: bytes, key_id: str, private_pem: str) -> int:
        headers = sign_request("POST", url, key_id, private_pem, body=body)
        self.sent.append(Sent("POST", url, body, key_id, headers))
        return self.post_status

    async def fetch_bytes(self, url: str, accept: str = "*/*") -> tuple[str, bytes]:
        self.sent.append(Sent("GET", url, headers={"Accept": accept}))
        found = self.files.get(url)
        if isinstance(found, Exception):
            raise found
        if found is None:
            raise TransportError(f"GET {url} answered 404", 404)
        return found

    async def close(self) -> None:
        return None
