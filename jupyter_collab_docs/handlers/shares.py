"""``documents/{id}/shares`` and ``shares/{principal}``: who a document is shared with."""

from __future__ import annotations

from urllib.parse import unquote

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import CollabDocsHandler


class SharesHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self, doc_id: str) -> None:
        shares = await self.collab.sharing.shares(await self.actor(), doc_id, self.link_token)
        self.reply({"shares": shares})


class ShareHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def put(self, doc_id: str, principal: str) -> None:
        body = self.json_object("role")
        share = await self.collab.sharing.grant(
            await self.actor(), doc_id, unquote(principal), body["role"], self.link_token
        )
        self.reply(share)

    @web.authenticated
    @authorized
    async def delete(self, doc_id: str, principal: str) -> None:
        await self.collab.sharing.revoke(
            await self.actor(), doc_id, unquote(principal), self.link_token
        )
        self.set_status(204)
        self.finish()
