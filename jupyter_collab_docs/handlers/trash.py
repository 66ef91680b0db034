"""``api/collab-docs/trash``: the caller's deleted documents; restore one, or purge it."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import CollabDocsHandler


class TrashHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        documents = await self.collab.documents.list_trash(await self.actor())
        self.reply({"documents": documents})


class TrashedDocumentHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def delete(self, doc_id: str) -> None:
        """Delete for good, now."""
        await self.collab.documents.purge(await self.actor(), doc_id)
        self.set_status(204)
        self.finish()


class TrashRestoreHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def post(self, doc_id: str) -> None:
        self.reply(await self.collab.documents.restore(await self.actor(), doc_id))
