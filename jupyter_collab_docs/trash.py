"""The trash's purge: what has been in the trash past ``trash_retention_days`` is deleted
for good by the server, at start and then every ``PURGE_INTERVAL`` seconds.

Every node of a cluster runs it: the store's purge is atomic against another purge and
a restore (``DocumentStore.purge``), so of two nodes purging the same document at once
one deletes it and records ``document.purged``, the other finds nothing.
"""

from __future__ import annotations

import asyncio
import logging

from .documents import DocumentService

log = logging.getLogger(__name__)

#: Seconds between two purges (the retention is counted in days: an hour late is fine).
PURGE_INTERVAL = 3600.0


class TrashPurger:
    def __init__(self, documents: DocumentService, interval: float = PURGE_INTERVAL):
        self.documents = documents
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._purge_forever(), name="collab-docs-trash")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run_once(self) -> int:
        """Purge what is past the retention now; how many documents were purged."""
        purged = await self.documents.purge_expired()
        if purged:
            log.info("trash: purged %d document(s) past the retention", purged)
        return purged

    async def _purge_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # the store is away: the next round catches up
                log.exception("trash: the purge failed; retrying in %.0f s", self.interval)
            await asyncio.sleep(self.interval)
