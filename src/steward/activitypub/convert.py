"""Converters between our model and ActivityStreams JSON, shaped as Mastodon
writes them: actors (Person/Service/Group, and each tenant's Application
instance actor), Notes addressed per visibility, Create and Announce, and the
reading side for inbound Notes (`parse_note`)."""

from __future__ import annotations

import html
import mimetypes
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from steward.activitypub import vocab
from steward.model.entities import Account, MediaAttachment, Status, Tenant

PUBLIC = vocab.PUBLIC
CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "memorial": "toot:memorial",
        "suspended": "toot:suspended",
        "Emoji": "toot:Emoji",
        "blurhash": "toot:blurhash",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        "votersCount": "toot:votersCount",
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "ostatus": "http://ostatus.org#",
        "atomUri": "ostatus:atomUri",
        "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
        "conversation": "ostatus:conversation",
    },
]


def as2_time(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def with_context(obj: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CONTEXT, **obj}


def actor_uri(base: str, account: Account) -> str:
    return account.uri or f"{base}/users/{account.username}"


def followers_uri(base: str, account: Account) -> str:
    return account.followers_url or f"{actor_uri(base, account)}/followers"


def acct_name(tenant: Tenant, account: Account) -> str:
    return f"@{account.username}@{account.domain or tenant.domain}"


def _media_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def _image(base: str, path: str | None, remote: str | None) -> dict[str, Any] | None:
    if path:
        return {"type": "Image", "mediaType": _media_type(path), "url": f"{base}/system/{path}"}
    if remote:
        return {"type": "Image", "mediaType": _media_type(remote.split("?", 1)[0]), "url": remote}
    return None


def account_to_actor(base: str, tenant: Tenant, account: Account, public_pem: str, *,
                     moved_to: str | None = None, emojis: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    uri = actor_uri(base, account)
    kind = "Group" if account.group else "Service" if account.bot else "Person"
    actor: dict[str, Any] = {
        "id": uri,
        "type": kind,
        "following": f"{uri}/following",
        "followers": followers_uri(base, account),
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "featured": f"{uri}/collections/featured",
        "featuredTags": f"{uri}/collections/tags",
        "preferredUsername": account.username,
        "name": account.display_name,
        "summary": account.note,
        "url": account.url or f"{base}/@{account.username}",
        "manuallyApprovesFollowers": account.locked,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "memorial": account.memorial,
        "published": as2_time(account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
                              if account.created_at else None),
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_pem},
        "tag": emojis or [],
        "attachment": [{"type": "PropertyValue", "name": f.get("name", ""), "value": f.get("value", "")}
                       for f in account.fields],
        "endpoints": {"sharedInbox": f"{base}/inbox"},
    }
    icon = _image(base, account.avatar_media_path, account.avatar_remote_url)
    if icon:
        actor["icon"] = icon
    header = _image(base, account.header_media_path, account.header_remote_url)
    if header:
        actor["image"] = header
    if account.also_known_as:
        actor["alsoKnownAs"] = list(account.also_known_as)
    if moved_to:
        actor["movedTo"] = moved_to
    return with_context(actor)


def suspended_actor(base: str, account: Account, public_pem: str | None) -> dict[str, Any]:
    """What Mastodon shows of a suspended account: enough to identify it, nothing more."""
    uri = actor_uri(base, account)
    actor: dict[str, Any] = {"id": uri, "type": "Person", "preferredUsername": account.username,
                             "url": account.url or f"{base}/@{account.username}", "inbox": f"{uri}/inbox",
                             "suspended": True, "name": "", "summary": ""}
    if public_pem:
        actor["publicKey"] = {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_pem}
    return with_context(actor)


def instance_actor(base: str, tenant: Tenant) -> dict[str, Any]:
    uri = f"{base}/actor"
    return with_context({
        "id": uri,
        "type": "Application",
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "preferredUsername": tenant.web_domain,
        "url": f"{base}/about/more?instance_actor=true",
        "manuallyApprovesFollowers": True,
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": tenant.public_key or ""},
        "endpoints": {"sharedInbox": f"{base}/inbox"},
    })


@dataclass(slots=True)
class NoteParts:
    """Everything a Note needs beyond the status row, loaded in batches."""

    status: Status
    author: Account
    parent_uri: str | None = None
    mentions: list[Account] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    media: list[MediaAttachment] = field(default_factory=list)
    emojis: list[dict[str, Any]] = field(default_factory=list)


def addressing(base: str, author: Account, visibility: str, mentioned: list[str]) -> tuple[list[str], list[str]]:
    """Mastodon's (to, cc): public to Public cc followers; unlisted to followers
    cc Public; private to followers; direct to the mentioned only. Mentioned
    actors are added to cc (to for direct)."""
    followers = followers_uri(base, author)
    if visibility == "public":
        return [PUBLIC], [followers, *mentioned]
    if visibility == "unlisted":
        return [followers], [PUBLIC, *mentioned]
    if visibility == "private":
        return [followers], list(mentioned)
    return list(mentioned), []


def _attachment(base: str, media: MediaAttachment) -> dict[str, Any]:
    url = f"{base}/system/{media.file_path}" if media.file_path else (media.remote_url or "")
    doc: dict[str, Any] = {"type": "Document", "mediaType": _media_type(url.split("?", 1)[0]), "url": url,
                           "name": media.description, "blurhash": media.blurhash}
    meta = media.meta or {}
    focus = meta.get("focus")
    if isinstance(focus, dict) and "x" in focus and "y" in focus:
        doc["focalPoint"] = [focus["x"], focus["y"]]
    original = meta.get("original")
    if isinstance(original, dict):
        if isinstance(original.get("width"), int):
            doc["width"] = original["width"]
        if isinstance(original.get("height"), int):
            doc["height"] = original["height"]
    return doc


def status_to_note(base: str, tenant: Tenant, parts: NoteParts) -> dict[str, Any]:
    status, author = parts.status, parts.author
    mentioned = [actor_uri(base, m) for m in parts.mentions]
    to, cc = addressing(base, author, status.visibility, mentioned)
    tag: list[dict[str, Any]] = [{"type": "Mention", "href": actor_uri(base, m), "name": acct_name(tenant, m)}
                                 for m in parts.mentions]
    tag += [{"type": "Hashtag", "href": f"{base}/tags/{name}", "name": f"#{name}"} for name in parts.tags]
    tag += parts.emojis
    conversation = status.conversation_id or status.id
    note: dict[str, Any] = {
        "id": status.uri,
        "type": "Note",
        "summary": status.spoiler_text or None,
        "inReplyTo": parts.parent_uri,
        "published": as2_time(status.created_at),
        "url": status.url or status.uri,
        "attributedTo": actor_uri(base, author),
        "to": to,
        "cc": cc,
        "sensitive": status.sensitive,
        "atomUri": status.uri,
        "inReplyToAtomUri": parts.parent_uri,
        "conversation": f"tag:{tenant.domain},{(status.created_at or datetime.now(UTC)).year}:"
                        f"objectId={conversation}:objectType=Conversation",
        "content": status.content,
        "attachment": [_attachment(base, m) for m in parts.media],
        "tag": tag,
        "replies": {"id": f"{status.uri}/replies", "type": "Collection", "first": f"{status.uri}/replies?page=true"},
    }
    if status.language:
        note["contentMap"] = {status.language: status.content}
    if status.edited_at:
        note["updated"] = as2_time(status.edited_at)
    return note


def status_to_create(base: str, tenant: Tenant, parts: NoteParts) -> dict[str, Any]:
    note = status_to_note(base, tenant, parts)
    return {"id": f"{parts.status.uri}/activity", "type": "Create", "actor": note["attributedTo"],
            "published": note["published"], "to": note["to"], "cc": note["cc"], "object": note}


def status_to_announce(base: str, booster: Account, boost: Status, original_uri: str,
                       original_author_uri: str) -> dict[str, Any]:
    """A boost: addressed like Mastodon's (the original's author in cc)."""
    to, cc = addressing(base, booster, boost.visibility, [])
    if original_author_uri not in to and original_author_uri not in cc:
        cc = [*cc, original_author_uri]
    return {"id": boost.uri, "type": "Announce", "actor": actor_uri(base, booster),
            "published": as2_time(boost.created_at), "to": to, "cc": cc, "object": original_uri}


# ---------------------------------------------------------------- reading

# Object types stored as statuses as they are, and those Mastodon converts into
# a status (title and link, no body), as its ActivityPub Create does.
NOTE_TYPES = ("Note", "Question")
CONVERTED_TYPES = ("Article", "Page", "Image", "Audio", "Video", "Event")
MAX_CONTENT = 100_000
MAX_ATTACHMENTS = 16
MAX_POLL_OPTIONS = 64


@dataclass(slots=True)
class ParsedPoll:
    options: list[str]
    tallies: list[int]
    multiple: bool
    voters_count: int | None
    expires_at: datetime | None


@dataclass(slots=True)
class ParsedNote:
    uri: str
    attributed_to: str
    content: str
    url: str | None
    summary: str
    sensitive: bool
    language: str | None
    in_reply_to: str | None
    published: datetime | None
    visibility: str
    mentions: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    kind: str = "Note"
    name: str | None = None
    updated: datetime | None = None
    addressed: list[str] = field(default_factory=list)
    emojis: list[tuple[str, str]] = field(default_factory=list)
    poll: ParsedPoll | None = None
    quote_uri: str | None = None


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _media_kind(media_type: str | None, as_type: str | None) -> str:
    main = (media_type or "").split("/", 1)[0].lower()
    if main in {"image", "video", "audio"}:
        return main
    return {"Image": "image", "Video": "video", "Audio": "audio"}.get(as_type or "", "unknown")


def _attachments(obj: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for item in vocab.as_list(obj.get("attachment")):
        if not isinstance(item, dict) or not vocab.has_type(item, "Document", "Image", "Video", "Audio"):
            continue
        url = vocab.id_of(item.get("url")) or vocab.get_str(item, "url")
        if not url or vocab.host_of(url) is None or len(url) > 2048:
            continue
        media_type = vocab.get_str(item, "mediaType", max_len=128)
        meta: dict[str, Any] = {}
        width, height = vocab.get_int(item, "width"), vocab.get_int(item, "height")
        if width and height and 0 < width < 100_000 and 0 < height < 100_000:
            meta["original"] = {"width": width, "height": height, "size": f"{width}x{height}",
                                "aspect": round(width / height, 6)}
        focus = item.get("focalPoint")
        if (isinstance(focus, list) and len(focus) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) and -1 <= v <= 1 for v in focus)):
            meta["focus"] = {"x": float(focus[0]), "y": float(focus[1])}
        out.append({"url": url, "media_type": media_type, "type": _media_kind(media_type, vocab.type_of(item)),
                    "description": vocab.get_str(item, "name", max_len=1500) or vocab.get_str(
                        item, "summary", max_len=1500),
                    "blurhash": vocab.get_str(item, "blurhash", max_len=64), "meta": meta})
    return out[:MAX_ATTACHMENTS]


