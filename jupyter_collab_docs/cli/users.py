"""``jupyter collab-docs users add|list|token|remove`` and
``groups add|remove|list|add-member|remove-member``: the standalone server's users,
tokens and groups, in its access database."""

from __future__ import annotations

from traitlets import Bool, Unicode

from . import SUBCOMMANDS
from .base import CollabDocsCommand, CommandGroup


class UsersAddApp(CollabDocsCommand):
    name = "jupyter-collab-docs-users-add"
    description = "Create a user and print their API token (shown once; only a hash is kept)."
    examples = "jupyter collab-docs users add alice --admin --display-name 'Alice Liddell'"

    admin = Bool(False, help="Make the user an administrator.").tag(config=True)
    display_name = Unicode("", help="Name shown to collaborators.").tag(config=True)

    flags = {"admin": ({"UsersAddApp": {"admin": True}}, "Make the user an administrator.")}
    aliases = {"display-name": "UsersAddApp.display_name"}

    def execute(self) -> None:
        (username,) = self.arguments(1, "USERNAME")
        print(self.user_directory().add(username, self.display_name or None, self.admin))


class UsersListApp(CollabDocsCommand):
    name = "jupyter-collab-docs-users-list"
    description = "List the standalone users."

    def execute(self) -> None:
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

    def execute(self) -> None:
        (username,) = self.arguments(1, "USERNAME")
        print(self.user_directory().issue_token(username))


class UsersRemoveApp(CollabDocsCommand):
    name = "jupyter-collab-docs-users-remove"
    description = (
        "Remove a user and their tokens (their documents stay); their browser sessions "
        "and room sockets end within the server's revalidate_interval."
    )

    def execute(self) -> None:
        (username,) = self.arguments(1, "USERNAME")
        self.user_directory().remove(username)
        print(f"removed {username}")


class GroupsAddApp(CollabDocsCommand):
    name = "jupyter-collab-docs-groups-add"
    description = "Create a group: groups add NAME"

    def execute(self) -> None:
        (group,) = self.arguments(1)
        self.user_directory().add_group(group)
        print(f"added group {group}")


class GroupsRemoveApp(CollabDocsCommand):
    name = "jupyter-collab-docs-groups-remove"
    description = "Remove a group: groups remove NAME"

    def execute(self) -> None:
        (group,) = self.arguments(1)
        self.user_directory().remove_group(group)
        print(f"removed group {group}")


class GroupsListApp(CollabDocsCommand):
    name = "jupyter-collab-docs-groups-list"
    description = "List the groups and their members."

    def execute(self) -> None:
        for group, members in self.user_directory().groups().items():
            print(f"{group}\t{' '.join(members)}")


class GroupsAddMemberApp(CollabDocsCommand):
    name = "jupyter-collab-docs-groups-add-member"
    description = "Add a user to a group: groups add-member GROUP USERNAME"

    def execute(self) -> None:
        group, username = self.arguments(2)
        self.user_directory().add_member(group, username)
        print(f"added {username} to {group}")


class GroupsRemoveMemberApp(CollabDocsCommand):
    name = "jupyter-collab-docs-groups-remove-member"
    description = "Remove a user from a group: groups remove-member GROUP USERNAME"

    def execute(self) -> None:
        group, username = self.arguments(2)
        self.user_directory().remove_member(group, username)
        print(f"removed {username} from {group}")


class GroupsApp(CommandGroup):
    name = "jupyter-collab-docs-groups"
    description = SUBCOMMANDS["groups"][1]
    subcommands = CommandGroup.table(
        {
            "add": GroupsAddApp,
            "remove": GroupsRemoveApp,
            "list": GroupsListApp,
            "add-member": GroupsAddMemberApp,
            "remove-member": GroupsRemoveMemberApp,
        }
    )


class UsersApp(CommandGroup):
    name = "jupyter-collab-docs-users"
    description = SUBCOMMANDS["users"][1]
    subcommands = CommandGroup.table(
        {
            "add": UsersAddApp,
            "list": UsersListApp,
            "token": UsersTokenApp,
            "remove": UsersRemoveApp,
        }
    )
