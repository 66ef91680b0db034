"""The standalone server confines its users to collab-docs.

In ``jupyter collab-docs`` the people holding per-user tokens are collab-docs users, not
users of the server's account: they must not run code (kernels, terminals, language
servers), read or write the server's files (contents, files, nbconvert), change what the
server or JupyterLab does for everyone (config, settings, workspaces, extensions, plugins)
or stop it. Administrators (the server's own token, users added with ``--admin``) keep
the whole server.

Two parts, because Jupyter's ``Authorizer`` alone cannot do it: many handlers never ask
it (they have no ``@authorized``), and extensions add more.

- :class:`CollabDocsAuthorizer` answers ``@authorized`` checks (and ``/api/me``
  permissions): non-administrators get the ``collab-docs`` resource only.
- :meth:`CollabDocsAuthorizer.confine` wraps every handler the web application
  dispatches to, whoever registered it and whenever: before the handler's own
  ``prepare``, a signed-in non-administrator is refused (403) every method that
  :data:`OPEN_TO_USERS` does not list. Default deny: a handler added by a future
  extension is closed to them until it is listed here.

What a non-administrator gets in JupyterLab: the page, its assets, themes, translations,
licences and (read-only) settings, their identity, and the collab-docs documents; no
kernel (notebooks open without one), no file browser of the server. Their saved layout
is their own: each user reads and writes (``GET``/``PUT``) only the workspace
:func:`~.lab_page.workspace_for` names for them, which their ``/lab`` page opens; never
the list of workspaces, the server's ``default`` one or another user's.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from jupyter_core.utils import ensure_async
from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import User
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from .dispatch import substitute_handlers
from .handlers.base import AUTH_RESOURCE, SETTINGS_KEY
from .lab_page import workspace_for

if TYPE_CHECKING:
    from .app import CollabDocsApp

PACKAGE = __name__.rpartition(".")[0]
READ = frozenset({"GET", "HEAD"})
ANY = frozenset({"*"})
DENIED = "collab-docs users may not use this part of the server; ask an administrator"
#: Marks a refusal by the confinement (also on HEAD, which has no body).
REFUSED_HEADER = "X-Collab-Docs-Confined"

#: Handlers (by ``module.QualifiedName``) and the methods every signed-in user may use.
#: collab-docs' own handlers (this package) are open: they check each document's role.
OPEN_TO_USERS: dict[str, frozenset[str]] = {
    # Jupyter Server: signing in and out, the public pages and static files.
    "jupyter_server.auth.login.LoginFormHandler": frozenset({"GET", "POST"}),
    "jupyter_server.auth.logout.LogoutHandler": READ,
    "jupyter_server.base.handlers.MainHandler": frozenset({"GET", "POST", "PUT"}),
    "jupyter_server.base.handlers.TrailingSlashHandler": frozenset({"GET", "POST", "PUT"}),
    "jupyter_server.base.handlers.Template404": ANY,
    "jupyter_server.base.handlers.FileFindHandler": READ,
    "jupyter_server.base.handlers.PublicStaticFileHandler": READ,
    "jupyter_server.base.handlers.APIVersionHandler": READ,
    # Who am I (read only: the name is not theirs to change on a shared account).
    "jupyter_server.services.api.handlers.IdentityHandler": READ,
    # JupyterLab: the page and what it needs to show documents, all read only.
    "jupyterlab_server.handlers.LabHandler": READ,
    "jupyterlab_server.handlers.NotFoundHandler": READ,
    "jupyterlab_server.settings_handler.SettingsHandler": READ,
    "jupyterlab_server.translations_handler.TranslationsHandler": READ,
    "jupyterlab_server.listings_handler.ListingsHandler": READ,
    "jupyterlab_server.themes_handler.ThemesHandler": READ,
    "jupyterlab_server.licenses_handler.LicensesHandler": READ,
    # collab-docs' probes, for load balancers and Kubernetes: anonymous, read only.
    "jupyter_collab_docs.handlers.health.LiveHandler": READ,
    "jupyter_collab_docs.handlers.health.ReadyHandler": READ,
}

#: JupyterLab's saved layouts: each user may read and write their own only.
WORKSPACES_HANDLER = "jupyterlab_server.workspaces_handler.WorkspacesHandler"
OWN_WORKSPACE_METHODS = frozenset({"GET", "PUT"})


def is_own_workspace(handler: web.RequestHandler, user: User) -> bool:
    """Whether the request reads or writes the user's own JupyterLab workspace."""
    return (
        qualified_name(type(handler)) == WORKSPACES_HANDLER
        and handler.request.method in OWN_WORKSPACE_METHODS
        and handler.path_kwargs.get("space_name") == workspace_for(user.username)
    )


