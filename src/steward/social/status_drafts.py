"""A status as the client sent it (`StatusDraft`), read from Mastodon's
parameters and checked the way Mastodon checks it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.datastructures import UploadFile

from steward.core.clock import utcnow
from steward.core.errors import ApiError
from steward.model.entities import Tenant
from steward.social.polls import PollDraft, poll_from_params
from steward.social.quotes import check_policy_param
from steward.social.status_render import counted_length
from steward.social.status_visibility import VISIBILITIES

if TYPE_CHECKING:
    from steward.web.params import Params

LANGUAGE_RE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})?$")
MAX_SPOILER = 1500


@dataclass
class StatusDraft:
    text: str = ""
    spoiler_text: str = ""
    sensitive: bool | None = None
    language: str | None = None
    visibility: str | None = None
    in_reply_to_id: int | None = None
    media_ids: list[int] | None = None
    poll: PollDraft | None = None
    poll_sent: bool = False
    idempotency_key: str | None = None
    application_id: int | None = None
    quoted_status_id: int | None = None
    quote_policy: str | None = None
    scheduled_at: datetime | None = None
    # Edits may change their media's description, focus and thumbnail.
    media_attributes: list[MediaEdit] | None = None


@dataclass
class MediaEdit:
    id: int
    description: str | None = None
    focus: dict[str, float] | None = None
    # A new preview image: decoded from a data: URI, or a multipart upload.
    thumbnail: bytes | UploadFile | None = None


def _thumbnail(value: Any) -> bytes | UploadFile | None:
    from steward.social.media import decode_data_uri

    if value is None or value == "":
        return None
    if isinstance(value, UploadFile):
        return value
    if not isinstance(value, str):
        raise ApiError(422, "Validation failed: thumbnail must be an image upload or a base64 data: URI")
    return decode_data_uri(value)


def _media_attributes(params: Params) -> list[MediaEdit]:
    out: list[MediaEdit] = []
    for item in params.list("media_attributes")[:16]:
        if not isinstance(item, dict):
            raise ApiError(422, "Validation failed: media_attributes must be a list of objects")
        sub = type(params)(item)
        media_id = sub.id("id")
        if media_id is None:
            raise ApiError(422, "Validation failed: media_attributes need an id")
        focus = None
        raw_focus = sub.str("focus", max_len=64)
        if raw_focus:
            try:
                x, y = (float(v) for v in raw_focus.split(","))
            except ValueError:
                raise ApiError(422, "Validation failed: focus must be two numbers, x,y") from None
            if not (-1 <= x <= 1 and -1 <= y <= 1):
                raise ApiError(422, "Validation failed: focus must be between -1.0 and 1.0")
            focus = {"x": x, "y": y}
        out.append(MediaEdit(media_id, sub.str("description", max_len=1500), focus, _thumbnail(item.get("thumbnail"))))
    return out


def draft_from_params(tenant: Tenant, params: Params, *, idempotency_key: str | None = None,
                      application_id: int | None = None) -> StatusDraft:
    visibility = params.str("visibility", max_len=16)
    if visibility is not None and visibility not in VISIBILITIES:
        raise ApiError(422, "Validation failed: Visibility is not a valid visibility",
                       {"visibility": [{"error": "ERR_INCLUSION", "description": "is not included in the list"}]})
    language = params.str("language", max_len=16) or None
    if language is not None and not LANGUAGE_RE.match(language):
        raise ApiError(422, "Validation failed: Language is not a valid language code")
    if idempotency_key is not None and len(idempotency_key) > 128:
        raise ApiError(422, "Validation failed: Idempotency-Key is too long")
    return StatusDraft(
        text=params.str("status", "") or "",
        spoiler_text=params.str("spoiler_text", "", max_len=MAX_SPOILER) or "",
        sensitive=params.bool("sensitive"),
        language=language,
        visibility=visibility,
        in_reply_to_id=params.id("in_reply_to_id"),
        media_ids=params.id_list("media_ids", max_items=16) if "media_ids" in params else None,
        poll=poll_from_params(tenant, params),
        poll_sent="poll" in params,
        idempotency_key=idempotency_key or None,
        application_id=application_id,
        quoted_status_id=params.id("quoted_status_id") or params.id("quote_id"),
        quote_policy=check_policy_param(params.str("quote_approval_policy", max_len=16)),
        scheduled_at=schedule_time(params.str("scheduled_at", max_len=64) or None),
        media_attributes=_media_attributes(params) if "media_attributes" in params else None,
    )


def schedule_time(value: str | None) -> datetime | None:
    """`scheduled_at` as Mastodon reads it: a time already past means "post now"."""
    at = parse_timestamp(value)
    return at if at is not None and at > utcnow() else None


def parse_timestamp(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ApiError(422, "Validation failed: scheduled_at is not a valid timestamp") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def check_body(tenant: Tenant, draft: StatusDraft, has_media: bool) -> None:
    limit = int(tenant.setting("max_toot_chars", 500))
    if counted_length(draft.text) + len(draft.spoiler_text) > limit:
        raise ApiError(422, f"Validation failed: Text character limit of {limit} exceeded",
                       {"text": [{"error": "ERR_TOO_LONG", "description": f"character limit of {limit} exceeded"}]})
    if not draft.text.strip() and not has_media:
        raise ApiError(422, "Validation failed: Text can't be blank",
                       {"text": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
