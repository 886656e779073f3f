"""Mastodon pagination: a page request and how it bounds a query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select


@dataclass(slots=True)
class Page:
    max_id: int | None
    since_id: int | None
    min_id: int | None
    limit: int
    offset: int = 0


def apply_page(query: Select[Any], key: Any, page: Page) -> Select[Any]:
    """Mastodon paging on `key`: max_id/since_id bound a newest-first page;
    min_id asks for the page just above it, read oldest-first (the caller
    reverses those rows)."""
    if page.max_id is not None:
        query = query.where(key < page.max_id)
    if page.since_id is not None:
        query = query.where(key > page.since_id)
    if page.min_id is not None:
        return query.where(key > page.min_id).order_by(key.asc()).limit(page.limit)
    return query.order_by(key.desc()).limit(page.limit)
