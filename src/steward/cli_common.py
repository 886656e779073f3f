"""What the `steward` sub-command modules share."""

from __future__ import annotations

from typing import Any

from steward.core.errors import ApiError


async def tenant_by_domain(c: Any, domain: str) -> Any:
    """The tenant a command names by its domain; a clear error otherwise."""
    tenant = await c.tenants.by_domain(domain)
    if tenant is None:
        raise ApiError(404, f"no tenant with domain {domain}")
    return tenant
