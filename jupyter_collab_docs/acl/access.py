"""Who holds which role on a document.

:class:`AccessService` is the seam the handlers and rooms use; the embedded default of
the core, :class:`OwnerOnlyAccess`, knows owners and administrators only. The sharing
work replaces it with grants stored in the access database.
"""

from __future__ import annotations

from typing import Protocol

from ..identity import Actor
from ..stores import DocumentRecord


class AccessService(Protocol):
    async def role_of(self, actor: Actor, record: DocumentRecord) -> str | None:
        """The actor's effective role on a document, or None if they may not read it."""

    async def readable(self, actor: Actor, records: list[DocumentRecord]) -> dict[str, str]:
        """Role by document id, for the documents of ``records`` the actor may read."""


class OwnerOnlyAccess:
    """A document is readable and writable by its owner and by administrators only."""

    async def role_of(self, actor: Actor, record: DocumentRecord) -> str | None:
        if actor.is_admin or record.owner == actor.username:
            return "owner"
        return None

    async def readable(self, actor: Actor, records: list[DocumentRecord]) -> dict[str, str]:
        return {r.id: "owner" for r in records if actor.is_admin or r.owner == actor.username}
