"""Who a share may name: whether a ``user:`` or ``group:`` principal exists, and names
that start with what someone typed in a share dialog.

Where that is known depends on who signs people in (docs/sharing.md, "Who exists"):

- The standalone server (:class:`CollabDocsIdentityProvider`): users and groups are the
  rows of the access database, so a share naming anyone else is refused, and names are
  completed from there (:class:`DirectoryPrincipals`).
- JupyterHub and a personal Jupyter server: the hub (or nobody) knows the users and
  groups, not us, and the single-user server's token may not list them. Any well-formed
  name is accepted, as a share that takes effect once that user or group signs in; only
  the caller's own groups (from the hub user model) are completed
  (:class:`ExternalPrincipals`).
"""

from __future__ import annotations

from typing import Any, Protocol

from .acl.directory import AccessDirectory
from .identity import Actor, CollabDocsIdentityProvider

KINDS = ("user", "group")


class Principals(Protocol):
    #: Whether every user and group is known here (the share dialogs may then say
    #: "no such user" as one types; otherwise any name is worth trying).
    directory: bool

    async def missing(self, principal: str) -> str | None:
        """Why a well-formed ``user:NAME`` / ``group:NAME`` may not be shared with (it
        names nobody), or None."""

    async def complete(
        self, actor: Actor, prefix: str, kinds: tuple[str, ...], limit: int
    ) -> list[dict[str, str]]:
        """Up to ``limit`` principals whose name starts with ``prefix``, users first:
        ``{"principal", "display_name"}``, nothing more."""


class DirectoryPrincipals:
    """The standalone server's users and groups, in the access database."""

    directory = True

    def __init__(self, users: AccessDirectory) -> None:
        self.users = users

    async def missing(self, principal: str) -> str | None:
        kind, _, name = principal.partition(":")
        if await self.users.has_principal(kind, name):
            return None
        return f"no {kind} {name!r} on this server"

    async def complete(
        self, actor: Actor, prefix: str, kinds: tuple[str, ...], limit: int
    ) -> list[dict[str, str]]:
        found = await self.users.principals_starting_with(prefix, kinds, limit)
        return [{"principal": f"{k}:{name}", "display_name": shown} for k, name, shown in found][
            :limit
        ]


class ExternalPrincipals:
    """JupyterHub or a personal server: users and groups are not ours to list."""

    directory = False

    async def missing(self, principal: str) -> str | None:
        return None  # unknowable here without asking the hub: accepted, as documented

    async def complete(
        self, actor: Actor, prefix: str, kinds: tuple[str, ...], limit: int
    ) -> list[dict[str, str]]:
        if "group" not in kinds:
            return []
        start = prefix.lower()
        mine = sorted(g for g in actor.groups if g.lower().startswith(start))
        return [{"principal": f"group:{g}", "display_name": g} for g in mine[:limit]]


def principals_for(identity_provider: Any, users: AccessDirectory) -> Principals:
    """The standalone directory when it signs people in, otherwise none of ours."""
    if isinstance(identity_provider, CollabDocsIdentityProvider):
        return DirectoryPrincipals(users)
    return ExternalPrincipals()
