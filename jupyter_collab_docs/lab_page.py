"""JupyterLab's page in the standalone server carries no server token.

JupyterLab writes the server's token into every ``/lab`` page (``page_config.token``),
and its front end sends it with every request. In ``jupyter collab-docs`` that token is
the administrator's: every signed-in user could read it from the page, and JupyterLab
would act as the administrator for them. Users sign in with their own token (the login
cookie carries it); the page gets an empty token, as under JupyterHub.

Each user also gets a JupyterLab workspace (saved layout) of their own: ``/lab`` opens
:func:`workspace_for` the signed-in user, never the server's ``default`` one that every
user would share; the confinement (``authorizer.py``) opens that workspace, and only it,
to its user.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from jupyterlab_server.handlers import LabHandler
from tornado import web

from .dispatch import substitute_handlers
from .handlers.base import SETTINGS_KEY

PageConfigHook = Callable[[Any, dict[str, Any]], dict[str, Any]]


def hide_server_token(web_app: Any) -> None:
    """Blank ``token`` in every JupyterLab page config (jupyterlab_server's
    ``page_config_hook``; an existing hook still runs first)."""
    previous: PageConfigHook | None = web_app.settings.get("page_config_hook")

    def without_token(handler: Any, page_config: dict[str, Any]) -> dict[str, Any]:
        if previous is not None:
            page_config = previous(handler, page_config)
        # A copy: the settings' page_config_data is shared by every request.
        return {**page_config, "token": ""}

    web_app.settings["page_config_hook"] = without_token


def workspace_for(username: str) -> str:
    """The name of a user's own JupyterLab workspace.

    A digest: any user name gives a name JupyterLab's URLs accept
    (``[a-zA-Z0-9_-]+``), and no two users' names give the same workspace file (the
    workspace manager files a workspace under a lowercased, stripped slug of its name)."""
    return "user-" + hashlib.sha256(username.encode()).hexdigest()[:32]


def own_workspaces(web_app: web.Application) -> None:
    """``/lab`` and ``/doc`` open the signed-in user's own workspace; a workspace named
    in the URL is kept for administrators only (the others could not read it)."""

    def replacement(handler_class: type[web.RequestHandler]) -> type[web.RequestHandler]:
        if issubclass(handler_class, LabHandler):
            return _with_own_workspace(handler_class)
        return handler_class

    substitute_handlers(web_app, replacement)


def _with_own_workspace(handler_class: type[LabHandler]) -> type[LabHandler]:
    async def get(
        handler: LabHandler,
        mode: str | None = None,
        workspace: str | None = None,
        tree: str | None = None,
    ) -> None:
        user = handler.current_user
        if user is not None:
            own = f"/workspaces/{workspace_for(user.username)}"
            if workspace is None or (workspace != own and not await _is_admin(handler, user)):
                workspace = own
        handler_class.get(handler, mode, workspace, tree)

    return type(
        handler_class.__name__,
        (handler_class,),
        {
            "get": get,
            "__module__": handler_class.__module__,
            "__qualname__": handler_class.__qualname__,
        },
    )


async def _is_admin(handler: web.RequestHandler, user: Any) -> bool:
    collab = handler.settings.get(SETTINGS_KEY)
    return collab is not None and (await collab.actor_for(user)).is_admin
