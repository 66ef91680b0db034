"""``documents/{id}/activity``: the document's recent audit events (owners, admins)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import CollabDocsHandler

MAX_LIMIT = 500


class ActivityHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self, doc_id: str) -> None:
        try:
            limit = int(self.get_argument("limit", "50"))
        except ValueError as exc:
            raise web.HTTPError(400, "'limit' must be an integer") from exc
        if not 1 <= limit <= MAX_LIMIT:
            raise web.HTTPError(400, f"'limit' must be between 1 and {MAX_LIMIT}")
        events = await self.collab.documents.activity(
            await self.actor(), doc_id, limit, self.link_token
        )
        self.reply({"events": events})
