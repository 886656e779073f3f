"""Discovery: WebFinger, host-meta and NodeInfo, per tenant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

import orjson
from starlette.responses import Response
from starlette.routing import Route

from steward.core.clock import utcnow
from steward.core.errors import ApiError
from steward.model.entities import Account, Tenant
from steward.social import instance as instance_service
from steward.social.accounts import find_by_acct
from steward.web.base import Ctx, endpoint

NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.0"
CORS = {"Access-Control-Allow-Origin": "*"}
# The tenant's own instance actor, as Mastodon names it.
INSTANCE_ACTOR_PATH = "/actor"


def _jrd(data: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/jrd+json; charset=utf-8",
                    headers={**CORS, "Cache-Control": "max-age=259200, public", "Vary": "Accept"})


def parse_resource(tenant: Tenant, resource: str) -> str | None:
    """The local username a WebFinger resource names, None when it names another
    server; 400 when it cannot be read at all."""
    resource = resource.strip()
    hosts = {tenant.domain, tenant.web_domain}
    if resource.lower().startswith(("https://", "http://")):
        parts = urlsplit(resource)
        netloc = parts.netloc.rpartition("@")[2].lower()
        if netloc not in hosts and (parts.hostname or "").lower() not in hosts:
            return None
        path = unquote(parts.path).rstrip("/")
        for prefix in ("/@", "/users/"):
            if path.startswith(prefix) and "/" not in path[len(prefix):] and len(path) > len(prefix):
                return path[len(prefix):]
        if path == INSTANCE_ACTOR_PATH:
            return tenant.web_domain
        return None
    if resource.lower().startswith("acct:"):
        resource = resource[5:]
    resource = resource.lstrip("@")
    username, at, domain = resource.rpartition("@")
    if not at or not username or not domain or any(c.isspace() for c in resource):
        raise ApiError(400, "The resource parameter is not a valid acct: URI or URL")
    if domain.lower() not in hosts:
        return None
    return unquote(username)


def _instance_actor_jrd(base: str, tenant: Tenant) -> dict[str, Any]:
    actor = f"{base}{INSTANCE_ACTOR_PATH}"
    return {
        "subject": f"acct:{tenant.web_domain}@{tenant.web_domain}",
        "aliases": [actor],
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": f"{base}/about/more"},
            {"rel": "self", "type": "application/activity+json", "href": actor},
        ],
    }


def account_jrd(base: str, tenant: Tenant, account: Account) -> dict[str, Any]:
    uri = account.uri or f"{base}/users/{account.username}"
    url = account.url or f"{base}/@{account.username}"
    links: list[dict[str, Any]] = [
        {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": url},
        {"rel": "self", "type": "application/activity+json", "href": uri},
        {"rel": "http://ostatus.org/schema/1.0/subscribe", "template": f"{base}/authorize_interaction?uri={{uri}}"},
    ]
    if account.avatar_media_path:
        from steward.social.media import content_type_for

        links.append({"rel": "http://webfinger.net/rel/avatar", "type": content_type_for(account.avatar_media_path),
                      "href": f"{base}/system/{account.avatar_media_path}"})
    return {"subject": f"acct:{account.username}@{tenant.domain}", "aliases": [url, uri], "links": links}


@endpoint(auth="none")
async def webfinger(ctx: Ctx) -> Any:
    resource = ctx.params.str("resource", max_len=1000)
    if not resource or not resource.strip():
        raise ApiError(400, "The resource parameter is required")
    username = parse_resource(ctx.tenant, resource)
    if username is None:
        raise ApiError(404, "Record not found")
    if username.lower() in {ctx.tenant.web_domain, ctx.tenant.domain}:
        return _jrd(_instance_actor_jrd(ctx.base_url, ctx.tenant))
    async with ctx.c.db.read() as conn:
        account = await find_by_acct(conn, ctx.tenant, username)
    if account is None or not account.local:
        raise ApiError(404, "Record not found")
    if account.suspended_at is not None:
        raise ApiError(410, "This account has been suspended")
    return _jrd(account_jrd(ctx.base_url, ctx.tenant, account))


@endpoint(auth="none")
async def host_meta(ctx: Ctx) -> Any:
    template = f"{ctx.base_url}/.well-known/webfinger?resource={{uri}}"
    if ctx.params.str("format") == "json":
        return _jrd({"links": [{"rel": "lrdd", "template": template}]})
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
            f'  <Link rel="lrdd" template="{escape(template, {chr(34): "&quot;"})}"/>\n'
            '</XRD>\n')
    return Response(body, media_type="application/xrd+xml; charset=utf-8",
                    headers={**CORS, "Cache-Control": "max-age=259200, public"})


@endpoint(auth="none")
async def nodeinfo_index(ctx: Ctx) -> Any:
    return Response(orjson.dumps({"links": [{"rel": NODEINFO_SCHEMA, "href": f"{ctx.base_url}/nodeinfo/2.0"}]}),
                    media_type="application/json; charset=utf-8", headers=CORS)


@endpoint(auth="none")
async def nodeinfo(ctx: Ctx) -> Any:
    now = utcnow()
    async with ctx.c.db.read() as conn:
        stats = await instance_service.stats(conn, ctx.tenant.id)
        month = await instance_service.active_users(conn, ctx.tenant.id, now - timedelta(days=30))
        half_year = await instance_service.active_users(conn, ctx.tenant.id, now - timedelta(days=180))
    data = {
        "version": "2.0",
        "software": {"name": "steward", "version": instance_service.SOFTWARE_VERSION},
        "protocols": ["activitypub"],
        "services": {"outbound": [], "inbound": []},
        "usage": {"users": {"total": stats.user_count, "activeMonth": month, "activeHalfyear": half_year},
                  "localPosts": stats.status_count},
        "openRegistrations": ctx.tenant.setting("registration_mode", "open") == "open",
        "metadata": {"nodeName": str(ctx.tenant.setting("title") or ctx.tenant.name),
                     "nodeDescription": str(ctx.tenant.setting("description") or "")},
    }
    return Response(orjson.dumps(data), headers=CORS,
                    media_type=f'application/json; profile="{NODEINFO_SCHEMA}#"')


routes = [
    Route("/.well-known/webfinger", webfinger, methods=["GET"]),
    Route("/.well-known/host-meta", host_meta, methods=["GET"]),
    Route("/.well-known/nodeinfo", nodeinfo_index, methods=["GET"]),
    Route("/nodeinfo/2.0", nodeinfo, methods=["GET"]),
]