def qualified_name(handler_class: type) -> str:
    return f"{handler_class.__module__}.{handler_class.__qualname__}"


def open_methods(handler_class: type) -> frozenset[str]:
    """The methods of a handler class every signed-in user may use (``*``: all)."""
    listed = OPEN_TO_USERS.get(qualified_name(handler_class))
    if listed is not None:  # also collab-docs' own probes: listed, so kept read only
        return listed
    if handler_class.__module__.startswith(PACKAGE + "."):
        return ANY
    return OPEN_TO_USERS.get(qualified_name(handler_class), frozenset())


class CollabDocsAuthorizer(Authorizer):
    """Administrators may do everything; other users only use collab-docs."""

    async def is_admin(self, handler: web.RequestHandler, user: User) -> bool:
        collab: CollabDocsApp | None = handler.settings.get(SETTINGS_KEY)
        if collab is None:  # the extension is not loaded: nobody is known to be admin
            return False
        return (await collab.actor_for(user)).is_admin

    async def is_authorized(  # type: ignore[override]
        self, handler: JupyterHandler, user: User, action: str, resource: str
    ) -> bool:
        return resource == AUTH_RESOURCE or await self.is_admin(handler, user)

    async def admits(self, handler: web.RequestHandler, methods: frozenset[str]) -> bool:
        """Whether the request may reach the handler, whose ``methods`` are open to every
        signed-in user (the handler's own checks still apply)."""
        if "*" in methods or handler.request.method in methods:
            return True
        user = await ensure_async(self.identity_provider.get_user(handler))
        if user is None:
            # Nobody signed in: Jupyter's own authentication decides for its handlers;
            # anything else that is not listed is closed.
            return isinstance(handler, JupyterHandler)
        # Resolved once: the handler's prepare reuses it.
        handler._jupyter_current_user = user  # type: ignore[attr-defined]
        return is_own_workspace(handler, user) or await self.is_admin(handler, user)

    def confine(self, web_app: web.Application) -> None:
        """Gate every handler ``web_app`` dispatches to (see the module docstring)."""
        substitute_handlers(web_app, self._gated)

    def _gated(self, handler_class: type[web.RequestHandler]) -> type[web.RequestHandler]:
        """A subclass of ``handler_class`` whose ``prepare`` first asks :meth:`admits`."""
        authorizer = self
        original: Callable[..., Awaitable[None] | None] = handler_class.prepare
        methods = open_methods(handler_class)

        async def prepare(handler: web.RequestHandler) -> None:
            if not await authorizer.admits(handler, methods):
                # Debug: JupyterLab polls some of these; the request log has the 403.
                authorizer.log.debug(
                    "collab-docs: refused %s %s to a non-administrator",
                    handler.request.method,
                    handler.request.path,
                )
                handler.set_status(403)
                handler.set_header("Content-Type", "application/json")
                handler.set_header(REFUSED_HEADER, "refused")
                # Tornado's own finish: some handlers override it with other signatures.
                web.RequestHandler.finish(handler, json.dumps({"message": DENIED}))
                return
            result = original(handler)
            if result is not None:
                await result

        return type(
            handler_class.__name__,
            (handler_class,),
            {
                "prepare": prepare,
                "__module__": handler_class.__module__,
                "__qualname__": handler_class.__qualname__,
            },
        )
