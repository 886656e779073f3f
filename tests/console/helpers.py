"""A browser-like client for the console pages: it keeps cookies, reads the CSRF
token out of the forms, and follows no redirects (tests look at them)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from steward.model.entities import Tenant
from tests.world import PASSWORD, World

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


class Console:
    def __init__(self, world: World, tenant: Tenant) -> None:
        self.http = world.client(tenant)
        self.csrf = ""

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        r = await self.http.get(path, **kw)
        if r.status_code == 200 and "csrf_token" in r.text:
            self.csrf = csrf_of(r.text)
        return r

    async def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        return await self.http.post(path, data=form)

    async def sign_in(self, login: str, password: str = PASSWORD) -> httpx.Response:
        page = await self.get("/admin/sign_in")
        assert page.status_code == 200
        r = await self.post("/admin/sign_in", {"login": login, "password": password})
        if r.status_code == 303:
            await self.get("/admin/reports")
        return r


async def signed_in(world: World, tenant: Tenant, login: str) -> Console:
    console = Console(world, tenant)
    r = await console.sign_in(login)
    assert r.status_code == 303, r.text
    return console
