"""``GET api/collab-docs/me``: who the server thinks you are."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import CollabDocsHandler


class MeHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        actor = await self.actor()
        self.reply(actor.to_model())
