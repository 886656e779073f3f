"""RFC 9421 (HTTP Message Signatures): verifying inbound requests, and signing
(used by tests and by senders that prefer it). Pure code; the key lookup is
injected as in `signatures`.

Accepted: components `@method`, `@target-uri`, `@authority`, `@path`, `@query`,
`@scheme`, `@request-target` and plain header fields (no component parameters);
algorithms `rsa-v1_5-sha256`, `rsa-pss-sha512` and `ed25519` (inferred from the
key when `alg` is absent). A signature must cover `@method`, the target
(`@target-uri`, or `@authority` with `@path`/`@request-target`), and
`content-digest` when the request has a body; `created` must be within the
window both ways and `expires`, when given, not passed."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from steward.activitypub.keycache import KeyFormatError, load_private_key, load_public_key
from steward.activitypub.signatures import (
    DEFAULT_WINDOW,
    KeyLookup,
    Request,
    SignatureError,
    Verified,
    _check_owner,
    _check_with_key,
    content_digest_header,
)

ParamValue = str | int | bool
_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9_\-.:%*/]*")
_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_INT = re.compile(r"-?[0-9]{1,15}")
SUPPORTED_ALGS = {"rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519"}


@dataclass(slots=True)
class Member:
    items: list[str] = field(default_factory=list)  # an inner list of component names
    data: bytes | None = None  # a byte sequence (the Signature header's values)
    params: dict[str, ParamValue] = field(default_factory=dict)


class _Parser:
    """The subset of RFC 8941 structured fields that signature headers use."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def fail(self) -> SignatureError:
        return SignatureError("a signature header cannot be read")

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def string(self) -> str:
        if self.s[self.i:self.i + 1] != '"':
            raise self.fail()
        self.i += 1
        out = []
        while self.i < len(self.s):
            ch = self.s[self.i]
            self.i += 1
            if ch == "\\":
                if self.i >= len(self.s) or self.s[self.i] not in '"\\':
                    raise self.fail()
                out.append(self.s[self.i])
                self.i += 1
            elif ch == '"':
                return "".join(out)
            elif not " " <= ch <= "~":
                raise self.fail()
            else:
                out.append(ch)
        raise self.fail()

    def bare(self) -> ParamValue:
        ch = self.s[self.i:self.i + 1]
        if ch == '"':
            return self.string()
        if ch == "?":
            value = self.s[self.i + 1:self.i + 2]
            if value not in {"0", "1"}:
                raise self.fail()
            self.i += 2
            return value == "1"
        for pattern, convert in ((_INT, int), (_TOKEN, str)):
            match = pattern.match(self.s, self.i)
            if match:
                self.i = match.end()
                return convert(match.group(0))  # type: ignore[no-any-return]
        raise self.fail()

    def params(self) -> dict[str, ParamValue]:
        out: dict[str, ParamValue] = {}
        while self.s[self.i:self.i + 1] == ";":
            self.i += 1
            self.ws()
            match = _KEY.match(self.s, self.i)
            if not match:
                raise self.fail()
            self.i = match.end()
            if self.s[self.i:self.i + 1] == "=":
                self.i += 1
                out[match.group(0)] = self.bare()
            else:
                out[match.group(0)] = True
        return out

    def member(self) -> Member:
        ch = self.s[self.i:self.i + 1]
        member = Member()
        if ch == "(":
            self.i += 1
            while True:
                self.ws()
                if self.s[self.i:self.i + 1] == ")":
                    self.i += 1
                    break
                member.items.append(self.string())
                if self.s[self.i:self.i + 1] == ";":
                    raise SignatureError("component parameters are not supported")
        elif ch == ":":
            end = self.s.find(":", self.i + 1)
            if end < 0:
                raise self.fail()
            try:
                member.data = base64.b64decode(self.s[self.i + 1:end], validate=True)
            except ValueError as exc:
                raise self.fail() from exc
            self.i = end + 1
        else:
            raise self.fail()
        member.params = self.params()
        return member

    def dictionary(self) -> dict[str, Member]:
        out: dict[str, Member] = {}
        self.ws()
        while self.i < len(self.s):
            match = _KEY.match(self.s, self.i)
            if not match or self.s[match.end():match.end() + 1] != "=":
                raise self.fail()
            self.i = match.end() + 1
            out[match.group(0)] = self.member()
            self.ws()
            if self.i < len(self.s):
                if self.s[self.i] != ",":
                    raise self.fail()
                self.i += 1
                self.ws()
        return out


def parse_dictionary(value: str) -> dict[str, Member]:
    return _Parser(value).dictionary()


def _serialize_param(value: ParamValue) -> str:
    if value is True:
        return ""
    if value is False:
        return "=?0"
    if isinstance(value, int):
        return f"={value}"
    return '="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_params_line(member: Member) -> str:
    inner = " ".join('"' + c + '"' for c in member.items)
    return f"({inner})" + "".join(f";{k}{_serialize_param(v)}" for k, v in member.params.items())