def _poll(obj: dict[str, Any]) -> ParsedPoll | None:
    multiple = "anyOf" in obj and "oneOf" not in obj
    items = vocab.as_list(obj.get("anyOf" if multiple else "oneOf"))
    options: list[str] = []
    tallies: list[int] = []
    for item in items[:MAX_POLL_OPTIONS]:
        title = vocab.get_str(item, "name", max_len=1000)
        if title is None:
            continue
        replies = item.get("replies") if isinstance(item, dict) else None
        count = vocab.get_int(replies, "totalItems") if isinstance(replies, dict) else None
        options.append(title)
        tallies.append(max(0, min(count or 0, 2**31 - 1)))
    if not options:
        return None
    closed = obj.get("closed")
    ends = parse_time(vocab.get_str(obj, "endTime")) or (parse_time(closed) if isinstance(closed, str) else None)
    voters = vocab.get_int(obj, "votersCount")
    return ParsedPoll(options, tallies, multiple, max(0, min(voters, 2**31 - 1)) if voters is not None else None,
                      ends)


def _converted_content(obj: dict[str, Any], url: str | None, uri: str) -> str:
    """Mastodon's rendering of an Article, Page, Event or media object: its
    title as a heading, then a link to it (the body stays on its server)."""
    title = vocab.get_str(obj, "name", max_len=1000)
    parts = [f"<h2>{html.escape(title)}</h2>"] if title else []
    link = html.escape(url or uri, quote=True)
    parts.append(f'<p><a href="{link}">{link}</a></p>')
    return "".join(parts)


