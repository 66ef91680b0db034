"""``documents/{id}/threads/{thread_id}/accept`` and ``/reject``: deciding a suggestion
(docs/comments.md, "Suggestions")."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..comments.suggestions import SuggestionService
from .base import CollabDocsHandler


class SuggestionAcceptHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def post(self, doc_id: str, thread_id: str) -> None:
        thread = await SuggestionService(self.collab.comments).accept(
            await self.actor(), doc_id, thread_id, self.link_token
        )
        self.reply(thread)


class SuggestionRejectHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def post(self, doc_id: str, thread_id: str) -> None:
        thread = await SuggestionService(self.collab.comments).reject(
            await self.actor(), doc_id, thread_id, self.link_token
        )
        self.reply(thread)
