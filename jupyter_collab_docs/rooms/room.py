"""The room: one live pycrdt ``Doc`` per open document, shared by every socket on it.

:class:`DocumentRoom` speaks the y-websocket protocol of pycrdt-websocket's ``YRoom``
but is built for the hot path, after the traps in docs/architecture.md ("Why
DocumentRoom is not pycrdt-websocket's YRoom"):

* a frame is handled synchronously as it arrives (no task per message or recipient);
* every change enters the doc through one method (from a socket, REST or a restore),
  is queued, and broadcast once per event-loop turn: the updates of one turn are merged,
  framed once, and the same bytes are written to every socket;
* persistence is off the hot path (persistence.py).

This module is the room's core: joining, leaving, reading a frame, applying a change
and broadcasting it; the other parts are the layers it is built on (see the package).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, Subscription, merge_updates

from .. import protocol
from ..close_codes import CLOSE_GOING_AWAY
from ..cluster import base as bus_kinds
from ..cluster.base import ClusterBus
from ..metrics import RoomStats
from ..stores import DocumentStore
from ..update_guard import VerifiedUpdates, inspect_update
from .exchange import REMOTE
from .guard import UpdateGuard
from .state import Connection, RoomConfig, RoomLoadError
from .updates import NO_STRUCTS, contained, is_fatal

log = logging.getLogger(__name__)


class DocumentRoom(UpdateGuard):
    """One document's live state: its ``Doc``, its sockets, awareness and write queue."""

    def __init__(
        self,
        doc_id: str,
        doc_type: str,
        store: DocumentStore,
        config: RoomConfig,
        on_edit: Callable[[str, str, int], None] | None = None,
        *,
        bus: ClusterBus | None = None,
        stats: RoomStats | None = None,
        verified: VerifiedUpdates | None = None,
    ):
        self.doc_id = doc_id
        # Large stored records the guard passed (shared by the manager's rooms): a room
        # reopened on the same snapshot does not parse it again.
        self.verified = verified if verified is not None else VerifiedUpdates()
        self.on_edit = on_edit
        self.bus = bus
        # Publish, exchange and heal only when other nodes may exist.
        self.clustered = bus is not None and bus.clustered
        self.stats = stats if stats is not None else RoomStats()
        self.doc_type = doc_type
        self.store = store
        self.config = config
        # Set by the doc's one permanent observer: whether a transaction changed the doc
        # since _apply_adding last cleared it. The empty doc before the load has none.
        self._doc_changed = False
        self._doc_subscription: Subscription | None = None
        self._doc: Doc[Any] = Doc()
        self.clients: dict[Connection, set[int]] = {}
        self.last_active = time.monotonic()
        self.closed = False
        # Edits since the last version, for automatic versions and "who changed what".
        self._last_edit: float | None = None
        self._last_version = time.monotonic()
        self._contributions: dict[str, dict[str, int]] = {}
        self._outbox: list[tuple[bytes, Connection | None]] = []
        self._broadcast_scheduled = False
        self._init_awareness()
        self._init_exchange()
        self._init_persistence()
        self._init_guard()

    @property
    def doc(self) -> Doc[Any]:
        """The live document. Every doc the room takes (the load's, a repair's) gets one
        permanent observer until it is swapped out or the room closes: subscribing
        around each apply cost ~6 % of the trace replay (issue #16)."""
        return self._doc

    @doc.setter
    def doc(self, doc: Doc[Any]) -> None:
        self._release_doc_observer()
        self._doc = doc
        self._doc_subscription = doc.observe(self._note_doc_changed)

    def _release_doc_observer(self) -> None:
        """Unsubscribe from the doc. Required, not tidiness: yrs holds the callback, which
        holds the room and (through pycrdt) the doc, a cycle the garbage collector cannot
        see, so a doc left subscribed is never freed, nor its room."""
        if self._doc_subscription is not None:
            self._doc.unobserve(self._doc_subscription)
            self._doc_subscription = None

    def _note_doc_changed(self, _event: Any) -> None:
        self._doc_changed = True

    # -- lifecycle -----------------------------------------------------------------------

    async def close(self, code: int = CLOSE_GOING_AWAY, reason: str = "", *, persist: bool = True):
        """Close every socket, flush and compact (unless the document is gone), stop."""
        if self.closed:
            return
        self.closed = True
        for conn in list(self.clients):
            conn.close(code, reason)
        self.clients.clear()
        self._close_awareness()
        self._inbox = None  # bus messages kept while loading: dropped
        try:
            await self._close_persistence(persist)
        finally:
            self._release_doc_observer()

    # -- versions (versions.py takes them) -----------------------------------------------

    @property
    def last_edit(self) -> float | None:
        """When an edit made on this node last changed the doc, if one did since the last
        version (monotonic clock)."""
        return self._last_edit

    @property
    def last_version(self) -> float:
        """When the last version of the doc was taken (or the room opened)."""
        return self._last_version

    @property
    def contributions(self) -> dict[str, dict[str, int]]:
        """Who changed what since the last version, left counting (a copy)."""
        return {user: dict(counts) for user, counts in self._contributions.items()}

    def take_contributions(self) -> dict[str, dict[str, int]]:
        """A version is being taken now: who changed what since the last one (``{user:
        {"updates", "bytes"}}``), counting anew from here."""
        contributions, self._contributions = self._contributions, {}
        self._last_edit = None
        self._last_version = time.monotonic()
        return contributions

    # -- clients -------------------------------------------------------------------------

    def join(self, conn: Connection) -> None:
        """Start the handshake, then start broadcasting to this socket.

        Step 1 is written before the socket is added to the room, so it never sees an
        update before its own sync has begun (pycrdt-websocket adds it first).
        """
        conn.send(protocol.sync_step1(self.doc.get_state()))
        self._send_all_awareness(conn)
        self.clients[conn] = set()
        self.last_active = time.monotonic()

    def leave(self, conn: Connection) -> None:
        client_ids = self.clients.pop(conn, None)
        self.last_active = time.monotonic()
        if client_ids:
            self._forget_awareness(client_ids)

    def receive(self, conn: Connection, message: bytes) -> None:
        """Handle one frame from ``conn``; raises ProtocolError (or anything yrs raises)
        for a bad frame, which the caller turns into closing that socket only."""
        frame = protocol.parse_frame(message)
        self.last_active = time.monotonic()
        if frame.kind == protocol.MESSAGE_SYNC:
            if frame.step == protocol.SYNC_STEP1:
                conn.send(protocol.sync_step2(self.doc.get_update(frame.payload)))
            elif conn.can_write and frame.payload != protocol.EMPTY_UPDATE:
                # Step 2 and update carry document changes: only writers' are applied.
                self._apply_from(conn, frame.payload)
        elif frame.kind == protocol.MESSAGE_AWARENESS:
            self._receive_awareness(conn, frame.payload)
        elif frame.kind == protocol.MESSAGE_QUERY_AWARENESS:
            self._send_all_awareness(conn)

    # -- document changes ----------------------------------------------------------------
    def apply_server_update(self, update: bytes, author: str) -> None:
        """Apply a change made by the server for ``author`` (REST content replace, a
        restore); live sockets receive it like any other edit. Raises UpdateRefused
        (UpdateTooLarge past a bound) with nothing applied."""
        if self.closed:
            raise RoomLoadError("the room is closed")
        shape = inspect_update(update, self.config.stored_limits)
        self._admit_growth(shape)
        self._apply_guarded(update, shape, None, author)

    def _apply_to_doc(self, update: bytes) -> None:
        try:
            self.doc.apply_update(update)
        except BaseException as exc:
            # Nothing is queued, but yrs may have kept part of it: rebuild the doc.
            if not is_fatal(exc):
                self._schedule_repair()
            raise
        if self._captured is not None:
            self._captured.append(update)

    def _apply_adding(self, update: bytes) -> bool:
        """Apply ``update`` to the doc; whether it added something: a struct or a
        deletion the doc lacked (yrs reports a transaction to observers only then), or
        structs yrs keeps pending until a dependency arrives. pycrdt clients echo back
        the updates they receive: those add nothing. The doc's permanent observer says
        whether a transaction changed it (a room not loaded yet, or closed, has none: it
        subscribes for this one apply)."""
        doc = self.doc
        temporary = doc.observe(self._note_doc_changed) if self._doc_subscription is None else None
        self._doc_changed = False
        try:
            self._apply_to_doc(update)
        finally:
            if temporary is not None:
                doc.unobserve(temporary)
        return self._doc_changed or (
            update[:1] != NO_STRUCTS and not contained(update, doc.get_state())
        )

    def _apply(self, update: bytes, origin: Connection | None, author: str) -> None:
        """The one way into the doc. The update applied, byte for byte, is what gets
        broadcast and stored: replaying the log in order rebuilds exactly this doc, even
        from updates that yrs keeps pending or that only partly make sense.

        Updates of other nodes (``origin`` :data:`REMOTE`) are broadcast to this node's
        sockets but neither stored (their node did) nor published again, and they count
        for neither idleness, automatic versions, contributions nor the audit: all of
        that belongs to the node whose client made them. Nor does an update that adds
        nothing (a client echoing what it received): it is broadcast and stored all the
        same, but it is nobody's edit."""
        if origin is REMOTE:
            self._apply_to_doc(update)
            self.stats.updates_in["remote"] += 1
            self._remote_dirty = True
            self._queue_broadcast(update, origin)
            return
        added = self._apply_adding(update)
        self.stats.updates_in["server" if origin is None else "client"] += 1
        self.last_active = time.monotonic()
        if added:
            self._last_edit = self.last_active
            counts = self._contributions.setdefault(author, {"updates": 0, "bytes": 0})
            counts["updates"] += 1
            counts["bytes"] += len(update)
            if self.on_edit is not None and origin is not None:
                # Socket edits only: a server change (content replace, restore) has its
                # own audit event and is not also an edit burst.
                self.on_edit(self.doc_id, author, len(update))
        self._queue_broadcast(update, origin)
        self._queue_write(update, author)

    def _queue_broadcast(self, update: bytes, origin: Any) -> None:
        self._outbox.append((update, origin))
        if not self._broadcast_scheduled:
            self._broadcast_scheduled = True
            asyncio.get_running_loop().call_soon(self._broadcast)

    @staticmethod
    def _merged(updates: list[bytes]) -> list[bytes]:
        """One update for many, or them all if yrs cannot merge what it applied."""
        if len(updates) == 1:
            return updates
        try:
            return [merge_updates(*updates)]
        except BaseException as exc:  # an odd update yrs applied but cannot merge
            if is_fatal(exc):
                raise
            return updates

    def _broadcast(self) -> None:
        """Send everything applied during the last loop turn, framed once; publish this
        node's part of it to the other nodes, merged once."""
        self._broadcast_scheduled = False
        batch, self._outbox = self._outbox, []
        if not batch:
            return
        merged: list[bytes] | None = None
        if self.clustered and not self.closed:
            local = [u for u, origin in batch if origin is not REMOTE]
            if local:
                published = self._merged(local)
                if len(local) == len(batch):
                    merged = published
                assert self.bus is not None
                for update in published:
                    self.bus.publish(self.doc_id, bus_kinds.UPDATE, update)
        if not self.clients:
            return
        origins = {origin for _, origin in batch}
        skip = batch[0][1] if len(origins) == 1 else None
        if merged is None:
            merged = self._merged([u for u, _ in batch])
        messages = [protocol.update_message(u) for u in merged]
        sent = 0
        for conn in self.clients:
            if conn is not skip:
                for message in messages:
                    conn.send(message)
                sent += len(messages)
        self.stats.messages_out += sent
