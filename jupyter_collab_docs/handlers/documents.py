"""``api/collab-docs/documents`` and ``documents/{id}``: list, create, get, rename, delete."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import CollabDocsHandler


class DocumentsHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        documents = await self.collab.documents.list_documents(await self.actor())
        self.reply({"documents": documents})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_object("name", "type")
        created = await self.collab.documents.create(
            await self.actor(), body["name"], body["type"], body.get("content")
        )
        self.set_header("Location", self.request.path.rstrip("/") + "/" + created["id"])
        self.reply(created, 201)


class DocumentHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self, doc_id: str) -> None:
        self.reply(await self.collab.documents.get(await self.actor(), doc_id, self.link_token))

    @web.authenticated
    @authorized
    async def patch(self, doc_id: str) -> None:
        body = self.json_object("name")
        actor = await self.actor()
        self.reply(await self.collab.documents.rename(actor, doc_id, body["name"], self.link_token))

    @web.authenticated
    @authorized
    async def delete(self, doc_id: str) -> None:
        await self.collab.documents.delete(await self.actor(), doc_id, self.link_token)
        self.set_status(204)
        self.finish()
