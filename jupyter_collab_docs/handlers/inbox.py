"""The caller's inbox of mentions (``inbox``, ``inbox/read``, ``inbox/{id}/read``) and the
completion of a document's readers for @-mentions (``documents/{id}/readers?q=``);
docs/comments.md, "Mentions and notifications". An inbox is always the caller's own:
no path names another user's."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import CollabDocsHandler


class InboxHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.collab.mentions.inbox(await self.actor()))


class InboxReadAllHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        self.reply(await self.collab.mentions.mark_read(await self.actor(), None))


class InboxReadHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def post(self, note_id: str) -> None:
        self.reply(await self.collab.mentions.mark_read(await self.actor(), note_id))


class ReadersHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self, doc_id: str) -> None:
        query = self.get_argument("q", None, strip=False)
        readers = await self.collab.mentions.readers(
            await self.actor(), doc_id, query, self.link_token
        )
        self.reply(readers)
