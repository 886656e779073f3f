"""Plain typed entities shared by every layer. Built from table rows with
`from_row`; they hold data, not behaviour."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from steward.core.clock import aware

T = TypeVar("T")

_FIELDS_CACHE: dict[type, tuple[tuple[str, bool], ...]] = {}
# (class, the row's column names) -> (position, field name, is a datetime) for each field the row has.
_PLANS: dict[tuple[type, tuple[str, ...]], tuple[tuple[int, str, bool], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, bool], ...]:
    names = _FIELDS_CACHE.get(cls)
    if names is None:
        names = tuple(
            (f.name, "datetime" in str(f.type)) for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        )
        _FIELDS_CACHE[cls] = names
    return names


def from_row(cls: type[T], row: Any) -> T:
    """Build `cls` from a SQLAlchemy row (or mapping), taking the columns it names.
    Rows of one shape share a plan, so a page of rows costs one lookup each."""
    columns = getattr(row, "_fields", None)
    if columns is None:
        kwargs = {}
        for name, is_dt in _fields(cls):
            if name in row:
                value = row[name]
                kwargs[name] = aware(value) if is_dt else value
        return cls(**kwargs)
    key = (cls, columns)
    plan = _PLANS.get(key)
    if plan is None:
        position = {name: i for i, name in reversed(list(enumerate(columns)))}
        plan = tuple((position[name], name, is_dt) for name, is_dt in _fields(cls) if name in position)
        if len(_PLANS) < 10_000:
            _PLANS[key] = plan
    return cls(**{name: (aware(row[i]) if is_dt else row[i]) for i, name, is_dt in plan})


@dataclass(slots=True)
class Tenant:
    id: int
    domain: str
    web_domain: str
    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    suspended_at: datetime | None = None
    private_key: str | None = None
    public_key: str | None = None

    def setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)


@dataclass(slots=True)
class Account:
    tenant_id: int
    id: int
    username: str
    domain: str = ""
    display_name: str = ""
    note: str = ""
    note_source: str = ""
    fields: list[dict[str, Any]] = field(default_factory=list)
    uri: str = ""
    url: str = ""
    avatar_media_path: str | None = None
    header_media_path: str | None = None
    avatar_remote_url: str | None = None
    header_remote_url: str | None = None
    avatar_description: str = ""
    header_description: str = ""
    show_media: bool = True
    show_media_replies: bool = True
    show_featured: bool = True
    attribution_domains: list[str] = field(default_factory=list)
    locked: bool = False
    bot: bool = False
    group: bool = False
    discoverable: bool = True
    indexable: bool = True
    hide_collections: bool = False
    memorial: bool = False
    statuses_count: int = 0
    followers_count: int = 0
    following_count: int = 0
    last_status_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    suspended_at: datetime | None = None
    silenced_at: datetime | None = None
    sensitized_at: datetime | None = None
    moved_to_account_id: int | None = None
    also_known_as: list[str] = field(default_factory=list)
    inbox_url: str | None = None
    shared_inbox_url: str | None = None
    followers_url: str | None = None
    featured_url: str | None = None
    actor_type: str = "Person"
    fetched_at: datetime | None = None

    @property
    def local(self) -> bool:
        return self.domain == ""

    def acct(self) -> str:
        return self.username if self.local else f"{self.username}@{self.domain}"


@dataclass(slots=True)
class User:
    tenant_id: int
    id: int
    account_id: int
    email: str
    password_hash: str | None = None
    role: str = "user"
    locale: str = "en"
    approved: bool = True
    confirmed_at: datetime | None = None
    disabled: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    sign_up_reason: str | None = None
    sign_up_ip: str | None = None
    role_spec: dict[str, Any] | None = None  # a custom role's definition (see moderation/custom_roles.py)


@dataclass(slots=True)
class OAuthApp:
    tenant_id: int
    id: int
    name: str
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)
    scopes: str = "read"
    website: str | None = None
    created_at: datetime | None = None


@dataclass(slots=True)
class Token:
    tenant_id: int
    id: int
    scopes: str
    app_id: int | None = None
    user_id: int | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


@dataclass(slots=True)
class Status:
    tenant_id: int
    id: int
    account_id: int
    uri: str = ""
    url: str | None = None
    text: str = ""
    content: str = ""
    spoiler_text: str = ""
    sensitive: bool = False
    visibility: str = "public"
    language: str | None = None
    in_reply_to_id: int | None = None
    in_reply_to_account_id: int | None = None
    reblog_of_id: int | None = None
    quote_of_id: int | None = None
    quote_state: str | None = None
    quote_policy: str | None = None
    conversation_id: int | None = None
    application_id: int | None = None
    poll_id: int | None = None
    local: bool = True
    replies_count: int = 0
    reblogs_count: int = 0
    favourites_count: int = 0
    quotes_count: int = 0
    created_at: datetime | None = None
    edited_at: datetime | None = None
    deleted_at: datetime | None = None


@dataclass(slots=True)
class MediaAttachment:
    tenant_id: int
    id: int
    account_id: int
    status_id: int | None = None
    type: str = "image"
    file_path: str | None = None
    preview_path: str | None = None
    remote_url: str | None = None
    description: str | None = None
    blurhash: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    position: int = 0
    created_at: datetime | None = None


@dataclass(slots=True)
class Poll:
    tenant_id: int
    id: int
    status_id: int
    account_id: int
    options: list[str] = field(default_factory=list)
    tallies: list[int] = field(default_factory=list)
    multiple: bool = False
    hide_totals: bool = False
    votes_count: int = 0
    voters_count: int = 0
    expires_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(slots=True)
class Notification:
    tenant_id: int
    id: int
    account_id: int
    from_account_id: int
    type: str
    status_id: int | None = None
    report_id: int | None = None
    account_warning_id: int | None = None
    group_key: str | None = None
    created_at: datetime | None = None
