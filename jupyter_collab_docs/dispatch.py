"""Serving a web application's requests with subclasses of their handlers.

The standalone server changes what some handlers of other packages do (the confinement in
``authorizer.py``, per-user workspaces in ``lab_page.py``) without editing their routes:
every request is dispatched to a replacement of its handler class, built once per class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tornado import httputil, web

HandlerClass = type[web.RequestHandler]


def substitute_handlers(
    web_app: web.Application, replacement: Callable[[HandlerClass], HandlerClass]
) -> None:
    """Dispatch every request of ``web_app`` to ``replacement(handler_class)`` (which may
    return the class itself), whoever registered the route and whenever."""
    replaced: dict[HandlerClass, HandlerClass] = {}
    dispatch = web_app.get_handler_delegate

    def get_handler_delegate(
        request: httputil.HTTPServerRequest,
        target_class: HandlerClass,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        substitute = replaced.get(target_class)
        if substitute is None:
            substitute = replaced[target_class] = replacement(target_class)
        return dispatch(request, substitute, *args, **kwargs)

    web_app.get_handler_delegate = get_handler_delegate  # type: ignore[method-assign]
