"""The base of every ``jupyter collab-docs`` subcommand: the server's configuration, and
one way to fail.

A subcommand reads the same configuration as the server (``jupyter_server_config`` and
``jupyter_collab_docs_config`` files, then ``--CollabDocsApp.*`` flags), so it acts on the
same data directory and databases. It reads it through a ``CollabDocsApp`` that is only
configured, never initialized: no server, no handlers, no backends but those the command
opens itself.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

from jupyter_core.application import JupyterApp
from traitlets.config import Application

from ..fail_fast import describe, without_credentials
from ..users import UserDirectory


class CollabDocsCommand(JupyterApp):
    """Base of the subcommands: the server's configuration, then the command line; any
    failure (bad input, a bad configuration, a backend that is down) is one line on
    stderr and exit status 1."""

    @property
    def classes(self) -> list[Any]:  # type: ignore[override]
        from ..app import CollabDocsApp

        return [CollabDocsApp, *self._command_classes()]

    def _command_classes(self) -> list[Any]:
        return [type(self)]

    def initialize(self, argv: Any = None) -> None:
        super().initialize(argv)
        for name in ("jupyter_server_config", "jupyter_collab_docs_config"):
            Application.load_config_file(self, name, path=self.config_file_paths)
        self.update_config(self.cli_config)  # the command line wins over files

    def start(self) -> None:
        try:
            self.execute()
        except Exception as exc:  # bad input or configuration: a reason, not a traceback
            self.log.debug("%s failed", self.name, exc_info=True)  # --debug shows where
            self.fail(describe(exc))

    def execute(self) -> None:
        """The command itself."""
        raise NotImplementedError

    def collab_app(self) -> Any:
        """The server's settings (``CollabDocsApp`` traits), configured as the server's."""
        from ..app import CollabDocsApp

        return CollabDocsApp(config=self.config)

    def user_directory(self) -> UserDirectory:
        from ..acl.database import DATABASES
        from ..acl.directory import AccessDirectory

        app = self.collab_app()  # the server's access database, plugged or built in
        database = DATABASES.build(
            app.acl_url, app.access_database_class, node=app.node_id, parent=app
        )
        return AccessDirectory(database)

    def fail(self, message: str) -> NoReturn:
        print(f"error: {without_credentials(message)}", file=sys.stderr)
        self.exit(1)
        raise AssertionError("unreachable")  # exit raises SystemExit

    def arguments(self, count: int, what: str = "") -> list[str]:
        """The positional arguments, exactly ``count`` of them (``what`` names one)."""
        got = len(self.extra_args)
        if got != count:
            if what and count == 1:
                self.fail(f"expected one {what}, got {got} argument(s)")
            self.fail(f"expected {count} argument(s), got {got}")
        return [str(arg) for arg in self.extra_args]


class CommandGroup(JupyterApp):
    """A command with subcommands only (``users``, ``groups``, ...): help without one."""

    @staticmethod
    def table(commands: dict[str, type[CollabDocsCommand]]) -> dict[str, Any]:
        """``subcommands`` from names and command classes (their own descriptions)."""
        return {name: (app, app.description) for name, app in commands.items()}

    def start(self) -> None:
        if self.subapp is None:
            self.print_help()
            self.exit(2)
        else:
            self.subapp.start()
