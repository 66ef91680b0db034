"""Roles, weakest first, and what each may do (docs/sharing.md). Administrators may do all."""

from __future__ import annotations

from enum import Enum
from typing import Literal

Role = Literal["viewer", "commenter", "editor", "owner"]
ROLES: tuple[Role, ...] = ("viewer", "commenter", "editor", "owner")


class Permission(str, Enum):
    READ = "read"
    COMMENT = "comment"
    WRITE = "write"
    MANAGE_VERSIONS = "manage_versions"
    SHARE = "share"
    DELETE = "delete"
    READ_ACTIVITY = "read_activity"
    # Comments (docs/comments.md): resolve or reopen anyone's thread; delete anyone's comment.
    RESOLVE_COMMENTS = "resolve_comments"
    MODERATE_COMMENTS = "moderate_comments"


_GRANTS: dict[str, frozenset[Permission]] = {
    "viewer": frozenset({Permission.READ}),
    "commenter": frozenset({Permission.READ, Permission.COMMENT}),
    "editor": frozenset(
        {
            Permission.READ,
            Permission.COMMENT,
            Permission.WRITE,
            Permission.MANAGE_VERSIONS,
            Permission.SHARE,
            Permission.RESOLVE_COMMENTS,
        }
    ),
    "owner": frozenset(Permission),
}


def can(role: str | None, permission: Permission) -> bool:
    return role is not None and permission in _GRANTS.get(role, frozenset())


def stronger(a: str | None, b: str | None) -> str | None:
    """The stronger of two roles (None is no role)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if ROLES.index(a) >= ROLES.index(b) else b  # type: ignore[arg-type]


def can_grant(granter: str | None, role: str, current: str | None = None) -> bool:
    """May someone holding ``granter`` set a share to ``role`` (replacing ``current``)?

    Owners grant anything; editors grant up to editor and cannot change an owner's share.
    """
    if granter == "owner":
        return True
    if not can(granter, Permission.SHARE):
        return False
    return role != "owner" and current != "owner"
