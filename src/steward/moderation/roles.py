"""Staff roles as Mastodon's permission bit flags. A user's `role` column (owner,
admin, moderator, user) maps to a Mastodon role; `custom:<id>` names one of the
tenant's custom roles, whose definition the user row carries in `role_spec`
(moderation/custom_roles.py keeps it in step). A role belongs to the user's own
tenant, so it grants nothing on any other tenant."""

from __future__ import annotations

from enum import IntFlag
from typing import Any

from steward.core.errors import ApiError
from steward.model.entities import User


class Permission(IntFlag):
    ADMINISTRATOR = 0x1
    DEVOPS = 0x2
    VIEW_AUDIT_LOG = 0x4
    VIEW_DASHBOARD = 0x8
    MANAGE_REPORTS = 0x10
    MANAGE_FEDERATION = 0x20
    MANAGE_SETTINGS = 0x40
    MANAGE_BLOCKS = 0x80
    MANAGE_TAXONOMIES = 0x100
    MANAGE_APPEALS = 0x200
    MANAGE_USERS = 0x400
    MANAGE_INVITES = 0x800
    MANAGE_RULES = 0x1000
    MANAGE_ANNOUNCEMENTS = 0x2000
    MANAGE_CUSTOM_EMOJIS = 0x4000
    MANAGE_WEBHOOKS = 0x8000
    INVITE_USERS = 0x10000
    MANAGE_ROLES = 0x20000
    MANAGE_USER_ACCESS = 0x40000
    DELETE_USER_DATA = 0x80000


ALL = Permission(0xFFFFF)

# Mastodon's default roles: everyone may invite; moderators work users and reports;
# admins hold everything but the administrator and devops flags; the owner holds all.
_EVERYONE = Permission.INVITE_USERS
_MODERATOR = (_EVERYONE | Permission.VIEW_DASHBOARD | Permission.VIEW_AUDIT_LOG | Permission.MANAGE_USERS
              | Permission.MANAGE_REPORTS | Permission.MANAGE_TAXONOMIES | Permission.MANAGE_APPEALS)
_ADMIN = ALL & ~(Permission.ADMINISTRATOR | Permission.DEVOPS)


# role name -> (Mastodon role id, display name, colour, permissions, highlighted)
ROLES: dict[str, tuple[str, str, str, Permission, bool]] = {
    "user": ("-99", "", "", _EVERYONE, False),
    "moderator": ("1", "Moderator", "", _MODERATOR, True),
    "admin": ("2", "Admin", "", _ADMIN, True),
    "owner": ("3", "Owner", "", ALL, True),
}
STAFF = ("moderator", "admin", "owner")
ROLE_BY_ID = {spec[0]: name for name, spec in ROLES.items()}


# Mastodon's role positions: a staff member acts only on users of a lower position.
POSITIONS = {"user": -1, "moderator": 10, "admin": 100, "owner": 1000}
CUSTOM_PREFIX = "custom:"


def permissions_of(role: str | None, spec: dict[str, Any] | None = None) -> Permission:
    if role and role.startswith(CUSTOM_PREFIX):
        # Everyone's baseline, plus what the custom role grants.
        perms = _EVERYONE | (Permission(int(spec["permissions"]) & int(ALL)) if spec else Permission(0))
    else:
        perms = ROLES.get(role or "user", ROLES["user"])[3]
    return ALL if perms & Permission.ADMINISTRATOR else perms


def position_of(role: str | None, spec: dict[str, Any] | None = None) -> int:
    if role and role.startswith(CUSTOM_PREFIX):
        return int(spec["position"]) if spec else -1
    return POSITIONS.get(role or "user", -1)


def has_permission(user: User | None, flag: Permission) -> bool:
    if user is None:
        return False
    return (permissions_of(user.role, user.role_spec) & flag) == flag


def require(user: User | None, flag: Permission) -> User:
    """The acting staff user, or 403 as Mastodon answers."""
    if user is None or not has_permission(user, flag):
        raise ApiError(403, "This action is not allowed")
    return user


def role_to_api(role: str | None, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """Mastodon's Role entity for a user's role."""
    if role and role.startswith(CUSTOM_PREFIX):
        return {"id": role.removeprefix(CUSTOM_PREFIX), "name": (spec or {}).get("name", ""),
                "color": (spec or {}).get("color", ""), "permissions": str(int(permissions_of(role, spec))),
                "highlighted": bool((spec or {}).get("highlighted", False))}
    rid, name, color, _, highlighted = ROLES.get(role or "user", ROLES["user"])
    return {"id": rid, "name": name, "color": color, "permissions": str(int(permissions_of(role))),
            "highlighted": highlighted}


def outranks(actor: User, target_role: str | None, target_spec: dict[str, Any] | None = None) -> bool:
    """Mastodon lets staff act only on accounts of a lower role position (an owner on anyone)."""
    if actor.role == "owner":
        return True
    return position_of(actor.role, actor.role_spec) > position_of(target_role, target_spec)
