"""Who is asking: the authenticated actor, and standalone per-user API tokens.

Inside JupyterLab or JupyterHub the server's own identity provider says who the user is.
The standalone app (``jupyter collab-docs``) installs :class:`CollabDocsIdentityProvider`,
which accepts the per-user tokens issued by ``jupyter collab-docs users add``; the server's
own token stays valid and acts as the administrator.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, User
from tornado import web
from traitlets import TraitError, Unicode, default, validate

from . import signin_guard
from .users import hash_token

# Colours for collaborators' cursors, picked by a stable hash of the username.
PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
    "#17becf", "#e377c2", "#8c564b", "#bcbd22", "#7f7f7f",
)  # fmt: skip

USERS_SETTING = "collab_docs_users"
COLLAB_SETTING = "collab_docs"  # the CollabDocsApp (handlers.base.SETTINGS_KEY)


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


def session_id(token_hash: str) -> str:
    """What a login cookie keeps of the token that signed it in: a digest of the token's
    stored hash (neither the token nor the hash itself). While that token is current the
    cookie signs its user in; rotating it or removing the user ends the cookie."""
    return hashlib.sha256(b"collab-docs login session\0" + token_hash.encode()).hexdigest()[:32]


@dataclass
class SessionUser(User):
    """A Jupyter user that knows which credential signed it in (its :func:`session_id`):
    the login cookie carries it, and every read of the cookie checks it again."""

    session: str = ""


class CollabDocsIdentityProvider(IdentityProvider):
    """Jupyter identity provider of the standalone app: per-user API tokens.

    A token is looked up (by its hash) in the user directory that the extension puts in
    the Tornado settings; the server's own token is the administrator.

    Login cookies are bound to the token that signed the browser in (``session`` in the
    cookie): each read checks that this token is still one of the user's current ones
    (cached for at most ``min(5 s, revalidate_interval)``; room sockets look afresh), so
    ``users remove`` and ``users token`` end the user's cookies, also ones signed before
    a restart; the administrator's cookie ends with the server's token. Sign-in follows
    :mod:`jupyter_collab_docs.signin_guard` (no login CSRF), and the cookie is
    ``SameSite=Lax`` (or ``Strict``, if configured).
    """

    admin_username = Unicode(
        "admin",
        help="Username of the holder of the server's own token, an administrator.",
    ).tag(config=True)

    @default("cookie_options")
    def _default_cookie_options(self) -> dict[str, Any]:
        return {"samesite": "Lax"}

    @validate("cookie_options")
    def _validate_cookie_options(self, proposal: Any) -> dict[str, Any]:
        options = dict(proposal["value"])
        samesite = str(options.setdefault("samesite", "Lax"))
        if samesite.lower() not in ("lax", "strict"):
            raise TraitError(
                f"cookie_options samesite={samesite!r}: the login cookie must be SameSite=Lax "
                "or Strict (another site could otherwise use the session)"
            )
        return options

    # -- credentials -----------------------------------------------------------------------

    async def get_user_token(self, handler: web.RequestHandler) -> User | None:
        token = self.get_token(handler)
        if not token:
            return None
        if signin_guard.token_in_arguments(handler) and not signin_guard.may_use_argument_token(
            handler
        ):
            self.log.warning(
                "Ignoring the token in the URL of %s: it came from another site, or from a "
                "link or redirect on this one, not from the user (login CSRF). Open the "
                "address directly, or sign in on the login page.",
                handler.request.path,
            )
            return None
        if self.token and hmac.compare_digest(token.encode(), self.token.encode()):
            return self._administrator()
        directory = handler.settings.get(USERS_SETTING)
        if directory is None:
            return None
        record = await directory.authenticate(token, max_age=self._max_age(handler))
        if record is None:
            return None
        return self._user_of(record.username, record.display_name, session_id(hash_token(token)))

    async def get_user_cookie(self, handler: web.RequestHandler) -> User | None:  # type: ignore[override]
        user = super().get_user_cookie(handler)  # the signature and the JSON
        if isinstance(user, Awaitable):
            user = await user
        if not isinstance(user, SessionUser) or not user.session:
            return None  # signed before cookies named their credential, or not by us
        if user.username == self.admin_username and user.session == self._server_session():
            return self._administrator()
        directory = handler.settings.get(USERS_SETTING)
        if directory is None:
            return None
        record = await directory.by_session(
            user.username, user.session, max_age=self._max_age(handler)
        )
        if record is None:
            return None
        return self._user_of(record.username, record.display_name, user.session)

    def process_login_form(self, handler: web.RequestHandler) -> User | None:
        """Jupyter's login page (where JupyterLab sends a browser without a session): its
        field takes a per-user token or the server's. The form is a POST under Jupyter's
        XSRF check, so no other site can submit it. Jupyter calls this synchronously: the
        token is looked up in this thread (one query by primary key; logins are rare)."""
        typed = handler.get_argument("password", default="").strip()
        if not typed:
            return None
        if self.token and hmac.compare_digest(typed.encode(), self.token.encode()):
            return self._administrator()
        directory = handler.settings.get(USERS_SETTING)
        record = directory.by_token(typed) if directory is not None else None
        if record is None:
            return None
        return self._user_of(record.username, record.display_name, session_id(hash_token(typed)))

    def _max_age(self, handler: web.RequestHandler) -> float:
        """How old a cached look-up may be: at most the socket re-check interval, and
        none for a room socket's re-check (``fresh_credentials`` on the handler)."""
        if getattr(handler, "fresh_credentials", False):
            return 0.0
        collab = handler.settings.get(COLLAB_SETTING)
        interval = getattr(collab, "revalidate_interval", None)
        return float(interval) if isinstance(interval, int | float) else 5.0

    def _server_session(self) -> str | None:
        return session_id(hash_token(self.token)) if self.token else None

    def _user_of(self, username: str, display_name: str, session: str) -> SessionUser:
        actor = Actor.create(username, display_name)
        return SessionUser(
            username=actor.username,
            name=actor.username,
            display_name=actor.display_name,
            initials=actor.initials,
            color=actor.color,
            session=session,
        )

    def _administrator(self) -> SessionUser:
        return SessionUser(
            username=self.admin_username,
            name=self.admin_username,
            display_name="Server administrator",
            initials="SA",
            color=None,
            session=self._server_session() or "",
        )

    def generate_anonymous_user(self, handler: web.RequestHandler) -> User:
        # Only reached for the server's own token: that holder administers the server.
        return self._administrator()

    # -- the login cookie ------------------------------------------------------------------

    def user_to_cookie(self, user: User) -> str:
        model = json.loads(super().user_to_cookie(user))
        model["session"] = getattr(user, "session", "")
        return json.dumps(model)

    def user_from_cookie(self, cookie_value: str) -> User | None:
        model = json.loads(cookie_value)
        session = model.get("session")
        user = super().user_from_cookie(cookie_value)
        if user is None or not isinstance(session, str):
            return None
        return SessionUser(**{**dataclasses.asdict(user), "session": session})

    def set_login_cookie(self, handler: web.RequestHandler, user: User) -> None:
        if not signin_guard.may_set_login_cookie(handler):
            # Every room socket of a token client (a script, the benchmarks) gets here:
            # a line each would cost more than the join itself.
            quiet = signin_guard.is_websocket_upgrade(handler)
            self.log.log(
                logging.DEBUG if quiet else logging.INFO,
                "Not setting a login cookie on %s: a cross-site request, or a URL token "
                "without Fetch Metadata, does not sign a browser in",
                handler.request.path,
            )
            return
        super().set_login_cookie(handler, user)
