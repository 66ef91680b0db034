"""``jupyter collab-docs`` subcommands: ``users add|list|token|remove`` and
``groups add|remove|list|add-member|remove-member``.

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

from .users import UserDirectory, UserError


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
        from .acl.database import DATABASES
        from .acl.directory import AccessDirectory

        app = self.collab_app()  # the server's access database, plugged or built in
        database = DATABASES.build(
            app.acl_url, app.access_database_class, node=app.node_id, parent=app
        )
        return AccessDirectory(database)

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
        for user in self.user_directory().list_users():
            admin = " (admin)" if user.is_admin else ""
            print(f"{user.username}\t{user.display_name}{admin}")


class UsersTokenApp(CollabDocsCommand):
    name = "jupyter-collab-docs-users-token"
    description = (
        "Issue a new API token for a user: their old ones stop working, and so do the "
        "browser sessions and room sockets those signed in (within the server's "
        "revalidate_interval)."
    )

    def start(self) -> None:
        try:
            print(self.user_directory().issue_token(self.one_username()))
        except UserError as exc:
            self.fail(str(exc))


class UsersRemoveApp(CollabDocsCommand):
    name = "jupyter-collab-docs-users-remove"
    description = (
        "Remove a user and their tokens (their documents stay); their browser sessions "
        "and room sockets end within the server's revalidate_interval."
    )

    def start(self) -> None:
        username = self.one_username()
        try:
            self.user_directory().remove(username)
        except UserError as exc:
            self.fail(str(exc))
        print(f"removed {username}")


class GroupsAddApp(CollabDocsCommand):
    name = "jupyter-collab-docs-groups-add"
    description = "Create a group: groups add NAME"

    def start(self) -> None:
        self._do(lambda d, args: d.add_group(*args), 1, f"added group {self._arg(0)}")

    def _arg(self, i: int) -> str:
        return str(self.extra_args[i]) if len(self.extra_args) > i else ""

    def _do(self, action: Any, count: int, done: str) -> None:
        if len(self.extra_args) != count:
            self.fail(f"expected {count} argument(s), got {len(self.extra_args)}")
        try:
            action(self.user_directory(), [str(a) for a in self.extra_args])
        except UserError as exc:
            self.fail(str(exc))
        print(done)


class GroupsRemoveApp(GroupsAddApp):
    name = "jupyter-collab-docs-groups-remove"
    description = "Remove a group: groups remove NAME"

    def start(self) -> None:
        self._do(lambda d, args: d.remove_group(*args), 1, f"removed group {self._arg(0)}")


class GroupsListApp(CollabDocsCommand):
    name = "jupyter-collab-docs-groups-list"
    description = "List the groups and their members."

    def start(self) -> None:
        for group, members in self.user_directory().groups().items():
            print(f"{group}\t{' '.join(members)}")


class GroupsAddMemberApp(GroupsAddApp):
    name = "jupyter-collab-docs-groups-add-member"
    description = "Add a user to a group: groups add-member GROUP USERNAME"

    def start(self) -> None:
        done = f"added {self._arg(1)} to {self._arg(0)}"
        self._do(lambda d, args: d.add_member(*args), 2, done)


class GroupsRemoveMemberApp(GroupsAddApp):
    name = "jupyter-collab-docs-groups-remove-member"
    description = "Remove a user from a group: groups remove-member GROUP USERNAME"

    def start(self) -> None:
        done = f"removed {self._arg(1)} from {self._arg(0)}"
        self._do(lambda d, args: d.remove_member(*args), 2, done)


class CommandGroup(JupyterApp):
    """A command with subcommands only (``users``, ``groups``, ...): help without one."""

    def start(self) -> None:
        if self.subapp is None:
            self.print_help()
            self.exit(2)
        else:
            self.subapp.start()


class GroupsApp(CommandGroup):
    name = "jupyter-collab-docs-groups"
    description = "Manage the groups of the standalone server (JupyterHub brings its own)."
    subcommands = {
        "add": (GroupsAddApp, GroupsAddApp.description),
        "remove": (GroupsRemoveApp, GroupsRemoveApp.description),
        "list": (GroupsListApp, GroupsListApp.description),
        "add-member": (GroupsAddMemberApp, GroupsAddMemberApp.description),
        "remove-member": (GroupsRemoveMemberApp, GroupsRemoveMemberApp.description),
    }


class UsersApp(CommandGroup):
    name = "jupyter-collab-docs-users"
    description = "Manage the users and API tokens of the standalone server."
    subcommands = {
        "add": (UsersAddApp, UsersAddApp.description),
        "list": (UsersListApp, UsersListApp.description),
        "token": (UsersTokenApp, UsersTokenApp.description),
        "remove": (UsersRemoveApp, UsersRemoveApp.description),
    }
