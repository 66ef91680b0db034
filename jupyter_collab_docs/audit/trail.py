"""AuditTrail: what the services call to record an action.

``emit`` records one event now; ``edit`` counts one document update on the hot path and
the trail turns each user's burst of edits on a document into a single event.
"""

from __future__ import annotations

from typing import Any

from ..identity import Actor


class AuditTrail:
    """Records audit events (this first version keeps them in memory only)."""

    def __init__(self, node: str) -> None:
        self.node = node
        self.events: list[dict[str, Any]] = []

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def emit(
        self, kind: str, actor: Actor | str | None, document_id: str | None = None, **fields: Any
    ) -> None:
        """Record one event of ``kind`` (e.g. "document.created") by ``actor``."""
        name = actor.username if isinstance(actor, Actor) else actor
        self.events.append({"kind": kind, "actor": name, "document_id": document_id, **fields})

    def edit(self, document_id: str, user: str, nbytes: int) -> None:
        """Count one update by ``user``: cheap, called for every edit."""

    async def activity(self, document_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The newest events of one document, newest first."""
        found = [e for e in reversed(self.events) if e.get("document_id") == document_id]
        return found[:limit]
