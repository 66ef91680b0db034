"""What every REST handler shares: the services, the actor, JSON bodies, size caps."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..identity import Actor
from ..stores import StoreError

if TYPE_CHECKING:
    from ..app import CollabDocsApp

AUTH_RESOURCE = "collab-docs"
SETTINGS_KEY = "collab_docs"


class CollabDocsHandler(APIHandler):
    """Base of the REST handlers: JSON errors ``{"message"}``, 401 when nobody is signed
    in (Jupyter answers 403), 413 past ``max_body_size``."""

    auth_resource = AUTH_RESOURCE
    #: Requests arriving before the services started wait for them (503 if they failed).
    wait_for_start = True

    @property
    def collab(self) -> CollabDocsApp:
        return self.settings[SETTINGS_KEY]

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if self.current_user is None:
            raise web.HTTPError(401, "not authenticated")
        if self.wait_for_start:
            await self.collab.wait_started()  # a StartError answers 503
        length = int(self.request.headers.get("Content-Length") or 0)
        if max(length, len(self.request.body or b"")) > self.collab.max_body_size:
            raise web.HTTPError(413, f"request body larger than {self.collab.max_body_size} bytes")

    def get_login_url(self) -> str:
        raise web.HTTPError(401, "not authenticated")

    def check_xsrf_cookie(self) -> None:
        # Jupyter checks XSRF before it checks who is asking: say "not authenticated"
        # first. (Tornado calls this once before the user is known: Jupyter skips it.)
        if hasattr(self, "_jupyter_current_user") and self.current_user is None:
            raise web.HTTPError(401, "not authenticated")
        super().check_xsrf_cookie()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, StoreError):
            # The database is away: the request changed nothing; try again later.
            self.set_status(503)
            self.finish(json.dumps({"message": f"the document store is unavailable: {exc}"}))
            return
        super().write_error(status_code, **kwargs)

    async def actor(self) -> Actor:
        return await self.collab.actor_for(self.current_user)

    @property
    def link_token(self) -> str | None:
        """A document share link token, as ``?link=`` or the ``X-Collab-Docs-Link`` header."""
        return self.get_argument("link", None) or self.request.headers.get("X-Collab-Docs-Link")

    def json_object(self, *required: str) -> dict[str, Any]:
        """The body as a JSON object, with the named keys present, or 400."""
        try:
            body = self.get_json_body()
        except UnicodeDecodeError as exc:
            raise web.HTTPError(400, "the body is not UTF-8") from exc
        if not isinstance(body, dict):
            raise web.HTTPError(400, "the body must be a JSON object")
        missing = [key for key in required if key not in body]
        if missing:
            raise web.HTTPError(400, f"missing field(s): {', '.join(missing)}")
        return body

    def reply(self, model: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(model))
