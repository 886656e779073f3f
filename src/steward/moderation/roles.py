"""Staff roles as Mastodon's permission bit flags. A user's `role` column (owner,
admin, moderator, user) maps to a Mastodon role; the role belongs to the user's
own tenant, so it grants nothing on any other tenant."""

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


def permissions_of(role: str | None) -> Permission:
    spec = ROLES.get(role or "user", ROLES["user"])
    perms = spec[3]
    return ALL if perms & Permission.ADMINISTRATOR else perms


def has_permission(user: User | None, flag: Permission) -> bool:
    if user is None:
        return False
    return (permissions_of(user.role) & flag) == flag


def require(user: User | None, flag: Permission) -> User:
    """The acting staff user, or 403 as Mastodon answers."""
    if user is None or not has_permission(user, flag):
        raise ApiError(403, "This action is not allowed")
    return user


def role_to_api(role: str | None) -> dict[str, Any]:
    rid, name, color, _, highlighted = ROLES.get(role or "user", ROLES["user"])
    return {"id": rid, "name": name, "color": color, "permissions": str(int(permissions_of(role))),
            "highlighted": highlighted}


def outranks(actor: User, target_role: str | None) -> bool:
    """Mastodon lets staff act only on accounts of a lower role (an owner on anyone)."""
    order = {"user": 0, "moderator": 1, "admin": 2, "owner": 3}
    mine = order.get(actor.role, 0)
    return mine == 3 or mine > order.get(target_role or "user", 0)
