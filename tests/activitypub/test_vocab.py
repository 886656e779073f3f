"""The tolerant AS2 reader and the inbound Note reader."""

from __future__ import annotations

import orjson
import pytest

from steward.activitypub import vocab
from steward.activitypub.convert import parse_note

PUBLIC = vocab.PUBLIC


def test_parse_document_guards() -> None:
    assert vocab.parse_document(b'{"type":"Note"}') == {"type": "Note"}
    with pytest.raises(vocab.VocabError) as big:
        vocab.parse_document(b" " * (vocab.MAX_BODY + 1))
    assert big.value.status == 413
    for bad in (b"not json", b"[1,2]", b'"s"', b""):
        with pytest.raises(vocab.VocabError) as err:
            vocab.parse_document(bad)
        assert err.value.status == 400
    deep: object = {"type": "Note"}
    for _ in range(40):
        deep = {"object": deep}
    with pytest.raises(vocab.VocabError, match="deeply"):
        vocab.parse_document(orjson.dumps(deep))
    shallow: object = {"a": 1}
    for _ in range(15):  # 31 levels of nesting: allowed
        shallow = {"object": [shallow]}
    assert vocab.parse_document(orjson.dumps(shallow))


def test_tolerant_reading() -> None:
    doc = {"id": "https://x.example/a", "type": ["Note", "Extra"], "actor": {"id": "https://x.example/u"},
           "to": PUBLIC, "cc": [{"id": "https://x.example/u/followers"}, 5], "url": {"type": "Link", "href": "h"},
           "contentMap": {"en": "<p>hi</p>", "de": "<p>hallo</p>"}, "sensitive": "yes"}
    assert vocab.id_of(doc["actor"]) == "https://x.example/u" and vocab.id_of(doc["url"]) == "h"
    assert vocab.ids_of(doc["cc"]) == ["https://x.example/u/followers"]
    assert vocab.has_type(doc, "Note") and vocab.type_of(doc) == "Note"
    assert vocab.language_text(doc, "content") == ("<p>hi</p>", doc["contentMap"])
    assert vocab.get_bool(doc, "sensitive") is False and vocab.get_str(doc, "missing") is None
    assert vocab.as_list(None) == [] and vocab.first([]) is None and vocab.id_of(7) is None
    assert vocab.same_origin("https://x.example/a", "https://x.example/b")
    assert not vocab.same_origin("https://x.example/a", "https://y.example/a")
    assert not vocab.same_origin("javascript:alert(1)", "javascript:alert(1)")


def test_visibility_from_addressing() -> None:
    f = "https://x.example/u/followers"
    assert vocab.visibility_of({"to": [PUBLIC], "cc": [f]}, f) == "public"
    assert vocab.visibility_of({"to": [f], "cc": ["as:Public"]}, f) == "unlisted"
    assert vocab.visibility_of({"to": [f]}, f) == "private"
    assert vocab.visibility_of({"to": ["https://here.example/users/a"]}, f) == "direct"


def test_parse_note() -> None:
    note = parse_note({
        "id": "https://x.example/n/1", "type": "Note", "attributedTo": "https://x.example/u",
        "content": "<p>hi</p>", "contentMap": {"fr": "<p>hi</p>"}, "summary": "cw", "sensitive": True,
        "inReplyTo": {"id": "https://here.example/users/a/statuses/1"}, "published": "2026-11-29T12:00:00Z",
        "to": [PUBLIC], "tag": [{"type": "Mention", "href": "https://here.example/users/a", "name": "@a"},
                                {"type": "Hashtag", "name": "#Cats", "href": "x"}],
        "attachment": [{"type": "Document", "mediaType": "image/png", "url": "https://x.example/m.png",
                        "name": "alt"}]})
    assert note.visibility == "public" and note.language == "fr" and note.sensitive and note.summary == "cw"
    assert note.in_reply_to == "https://here.example/users/a/statuses/1" and note.published is not None
    assert note.mentions == ["https://here.example/users/a"] and note.hashtags == ["cats"]
    assert note.attachments[0]["url"] == "https://x.example/m.png"
    with pytest.raises(vocab.VocabError, match="not on its author"):
        parse_note({"id": "https://evil.example/n/1", "attributedTo": "https://x.example/u"})
    with pytest.raises(vocab.VocabError):
        parse_note({"type": "Note"})
