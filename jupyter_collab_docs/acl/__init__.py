"""Access control: roles and permissions, and who holds which role on a document.

The access database's interface is :class:`AccessBackend`, its URL schemes
:data:`DATABASES` (``CollabDocsApp.acl_url``; plugged: ``access_database_class``).
"""

from .access import LINK, AccessService, Share, ShareAccess, ShareLimitReached
from .database import DATABASES, AccessBackend, AccessDatabase
from .policy import ROLES, Permission, Role, can, can_grant

__all__ = [
    "DATABASES",
    "LINK",
    "ROLES",
    "AccessBackend",
    "AccessDatabase",
    "AccessService",
    "Permission",
    "Role",
    "Share",
    "ShareAccess",
    "ShareLimitReached",
    "can",
    "can_grant",
]
