"""fediverse-pasture-inputs (PyPI) sent to a Steward account, and the resulting
Mastodon API status compared field by field with what Mastodon produces for the
same input (issue #3, acceptance 2).

Each input example is wrapped as the pasture's runner wraps it (a `Create` of a
`Note` from `http://pasture-one-actor/actor`, addressed to the receiving
account, the example's properties on the Note), signed, POSTed to the account's
inbox through the real route, processed, and read back as the receiving user
through GET /api/v1/statuses/:id.

Expectations are recorded per field with their source: the pasture's published
Mastodon results on data.funfedi.dev (the "mastodon" JSON beside each example),
or, where that page shows only its first example, the Mastodon source rule that
decides the field."""

from __future__ import annotations

import functools
import itertools
import os
import tempfile
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from steward.activitypub.keys import generate_key_pair
from steward.activitypub.signatures import sign_request
from steward.activitypub.transport import FakeTransport
from steward.db.tables import statuses
from tests.world import World


def _load_inputs() -> dict[str, Any]:
    # bovine (under the pasture) opens a JSON-LD cache file in the working directory on import.
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            from fediverse_pasture_inputs import available as inputs
        finally:
            os.chdir(cwd)
    return dict(inputs)


available = _load_inputs()
ACTOR = "http://pasture-one-actor/actor"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
_ids = itertools.count(1)

PUBLIC_PAGE = "https://data.funfedi.dev/0.3.5/mastodon__v4.5.2/public_addressing (Example 1, 'mastodon')"
PUBLIC_RULE = ("Mastodon app/lib/activitypub/tag_manager.rb: COLLECTIONS[:public] is "
               "the full IRI, 'as:Public' and 'Public' alike")
CW_PAGE = "https://data.funfedi.dev/0.1.16/mastodon__v4.4.3/content_warnings (Example 1, 'mastodon')"
CW_RULE = ("Mastodon: summary becomes spoiler_text (app/lib/activitypub/parser/status_parser.rb), and "
           "a status with a spoiler text is sensitive (app/models/status.rb, set_sensitive)")

# (input name, example index) -> {field: (expected value, source)}
EXPECTED: dict[tuple[str, int], dict[str, tuple[Any, str]]] = {
    ("public_addressing", 0): {
        "visibility": ("public", PUBLIC_PAGE), "content": (PUBLIC, PUBLIC_PAGE),
        "sensitive": (False, PUBLIC_PAGE), "spoiler_text": ("", PUBLIC_PAGE), "language": (None, PUBLIC_PAGE),
        "in_reply_to_id": (None, PUBLIC_PAGE), "reblog": (None, PUBLIC_PAGE),
        "account.username": ("actor", PUBLIC_PAGE), "account.acct": ("actor@pasture-one-actor", PUBLIC_PAGE),
        "account.display_name": ("Test Actor", PUBLIC_PAGE), "account.url": (ACTOR, PUBLIC_PAGE),
        "account.uri": (ACTOR, PUBLIC_PAGE),
    },
    ("public_addressing", 1): {"visibility": ("public", PUBLIC_RULE), "content": ("as:Public", PUBLIC_PAGE)},
    ("public_addressing", 2): {"visibility": ("public", PUBLIC_RULE), "content": ("Public", PUBLIC_PAGE)},
    ("content_warnings", 0): {
        "sensitive": (True, CW_PAGE), "spoiler_text": ("", CW_PAGE), "content": ("text", CW_PAGE),
        "visibility": ("public", CW_PAGE), "language": (None, CW_PAGE),
    },
    ("content_warnings", 1): {"sensitive": (True, CW_RULE), "spoiler_text": ("summary", CW_RULE),
                              "content": ("text", CW_PAGE)},
    ("content_warnings", 2): {"sensitive": (True, CW_RULE), "spoiler_text": ("summary", CW_RULE),
                              "content": ("text", CW_PAGE)},
}


@functools.cache
def actor_keys() -> tuple[str, str]:
    return generate_key_pair()


def pasture_actor() -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": ACTOR, "type": "Person", "preferredUsername": "actor", "name": "Test Actor",
            "inbox": f"{ACTOR}/inbox", "outbox": f"{ACTOR}/outbox",
            "publicKey": {"id": f"{ACTOR}#main", "owner": ACTOR, "publicKeyPem": actor_keys()[1]}}


def wrap(example: dict[str, Any], recipient: str) -> dict[str, Any]:
    """The pasture runner's Create around one example (as shown beside each result on data.funfedi.dev)."""
    n = next(_ids)
    note: dict[str, Any] = {"type": "Note", "attributedTo": ACTOR, "to": [PUBLIC, recipient],
                            "id": f"http://pasture-one-actor/object/steward-{n}",
                            "published": "2025-11-08T13:29:22Z", **example}
    if "to" in example:
        note["to"] = [*example["to"], recipient]
    return {"@context": ["https://www.w3.org/ns/activitystreams",
                         {"Hashtag": "as:Hashtag", "sensitive": "as:sensitive"}],
            "type": "Create", "actor": ACTOR, "to": note["to"], "id": f"http://pasture-one-actor/activity/{n}",
            "published": note["published"], "object": note}


def field_of(status: dict[str, Any], path: str) -> Any:
    value: Any = status
    for part in path.split("."):
        value = value[part]
    return value


@pytest.fixture
def fake(world: World, monkeypatch: pytest.MonkeyPatch) -> FakeTransport:
    transport = FakeTransport({ACTOR: pasture_actor()})
    monkeypatch.setattr(world.c, "transport", transport)
    return transport


@pytest.mark.parametrize(("name", "index"), sorted(EXPECTED))
async def test_pasture_input_matches_mastodon(world: World, fake: FakeTransport, name: str, index: int) -> None:
    example = available[name].examples[index]
    alice = f"http://{world.a.web_domain}/users/alice"
    activity = wrap(example, alice)
    body = orjson.dumps(activity)
    url = f"{alice}/inbox"
    headers = {**sign_request("POST", url, f"{ACTOR}#main", actor_keys()[0], body=body),
               "Content-Type": "application/activity+json"}
    r = await world.client(world.a).post("/users/alice/inbox", content=body, headers=headers)
    assert r.status_code == 202, r.text
    await world.run_jobs()
    async with world.c.db.read() as conn:
        status_id = (await conn.execute(select(statuses.c.id).where(
            statuses.c.tenant_id == world.a.id, statuses.c.uri == activity["object"]["id"]))).scalar()
    assert status_id is not None, f"{name} example {index + 1}: no status was stored"
    shown = (await world.local_alice.get(f"/api/v1/statuses/{status_id}")).json()
    assert shown["uri"] == activity["object"]["id"]  # every Mastodon result on data.funfedi.dev: uri is the Note's id
    mismatches = {path: (field_of(shown, path), expected, source)
                  for path, (expected, source) in EXPECTED[(name, index)].items()
                  if field_of(shown, path) != expected}
    assert mismatches == {}, f"{name} example {index + 1}: (Steward, Mastodon, source) per field"
