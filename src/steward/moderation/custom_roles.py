"""A tenant's custom staff roles (beside owner, admin and moderator), with
Mastodon's rules: managing roles needs the `manage_roles` permission; a staff
member may only create, change, delete or hand out roles placed below their
own, granting no permission they do not hold themselves (the owner and holders
of `administrator` are exempt). A user row carries the definition of the custom
role it holds (`role_spec`), rewritten whenever the role changes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from steward.core.clock import iso, utcnow
from steward.core.errors import ApiError, forbidden, not_found, unprocessable
from steward.core.ids import new_id
from steward.db.tables import custom_roles, users
from steward.model.entities import Account, User, from_row
from steward.moderation.audit import log_action
from steward.moderation.roles import (
    ALL,
    CUSTOM_PREFIX,
    ROLES,
    Permission,
    has_permission,
    permissions_of,
    position_of,
)

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
MAX_ROLES = 100
MAX_POSITION = 999  # below the owner's 1000


@dataclass(frozen=True, slots=True)
class RoleInput:
    name: str
    permissions: Permission
    position: int
    color: str = ""
    highlighted: bool = False


def parse_permissions(names: list[str] | str) -> Permission:
    """Permission names (`manage_reports`, ...) or a decimal bit mask."""
    if isinstance(names, str):
        names = [n for n in re.split(r"[,\s]+", names) if n]
    perms = Permission(0)
    for raw in names:
        if raw.isdigit():
            value = int(raw)
            if value & ~int(ALL):
                raise unprocessable(f"Unknown permission bits in {raw}", "permissions")
            perms |= Permission(value)
            continue
        try:
            perms |= Permission[raw.strip().upper()]
        except KeyError:
            raise unprocessable(f"Unknown permission {raw[:40]!r}", "permissions") from None
    return perms


def check_input(role: RoleInput) -> RoleInput:
    name = role.name.strip()
    if not name or len(name) > 64:
        raise unprocessable("Name must be 1 to 64 characters", "name")
    if name.lower() in ROLES:
        raise unprocessable("Name is taken by a built-in role", "name")
    if role.color and not _COLOR.fullmatch(role.color):
        raise unprocessable("Color must look like #1a2b3c", "color")
    if not 0 <= role.position <= MAX_POSITION:
        raise unprocessable(f"Position must be between 0 and {MAX_POSITION}", "position")
    return RoleInput(name, role.permissions, role.position, role.color, role.highlighted)


def _spec(row: Any) -> dict[str, Any]:
    return {"id": int(row.id), "name": row.name, "color": row.color, "permissions": int(row.permissions),
            "position": int(row.position), "highlighted": bool(row.highlighted)}


def role_to_api(row: Any) -> dict[str, Any]:
    """Mastodon's Role entity, with the position and dates Steward's API adds."""
    return {"id": str(row.id), "name": row.name, "color": row.color,
            "permissions": str(int(permissions_of(f"{CUSTOM_PREFIX}{row.id}", _spec(row)))),
            "highlighted": bool(row.highlighted), "position": int(row.position),
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def _is_superior(actor: User) -> bool:
    return actor.role == "owner" or bool(permissions_of(actor.role, actor.role_spec) & Permission.ADMINISTRATOR)


def _check_manage(actor: User, position: int, perms: Permission) -> None:
    """The actor may manage a role at `position` granting `perms`."""
    if not has_permission(actor, Permission.MANAGE_ROLES):
        raise forbidden()
    if _is_superior(actor):
        return
    if position >= position_of(actor.role, actor.role_spec):
        raise forbidden("You can only manage roles placed below your own")
    if perms & ~permissions_of(actor.role, actor.role_spec):
        raise forbidden("You cannot grant permissions you do not hold")


async def list_roles(conn: AsyncConnection, tenant_id: int) -> list[Any]:
    return list((await conn.execute(select(custom_roles).where(custom_roles.c.tenant_id == tenant_id)
                                    .order_by(custom_roles.c.position.desc(), custom_roles.c.id))).all())


async def get_role(conn: AsyncConnection, tenant_id: int, role_id: int) -> Any:
    row = (await conn.execute(select(custom_roles).where(custom_roles.c.tenant_id == tenant_id,
                                                         custom_roles.c.id == role_id))).first()
    if row is None:
        raise not_found()
    return row


async def _name_taken(conn: AsyncConnection, tenant_id: int, name: str, other_than: int | None = None) -> bool:
    query = select(custom_roles.c.id).where(custom_roles.c.tenant_id == tenant_id,
                                            func.lower(custom_roles.c.name) == name.lower())
    if other_than is not None:
        query = query.where(custom_roles.c.id != other_than)
    return (await conn.execute(query)).first() is not None


async def create_role(conn: AsyncConnection, tenant_id: int, actor: Account, actor_user: User,
                      role: RoleInput) -> Any:
    role = check_input(role)
    _check_manage(actor_user, role.position, role.permissions)
    count = (await conn.execute(select(func.count()).select_from(custom_roles).where(
        custom_roles.c.tenant_id == tenant_id))).scalar_one()
    if count >= MAX_ROLES:
        raise unprocessable(f"A server has at most {MAX_ROLES} custom roles")
    if await _name_taken(conn, tenant_id, role.name):
        raise unprocessable("Name has already been taken", "name", "ERR_TAKEN")
    now = utcnow()
    role_id = new_id()
    await conn.execute(custom_roles.insert().values(
        tenant_id=tenant_id, id=role_id, name=role.name, color=role.color, permissions=int(role.permissions),
        position=role.position, highlighted=role.highlighted, created_at=now, updated_at=now))
    await log_action(conn, tenant_id, actor.id, "create", "UserRole", role_id, role.name)
    return await get_role(conn, tenant_id, role_id)


async def update_role(conn: AsyncConnection, tenant_id: int, actor: Account, actor_user: User, role_id: int,
                      role: RoleInput) -> Any:
    current = await get_role(conn, tenant_id, role_id)
    _check_manage(actor_user, int(current.position), Permission(int(current.permissions)))
    role = check_input(role)
    _check_manage(actor_user, role.position, role.permissions)
    if await _name_taken(conn, tenant_id, role.name, other_than=role_id):
        raise unprocessable("Name has already been taken", "name", "ERR_TAKEN")
    await conn.execute(update(custom_roles).where(custom_roles.c.tenant_id == tenant_id, custom_roles.c.id == role_id)
                       .values(name=role.name, color=role.color, permissions=int(role.permissions),
                               position=role.position, highlighted=role.highlighted, updated_at=utcnow()))
    row = await get_role(conn, tenant_id, role_id)
    await conn.execute(update(users).where(users.c.tenant_id == tenant_id,
                                           users.c.role == f"{CUSTOM_PREFIX}{role_id}").values(role_spec=_spec(row)))
    await log_action(conn, tenant_id, actor.id, "update", "UserRole", role_id, role.name)
    return row


async def delete_role(conn: AsyncConnection, tenant_id: int, actor: Account, actor_user: User, role_id: int) -> None:
    """Its holders become plain users."""
    current = await get_role(conn, tenant_id, role_id)
    _check_manage(actor_user, int(current.position), Permission(int(current.permissions)))
    await conn.execute(update(users).where(users.c.tenant_id == tenant_id,
                                           users.c.role == f"{CUSTOM_PREFIX}{role_id}")
                       .values(role="user", role_spec=None))
    await conn.execute(delete(custom_roles).where(custom_roles.c.tenant_id == tenant_id,
                                                  custom_roles.c.id == role_id))
    await log_action(conn, tenant_id, actor.id, "destroy", "UserRole", role_id, current.name)


async def assign_role(conn: AsyncConnection, tenant_id: int, actor: Account, actor_user: User, target_account_id: int,
                      role: str) -> User:
    """Give a local user a built-in role (`user`, `moderator`, `admin`, `owner`)
    or a custom one (its id, or `custom:<id>`). The actor must outrank both the
    user's current role and the new one."""
    row = (await conn.execute(select(users).where(users.c.tenant_id == tenant_id,
                                                  users.c.account_id == target_account_id))).first()
    if row is None:
        raise not_found()
    target = from_row(User, row)
    if not has_permission(actor_user, Permission.MANAGE_ROLES):
        raise forbidden()
    if target.account_id == actor.id:
        raise forbidden("You cannot change your own role")
    spec: dict[str, Any] | None = None
    raw = role.removeprefix(CUSTOM_PREFIX)
    if raw.isdigit():
        spec = _spec(await get_role(conn, tenant_id, int(raw)))
        new_role = f"{CUSTOM_PREFIX}{raw}"
    elif raw in ROLES:
        new_role = raw
    else:
        raise unprocessable("Role is not a role of this server", "role")
    if not _is_superior(actor_user):
        mine = position_of(actor_user.role, actor_user.role_spec)
        if position_of(target.role, target.role_spec) >= mine or position_of(new_role, spec) >= mine:
            raise forbidden("You can only change roles below your own")
    if new_role == "owner" and actor_user.role != "owner":
        raise forbidden("Only an owner can make an owner")
    await conn.execute(update(users).where(users.c.tenant_id == tenant_id, users.c.id == target.id)
                       .values(role=new_role, role_spec=spec))
    await log_action(conn, tenant_id, actor.id, "change_role", "User", target.id, new_role)
    row = (await conn.execute(select(users).where(users.c.tenant_id == tenant_id, users.c.id == target.id))).first()
    if row is None:  # pragma: no cover - the row was just updated in this transaction
        raise ApiError(409, "The user disappeared")
    return from_row(User, row)


async def acting_user(conn: AsyncConnection, tenant_id: int, username: str | None) -> tuple[Account, User]:
    """Who acts for a command-line change: the named local user, or else the
    tenant's oldest owner. The role checks above still apply to them."""
    from steward.db.tables import accounts

    query = select(users).where(users.c.tenant_id == tenant_id)
    if username is not None:
        query = query.join(accounts, (accounts.c.tenant_id == users.c.tenant_id)
                           & (accounts.c.id == users.c.account_id)).where(
            accounts.c.username_lower == username.lower(), accounts.c.domain == "")
    else:
        query = query.where(users.c.role == "owner").order_by(users.c.id)
    row = (await conn.execute(query.limit(1))).first()
    if row is None:
        raise not_found(f"no local user {username}" if username else "the tenant has no owner")
    user = from_row(User, row)
    account = (await conn.execute(select(accounts).where(accounts.c.tenant_id == tenant_id,
                                                         accounts.c.id == user.account_id))).first()
    if account is None:
        raise not_found()
    return from_row(Account, account), user