def _component(name: str, method: str, url: str, headers: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    if name == "@method":
        return method.upper()
    if name == "@target-uri":
        return url
    if name == "@authority":
        return parts.netloc.lower()
    if name == "@scheme":
        return parts.scheme.lower()
    if name == "@path":
        return parts.path or "/"
    if name == "@query":
        return "?" + parts.query
    if name == "@request-target":
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if name.startswith("@"):
        raise SignatureError(f"the component {name} is not supported")
    value = headers.get(name)
    if value is None:
        raise SignatureError(f"the signed header {name} is missing")
    return value.strip()


def signature_base(member: Member, method: str, url: str, headers: Mapping[str, str]) -> bytes:
    lines = [f'"{name}": {_component(name, method, url, headers)}' for name in member.items]
    lines.append(f'"@signature-params": {serialize_params_line(member)}')
    return "\n".join(lines).encode()


def _check_content_digest(req: Request) -> None:
    header = req.headers.get("content-digest")
    if not header:
        raise SignatureError("a request with a body must carry a Content-Digest header")
    found = False
    for algo, member in parse_dictionary(header).items():
        if algo == "sha-256":
            expected = hashlib.sha256(req.body).digest()
        elif algo == "sha-512":
            expected = hashlib.sha512(req.body).digest()
        else:
            continue
        found = True
        if member.data != expected:
            raise SignatureError("the Content-Digest does not match the body")
    if not found:
        raise SignatureError("the Content-Digest header has no sha-256 or sha-512 value")


def _check_coverage(member: Member, req: Request) -> None:
    names = set(member.items)
    if len(names) != len(member.items):
        raise SignatureError("a component is listed twice")
    missing = []
    if "@method" not in names:
        missing.append("@method")
    if "@target-uri" not in names and not ("@authority" in names and names & {"@path", "@request-target"}):
        missing.append("@target-uri (or @authority and @path)")
    if (req.body or req.method.upper() in {"POST", "PUT", "PATCH"}) and "content-digest" not in names:
        missing.append("content-digest")
    if missing:
        raise SignatureError("these components must be signed: " + ", ".join(missing))


def _check_times(member: Member, now: datetime, window: timedelta) -> None:
    created = member.params.get("created")
    if not isinstance(created, int) or isinstance(created, bool):
        raise SignatureError("the signature has no created time")
    stamp = now.timestamp()
    if created < stamp - window.total_seconds():
        raise SignatureError("the signature's created time is too far in the past")
    if created > stamp + window.total_seconds():
        raise SignatureError("the signature's created time is too far in the future")
    expires = member.params.get("expires")
    if expires is not None and (not isinstance(expires, int) or expires < stamp):
        raise SignatureError("the signature has expired")


async def verify_rfc9421(req: Request, lookup: KeyLookup, *, now: datetime | None = None,
                         window: timedelta = DEFAULT_WINDOW, require_owner: str | None = None) -> Verified:
    inputs = parse_dictionary(req.headers.get("signature-input", ""))
    values = parse_dictionary(req.headers.get("signature", ""))
    if not inputs:
        raise SignatureError("the request is not signed")
    label = next(iter(inputs))
    member, value = inputs[label], values.get(label)
    if value is None or value.data is None:
        raise SignatureError(f"no signature value for {label}")
    key_id = member.params.get("keyid")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("the signature has no keyid")
    _check_coverage(member, req)
    _check_times(member, now or datetime.now(UTC), window)
    if "content-digest" in member.items:
        _check_content_digest(req)
    alg = member.params.get("alg")
    if alg is not None and alg not in SUPPORTED_ALGS:
        raise SignatureError(f"the algorithm {alg} is not supported")
    base = signature_base(member, req.method, req.url, req.headers)
    algorithm = str(alg) if alg else await _infer_alg(lookup, key_id)
    info = await _check_with_key(lookup, key_id, algorithm, base, value.data)
    _check_owner(info, require_owner)
    return Verified(key_id, info.owner, "rfc9421")


async def _infer_alg(lookup: KeyLookup, key_id: str) -> str:
    info = await lookup(key_id, False)
    if info is None:
        return "rsa-v1_5-sha256"
    try:
        key = load_public_key(info.public_pem)
    except KeyFormatError as exc:
        raise SignatureError("the signing key cannot be read") from exc
    return "ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else "rsa-v1_5-sha256"


def sign_rfc9421(method: str, url: str, key_id: str, private_pem: str, *, body: bytes | None = None,
                 now: datetime | None = None, alg: str | None = None, label: str = "sig1",
                 components: list[str] | None = None) -> dict[str, str]:
    """Headers carrying an RFC 9421 signature of the request."""
    key = load_private_key(private_pem)
    if alg is None:
        alg = "ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else "rsa-v1_5-sha256"
    headers: dict[str, str] = {}
    names = components or ["@method", "@target-uri"]
    if body is not None:
        headers["content-digest"] = content_digest_header(body)
        if "content-digest" not in names:
            names = [*names, "content-digest"]
    created = int((now or datetime.now(UTC)).timestamp())
    member = Member(items=names, params={"created": created, "keyid": key_id, "alg": alg})
    base = signature_base(member, method, url, headers)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.sign(base)
    elif alg == "rsa-pss-sha512":
        assert isinstance(key, rsa.RSAPrivateKey)
        raw = key.sign(base, padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64), hashes.SHA512())
    else:
        assert isinstance(key, rsa.RSAPrivateKey)
        raw = key.sign(base, padding.PKCS1v15(), hashes.SHA256())
    return {**{k.title(): v for k, v in headers.items()},
            "Signature-Input": f"{label}={serialize_params_line(member)}",
            "Signature": f"{label}=:{base64.b64encode(raw).decode()}:"}
