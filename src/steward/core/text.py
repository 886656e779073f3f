"""Text: sanitising HTML (nh3) and turning plain status text into Mastodon's
HTML with links, mentions and hashtags."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import nh3

# What Mastodon keeps of remote HTML. `rel` is not listed: nh3 sets it (link_rel) and refuses both.
_ALLOWED_TAGS = {"p", "br", "span", "a", "del", "pre", "code", "em", "strong", "b", "i", "u",
                 "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "sub", "sup"}
_ALLOWED_ATTRS = {"a": {"href", "class", "translate"}, "span": {"class", "translate"},
                  "ol": {"start", "reversed"}, "li": {"value"}}


def sanitize_html(value: str) -> str:
    return nh3.clean(value, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS,
                     url_schemes={"http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher",
                                  "xmpp", "magnet", "gemini"},
                     link_rel="nofollow noopener noreferrer")


def strip_tags(value: str) -> str:
    text = re.sub(r"<br\s*/?>", "\n", value)
    text = re.sub(r"</p>\s*<p>", "\n\n", text)
    return html.unescape(nh3.clean(text, tags=set()))


URL_RE = re.compile(r"(?<![\w/@])(https?://[^\s<>\"'\u200b]+[^\s<>\"'.,;:!?)\]\u200b])", re.IGNORECASE)
MENTION_RE = re.compile(
    r"(?<![\w/@.])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@([a-z0-9.-]+[a-z0-9](?::\d+)?))?", re.IGNORECASE
)
HASHTAG_RE = re.compile(r"(?<![\w/&#])#([\w_]*[^\W\d_][\w_]*)", re.UNICODE)


@dataclass
class Mention:
    username: str
    domain: str | None
    start: int
    end: int


@dataclass
class ParsedText:
    mentions: list[Mention] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


def extract(text: str) -> ParsedText:
    out = ParsedText()
    url_spans = [(m.start(), m.end()) for m in URL_RE.finditer(text)]
    out.urls = [m.group(1) for m in URL_RE.finditer(text)]

    def in_url(pos: int) -> bool:
        return any(a <= pos < b for a, b in url_spans)

    for m in MENTION_RE.finditer(text):
        if not in_url(m.start()):
            out.mentions.append(Mention(m.group(1), (m.group(2) or "").lower() or None, m.start(), m.end()))
    seen = set()
    for m in HASHTAG_RE.finditer(text):
        if in_url(m.start()):
            continue
        name = m.group(1)
        if len(name) <= 256 and name.lower() not in seen:
            seen.add(name.lower())
            out.tags.append(name)
    return out


def _link_html(url: str) -> str:
    match = re.match(r"(https?://)(?:www\.)?(.*)", url, re.IGNORECASE)
    prefix, rest = (match.group(1), match.group(2)) if match else ("", url)
    shown, tail = (rest[:30], rest[30:]) if len(rest) > 30 else (rest, "")
    klass = "ellipsis" if tail else ""
    return (f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="nofollow noopener noreferrer" '
            f'translate="no"><span class="invisible">{html.escape(prefix)}</span>'
            f'<span class="{klass}">{html.escape(shown)}</span>'
            f'<span class="invisible">{html.escape(tail)}</span></a>')


def render_plain(text: str, *, mention_url: dict[tuple[str, str | None], tuple[str, str]] | None = None,
                 tag_url: str = "") -> str:
    """Plain text to Mastodon's HTML. `mention_url` maps (username, domain) of a
    resolved mention to (profile url, username shown)."""
    mention_url = mention_url or {}
    pieces: list[tuple[int, int, str]] = []
    for m in URL_RE.finditer(text):
        pieces.append((m.start(), m.end(), _link_html(m.group(1))))
    taken = [(a, b) for a, b, _ in pieces]

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for m in MENTION_RE.finditer(text):
        key = (m.group(1).lower(), (m.group(2) or "").lower() or None)
        target = mention_url.get(key)
        if target and free(m.start(), m.end()):
            url, shown = target
            pieces.append((m.start(), m.end(),
                           f'<span class="h-card" translate="no"><a href="{html.escape(url, quote=True)}" '
                           f'class="u-url mention">@<span>{html.escape(shown)}</span></a></span>'))
            taken.append((m.start(), m.end()))
    for m in HASHTAG_RE.finditer(text):
        if free(m.start(), m.end()):
            name = m.group(1)
            href = f"{tag_url}/tags/{name.lower()}"
            pieces.append((m.start(), m.end(),
                           f'<a href="{html.escape(href, quote=True)}" class="mention hashtag" rel="tag">'
                           f'#<span>{html.escape(name)}</span></a>'))
            taken.append((m.start(), m.end()))
    pieces.sort()
    out: list[str] = []
    pos = 0
    for a, b, rendered in pieces:
        out.append(html.escape(text[pos:a], quote=False))
        out.append(rendered)
        pos = b
    out.append(html.escape(text[pos:], quote=False))
    body = "".join(out).replace("\r\n", "\n")
    paragraphs = [p for p in re.split(r"\n{2,}", body.strip("\n")) if p.strip() or p]
    if not paragraphs:
        return ""
    return "".join(f"<p>{p.replace(chr(10), '<br />')}</p>" for p in paragraphs)
