"""HTTP signatures, pure code (no network): draft-cavage signing and
verification as the Fediverse uses it, and RFC 9421 (HTTP Message Signatures)
verification for inbound requests.

The key lookup is injected: `lookup(key_id, refresh)` returns the key's PEM and
its owner's actor id, or None. A signature that fails against a cached key is
retried once with `refresh=True`, so a remote actor that rotated its key is
re-fetched instead of rejected.

Clock skew: a signed `Date` (or RFC 9421 `created`) must lie within
`DEFAULT_WINDOW` (one hour) of now, in the past or in the future."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from steward.activitypub.keycache import KeyFormatError, PublicKey, load_private_key, load_public_key

DEFAULT_WINDOW = timedelta(hours=1)
POST_HEADERS = ("(request-target)", "host", "date", "digest")
GET_HEADERS = ("(request-target)", "host", "date")


class SignatureError(Exception):
    """Why a request's signature was not accepted (safe to show the sender)."""


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key_id: str
    public_pem: str
    owner: str


KeyLookup = Callable[[str, bool], Awaitable[KeyInfo | None]]


@dataclass(frozen=True, slots=True)
class Verified:
    key_id: str
    owner: str
    scheme: str  # "cavage" | "rfc9421"


@dataclass(slots=True)
class Request:
    """What verification needs of an inbound request. `headers` keys are lower
    case; `url` is the full target URI as the sender addressed it."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""

    @property
    def target(self) -> str:
        parts = urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def http_date(now: datetime | None = None) -> str:
    return format_datetime((now or datetime.now(UTC)).astimezone(UTC), usegmt=True)


def digest_header(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def content_digest_header(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


# ---------------------------------------------------------------- draft-cavage

def _signing_string(names: list[str], method: str, target: str, headers: Mapping[str, str],
                    params: Mapping[str, str]) -> str:
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in {"(created)", "(expires)"}:
            value = params.get(name[1:-1])
            if value is None:
                raise SignatureError(f"{name} is signed but has no parameter")
            lines.append(f"{name}: {value}")
        else:
            value = headers.get(name)
            if value is None:
                raise SignatureError(f"the signed header {name} is missing")
            lines.append(f"{name}: {value.strip()}")
    return "\n".join(lines)


def sign_request(method: str, url: str, key_id: str, private_pem: str, *, body: bytes | None = None,
                 now: datetime | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Headers to send with a request: Host, Date, Digest (with a body) and
    Signature (rsa-sha256 over `(request-target) host date [digest]`)."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"host": parts.netloc, "date": http_date(now), **{k.lower(): v for k, v in (extra or {}).items()}}
    names = list(GET_HEADERS)
    if body is not None:
        headers["digest"] = digest_header(body)
        names = list(POST_HEADERS)
    text = _signing_string(names, method, target, headers, {})
    key = load_private_key(private_pem)
    if isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
        algorithm = "rsa-sha256"
    else:
        raw = key.sign(text.encode())
        algorithm = "hs2019"
    signature = (f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(names)}",'
                 f'signature="{base64.b64encode(raw).decode()}"')
    out = {"Host": headers["host"], "Date": headers["date"], "Signature": signature}
    if "digest" in headers:
        out["Digest"] = headers["digest"]
    return out


_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)')


def parse_signature_header(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    pos = 0
    while pos < len(value):
        match = _PARAM.match(value, pos)
        if match is None or match.end() == pos:
            raise SignatureError("the Signature header cannot be read")
        params[match.group(1).lower()] = match.group(2) if match.group(2) is not None else match.group(3)
        pos = match.end()
    return params


def _check_time(when: datetime, now: datetime, window: timedelta, what: str) -> None:
    if when < now - window:
        raise SignatureError(f"{what} is too far in the past")
    if when > now + window:
        raise SignatureError(f"{what} is too far in the future")


def _check_digest(req: Request) -> None:
    header = req.headers.get("digest")
    if not header:
        raise SignatureError("a request with a body must carry a Digest header")
    found = False
    for item in header.split(","):
        algo, _, value = item.strip().partition("=")
        algo = algo.lower()
        if algo == "sha-256":
            expected = hashlib.sha256(req.body).digest()
        elif algo == "sha-512":
            expected = hashlib.sha512(req.body).digest()
        else:
            continue
        found = True
        try:
            got = base64.b64decode(value, validate=True)
        except ValueError as exc:
            raise SignatureError("the Digest header cannot be read") from exc
        if got != expected:
            raise SignatureError("the Digest does not match the body")
    if not found:
        raise SignatureError("the Digest header has no SHA-256 or SHA-512 value")


def _verify_raw(key: PublicKey, algorithm: str, message: bytes, signature: bytes) -> bool:
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if algorithm == "rsa-pss-sha512":
                key.verify(signature, message, padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64),
                           hashes.SHA512())
            elif algorithm in {"rsa-sha256", "hs2019", "rsa-v1_5-sha256"}:
                key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            else:
                return False
        elif algorithm in {"hs2019", "ed25519"} and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        else:
            return False
    except InvalidSignature:
        return False
    return True


async def _check_with_key(lookup: KeyLookup, key_id: str, algorithm: str, message: bytes,
                          signature: bytes) -> KeyInfo:
    """The key that made `signature`; looked up once more (refreshed) when the
    first copy does not verify."""
    for refresh in (False, True):
        info = await lookup(key_id, refresh)
        if info is None:
            break  # unknown even after the lookup's own fetch: nothing to retry with
        try:
            key = load_public_key(info.public_pem)
        except KeyFormatError as exc:
            raise SignatureError("the signing key cannot be read") from exc
        if _verify_raw(key, algorithm, message, signature):
            return info
    raise SignatureError("the signature does not verify with the key " + key_id)


def _check_owner(info: KeyInfo, require_owner: str | None) -> None:
    if require_owner is not None and info.owner != require_owner:
        raise SignatureError("the signing key does not belong to the activity's actor")


async def verify_cavage(req: Request, lookup: KeyLookup, *, now: datetime | None = None,
                        window: timedelta = DEFAULT_WINDOW, require_owner: str | None = None) -> Verified:
    header = req.headers.get("signature")
    if not header:
        raise SignatureError("the request is not signed")
    params = parse_signature_header(header)
    key_id, sig_b64 = params.get("keyid"), params.get("signature")
    if not key_id or not sig_b64:
        raise SignatureError("the Signature header needs keyId and signature")
    algorithm = (params.get("algorithm") or "hs2019").lower()
    if algorithm not in {"rsa-sha256", "hs2019"}:
        raise SignatureError(f"the algorithm {algorithm} is not supported")
    names = (params.get("headers") or "date").lower().split()
    required = ["(request-target)", "host", "date"]
    if req.body or req.method.upper() in {"POST", "PUT", "PATCH"}:
        required.append("digest")
    missing = [n for n in required if n not in names]
    if missing:
        raise SignatureError("these headers must be signed: " + ", ".join(missing))
    now = now or datetime.now(UTC)
    try:
        sent = parsedate_to_datetime(req.headers.get("date", ""))
    except (TypeError, ValueError, IndexError) as exc:
        raise SignatureError("the Date header cannot be read") from exc
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    _check_time(sent, now, window, "the Date header")
    if "expires" in params:
        try:
            if int(params["expires"]) < now.timestamp():
                raise SignatureError("the signature has expired")
        except ValueError as exc:
            raise SignatureError("the expires parameter cannot be read") from exc
    if "digest" in names:
        _check_digest(req)
    text = _signing_string(names, req.method, req.target, req.headers, params)
    try:
        signature = base64.b64decode(sig_b64, validate=True)
    except ValueError as exc:
        raise SignatureError("the signature is not base64") from exc
    info = await _check_with_key(lookup, key_id, algorithm, text.encode(), signature)
    _check_owner(info, require_owner)
    return Verified(key_id, info.owner, "cavage")


async def verify_request(req: Request, lookup: KeyLookup, *, now: datetime | None = None,
                         window: timedelta = DEFAULT_WINDOW, require_owner: str | None = None) -> Verified:
    """Verify whichever scheme the request uses: RFC 9421 when it carries
    Signature-Input, draft-cavage otherwise."""
    if "signature-input" in req.headers:
        from steward.activitypub.rfc9421 import verify_rfc9421

        return await verify_rfc9421(req, lookup, now=now, window=window, require_owner=require_owner)
    return await verify_cavage(req, lookup, now=now, window=window, require_owner=require_owner)
