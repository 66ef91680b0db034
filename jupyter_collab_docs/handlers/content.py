"""``api/collab-docs/documents/{id}/content``: read it, or replace it as a CRDT change."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import CollabDocsHandler


class ContentHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self, doc_id: str) -> None:
        actor = await self.actor()
        version = self.get_argument("version", None)
        if version is not None:
            versions = self.collab.versions
            self.reply(await versions.content(actor, doc_id, version, self.link_token))
            return
        self.reply(await self.collab.documents.content(actor, doc_id, self.link_token))

    @web.authenticated
    @authorized
    async def put(self, doc_id: str) -> None:
        body = self.json_object("content")
        actor = await self.actor()
        self.reply(
            await self.collab.documents.replace_content(
                actor, doc_id, body["content"], self.link_token
            )
        )
