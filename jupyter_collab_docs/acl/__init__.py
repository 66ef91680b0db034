"""Access control: roles, permissions and who holds which role on a document."""

from .access import AccessService, OwnerOnlyAccess
from .policy import ROLES, Permission, Role, can

__all__ = ["ROLES", "AccessService", "OwnerOnlyAccess", "Permission", "Role", "can"]
