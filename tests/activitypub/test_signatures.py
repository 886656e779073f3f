"""HTTP signatures: round trips and every rejection, draft-cavage and RFC 9421."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from steward.activitypub.keys import generate_key_pair
from steward.activitypub.rfc9421 import sign_rfc9421
from steward.activitypub.signatures import (
    KeyInfo,
    Request,
    SignatureError,
    sign_request,
    verify_request,
)

URL = "https://here.example/users/alice/inbox"
KEY_ID = "https://there.example/users/bob#main-key"
OWNER = "https://there.example/users/bob"
BODY = b'{"type":"Follow","actor":"https://there.example/users/bob"}'
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@functools.cache
def keys() -> tuple[str, str]:
    return generate_key_pair()


@functools.cache
def other_keys() -> tuple[str, str]:
    return generate_key_pair()


@functools.cache
def ed_keys() -> tuple[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


class Lookup:
    """A key store that may hold a stale key until refreshed."""

    def __init__(self, pem: str | None, fresh: str | None = None, owner: str = OWNER) -> None:
        self.pem, self.fresh, self.owner = pem, fresh, owner
        self.calls: list[tuple[str, bool]] = []

    async def __call__(self, key_id: str, refresh: bool) -> KeyInfo | None:
        self.calls.append((key_id, refresh))
        pem = self.fresh if refresh and self.fresh else self.pem
        return KeyInfo(key_id, pem, self.owner) if pem else None


def request(headers: dict[str, str], body: bytes = BODY, method: str = "POST", url: str = URL) -> Request:
    return Request(method, url, {k.lower(): v for k, v in headers.items()}, body)


def signed_post(now: datetime = NOW, body: bytes = BODY, pem: str | None = None) -> dict[str, str]:
    return sign_request("POST", URL, KEY_ID, pem or keys()[0], body=body, now=now)


async def test_cavage_round_trip_post_and_get() -> None:
    verified = await verify_request(request(signed_post()), Lookup(keys()[1]), now=NOW, require_owner=OWNER)
    assert verified.owner == OWNER and verified.key_id == KEY_ID and verified.scheme == "cavage"
    get = sign_request("GET", URL + "?page=1", KEY_ID, keys()[0], now=NOW)
    assert 'headers="(request-target) host date"' in get["Signature"]
    ok = await verify_request(request(get, b"", "GET", URL + "?page=1"), Lookup(keys()[1]), now=NOW)
    assert ok.owner == OWNER


async def test_cavage_hs2019_and_ed25519() -> None:
    headers = sign_request("POST", URL, KEY_ID, ed_keys()[0], body=BODY, now=NOW)
    assert 'algorithm="hs2019"' in headers["Signature"]
    assert (await verify_request(request(headers), Lookup(ed_keys()[1]), now=NOW)).owner == OWNER
    rsa_as_hs2019 = signed_post()
    rsa_as_hs2019["Signature"] = rsa_as_hs2019["Signature"].replace("rsa-sha256", "hs2019")
    assert (await verify_request(request(rsa_as_hs2019), Lookup(keys()[1]), now=NOW)).owner == OWNER


async def test_key_rotation_refetches_once() -> None:
    lookup = Lookup(other_keys()[1], fresh=keys()[1])
    await verify_request(request(signed_post()), lookup, now=NOW)
    assert lookup.calls == [(KEY_ID, False), (KEY_ID, True)]


async def _rejects(req: Request, lookup: Lookup | None = None, match: str = "", **kw: object) -> None:
    with pytest.raises(SignatureError, match=match):
        await verify_request(req, lookup or Lookup(keys()[1]), now=NOW, **kw)  # type: ignore[arg-type]


async def test_cavage_rejections() -> None:
    await _rejects(request({}), match="not signed")
    # A signature that leaves out a required header.
    for drop in ("(request-target) ", "host ", "date ", " digest"):
        h = signed_post()
        h["Signature"] = h["Signature"].replace(
            'headers="(request-target) host date digest"',
            'headers="' + "(request-target) host date digest".replace(drop, "", 1) + '"')
        await _rejects(request(h), match="must be signed")
    h = signed_post()
    h["Digest"] = "SHA-256=" + "A" * 43 + "="
    await _rejects(request(h), match="Digest does not match")
    await _rejects(request(signed_post(), body=BODY + b" "), match="Digest does not match")
    h = signed_post()
    del h["Digest"]
    await _rejects(request(h), match="Digest")
    await _rejects(request(signed_post(now=NOW - timedelta(hours=2))), match="past")
    await _rejects(request(signed_post(now=NOW + timedelta(hours=2))), match="future")
    await _rejects(request(signed_post(pem=other_keys()[0])), match="does not verify")
    await _rejects(request(signed_post()), Lookup(None), match="does not verify")
    await _rejects(request(signed_post()), Lookup(keys()[1], owner="https://there.example/users/eve"),
                   match="actor", require_owner=OWNER)
    h = signed_post()
    h["Signature"] = h["Signature"].replace("rsa-sha256", "hmac-sha256")
    await _rejects(request(h), match="not supported")
    h = signed_post()
    h["Host"] = "elsewhere.example"
    await _rejects(request(h), match="does not verify")
    await _rejects(request({"Signature": "garbage without equals"}), match="cannot be read")
    h = signed_post()
    h["Date"] = "not a date"
    await _rejects(request(h), match="Date")


async def test_rfc9421_round_trip_each_algorithm() -> None:
    cases = [(keys(), None), (keys(), "rsa-pss-sha512"), (ed_keys(), None)]
    for (private, public), alg in cases:
        headers = sign_rfc9421("POST", URL, KEY_ID, private, body=BODY, now=NOW, alg=alg)
        verified = await verify_request(request(headers), Lookup(public), now=NOW, require_owner=OWNER)
        assert verified.scheme == "rfc9421" and verified.owner == OWNER
    get = sign_rfc9421("GET", URL, KEY_ID, keys()[0], now=NOW, components=["@method", "@authority", "@path"])
    assert (await verify_request(request(get, b"", "GET"), Lookup(keys()[1]), now=NOW)).owner == OWNER


async def test_rfc9421_rejections() -> None:
    def signed(**kw: object) -> dict[str, str]:
        return sign_rfc9421("POST", URL, KEY_ID, keys()[0], body=BODY, now=kw.pop("now", NOW), **kw)  # type: ignore[arg-type]

    await _rejects(request(signed(components=["@target-uri"])), match="@method")
    await _rejects(request(signed(components=["@method"])), match="@target-uri")
    h = signed()
    h["Signature-Input"] = h["Signature-Input"].replace(' "content-digest"', "")
    await _rejects(request(h), match="content-digest")
    await _rejects(request(signed(), body=BODY + b"x"), match="Content-Digest does not match")
    await _rejects(request(signed(now=NOW - timedelta(hours=2))), match="past")
    await _rejects(request(signed(now=NOW + timedelta(hours=2))), match="future")
    await _rejects(request(sign_rfc9421("POST", URL, KEY_ID, other_keys()[0], body=BODY, now=NOW)),
                   match="does not verify")
    await _rejects(request(signed()), Lookup(keys()[1], owner="https://there.example/users/eve"),
                   match="actor", require_owner=OWNER)
    h = signed()
    h["Signature-Input"] = h["Signature-Input"].replace('alg="rsa-v1_5-sha256"', 'alg="hmac-sha256"')
    await _rejects(request(h), match="not supported")
    await _rejects(request(signed(), url=URL.replace("alice", "bob")), match="does not verify")
    await _rejects(request({"Signature-Input": "sig1=(\"@method\"", "Signature": "sig1=:AA==:"}),
                   match="cannot be read")
    h = signed()
    del h["Signature"]
    await _rejects(request(h), match="no signature value")
