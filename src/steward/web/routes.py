"""Collects the routes of every web module. Each module under web/mastodon,
web/activitypub and web/public that defines `routes` is picked up; static paths
sort before parameterised ones so `/accounts/lookup` wins over `/accounts/{id}`."""

from __future__ import annotations

import importlib
import pkgutil

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

PACKAGES = ("steward.web.mastodon", "steward.web.activitypub", "steward.web.public", "steward.web.admin_api",
            "steward.web.console")


def _sort_key(route: BaseRoute) -> tuple[int, int, str]:
    path = getattr(route, "path", "")
    if isinstance(route, Mount):
        return (2, 0, path)
    segments = path.split("/")
    return (0, sum(1 for s in segments if s.startswith("{")), path)


def all_routes() -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for package_name in PACKAGES:
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError:
            continue
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            module = importlib.import_module(f"{package_name}.{info.name}")
            routes = getattr(module, "routes", None)
            if routes:
                found.extend(routes)
    found.sort(key=_sort_key)
    return [r for r in found if isinstance(r, Route | WebSocketRoute | Mount)]
