"""Who is asking: the authenticated actor, and standalone per-user API tokens.

Inside JupyterLab or JupyterHub the server's own identity provider says who the user is.
The standalone app (``jupyter collab-docs``) installs :class:`CollabDocsIdentityProvider`,
which accepts the per-user tokens issued by ``jupyter collab-docs users add``; the server's
own token stays valid and acts as the administrator.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, User
from tornado import web
from traitlets import Unicode

# Colours for collaborators' cursors, picked by a stable hash of the username.
PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
    "#17becf", "#e377c2", "#8c564b", "#bcbd22", "#7f7f7f",
)  # fmt: skip

USERS_SETTING = "collab_docs_users"


def initials_of(name: str) -> str:
    parts = [p for p in name.replace("_", " ").replace("-", " ").split() if p]
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0][:2].upper()
    return (parts[0][0] + parts[-1][0]).upper()


def color_of(username: str) -> str:
    digest = hashlib.sha256(username.encode("utf-8")).digest()
    return PALETTE[digest[0] % len(PALETTE)]


@dataclass(frozen=True)
class Actor:
    """The authenticated person behind a request or a socket."""

    username: str
    display_name: str
    initials: str
    color: str
    is_admin: bool = False
    groups: frozenset[str] = frozenset()

    @classmethod
    def create(
        cls,
        username: str,
        display_name: str | None = None,
        *,
        initials: str | None = None,
        color: str | None = None,
        is_admin: bool = False,
        groups: frozenset[str] = frozenset(),
    ) -> Actor:
        display = display_name or username
        return cls(
            username=username,
            display_name=display,
            initials=initials or initials_of(display),
            color=color or color_of(username),
            is_admin=is_admin,
            groups=groups,
        )

    def awareness_user(self) -> dict[str, Any]:
        """The ``user`` field the server writes into this actor's awareness states."""
        return {
            "name": self.username,
            "display_name": self.display_name,
            "initials": self.initials,
            "color": self.color,
        }

    def to_model(self) -> dict[str, Any]:
        return {
            **self.awareness_user(),
            "username": self.username,
            "is_admin": self.is_admin,
            "groups": sorted(self.groups),
        }


class CollabDocsIdentityProvider(IdentityProvider):
    """Jupyter identity provider of the standalone app: per-user API tokens.

    A token is looked up (by its hash) in the user directory that the extension puts in
    the Tornado settings; the server's own token is the administrator.
    """

    admin_username = Unicode(
        "admin",
        help="Username of the holder of the server's own token, an administrator.",
    ).tag(config=True)

    async def get_user_token(self, handler: web.RequestHandler) -> User | None:
        token = self.get_token(handler)
        directory = handler.settings.get(USERS_SETTING)
        if token and directory is not None:
            record = await directory.authenticate(token)
            if record is not None:
                actor = Actor.create(record.username, record.display_name)
                return User(
                    username=actor.username,
                    name=actor.username,
                    display_name=actor.display_name,
                    initials=actor.initials,
                    color=actor.color,
                )
        return await super().get_user_token(handler)

    def generate_anonymous_user(self, handler: web.RequestHandler) -> User:
        # Only reached for the server's own token: that holder administers the server.
        return User(
            username=self.admin_username,
            name=self.admin_username,
            display_name="Server administrator",
            initials="SA",
            color=None,
        )
