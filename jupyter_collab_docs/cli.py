"""``jupyter collab-docs`` subcommands: ``users add|list|token|remove``.

Each subcommand reads the same configuration as the server (``jupyter_server_config``
and ``jupyter_collab_docs_config`` files, then ``--CollabDocsApp.*`` flags), so it acts on
the same data directory and databases.
"""

from __future__ import annotations

import sys
from typing import Any

from jupyter_core.application import JupyterApp
from traitlets import Bool, Unicode
from traitlets.config import Application

from .users import SQLiteUserDirectory, UserDirectory, UserError


class CollabDocsCommand(JupyterApp):
    """Base of the subcommands: the server's configuration, then the command line."""

    @property
    def classes(self) -> list[Any]:  # type: ignore[override]
        from .app import CollabDocsApp

        return [CollabDocsApp, *self._command_classes()]

    def _command_classes(self) -> list[Any]:
        return [type(self)]

    def initialize(self, argv: Any = None) -> None:
        super().initialize(argv)
        for name in ("jupyter_server_config", "jupyter_collab_docs_config"):
            Application.load_config_file(self, name, path=self.config_file_paths)
        self.update_config(self.cli_config)  # the command line wins over files

    def collab_app(self) -> Any:
        from .app import CollabDocsApp

        return CollabDocsApp(config=self.config)

    def user_directory(self) -> UserDirectory:
        from .stores.sqlite import path_from_url

        return SQLiteUserDirectory(path_from_url(self.collab_app().acl_url))

    def fail(self, message: str) -> None:
        print(f"error: {message}", file=sys.stderr)
        self.exit(1)

    def one_username(self) -> str:
        if len(self.extra_args) != 1:
            self.fail(f"expected one USERNAME, got {len(self.extra_args)} argument(s)")
        return str(self.extra_args[0])


class UsersAddApp(CollabDocsCommand):
    name = "jupyter-collab-docs-users-add"
    description = "Create a user and print their API token (shown once; only a hash is kept)."
    examples = "jupyter collab-docs users add alice --admin --display-name 'Alice Liddell'"

    admin = Bool(False, help="Make the user an administrator.").tag(config=True)
    display_name = Unicode("", help="Name shown to collaborators.").tag(config=True)

    flags = {"admin": ({"UsersAddApp": {"admin": True}}, "Make the user an administrator.")}
    aliases = {"display-name": "UsersAddApp.display_name"}

    def start(self) -> None:
        username = self.one_username()
        try:
            token = self.user_directory().add(username, self.display_name or None, self.admin)
        except UserError as exc:
            self.fail(str(exc))
        print(token)


class UsersListApp(CollabDocsCommand):
    name = "jupyter-collab-docs-users-list"
    description = "List the standalone users."

    def start(self) -> None:
        for user in self.user_directory().list():
            admin = " (admin)" if user.is_admin else ""
            print(f"{user.username}\t{user.display_name}{admin}")


class UsersTokenApp(CollabDocsCommand):
    name = "jupyter-collab-docs-users-token"
    description = "Issue a new API token for a user (their old ones stop working)."

    def start(self) -> None:
        try:
            print(self.user_directory().issue_token(self.one_username()))
        except UserError as exc:
            self.fail(str(exc))


class UsersRemoveApp(CollabDocsCommand):
    name = "jupyter-collab-docs-users-remove"
    description = "Remove a user and their tokens (their documents stay)."

    def start(self) -> None:
        username = self.one_username()
        try:
            self.user_directory().remove(username)
        except UserError as exc:
            self.fail(str(exc))
        print(f"removed {username}")


class UsersApp(JupyterApp):
    name = "jupyter-collab-docs-users"
    description = "Manage the users and API tokens of the standalone server."
    subcommands = {
        "add": (UsersAddApp, UsersAddApp.description),
        "list": (UsersListApp, UsersListApp.description),
        "token": (UsersTokenApp, UsersTokenApp.description),
        "remove": (UsersRemoveApp, UsersRemoveApp.description),
    }

    def start(self) -> None:
        if self.subapp is None:
            self.print_help()
            self.exit(2)
        else:
            self.subapp.start()
