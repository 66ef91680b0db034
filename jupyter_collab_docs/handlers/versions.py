"""``documents/{id}/versions``: list and name versions, restore one, compare two (or one
with the current content)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import CollabDocsHandler


class VersionsHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self, doc_id: str) -> None:
        versions = await self.collab.versions.list_versions(
            await self.actor(), doc_id, self.link_token
        )
        self.reply({"versions": versions})

    @web.authenticated
    @authorized
    async def post(self, doc_id: str) -> None:
        body = self.json_object() if self.request.body else {}
        version = await self.collab.versions.create(
            await self.actor(), doc_id, body.get("label", ""), self.link_token
        )
        self.reply(version, 201)


class RestoreHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def post(self, doc_id: str, version_id: str) -> None:
        model = await self.collab.versions.restore(
            await self.actor(), doc_id, version_id, self.link_token
        )
        self.reply(model)


class CompareHandler(CollabDocsHandler):
    """``versions/compare?from=A&to=B`` (B a version id or ``current``): what changed in
    between (cells, lines) and who contributed how much."""

    @web.authenticated
    @authorized
    async def get(self, doc_id: str) -> None:
        from_id = self.get_argument("from", None)
        to_id = self.get_argument("to", None)
        if not from_id or not to_id:
            raise web.HTTPError(400, "'from' and 'to' version ids are required")
        result = await self.collab.versions.compare(
            await self.actor(), doc_id, from_id, to_id, self.link_token
        )
        self.reply(result)
