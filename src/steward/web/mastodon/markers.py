"""Markers: the last-read position in the home and notifications timelines."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.core.clock import iso
from steward.core.errors import ApiError
from steward.core.ids import parse_id
from steward.social import timelines
from steward.web.base import Ctx, endpoint


def _to_api(rows: dict[str, Any]) -> dict[str, Any]:
    return {name: {"last_read_id": str(r.last_read_id), "version": r.version, "updated_at": iso(r.updated_at)}
            for name, r in rows.items()}


@endpoint("read:statuses")
async def index(ctx: Ctx) -> Any:
    names = timelines.check_marker_timelines(ctx.params.str_list("timeline", max_items=10))
    async with ctx.c.db.read() as conn:
        return _to_api(await timelines.get_markers(conn, ctx.tenant.id, ctx.me.id, names))


@endpoint("write:statuses")
async def save(ctx: Ctx) -> Any:
    positions: dict[str, int] = {}
    for name in timelines.MARKER_TIMELINES:
        if name not in ctx.params:
            continue
        raw = ctx.params.sub(name).raw("last_read_id")
        parsed = parse_id(raw)
        if parsed is None:
            raise ApiError(422, f"Validation failed: {name}[last_read_id] must be an id")
        positions[name] = parsed
    if not positions:
        raise ApiError(422, "Validation failed: give home[last_read_id] or notifications[last_read_id]")
    async with ctx.c.db.write() as conn:
        return _to_api(await timelines.set_markers(conn, ctx.tenant.id, ctx.me.id, positions))


routes = [
    Route("/api/v1/markers", index, methods=["GET"]),
    Route("/api/v1/markers", save, methods=["POST"]),
]
