"""Filter routes: the v2 API (filters with keywords and statuses) and the v1 API,
which sees each keyword as a filter of its own, as Mastodon 4 does."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from steward.core.clock import iso
from steward.core.errors import ApiError
from steward.social import filters as svc
from steward.web.base import Ctx, endpoint
from steward.web.params import Params

MAX_EXPIRES_IN = 10 * 365 * 24 * 3600


def keyword_to_api(k: svc.Keyword) -> dict[str, Any]:
    return {"id": str(k.id), "keyword": k.keyword, "whole_word": k.whole_word}


def filter_status_to_api(s: svc.FilteredStatus) -> dict[str, Any]:
    return {"id": str(s.id), "status_id": str(s.status_id)}


def filter_to_api(f: svc.Filter) -> dict[str, Any]:
    return {
        "id": str(f.id), "title": f.title, "context": f.context, "expires_at": iso(f.expires_at),
        "filter_action": f.action, "keywords": [keyword_to_api(k) for k in f.keywords],
        "statuses": [filter_status_to_api(s) for s in f.statuses],
    }


def filter_result_to_api(f: svc.Filter, keyword_matches: list[str], status_matches: list[str]) -> dict[str, Any]:
    """Mastodon's FilterResult, for statuses rendered with filters applied."""
    return {"filter": filter_to_api(f), "keyword_matches": keyword_matches or None,
            "status_matches": status_matches or None}


def v1_filter_to_api(f: svc.Filter, k: svc.Keyword) -> dict[str, Any]:
    return {"id": str(k.id), "phrase": k.keyword, "context": f.context, "whole_word": k.whole_word,
            "expires_at": iso(f.expires_at), "irreversible": f.action == "hide"}


def _expires_in(p: Params) -> Any:
    return svc.expires_from(p.int("expires_in", None, lo=1, hi=MAX_EXPIRES_IN))


def _keyword_ops(p: Params, *, allow_ids: bool) -> list[dict[str, Any]]:
    ops = []
    for item in p.list("keywords_attributes"):
        if not isinstance(item, dict):
            raise ApiError(422, "Validation failed: keywords_attributes must be a list of objects")
        entry = Params(item)
        destroy = svc.parse_bool(item.get("_destroy"), False)
        keyword_id = entry.id("id") if allow_ids else None
        keyword = entry.str("keyword", max_len=svc.MAX_KEYWORD)
        if (keyword_id is None and not destroy) or keyword is not None:
            keyword = svc.check_keyword(keyword)
        whole = item.get("whole_word")
        ops.append({"id": keyword_id, "destroy": destroy, "keyword": keyword,
                    "whole_word": svc.parse_bool(whole, True) if keyword_id is None or whole is not None else None})
    return ops


# v2

