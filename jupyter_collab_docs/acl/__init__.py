"""Access control: roles and permissions, and who holds which role on a document."""

from .access import LINK, AccessService, Share, ShareAccess, ShareLimitReached
from .policy import ROLES, Permission, Role, can, can_grant

__all__ = [
    "LINK",
    "ROLES",
    "AccessService",
    "Permission",
    "Role",
    "Share",
    "ShareAccess",
    "ShareLimitReached",
    "can",
    "can_grant",
]
