"""JupyterLab's page in the standalone server carries no server token.

JupyterLab writes the server's token into every ``/lab`` page (``page_config.token``),
and its front end sends it with every request. In ``jupyter collab-docs`` that token is
the administrator's: every signed-in user could read it from the page, and JupyterLab
would act as the administrator for them. Users sign in with their own token (the login
cookie carries it); the page gets an empty token, as under JupyterHub.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
