"""``api/collab-docs/rooms/{id}``: the y-websocket endpoint of a document's room.

The y-websocket client cannot read an HTTP status, so refusals use docs/protocol.md's close codes:
the upgrade is accepted, then closed with 4401 / 4403 / 4404 / 4500. The upgrade is a
GET, which only proves "read": the room checks write permission on every message.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from jupyter_core.utils import ensure_async
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketHandler

from ..acl import Permission, can
from ..close_codes import (
    CLOSE_ACCESS_CHANGED,
    CLOSE_LOAD_FAILED,
    CLOSE_NOT_AUTHENTICATED,
    CLOSE_NOT_FOUND,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_RATE_LIMITED,
    CLOSE_UNSUPPORTED,
)
from ..documents import is_document_id
from ..errors import NotFound, StartError
from ..identity import Actor
from ..protocol import ProtocolError
from ..rooms import DocumentRoom, RoomLoadError, is_fatal, recheck
from ..stores import StoreError
from .base import AUTH_RESOURCE, SETTINGS_KEY
from .room_socket import RoomSocket

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def ws_authenticated_with_close_code(method: F) -> F:
    """Jupyter's ``ws_authenticated``, but an anonymous socket is upgraded and closed with
    4401 (which y-websocket clients can see) instead of answered with a bare 403."""

    @functools.wraps(method)
    async def wrapper(self: RoomHandler, *args: Any, **kwargs: Any) -> Any:
        if self.current_user is None:
            self.refusal = (CLOSE_NOT_AUTHENTICATED, "not authenticated")
        return await method(self, *args, **kwargs)

    setattr(wrapper, "__allow_unauthenticated", False)
    return cast(F, wrapper)


class RoomHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):  # type: ignore[misc]
    auth_resource = AUTH_RESOURCE

    actor: Actor
    role: str | None = None
    can_write = False
    link: str | None = None
    #: ``?comments=1``: the socket also receives comment events (docs/comments.md).
    comment_events = False
    room: DocumentRoom | None = None
    refusal: tuple[int, str] | None = None

    def set_default_headers(self) -> None:
        """JupyterHandler's default headers make no sense on a websocket."""

    def get_websocket_protocol(self) -> RoomSocket | None:
        """Tornado's upgrade, then our own framing (room_socket.py): no compression, a
        4413 from a frame's header past ``max_message_size``, a capped send queue."""
        if self.request.headers.get("Sec-WebSocket-Version") != "13":
            return None  # Tornado answers 426
        collab = self.settings[SETTINGS_KEY]
        return RoomSocket(self, collab.max_message_size, collab.max_socket_backlog)

    def _detach_stream(self) -> Any:
        """Tornado's, and the template namespace (``ui``, with a module namespace bound
        to this handler) dropped: nothing is rendered on a socket, and an idle socket
        would carry it for its whole life."""
        self.ui = None  # type: ignore[assignment]
        return super()._detach_stream()

    @ws_authenticated_with_close_code
    async def get(self, doc_id: str) -> None:
        if self.settings[SETTINGS_KEY].draining:
            # Told to stop: refused before the upgrade, so a load balancer tries another
            # node (nginx: proxy_next_upstream http_503); docs/cluster.md.
            raise web.HTTPError(503, "draining")
        if self.refusal is None:
            try:
                await self.settings[SETTINGS_KEY].wait_started()
            except StartError as exc:
                self.refusal = (CLOSE_LOAD_FAILED, str(exc)[:120])
        if self.refusal is None:
            authorized = await ensure_async(
                self.authorizer.is_authorized(self, self.current_user, "read", AUTH_RESOURCE)
            )
            if not authorized:
                self.refusal = (CLOSE_ACCESS_CHANGED, "not authorized")
        await super().get(doc_id)

    async def open(self, doc_id: str) -> None:  # type: ignore[override]
        super().open()  # WebSocketMixin's keep-alive pings
        # Updates are small frames written as they happen: without TCP_NODELAY, Nagle's
        # algorithm holds a frame back until the previous one is acknowledged, and the
        # client's delayed ACK makes that up to 40 ms (Node's ws sets it too).
        self.set_nodelay(True)
        collab = self.settings[SETTINGS_KEY]
        if not is_document_id(doc_id):
            # Names no document: refused before anything is looked up or recorded (an
            # id is caller-chosen text; the audit trail must not carry it).
            self.close(CLOSE_NOT_FOUND, "document not found")
            return
        if self.refusal is not None:
            who = self.current_user.username if self.current_user else None
            collab.audit.emit(  # rate-limited per user, or per address when anonymous
                "access.denied",
                who,
                doc_id,
                attempted="connect",
                reason=self.refusal[1],
                source=self.request.remote_ip or "unknown",
            )
            self.close(*self.refusal)
            return
        self.actor = await collab.actor_for(self.current_user)
        self.link = self.get_argument("link", None)
        self.comment_events = self.get_argument("comments", None) == "1"
        try:
            record, role = await collab.documents.join_role(self.actor, doc_id, self.link)
        except NotFound:
            self.close(CLOSE_NOT_FOUND, "document not found")
            return
        except StoreError as exc:
            log.error("document %s: the store cannot say who may read it: %s", doc_id, exc)
            self.close(CLOSE_LOAD_FAILED, "the document could not be loaded")
            return
        self.role = role
        # The role is fixed for the socket's life: a change closes it (4403) to reconnect.
        self.can_write = can(role, Permission.WRITE)
        try:
            room = await collab.rooms.get(record.id, record.type)
        except RoomLoadError as exc:
            log.error("document %s could not be loaded: %s", doc_id, exc)
            self.close(CLOSE_LOAD_FAILED, "the document could not be loaded")
            return
        if self.ws_connection is None:  # the client left while the room loaded
            return
        # Checked right before joining (no await in between), so sockets opening at
        # once cannot all pass the per-user caps.
        too_many = collab.rooms.socket_refusal(self.actor, room)
        if too_many is not None:
            self.close(CLOSE_RATE_LIMITED, too_many)
            return
        self.room = room
        room.join(self)
        collab.audit.emit("session.joined", self.actor, doc_id, role=role)

    def on_message(self, message: str | bytes) -> None:
        room = self.room
        if room is None:
            return
        if not isinstance(message, bytes):
            self.close(CLOSE_UNSUPPORTED, "text frames are not part of the protocol")
            return
        try:
            room.receive(self, message)
        except ProtocolError as exc:
            self._reject(f"malformed message: {exc}")
        except BaseException as exc:
            # Anything yrs raises on a bad update, including its PanicException (a
            # BaseException), is this socket's fault: close it, keep the room.
            if is_fatal(exc):
                raise
            self._reject(f"update could not be applied: {type(exc).__name__}")

    def _reject(self, reason: str) -> None:
        log.warning(
            "closing socket of %s on %s: %s", self.actor.username, self.request.path, reason
        )
        self.close(CLOSE_PROTOCOL_ERROR, reason[:120])

    async def current_role(self) -> str | None:
        """This socket's role now (for revalidation): who the request's credentials say
        it is now (a revoked token, changed groups), and what that identity may do.

        Credentials that no longer name anyone (a removed user, a rotated token: its
        login cookie too) close the socket here with 4401, as at the upgrade."""
        collab = self.settings[SETTINGS_KEY]
        # Identity providers memoize the user on the handler (Jupyter's own in
        # _jupyter_current_user, JupyterHub's in two more places): forget it, so the
        # credentials are checked again, and not from a cache (fresh_credentials).
        memos = ("_jupyter_current_user", "_jupyterhub_user", "_cached_hub_user")
        remembered = {memo: self.__dict__.pop(memo) for memo in memos if memo in self.__dict__}
        self.fresh_credentials = True
        # Within one re-check pass, sockets with the same credentials share one lookup
        # of each kind (rooms/recheck.py).
        credential = recheck.credential_key(self.request)
        try:
            user = await recheck.once(
                ("user", credential), lambda: ensure_async(self.identity_provider.get_user(self))
            )
        except Exception as exc:
            log.warning("re-checking a socket's identity failed: %r", exc)
            self.__dict__.update(remembered)
            return self.role  # keep the socket; the next check tries again
        self.current_user = self._jupyter_current_user = user
        if user is None:
            self.close(CLOSE_NOT_AUTHENTICATED, "credentials revoked")
            return None
        self.actor = actor = await recheck.once(
            ("actor", credential), lambda: collab.actor_for(user, fresh=True)
        )
        doc_id = self.path_kwargs["doc_id"]
        try:
            _, role = await recheck.once(
                ("role", actor, doc_id, self.link),
                lambda: collab.documents.role(actor, doc_id, self.link),
            )
        except NotFound:
            return None
        return role

    def on_close(self) -> None:
        self._leave()
        # WebSocketMixin's keep-alive only notices a closed socket at its next ping (every
        # 30 s): until then its callback holds this handler, its request and its buffers,
        # and the two refer to each other, so only a full garbage collection frees them.
        ping = getattr(self, "ping_callback", None)
        if ping is not None:
            ping.stop()
            self.ping_callback = None

    def _leave(self) -> None:
        room = self.room
        if room is not None:
            self.room = None
            room.leave(self)
            self.settings[SETTINGS_KEY].audit.emit("session.left", self.actor, room.doc_id)

    # -- the room's view of this socket (rooms.Connection) --------------------------------

    def send(self, message: bytes) -> None:
        # A RoomSocket (get_websocket_protocol); typed Any rather than cast(), which is
        # a function call per message sent.
        conn: Any = self.ws_connection
        if conn is not None:
            conn.send_message(message)

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        self._leave()
        super().close(code, reason)

    def check_xsrf_cookie(self) -> None:
        """WebSocket upgrades are guarded by the origin check, not by XSRF tokens."""