def parse_note(obj: dict[str, Any], followers_url: str | None = None) -> ParsedNote:
    """The parts of an inbound Note or Question (or an Article, Page, Event or
    media object, converted as Mastodon does) we keep. Raises VocabError when
    it has no id or author, its id is not on its author's server, or its content
    is past MAX_CONTENT. The content is returned as sent: the caller sanitises it."""
    uri, author = vocab.id_of(obj.get("id")), vocab.id_of(obj.get("attributedTo"))
    if not uri or not author:
        raise vocab.VocabError("the object needs an id and attributedTo")
    if not vocab.same_origin(uri, author):
        raise vocab.VocabError("the object's id is not on its author's server")
    kind = next((t for t in vocab.types_of(obj) if t in NOTE_TYPES + CONVERTED_TYPES), None) or "Note"
    content, content_map = vocab.language_text(obj, "content")
    summary, _ = vocab.language_text(obj, "summary")
    if len(content or "") > MAX_CONTENT or len(summary or "") > MAX_CONTENT:
        raise vocab.VocabError("the object's content is too long")
    url = vocab.id_of(obj.get("url")) or vocab.get_str(obj, "url")
    if url is not None and vocab.host_of(url) is None:
        url = None
    converted = kind in CONVERTED_TYPES
    if converted:
        content, summary = _converted_content(obj, url, uri), ""
    tags = [t for t in vocab.as_list(obj.get("tag")) if isinstance(t, dict)]
    emojis = []
    for t in tags:
        if vocab.has_type(t, "Emoji"):
            name = (vocab.get_str(t, "name", max_len=130) or "").strip(":")
            icon = vocab.object_of(t, "icon")
            image = vocab.id_of(icon.get("url")) or vocab.get_str(icon, "url") if icon else None
            if name and image and vocab.host_of(image) and name.replace("_", "").isalnum():
                emojis.append((name, image))
    quote = vocab.get_str(obj, "quoteUri") or vocab.get_str(obj, "quoteUrl") or vocab.get_str(obj, "_misskey_quote")
    return ParsedNote(
        uri=uri, attributed_to=author, content=content or "", url=url,
        summary=summary or "", sensitive=vocab.get_bool(obj, "sensitive"),
        language=next(iter(content_map), None), in_reply_to=vocab.id_of(obj.get("inReplyTo")),
        published=parse_time(vocab.get_str(obj, "published")),
        visibility=vocab.visibility_of(obj, followers_url),
        mentions=[h for t in tags if vocab.has_type(t, "Mention") and (h := vocab.get_str(t, "href"))][:64],
        hashtags=list(dict.fromkeys(n.lstrip("#").lower() for t in tags if vocab.has_type(t, "Hashtag")
                                    and (n := vocab.get_str(t, "name", max_len=256)) and n.lstrip("#")))[:64],
        attachments=[] if converted else _attachments(obj),
        kind=kind, name=vocab.get_str(obj, "name", max_len=1000),
        updated=parse_time(vocab.get_str(obj, "updated")),
        addressed=(vocab.ids_of(obj.get("to")) + vocab.ids_of(obj.get("cc")))[:256],
        emojis=emojis[:64], poll=_poll(obj) if kind == "Question" else None,
        quote_uri=quote if quote and vocab.host_of(quote) else None,
    )
