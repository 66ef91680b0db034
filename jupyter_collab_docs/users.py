"""Standalone users and their API tokens, behind a small interface.

Tokens are random and shown once; only their SHA-256 is stored. The implementation,
:class:`jupyter_collab_docs.acl.directory.AccessDirectory`, keeps users, tokens and groups
in the access database (``acl_url``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Protocol

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class UserError(ValueError):
    """A user operation that cannot be done (unknown user, bad or duplicate name)."""


@dataclass(frozen=True)
class UserRecord:
    username: str
    display_name: str
    is_admin: bool
    created: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return "cd_" + secrets.token_urlsafe(32)


class UserDirectory(Protocol):
    """What the server and the CLI need to know about standalone users."""

    def add(self, username: str, display_name: str | None = None, admin: bool = False) -> str:
        """Create a user; returns their first token."""

    def list_users(self) -> list[UserRecord]: ...

    def get(self, username: str) -> UserRecord | None: ...

    def issue_token(self, username: str) -> str:
        """Replace a user's tokens by a new one, returned once."""

    def remove(self, username: str) -> None: ...

    def add_group(self, name: str) -> None: ...

    def remove_group(self, name: str) -> None: ...

    def groups(self) -> dict[str, list[str]]:
        """Every group with its members."""

    def add_member(self, group: str, username: str) -> None: ...

    def remove_member(self, group: str, username: str) -> None: ...

    async def groups_of(self, username: str) -> frozenset[str]:
        """The groups a user belongs to, for the event loop."""

    async def authenticate(self, token: str) -> UserRecord | None:
        """The user a token belongs to, or None; never blocks the event loop."""

    async def lookup(self, username: str) -> UserRecord | None:
        """``get`` for the event loop."""

    async def profile(self, username: str) -> tuple[UserRecord | None, frozenset[str]]:
        """``lookup`` and ``groups_of`` in one unit of work (an actor needs both)."""

    def close(self) -> None: ...