@endpoint("read:filters")
async def index(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        found = await svc.list_filters(conn, ctx.tenant.id, ctx.me.id)
    return [filter_to_api(f) for f in found]


@endpoint("read:filters")
async def show(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return filter_to_api(await svc.get_filter(conn, ctx.tenant.id, ctx.me.id, ctx.path_id()))


@endpoint("write:filters")
async def create(ctx: Ctx) -> Any:
    p = ctx.params
    title = svc.check_title(p.raw("title"))
    context = svc.check_context(p.list("context"))
    action = svc.check_action(p.str("filter_action", "warn"))
    keywords = [(op["keyword"], op["whole_word"]) for op in _keyword_ops(p, allow_ids=False) if not op["destroy"]]
    async with ctx.c.db.write() as conn:
        filter_id = await svc.create_filter(conn, ctx.tenant, ctx.me, title=title, context=context, action=action,
                                            expires_at=_expires_in(p), keywords=keywords)
        return filter_to_api(await svc.get_filter(conn, ctx.tenant.id, ctx.me.id, filter_id))


def _filter_changes(p: Params) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "title" in p:
        changes["title"] = svc.check_title(p.raw("title"))
    if "context" in p:
        changes["context"] = svc.check_context(p.list("context"))
    if "filter_action" in p:
        changes["action"] = svc.check_action(p.str("filter_action"))
    if "expires_in" in p:
        changes["expires_at"] = _expires_in(p)
    return changes


@endpoint("write:filters")
async def update(ctx: Ctx) -> Any:
    p = ctx.params
    changes = _filter_changes(p)
    ops = _keyword_ops(p, allow_ids=True)
    async with ctx.c.db.write() as conn:
        await svc.update_filter(conn, ctx.tenant, ctx.me, ctx.path_id(), changes, ops)
        return filter_to_api(await svc.get_filter(conn, ctx.tenant.id, ctx.me.id, ctx.path_id()))


@endpoint("write:filters")
async def destroy(ctx: Ctx) -> Any:
    async with ctx.c.db.write() as conn:
        await svc.delete_filter(conn, ctx.tenant, ctx.me, ctx.path_id())
    return {}


@endpoint("read:filters")
async def keywords_index(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        found = await svc.get_filter(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return [keyword_to_api(k) for k in found.keywords]


@endpoint("write:filters")
async def keywords_create(ctx: Ctx) -> Any:
    p = ctx.params
    keyword = svc.check_keyword(p.str("keyword", max_len=svc.MAX_KEYWORD))
    whole = bool(p.bool("whole_word", True))
    async with ctx.c.db.write() as conn:
        return keyword_to_api(await svc.add_keyword(conn, ctx.tenant, ctx.me, ctx.path_id(), keyword, whole))


@endpoint("read:filters")
async def keyword_show(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return keyword_to_api(await svc.get_keyword(conn, ctx.tenant.id, ctx.me.id, ctx.path_id()))


@endpoint("write:filters")
async def keyword_update(ctx: Ctx) -> Any:
    p = ctx.params
    keyword = p.str("keyword", max_len=svc.MAX_KEYWORD)
    async with ctx.c.db.write() as conn:
        return keyword_to_api(await svc.update_keyword(conn, ctx.tenant, ctx.me, ctx.path_id(), keyword,
                                                       p.bool("whole_word")))


@endpoint("write:filters")
async def keyword_destroy(ctx: Ctx) -> Any:
    async with ctx.c.db.write() as conn:
        await svc.delete_keyword(conn, ctx.tenant, ctx.me, ctx.path_id())
    return {}


@endpoint("read:filters")
async def statuses_index(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        found = await svc.get_filter(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    return [filter_status_to_api(s) for s in found.statuses]


@endpoint("write:filters")
async def statuses_create(ctx: Ctx) -> Any:
    status_id = ctx.params.id("status_id")
    if status_id is None:
        raise ApiError(422, "Validation failed: Status can't be blank",
                       {"status_id": [{"error": "ERR_BLANK", "description": "can't be blank"}]})
    async with ctx.c.db.write() as conn:
        return filter_status_to_api(await svc.add_status(conn, ctx.tenant, ctx.me, ctx.path_id(), status_id))


@endpoint("read:filters")
async def status_show(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return filter_status_to_api(await svc.get_filtered_status(conn, ctx.tenant.id, ctx.me.id, ctx.path_id()))


@endpoint("write:filters")
async def status_destroy(ctx: Ctx) -> Any:
    async with ctx.c.db.write() as conn:
        await svc.delete_filtered_status(conn, ctx.tenant, ctx.me, ctx.path_id())
    return {}


# v1: one keyword is one filter; its id is the keyword's id.

@endpoint("read:filters")
async def v1_index(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        found = await svc.list_filters(conn, ctx.tenant.id, ctx.me.id)
    return [v1_filter_to_api(f, k) for f in found for k in f.keywords]


async def _v1_pair(ctx: Ctx, conn: Any) -> tuple[svc.Filter, svc.Keyword]:
    keyword = await svc.get_keyword(conn, ctx.tenant.id, ctx.me.id, ctx.path_id())
    parent = await svc.get_filter(conn, ctx.tenant.id, ctx.me.id, keyword.filter_id)
    return parent, keyword


@endpoint("read:filters")
async def v1_show(ctx: Ctx) -> Any:
    async with ctx.c.db.read() as conn:
        return v1_filter_to_api(*await _v1_pair(ctx, conn))


@endpoint("write:filters")
async def v1_create(ctx: Ctx) -> Any:
    p = ctx.params
    phrase = svc.check_keyword(p.str("phrase", max_len=svc.MAX_KEYWORD))
    context = svc.check_context(p.list("context"))
    action = "hide" if p.bool("irreversible", False) else "warn"
    whole = bool(p.bool("whole_word", True))
    async with ctx.c.db.write() as conn:
        filter_id = await svc.create_filter(conn, ctx.tenant, ctx.me, title=phrase[: svc.MAX_TITLE], context=context,
                                            action=action, expires_at=_expires_in(p), keywords=[(phrase, whole)])
        created = await svc.get_filter(conn, ctx.tenant.id, ctx.me.id, filter_id)
    return v1_filter_to_api(created, created.keywords[0])


@endpoint("write:filters")
async def v1_update(ctx: Ctx) -> Any:
    p = ctx.params
    changes: dict[str, Any] = {}
    if "context" in p:
        changes["context"] = svc.check_context(p.list("context"))
    if "irreversible" in p:
        changes["action"] = "hide" if p.bool("irreversible") else "warn"
    if "expires_in" in p:
        changes["expires_at"] = _expires_in(p)
    phrase = p.str("phrase", max_len=svc.MAX_KEYWORD)
    async with ctx.c.db.write() as conn:
        parent, keyword = await _v1_pair(ctx, conn)
        filter_level = {k: v for k, v in changes.items()
                        if v != {"context": parent.context, "action": parent.action,
                                 "expires_at": parent.expires_at}[k]}
        if filter_level and len(parent.keywords) > 1:
            raise ApiError(422, "Validation failed: this filter has several keywords; "
                                "change its context, action or expiry through the v2 filters API")
        op = {"id": keyword.id, "destroy": False, "keyword": phrase, "whole_word": p.bool("whole_word")}
        await svc.update_filter(conn, ctx.tenant, ctx.me, parent.id, changes, [op])
        if phrase is not None and len(parent.keywords) == 1:
            await svc.update_filter(conn, ctx.tenant, ctx.me, parent.id,
                                    {"title": svc.check_title(svc.check_keyword(phrase)[: svc.MAX_TITLE])}, [])
        return v1_filter_to_api(*await _v1_pair(ctx, conn))


@endpoint("write:filters")
async def v1_destroy(ctx: Ctx) -> Any:
    async with ctx.c.db.write() as conn:
        keyword = await svc.delete_keyword(conn, ctx.tenant, ctx.me, ctx.path_id())
        await svc.delete_if_empty(conn, ctx.tenant, ctx.me, keyword.filter_id)
    return {}


routes = [
    Route("/api/v2/filters", index, methods=["GET"]),
    Route("/api/v2/filters", create, methods=["POST"]),
    Route("/api/v2/filters/{id}", show, methods=["GET"]),
    Route("/api/v2/filters/{id}", update, methods=["PUT"]),
    Route("/api/v2/filters/{id}", destroy, methods=["DELETE"]),
    Route("/api/v2/filters/{id}/keywords", keywords_index, methods=["GET"]),
    Route("/api/v2/filters/{id}/keywords", keywords_create, methods=["POST"]),
    Route("/api/v2/filters/keywords/{id}", keyword_show, methods=["GET"]),
    Route("/api/v2/filters/keywords/{id}", keyword_update, methods=["PUT"]),
    Route("/api/v2/filters/keywords/{id}", keyword_destroy, methods=["DELETE"]),
    Route("/api/v2/filters/{id}/statuses", statuses_index, methods=["GET"]),
    Route("/api/v2/filters/{id}/statuses", statuses_create, methods=["POST"]),
    Route("/api/v2/filters/statuses/{id}", status_show, methods=["GET"]),
    Route("/api/v2/filters/statuses/{id}", status_destroy, methods=["DELETE"]),
    Route("/api/v1/filters", v1_index, methods=["GET"]),
    Route("/api/v1/filters", v1_create, methods=["POST"]),
    Route("/api/v1/filters/{id}", v1_show, methods=["GET"]),
    Route("/api/v1/filters/{id}", v1_update, methods=["PUT"]),
    Route("/api/v1/filters/{id}", v1_destroy, methods=["DELETE"]),
]
