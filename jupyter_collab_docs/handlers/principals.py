"""``GET principals?q=PREFIX``: users and groups to offer in the share dialogs."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import CollabDocsHandler


class PrincipalsHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        # strip=False: a trailing space belongs to a display name ("Alice L").
        query = self.get_argument("q", None, strip=False)
        self.reply(await self.collab.sharing.complete(await self.actor(), query))
