"""``GET api/collab-docs/me``: who the server thinks you are."""

from __future__ import annotations

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import CollabDocsHandler


class MeHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        actor = await self.actor()
        # What the server's authorizer says about kernels: false for a non-administrator
        # of the standalone server (authorizer.py), true where the user owns the server.
        can_run_code = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "execute", "kernels")
        )
        self.reply({**actor.to_model(), "can_run_code": bool(can_run_code)})
