"""Rooms: one live pycrdt ``Doc`` per open document, shared by every socket on it.

A :class:`DocumentRoom` speaks the y-websocket protocol of pycrdt-websocket's ``YRoom``
but is built for the hot path, after the traps in docs/architecture.md ("Why DocumentRoom
is not pycrdt-websocket's YRoom"):

* a frame is handled synchronously as it arrives (no task per message or recipient);
* every change enters the doc through one method (from a socket, REST or a restore),
  is queued, and broadcast once per event-loop turn: the updates of one turn are merged,
  framed once, and the same bytes are written to every socket;
* persistence is off the hot path: a writer task appends batches to the store with a
  bounded delay and a bounded backlog, and compacts when the log grows or the room idles.

:class:`RoomManager` opens rooms under a per-document lock (two sockets opening the same
new room at once both join the one room), evicts idle rooms, and closes them all on
shutdown, so no task or socket outlives its room.

In a cluster (a :class:`~jupyter_collab_docs.cluster.ClusterBus` with other nodes, see
docs/cluster.md) the room of a document exists on every node that serves it:

* what a node's own clients change is published once per loop turn and stored by that
  node only; other nodes apply it (origin :data:`REMOTE`), forward it to their sockets
  and never store it;
* awareness is relayed; remote entries expire like local ones;
* nodes exchange state vectors (on open, after any possible loss, periodically) and
  answer with what the other lacks, because the transport is at most once;
* compaction first heals the doc from the store, and folds only records the snapshot
  contains; a room holding remote updates snapshots periodically and on close, since a
  crashed node's unflushed updates then live only in the other nodes' memory.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import contextvars
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from pycrdt import Doc, get_update, merge_updates

from . import metrics, protocol
from .cluster import base as bus_kinds
from .cluster.base import BusMessage, ClusterBus
from .cluster.local import LocalBus
from .doctypes import TrustWatch
from .identity import Actor
from .metrics import RoomStats
from .protocol import AwarenessEntry
from .stores import DocumentStore, LoadedDocument, PendingUpdate, StoredUpdate, StoreError
from .stores.containment import SnapshotContent
from .update_guard import (
    UpdateLimits,
    UpdateRefused,
    UpdateShape,
    UpdateTooLarge,
    count_structs,
    inspect_update,
)
from .write_budget import WriteBudget

log = logging.getLogger(__name__)

# WebSocket close codes of the public contract (docs/protocol.md).
CLOSE_ACCESS_CHANGED = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_DELETED = 4410
CLOSE_TOO_LARGE = 4413
CLOSE_RATE_LIMITED = 4429
CLOSE_LOAD_FAILED = 4500
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_GOING_AWAY = 1001


def is_fatal(exc: BaseException) -> bool:
    """Exceptions that must propagate. Everything else raised while handling one frame,
    including yrs's ``PanicException`` (a BaseException), is that socket's fault only."""
    return isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError, GeneratorExit))


class Connection(Protocol):
    """What a room needs from one client socket."""

    actor: Actor
    role: str | None
    can_write: bool

    async def current_role(self) -> str | None:
        """The socket's role as the access rules say now (None: no longer readable)."""

    def send(self, message: bytes) -> None:
        """Queue a protocol message; never blocks, never raises for a closed socket."""

    def close(self, code: int, reason: str) -> None:
        """Close the socket with a WebSocket close code."""


@dataclass
class RoomConfig:
    """Tunables of every room, taken from the app's traits."""

    node: str = "local"
    write_delay: float = 0.05
    write_batch_size: int = 500
    max_pending_bytes: int = 64 * 1024 * 1024
    compact_threshold: int = 1000
    idle_timeout: float = 60.0
    awareness_timeout: float = 30.0
    max_client_ids: int = 4
    # Awareness and socket caps (issue #12; the app's traits say why these defaults).
    max_awareness_state_bytes: int = 64 * 1024
    max_awareness_room_bytes: int = 4 * 1024 * 1024
    max_sockets_per_user_room: int = 20
    max_sockets_per_user: int = 100
    revalidate_interval: float = 30.0
    # In a cluster, how long a stored update that yrs keeps pending (its dependency is
    # missing) stays in the log, waiting for the dependency, before it is quarantined.
    pending_grace: float = 120.0
    # Bounds on what one update may hold and a document may grow to (issue #12, item 3;
    # see update_guard.py and the app's traits).
    max_update_depth: int = 100
    max_update_structs: int = 200_000
    max_update_chain: int = 500
    max_document_structs: int = 1_000_000
    # Per (user, room) write budget: a burst of this much, refilled over the window.
    write_budget_bytes: int = 32 * 1024 * 1024
    write_budget_structs: int = 200_000
    write_budget_window: float = 10.0

    @property
    def client_limits(self) -> UpdateLimits:
        """Bounds on an update from a socket."""
        return UpdateLimits(self.max_update_depth, self.max_update_structs, self.max_update_chain)

    @property
    def stored_limits(self) -> UpdateLimits:
        """Bounds on a stored record or a server update: no struct count (a snapshot
        holds the whole document), but the nesting and chains yrs cannot survive."""
        return UpdateLimits(self.max_update_depth, None, self.max_update_chain)


class RoomLoadError(Exception):
    """The room's document could not be loaded; nothing is written to it."""


@dataclass
class _AwarenessSlot:
    clock: int
    state: Any
    updated: float
    owner: Connection
    size: int = 0  # bytes of the client's JSON state, counted against the room's cap


@dataclass
class _RemoteSlot:
    """An awareness state of a client of another node."""

    clock: int
    state: Any
    updated: float
    node: str


class _Remote:
    """Origin of the updates that another node applied first."""

    def __repr__(self) -> str:
        return "REMOTE"


REMOTE: Any = _Remote()

NO_STRUCTS = b"\x00"  # a Yjs v1 update whose first varuint (structs' client count) is 0
# Notebook updates that set a cell's trust and wait for a dependency, watched per room.
_MAX_TRUST_PENDING = 64


def _json_size(state: Any) -> int:
    """Bytes of an awareness state as JSON (compact, as y-protocols writes it)."""
    return len(json.dumps(state, separators=(",", ":")).encode("utf-8"))


def clocks(state_vector: bytes) -> dict[int, int]:
    """A state vector as ``{client: clock}``: its encoding's order is not canonical (yrs
    writes a hash map), so two equal vectors can differ byte for byte."""
    reader = protocol.Reader(state_vector)
    return {reader.var_uint(): reader.var_uint() for _ in range(reader.var_uint())}


def deletions(update: bytes) -> dict[int, list[tuple[int, int]]] | None:
    """The delete set of an update without structs, as sorted, merged ranges per client
    (comparable whatever order yrs wrote it in); None if the update carries structs."""
    try:
        reader = protocol.Reader(update)
        if reader.var_uint() != 0:
            return None
        found: dict[int, list[tuple[int, int]]] = {}
        for _ in range(reader.var_uint()):
            client = reader.var_uint()
            ranges = [(reader.var_uint(), reader.var_uint()) for _ in range(reader.var_uint())]
            found.setdefault(client, []).extend(r for r in ranges if r[1] > 0)
    except protocol.ProtocolError:
        return None
    for client, ranges in found.items():
        merged: list[tuple[int, int]] = []
        for start, length in sorted(ranges):
            if merged and start <= merged[-1][0] + merged[-1][1]:
                last_start, last_length = merged[-1]
                merged[-1] = (last_start, max(last_length, start + length - last_start))
            else:
                merged.append((start, length))
        found[client] = merged
    return {client: ranges for client, ranges in found.items() if ranges}


def covers(
    ours: dict[int, list[tuple[int, int]]], theirs: dict[int, list[tuple[int, int]]]
) -> bool:
    """Whether every deleted range of ``theirs`` is within ``ours`` (both from
    :func:`deletions`: sorted and merged)."""
    for client, ranges in theirs.items():
        mine = ours.get(client, [])
        for start, length in ranges:
            i = bisect.bisect_right(mine, (start, float("inf"))) - 1
            if i < 0 or start + length > mine[i][0] + mine[i][1]:
                return False
    return True


def contained(update: bytes, state_vector: bytes) -> bool:
    """Whether every struct of ``update`` is within ``state_vector`` (its delete set is
    not considered)."""
    try:
        return get_update(update, state_vector)[:1] == NO_STRUCTS
    except BaseException as exc:
        if is_fatal(exc):
            raise
        return False


# This process's offset of the write ticks, as a fraction of the period: other processes
# writing to the same store (cluster nodes on one machine) tick at other moments.
_TICK_PHASE = random.random()


async def _until_next_tick(period: float) -> None:
    """Sleep until this process's next write tick, every ``period`` on the loop's clock
    (so at most ``period``).

    Every room that changed within the same ``period`` wakes in the same loop turn, so
    the store's group commit writes all their batches in one transaction: with many
    rooms, one executor hop and one commit per tick instead of one per room."""
    if period <= 0:
        await asyncio.sleep(0)
        return
    loop = asyncio.get_running_loop()
    phase = _TICK_PHASE * period
    when = ((loop.time() - phase) // period + 1) * period + phase
    future: asyncio.Future[None] = loop.create_future()
    handle = loop.call_at(when, _resolve, future)
    try:
        await future
    finally:
        handle.cancel()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class DocumentRoom:
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
    ):
        self.doc_id = doc_id
        self.on_edit = on_edit
        self.bus = bus
        # Publish, exchange and heal only when other nodes may exist.
        self.cluster = bus is not None and bus.clustered
        self.stats = stats if stats is not None else RoomStats()
        self.doc_type = doc_type
        self.store = store
        self.config = config
        self.doc: Doc[Any] = Doc()
        self.clients: dict[Connection, set[int]] = {}
        self.last_active = time.monotonic()
        self.closed = False
        # Edits since the last version, for automatic versions and "who changed what".
        self.last_edit: float | None = None
        self.last_version = time.monotonic()
        self.contributions: dict[str, dict[str, int]] = {}
        self._awareness: dict[int, _AwarenessSlot] = {}
        self._awareness_bytes = 0  # sum of the slots' sizes
        self._outbox: list[tuple[bytes, Connection | None]] = []
        self._broadcast_scheduled = False
        self._pending: list[PendingUpdate] = []
        self._pending_bytes = 0
        self._writes_wanted = asyncio.Event()
        self._drained = asyncio.Event()  # set while nothing waits to be written
        self._drained.set()
        self._durable_seq = 0
        self._log_length = 0
        self._write_failures = 0
        self._compact_lock = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None
        self._repair: asyncio.Task[None] | None = None
        self._damaged = False  # a refused update may have left part of itself in the doc
        self._repair_wanted = False
        self._captured: list[bytes] | None = None
        # -- the update guard (issue #12): writers' budgets, the doc's size, and updates
        # that set a cell's trust but wait for a dependency (stripped once applied)
        self._budget = WriteBudget(
            config.write_budget_bytes, config.write_budget_structs, config.write_budget_window
        )
        self._doc_structs = 0  # an upper estimate of the structs the doc holds
        self._next_count = 0.0  # when the estimate may next be replaced by a real count
        self._trust_pending: list[bytes] = []
        # -- cluster state
        self._remote_awareness: dict[int, _RemoteSlot] = {}
        self._inbox: list[BusMessage] | None = None  # bus messages received while loading
        self._remote_dirty = False  # holds updates of other nodes not in a snapshot of ours
        self.last_remote_snapshot = time.monotonic()
        self.next_resync = 0.0
        self._uncontained: dict[str, float] = {}  # log record id -> when first seen pending

    # -- lifecycle -----------------------------------------------------------------------

    async def load(self) -> None:
        """Build the doc from the store and start the writer."""
        self.doc, loaded = await self._build_doc()
        self._durable_seq = loaded.last_seq
        self._log_length = len(loaded.updates)
        self._writer = asyncio.create_task(self._write_loop(), name=f"room-writer-{self.doc_id}")

    async def _build_doc(self) -> tuple[Doc[Any], LoadedDocument]:
        """Snapshot + log applied into a fresh Doc. A record yrs refuses is quarantined
        and the build starts over without it: a failed apply can leave part of itself
        behind, and the doc must be exactly what the stored records rebuild.

        Every record passes the update guard first: one that yrs would crash on (deep
        nesting, stored before the guard existed) or that would bloat the process is
        quarantined the same way, so a poisoned document opens without it. A trust key
        that older records set on a cell is removed, and the removal stored."""
        limits = self.config.stored_limits
        while True:
            try:
                loaded = await self.store.load(self.doc_id)
            except StoreError as exc:
                raise RoomLoadError(str(exc)) from exc
            doc: Doc[Any] = Doc()
            records = ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates
            structs = 0
            watched = self.doc_type == "notebook" and any(b"trusted" in r.data for r in records)
            with contextlib.ExitStack() as stack:
                watch = stack.enter_context(TrustWatch(doc)) if watched else None
                for record in records:
                    try:
                        structs += inspect_update(record.data, limits).structs
                        doc.apply_update(record.data)
                    except BaseException as exc:
                        if is_fatal(exc):
                            raise
                        await self._quarantine(record, exc, snapshot=record is loaded.snapshot)
                        break
                else:
                    stack.close()
                    removal = watch.strip() if watch is not None else None
                    if removal is not None:  # nobody holds this doc yet: store only
                        self._queue_write(removal, "server")
                    self._doc_structs = structs
                    return doc, loaded

    async def _quarantine(self, record: StoredUpdate, exc: BaseException, snapshot: bool) -> None:
        kind = "snapshot" if snapshot else "update"
        log.error(
            "document %s: %s seq %d does not decode (%r); quarantined",
            self.doc_id,
            kind,
            record.seq,
            exc,
        )
        try:
            await self.store.quarantine(self.doc_id, record, repr(exc), snapshot=snapshot)
        except StoreError as store_exc:
            raise RoomLoadError(str(store_exc)) from store_exc

    @property
    def repairing(self) -> bool:
        """True from a refused update until the doc has been rebuilt from the store."""
        return self._damaged

    def _schedule_repair(self) -> None:
        self._damaged = True
        self._repair_wanted = True
        if self._repair is None or self._repair.done():
            self._repair = asyncio.create_task(
                self._repair_doc(), name=f"room-repair-{self.doc_id}"
            )

    async def _repair_doc(self) -> None:
        """Rebuild the doc from what was stored and queued, after an update that yrs
        refused halfway. Nobody saw the half-applied part (it was neither broadcast nor
        stored), so clients, store and room agree again once the doc is swapped."""
        while self._repair_wanted and not self.closed:
            self._repair_wanted = False
            self._captured = []
            try:
                await self.flush()
                doc, loaded = await self._build_doc()
                for update in self._captured:  # applied while we were loading
                    doc.apply_update(update)
            except BaseException as exc:
                if is_fatal(exc):
                    raise
                log.error("document %s: repair failed (%r); retrying", self.doc_id, exc)
                self._repair_wanted = True
                await asyncio.sleep(1.0)
                continue
            finally:
                self._captured = None
            self.doc = doc
            self._durable_seq = max(self._durable_seq, loaded.last_seq)
            log.warning("document %s: rebuilt from the store after a refused update", self.doc_id)
        self._damaged = self._repair_wanted
        if not self._damaged:
            # Remote updates not yet stored by their nodes were dropped with the old doc.
            self.request_sync()

    async def close(self, code: int = CLOSE_GOING_AWAY, reason: str = "", *, persist: bool = True):
        """Close every socket, flush and compact (unless the document is gone), stop."""
        if self.closed:
            return
        self.closed = True
        for conn in list(self.clients):
            conn.close(code, reason)
        self.clients.clear()
        if self.cluster and self._awareness:
            # Other nodes drop this node's collaborators now, not after the timeout.
            gone = [AwarenessEntry(c, s.clock + 1, None) for c, s in self._awareness.items()]
            self._publish_awareness(protocol.encode_awareness(gone))
        self._awareness.clear()
        self._remote_awareness.clear()
        self._inbox = None
        if self._repair is not None:
            # The log is the truth; a damaged doc is simply not folded into a snapshot.
            self._repair.cancel()
            await asyncio.gather(self._repair, return_exceptions=True)
        try:
            if persist:
                await self.flush()
                if self._log_length > 0 or self._remote_dirty:
                    await self._compact_quietly()
        finally:
            # Also when the flush is cancelled (a shutdown past its bound): a writer left
            # running would retry a store that is down until the process dies.
            if self._writer is not None:
                self._writer.cancel()
                await asyncio.gather(self._writer, return_exceptions=True)

    # -- clients -------------------------------------------------------------------------

    def join(self, conn: Connection) -> None:
        """Start the handshake, then start broadcasting to this socket.

        Step 1 is written before the socket is added to the room, so it never sees an
        update before its own sync has begun (pycrdt-websocket adds it first).
        """
        conn.send(protocol.sync_step1(self.doc.get_state()))
        if self._awareness or self._remote_awareness:
            conn.send(self._awareness_message(self._all_client_ids()))
        self.clients[conn] = set()
        self.last_active = time.monotonic()

    def leave(self, conn: Connection) -> None:
        client_ids = self.clients.pop(conn, None)
        self.last_active = time.monotonic()
        if client_ids:
            self._remove_awareness([cid for cid in client_ids if cid in self._awareness])

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
        elif frame.kind == protocol.MESSAGE_QUERY_AWARENESS and (
            self._awareness or self._remote_awareness
        ):
            conn.send(self._awareness_message(self._all_client_ids()))

    # -- document changes ----------------------------------------------------------------

    def _apply_from(self, conn: Connection, update: bytes) -> None:
        """A socket's update: through the guard, the document's size bound and the
        writer's budget, or refused (its socket closed, nothing applied)."""
        if self._pending_bytes > self.config.max_pending_bytes:
            log.warning("document %s: write backlog full, refusing an edit", self.doc_id)
            conn.close(CLOSE_RATE_LIMITED, "the document store is behind; retry shortly")
            return
        user = conn.actor.username
        try:
            shape = inspect_update(update, self.config.client_limits)
            self._admit_growth(shape)
            if not self._budget.admit(user, len(update), shape.structs):
                self._refuse(conn, CLOSE_RATE_LIMITED, "write budget exceeded; retry shortly")
                return
            self._apply_guarded(update, shape, conn, user)
        except UpdateRefused as exc:
            self._refuse(conn, exc.close_code, str(exc))

    def _refuse(self, conn: Connection, code: int, reason: str) -> None:
        log.warning(
            "document %s: refused an update of %s (%d): %s",
            self.doc_id,
            conn.actor.username,
            code,
            reason,
        )
        conn.close(code, reason[:120])

    def apply_server_update(self, update: bytes, author: str) -> None:
        """Apply a change made by the server for ``author`` (REST content replace, a
        restore); live sockets receive it like any other edit. Raises UpdateRefused
        (UpdateTooLarge past a bound) with nothing applied."""
        if self.closed:
            raise RoomLoadError("the room is closed")
        shape = inspect_update(update, self.config.stored_limits)
        self._admit_growth(shape)
        self._apply_guarded(update, shape, None, author)

    def _admit_growth(self, shape: UpdateShape) -> None:
        """Raise UpdateTooLarge if the doc would hold more than ``max_document_structs``.

        The running count only grows (it adds every update's structs, which yrs may
        squash or already hold); past the bound it is replaced by a real count of the
        doc's encoded state before anything is refused. A count takes seconds for a doc
        at the default bound, so the next one waits at least 10 s and 100 times as long
        as this one took: a full document costs the loop at most 1% of its time."""
        bound = self.config.max_document_structs
        if self._doc_structs + shape.structs <= bound:
            return
        started = time.monotonic()
        if started >= self._next_count:
            self._doc_structs = count_structs(self.doc.get_update())
            took = time.monotonic() - started
            self._next_count = started + max(10.0, 100 * took)
            if self._doc_structs + shape.structs <= bound:
                return
        raise UpdateTooLarge(f"the document would hold more than {bound} structs")

    def _apply_guarded(
        self, update: bytes, shape: UpdateShape, origin: Connection | None, author: str
    ) -> None:
        """Apply a checked update; in a notebook, then remove any ``trusted`` key it gave
        a cell, as a server change of the same loop turn: the turn's merged broadcast
        and the stored log never leave a cell trusted (see doctypes.py)."""
        trusted = shape.touches_trust and b"trusted" in update
        if self.doc_type != "notebook" or not (trusted or self._trust_pending):
            self._doc_structs += shape.structs
            self._apply(update, origin, author)
            return
        if trusted and len(self._trust_pending) >= _MAX_TRUST_PENDING:
            raise UpdateRefused("too many updates waiting for their dependencies")
        self._doc_structs += shape.structs
        with TrustWatch(self.doc) as watch:
            self._apply(update, origin, author)
        removal = watch.strip()
        if removal is not None:
            self._apply(removal, None, author)
        # An update yrs keeps pending (a dependency is missing) sets the key only once
        # the dependency arrives: watch every update until then.
        state = self.doc.get_state()
        waiting = [*self._trust_pending, update] if trusted else self._trust_pending
        self._trust_pending = [u for u in waiting if not contained(u, state)]

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

    def _apply(self, update: bytes, origin: Connection | None, author: str) -> None:
        """The one way into the doc. The update applied, byte for byte, is what gets
        broadcast and stored: replaying the log in order rebuilds exactly this doc, even
        from updates that yrs keeps pending or that only partly make sense.

        Updates of other nodes (``origin`` :data:`REMOTE`) are broadcast to this node's
        sockets but neither stored (their node did) nor published again, and they count
        for neither idleness, automatic versions, contributions nor the audit: all of
        that belongs to the node whose client made them."""
        self._apply_to_doc(update)
        if origin is REMOTE:
            self.stats.updates_in["remote"] += 1
            self._remote_dirty = True
            self._queue_broadcast(update, origin)
            return
        self.stats.updates_in["server" if origin is None else "client"] += 1
        self.last_active = time.monotonic()
        self.last_edit = self.last_active
        counts = self.contributions.setdefault(author, {"updates": 0, "bytes": 0})
        counts["updates"] += 1
        counts["bytes"] += len(update)
        if self.on_edit is not None and origin is not None:
            # Socket edits only: a server change (content replace, restore) has its own
            # audit event and is not also an edit burst.
            self.on_edit(self.doc_id, author, len(update))
        self._queue_broadcast(update, origin)
        self._queue_write(update, author)

    def _queue_write(self, update: bytes, author: str) -> None:
        now = datetime.now(timezone.utc)
        self._pending.append(PendingUpdate(update, author, self.config.node, now))
        self._pending_bytes += len(update)
        self._drained.clear()
        self._writes_wanted.set()

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
        if self.cluster and not self.closed:
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

    # -- awareness -----------------------------------------------------------------------

    def _receive_awareness(self, conn: Connection, payload: bytes) -> None:
        owned = self.clients.get(conn)
        if owned is None:
            return
        state_cap = self.config.max_awareness_state_bytes
        room_cap = self.config.max_awareness_room_bytes
        # y-websocket clients echo the states they were sent, so a frame may carry the
        # whole room's; past that (and one state more) it is not even decoded.
        if state_cap and room_cap and len(payload) > room_cap + state_cap:
            self._refuse_awareness(conn, CLOSE_TOO_LARGE, "awareness update too large")
            return
        entries = protocol.decode_awareness(payload)
        now = time.monotonic()
        changed: list[int] = []
        removed: list[AwarenessEntry] = []
        for entry in entries:
            cid = entry.client_id
            slot = self._awareness.get(cid)
            if cid not in owned:
                # A connection may speak only for the client ids it claimed first, and
                # never for a client of another node.
                if (
                    (slot is not None and slot.owner is not conn)
                    or cid in self._remote_awareness
                    or any(cid in ids for c, ids in self.clients.items() if c is not conn)
                ):
                    continue
                if len(owned) >= self.config.max_client_ids:
                    continue
                owned.add(cid)
            if slot is not None and entry.clock < slot.clock:
                continue
            if slot is not None and entry.clock == slot.clock and entry.state is not None:
                continue
            if entry.state is None:
                if slot is not None:
                    del self._awareness[cid]
                    self._awareness_bytes -= slot.size
                    removed.append(AwarenessEntry(cid, entry.clock, None))
                continue
            # The frame's size bounds a lone state's; several are measured one by one.
            size = len(payload) if len(entries) == 1 else _json_size(entry.state)
            if state_cap and size > state_cap:
                self._refuse_awareness(conn, CLOSE_TOO_LARGE, "awareness state too large")
                return
            growth = size - (slot.size if slot is not None else 0)
            if room_cap and growth > 0 and self._awareness_bytes + growth > room_cap:
                log.warning("document %s: awareness full, closing a socket", self.doc_id)
                self._refuse_awareness(conn, CLOSE_RATE_LIMITED, "room awareness full")
                return
            state = entry.state if isinstance(entry.state, dict) else {}
            state["user"] = conn.actor.awareness_user()
            self._awareness[cid] = _AwarenessSlot(entry.clock, state, now, conn, size)
            self._awareness_bytes += growth
            changed.append(cid)
        if removed:
            self._send_awareness(removed)
        if changed:
            self._send_awareness(self._entries(changed))

    def _refuse_awareness(self, conn: Connection, code: int, reason: str) -> None:
        """Close a socket over an awareness cap; its states leave the room with it (also
        those this frame set: the others never saw them, a removal is harmless)."""
        self.leave(conn)
        conn.close(code, reason)

    def _send_awareness(self, entries: list[AwarenessEntry], *, publish: bool = True) -> None:
        """Tell this node's sockets (and, for this node's clients, the other nodes)."""
        payload = protocol.encode_awareness(entries)
        if self.clients:
            message = bytes((protocol.MESSAGE_AWARENESS,)) + protocol.write_var_bytes(payload)
            for client in self.clients:
                client.send(message)
            self.stats.messages_out += len(self.clients)
        if publish:
            self._publish_awareness(payload)

    def _publish_awareness(self, payload: bytes) -> None:
        if self.cluster and self.bus is not None:
            self.bus.publish(self.doc_id, bus_kinds.AWARENESS, payload)

    def _remove_awareness(self, client_ids: list[int]) -> None:
        entries = []
        for cid in client_ids:
            slot = self._awareness.pop(cid)
            self._awareness_bytes -= slot.size
            entries.append(AwarenessEntry(cid, slot.clock + 1, None))
        if entries:
            self._send_awareness(entries)

    def _apply_remote_awareness(self, node: str, payload: bytes) -> None:
        """Entries another node relayed for its clients: newer clocks win, the first node
        to speak for a client id owns it, and the same clock again renews the entry."""
        now = time.monotonic()
        changed: list[AwarenessEntry] = []
        for entry in protocol.decode_awareness(payload):
            cid = entry.client_id
            if cid in self._awareness:
                continue  # a client of this node
            slot = self._remote_awareness.get(cid)
            if slot is not None and slot.node != node:
                continue
            if entry.state is None:
                if slot is not None and entry.clock >= slot.clock:
                    del self._remote_awareness[cid]
                    changed.append(entry)
                continue
            if slot is not None and entry.clock < slot.clock:
                continue
            if slot is not None and entry.clock == slot.clock:
                slot.updated = now
                continue
            self._remote_awareness[cid] = _RemoteSlot(entry.clock, entry.state, now, node)
            changed.append(entry)
        if changed:
            self._send_awareness(changed, publish=False)

    def expire_awareness(self) -> None:
        """Drop states not renewed within the awareness timeout (clients renew every 15 s;
        another node's clients, through that node, so a dead node's clients go too)."""
        limit = time.monotonic() - self.config.awareness_timeout
        stale = [cid for cid, slot in self._awareness.items() if slot.updated < limit]
        if stale:
            self._remove_awareness(stale)
        remote = [cid for cid, slot in self._remote_awareness.items() if slot.updated < limit]
        if remote:
            gone = []
            for cid in remote:
                slot = self._remote_awareness.pop(cid)
                gone.append(AwarenessEntry(cid, slot.clock + 1, None))
            self._send_awareness(gone, publish=False)

    def _all_client_ids(self) -> list[int]:
        return [*self._awareness, *self._remote_awareness]

    def _entries(self, client_ids: list[int]) -> list[AwarenessEntry]:
        entries = []
        for cid in client_ids:
            slot: _AwarenessSlot | _RemoteSlot | None = self._awareness.get(cid)
            if slot is None:
                slot = self._remote_awareness.get(cid)
            if slot is not None:
                entries.append(AwarenessEntry(cid, slot.clock, slot.state))
        return entries

    def _awareness_message(self, client_ids: list[int]) -> bytes:
        return protocol.awareness_message(self._entries(client_ids))

    # -- cluster -------------------------------------------------------------------------

    def begin_buffering(self) -> None:
        """Keep bus messages aside until the doc is loaded (subscribe, then load)."""
        self._inbox = []

    def end_buffering(self) -> None:
        inbox, self._inbox = self._inbox or [], None
        for message in inbox:
            self.on_bus(message)

    def on_bus(self, message: BusMessage) -> None:
        """A message of another node about this document."""
        if self.closed:
            return
        if self._inbox is not None:
            self._inbox.append(message)
            return
        kind, parts = message.kind, message.parts
        try:
            if kind == bus_kinds.UPDATE:
                self._apply(parts[0], REMOTE, "")
            elif kind == bus_kinds.AWARENESS:
                self._apply_remote_awareness(message.node, parts[0])
            elif kind == bus_kinds.SYNC_REQUEST:
                self._answer_sync(message.node, parts[0])
            elif kind == bus_kinds.SYNC_REPLY:
                self._apply_remote_diff(parts[0])
                if not self._damaged:
                    answer = self.doc.get_update(parts[1])
                    # Answers without structs and with the same delete set: nothing to send.
                    mine = deletions(answer)
                    if mine is None or mine != deletions(parts[0]):
                        self._send_bus(message.node, bus_kinds.SYNC_DIFF, answer)
                if len(parts) > 2 and parts[2]:
                    self._apply_remote_awareness(message.node, parts[2])
            elif kind == bus_kinds.SYNC_DIFF:
                self._apply_remote_diff(parts[0])
        except IndexError:
            log.warning("document %s: bus message %d without its parts", self.doc_id, kind)

    def _send_bus(self, node: str, kind: int, *parts: bytes) -> None:
        if self.bus is not None:
            self.bus.send_to(node, self.doc_id, kind, *parts)

    def request_sync(self) -> None:
        """Publish this doc's state vector: every other node holding the room answers
        with what this one lacks and its own vector (then gets what it lacks)."""
        if not self.cluster or self.closed or self._damaged or self._inbox is not None:
            return
        assert self.bus is not None
        self.next_resync = time.monotonic() + self.bus.resync_interval * random.uniform(0.8, 1.2)
        self.stats.resync_requests += 1
        self.bus.publish(self.doc_id, bus_kinds.SYNC_REQUEST, self.doc.get_state())

    def _answer_sync(self, node: str, state_vector: bytes) -> None:
        if self._damaged:
            return  # never hand out a half-applied update; the repair resyncs
        local = self._entries(list(self._awareness))
        awareness = protocol.encode_awareness(local) if local else b""
        self.stats.resync_replies += 1
        self._send_bus(
            node,
            bus_kinds.SYNC_REPLY,
            self.doc.get_update(state_vector),
            self.doc.get_state(),
            awareness,
        )

    def _apply_remote_diff(self, update: bytes) -> None:
        """Apply an answer of the state-vector exchange (or what the store holds that the
        doc lacks). Between nodes in sync it carries no structs and a delete set the doc
        already has: then nothing is broadcast."""
        if update[:1] != NO_STRUCTS:
            before = clocks(self.doc.get_state())
            self._apply(update, REMOTE, "")
            if clocks(self.doc.get_state()) != before:
                self.stats.resync_healed += 1
            return
        deletes_before = deletions(self.doc.get_update(self.doc.get_state()))
        theirs = deletions(update)
        if deletes_before is not None and theirs is not None and covers(deletes_before, theirs):
            return  # nothing new: leave the doc alone
        self._apply_to_doc(update)
        if deletions(self.doc.get_update(self.doc.get_state())) != deletes_before:
            self.stats.resync_healed += 1
            self.stats.updates_in["remote"] += 1
            self._remote_dirty = True
            self._queue_broadcast(update, REMOTE)

    @property
    def remote_dirty(self) -> bool:
        """Whether the doc holds updates of other nodes that no snapshot of ours holds."""
        return self._remote_dirty

    # -- persistence ---------------------------------------------------------------------

    @property
    def backlog_bytes(self) -> int:
        return self._pending_bytes

    @property
    def backlog_updates(self) -> int:
        return len(self._pending)

    async def _write_loop(self) -> None:
        while True:
            await self._writes_wanted.wait()
            self._writes_wanted.clear()
            try:
                await _until_next_tick(self.config.write_delay)
                await self._write_pending()
                if self._log_length >= self.config.compact_threshold:
                    await self._compact_quietly()
            except Exception:
                log.exception("document %s: writer failed; retrying", self.doc_id)
                self._writes_wanted.set()
                await asyncio.sleep(1.0)

    async def _write_pending(self) -> None:
        while self._pending:
            batch = self._pending[: self.config.write_batch_size]
            started = time.perf_counter()
            try:
                seq = await self.store.append(self.doc_id, batch)
            except StoreError as exc:
                # Keep the updates in memory and retry; the backlog bound refuses new
                # edits if the store stays away.
                self.stats.store_write_errors += 1
                self._write_failures += 1
                delay = min(5.0, 0.1 * 2 ** min(self._write_failures, 6))
                log.error(
                    "document %s: write failed (%s); retrying in %.1fs", self.doc_id, exc, delay
                )
                await asyncio.sleep(delay)
                continue
            self.stats.store_writes.observe(time.perf_counter() - started)
            self._write_failures = 0
            del self._pending[: len(batch)]
            self._pending_bytes -= sum(len(u.data) for u in batch)
            self._durable_seq = max(self._durable_seq, seq)
            self._log_length += len(batch)
        self._drained.set()

    async def flush(self) -> None:
        """Wait until every change made so far is durable in the store."""
        if self._writer is None or self._writer.done():
            await self._write_pending()
        else:
            await self._drained.wait()

    async def compact(self) -> None:
        """Fold the log into a snapshot: the doc's full state, through a Doc, never by
        merging a long log (docs/architecture.md, "Batching and compaction").

        The log is shared: other nodes (or other servers on the same store) append to it,
        and a message of theirs may never have reached this doc. So the doc first takes
        in whatever the store holds that it lacks (which also heals it and its sockets),
        and the fold deletes only the records the snapshot provably contains, one by
        one (structs and deletions; never "everything up to a number": numbers may
        repeat or run backwards on some stores). A record it does not contain (one yrs
        keeps pending for a missing dependency, or one that landed after the load) stays.
        Pending local updates may already be in the snapshot: when they land in the log
        later they are duplicates, folded next time. A snapshot that does not rebuild the
        same state (yrs cannot always encode what odd updates left behind) is not stored;
        the log stays as it is."""
        async with self._compact_lock:
            if self._damaged:
                return  # never fold a half-applied update into the snapshot
            loaded = await self.store.load(self.doc_id)
            written_before = self._log_length
            if not self._heal_from(loaded) or self._damaged:
                return
            was_dirty, self._remote_dirty = self._remote_dirty, False
            snapshot = self.doc.get_update()
            check: Doc[Any] = Doc()
            check.apply_update(snapshot)
            if clocks(check.get_state()) != clocks(self.doc.get_state()):
                log.warning("document %s: snapshot does not round-trip; log kept", self.doc_id)
                self._remote_dirty = was_dirty
                return
            folded = await self._foldable(loaded, SnapshotContent.of_doc(check))
            stored = False
            try:
                if folded is not None:
                    stored = await self.store.compact(self.doc_id, snapshot, folded)
            finally:
                if not stored:
                    self._remote_dirty = self._remote_dirty or was_dirty
            if not stored or folded is None:
                return
            self.stats.compactions += 1
            self.last_remote_snapshot = time.monotonic()
            written_since = self._log_length - written_before
            self._log_length = len(loaded.updates) - len(folded) + written_since

    def _heal_from(self, loaded: LoadedDocument) -> bool:
        """Apply into the doc what the stored records hold that it lacks. False if the
        store's records cannot be read back (then nothing is folded)."""
        records = ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates
        if not records:
            return True
        stored: Doc[Any] = Doc()
        try:
            for record in records:
                stored.apply_update(record.data)
            missing = stored.get_update(self.doc.get_state())
        except BaseException as exc:
            if is_fatal(exc):
                raise
            log.warning("document %s: stored records do not apply (%r); log kept", self.doc_id, exc)
            return False
        try:
            self._apply_remote_diff(missing)
        except BaseException as exc:
            if is_fatal(exc):
                raise
            log.warning("document %s: could not heal from the store (%r)", self.doc_id, exc)
            return False
        return True

    async def _foldable(
        self, loaded: LoadedDocument, content: SnapshotContent
    ) -> list[StoredUpdate] | None:
        """The loaded records a snapshot with ``content`` may fold: each one it contains,
        wherever it sits in the log; None if it does not even contain the stored snapshot.

        A record the doc cannot contain even after healing from the store is pending in
        yrs: it depends on an update that no record holds. In a cluster that update may
        still be on its way (or only in the memory of a node that snapshots it soon), so
        the record stays in the log for ``pending_grace`` seconds; after that (at once on
        a single node, where nothing else could bring it) it is quarantined: kept aside
        for inspection, out of the log, never silently deleted.
        """
        if loaded.snapshot is not None and not content.contains(loaded.snapshot.data):
            log.warning("document %s: the stored snapshot is not contained; log kept", self.doc_id)
            return None
        grace = self.config.pending_grace if self.cluster else 0.0
        now = time.monotonic()
        waiting: dict[str, float] = {}
        folded: list[StoredUpdate] = []
        for record in loaded.updates:
            if content.contains(record.data):
                folded.append(record)
                continue
            first_seen = self._uncontained.get(record.id, now)
            if now - first_seen < grace:
                waiting[record.id] = first_seen
                log.info(
                    "document %s: record %d waits for a missing dependency; kept in the log",
                    self.doc_id,
                    record.seq,
                )
                continue
            log.error(
                "document %s: update seq %d depends on updates nobody stored; quarantined",
                self.doc_id,
                record.seq,
            )
            await self.store.quarantine(
                self.doc_id, record, "pending: its dependencies were never stored"
            )
        self._uncontained = waiting
        return folded

    async def _compact_quietly(self) -> None:
        try:
            await self.compact()
        except StoreError as exc:
            log.error("document %s: compaction failed: %s", self.doc_id, exc)


SHUTDOWN_CONCURRENCY = 8  # rooms closing at once at shutdown


@dataclass
class _LockEntry:
    lock: asyncio.Lock
    users: int = 0


class RoomManager:
    """Opens, shares, evicts and closes the rooms of one server node.

    ``bus`` connects the node to the others (default: a :class:`LocalBus` of its own,
    one node). The manager routes the bus's messages to its rooms, runs the periodic
    state-vector exchange and remote snapshots, and turns access changes into bus events;
    the bus's own start and close belong to whoever built it (the app).
    """

    def __init__(
        self,
        store: DocumentStore,
        config: RoomConfig,
        on_edit: Callable[[str, str, int], None] | None = None,
        bus: ClusterBus | None = None,
    ):
        self.store = store
        self.config = config
        self.on_edit = on_edit  # told of every applied update (the audit's edit bursts)
        self.bus: ClusterBus = bus if bus is not None else LocalBus(config.node)
        self.bus.attach(self._on_bus_message, self._on_bus_resync)
        self.stats = RoomStats()
        self._rooms: dict[str, DocumentRoom] = {}
        self._opening: dict[str, DocumentRoom] = {}  # subscribed, still loading
        self._locks: dict[str, _LockEntry] = {}
        # Called with a room about to close, before its last flush (automatic versions).
        self.before_close: list[Callable[[DocumentRoom], Awaitable[None]]] = []
        self._sweeper: asyncio.Task[None] | None = None
        self._cluster_task: asyncio.Task[None] | None = None
        self._control_tasks: set[asyncio.Task[None]] = set()
        self._resync_pending = False
        metrics.register(self)

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep(), name="collab-docs-room-sweeper")
        if self.bus.clustered:
            self._cluster_task = asyncio.create_task(
                self._cluster_upkeep(), name="collab-docs-cluster-upkeep"
            )

    def metrics_gauges(self) -> dict[str, Any]:
        rooms = list(self._rooms.values())
        return {
            "node": self.config.node,
            "rooms": len(rooms),
            "connections": sum(len(r.clients) for r in rooms),
            "backlog_bytes": sum(r.backlog_bytes for r in rooms),
            "bus_queue": self.bus.queued,
            "bus_connected": self.bus.connected,
            "bus_stats": self.bus.stats,
        }

    @property
    def rooms(self) -> dict[str, DocumentRoom]:
        return self._rooms

    def socket_refusal(self, actor: Actor, room: DocumentRoom) -> str | None:
        """Why one more socket of ``actor`` on ``room`` is refused (the per-user socket
        caps of this node: each socket costs buffers and awareness), or None.
        Administrators are exempt."""
        if actor.is_admin:
            return None
        name = actor.username
        per_room, per_user = self.config.max_sockets_per_user_room, self.config.max_sockets_per_user
        if per_room and sum(1 for c in room.clients if c.actor.username == name) >= per_room:
            return f"too many sockets of yours on this document (at most {per_room})"
        if per_user:
            held = sum(
                1 for r in self._rooms.values() for c in r.clients if c.actor.username == name
            )
            if held >= per_user:
                return f"too many sockets of yours on this server (at most {per_user})"
        return None

    @asynccontextmanager
    async def _locked(self, doc_id: str) -> AsyncIterator[None]:
        """Hold the document's lock; the lock lives only while someone uses or awaits it."""
        entry = self._locks.get(doc_id)
        if entry is None:
            entry = self._locks[doc_id] = _LockEntry(asyncio.Lock())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._locks[doc_id]

    async def get(self, doc_id: str, doc_type: str) -> DocumentRoom:
        """The live room of a document, loading it on first use (one load, however many
        sockets arrive at once)."""
        room = self._rooms.get(doc_id)
        if room is not None and not room.closed:
            room.last_active = time.monotonic()
            return room
        async with self._locked(doc_id):
            room = self._rooms.get(doc_id)
            if room is not None and not room.closed:
                return room
            room = DocumentRoom(
                doc_id,
                doc_type,
                self.store,
                self.config,
                self.on_edit,
                bus=self.bus,
                stats=self.stats,
            )
            if not room.cluster:
                await _detached(room.load())
                self._rooms[doc_id] = room
                return room
            # Subscribe before loading, keep what arrives meanwhile, apply it after:
            # an update published during the load is then either in the store or in the
            # buffer (both, at worst: duplicates are harmless).
            room.begin_buffering()
            self._opening[doc_id] = room
            try:
                await self.bus.subscribe(doc_id)
                await _detached(room.load())
            except BaseException:
                self._opening.pop(doc_id, None)
                with contextlib.suppress(Exception):
                    await self.bus.unsubscribe(doc_id)
                raise
            self._opening.pop(doc_id, None)
            self._rooms[doc_id] = room
            room.end_buffering()
            room.request_sync()  # what other nodes hold and have not stored yet
            return room

    async def evict(self, doc_id: str, *, force: bool = False) -> None:
        """Close a room if it is idle (or unconditionally), persisting everything first.
        The lock is held while flushing, so a new load sees every update."""
        async with self._locked(doc_id):
            room = self._rooms.get(doc_id)
            if room is None:
                return
            if not force and room.clients:
                return
            del self._rooms[doc_id]
            for hook in self.before_close:
                try:
                    await hook(room)
                except Exception:
                    log.exception("document %s: before-close hook failed", doc_id)
            await room.close()
            if room.cluster:
                await self.bus.unsubscribe(doc_id)

    async def discard(self, doc_id: str, code: int, reason: str) -> None:
        """Close a deleted document's room without writing anything more."""
        async with self._locked(doc_id):
            room = self._rooms.pop(doc_id, None)
            if room is not None:
                await room.close(code, reason, persist=False)
                if room.cluster:
                    await self.bus.unsubscribe(doc_id)

    async def access_changed(self, doc_id: str) -> None:
        """Shares of a document changed: re-check its sockets here and on every other
        node (the periodic re-check is the backstop if the bus loses the event)."""
        self.bus.broadcast(doc_id, bus_kinds.ACCESS_CHANGED)
        await self.revalidate(doc_id)

    async def document_deleted(self, doc_id: str, reason: str = "document deleted") -> None:
        """A document was deleted: close its rooms here and on every other node (4410)."""
        self.bus.broadcast(doc_id, bus_kinds.DELETED, reason.encode())
        await self.discard(doc_id, CLOSE_DELETED, reason)

    async def revalidate(self, doc_id: str) -> None:
        """Re-check the role of every socket of a document; close those whose role
        changed with 4403, so they reconnect with the new one."""
        room = self._rooms.get(doc_id)
        if room is None or not room.clients:
            return
        conns = list(room.clients)
        roles = await asyncio.gather(*(c.current_role() for c in conns), return_exceptions=True)
        for conn, role in zip(conns, roles, strict=True):
            if isinstance(role, BaseException):
                log.error("document %s: revalidation failed: %r", doc_id, role)
                continue
            if role != conn.role:
                conn.close(CLOSE_ACCESS_CHANGED, "access changed; reconnect")

    async def _revalidate_all(self) -> None:
        # The backstop for changes no notification reached: every socket, periodically.
        for doc_id in list(self._rooms):
            try:
                await self.revalidate(doc_id)
            except Exception:
                log.exception("document %s: revalidation failed", doc_id)

    async def _sweep(self) -> None:
        interval = max(
            0.05,
            min(
                self.config.idle_timeout,
                self.config.awareness_timeout,
                self.config.revalidate_interval,
            )
            / 4,
        )
        next_revalidation = time.monotonic() + self.config.revalidate_interval
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            if now >= next_revalidation:
                next_revalidation = now + self.config.revalidate_interval
                await self._revalidate_all()
            for doc_id, room in list(self._rooms.items()):
                room.expire_awareness()
                if not room.clients and now - room.last_active >= self.config.idle_timeout:
                    try:
                        await self.evict(doc_id)
                    except Exception:
                        log.exception("document %s: eviction failed", doc_id)

    # -- the cluster bus -----------------------------------------------------------------

    def _on_bus_message(self, message: BusMessage) -> None:
        kind = message.kind
        if kind == bus_kinds.ACCESS_CHANGED:
            self._control(self.revalidate(message.doc_id))
            return
        if kind == bus_kinds.DELETED:
            reason = message.parts[0].decode(errors="replace") if message.parts else "deleted"
            self._control(self.discard(message.doc_id, CLOSE_DELETED, reason[:120]))
            return
        room = self._rooms.get(message.doc_id) or self._opening.get(message.doc_id)
        if room is None:
            return
        try:
            room.on_bus(message)
        except BaseException as exc:
            # A bad message of another node (a refused update, bad awareness) costs that
            # message; a refused update also rebuilds the doc and resyncs.
            if is_fatal(exc):
                raise
            log.warning(
                "document %s: bus message from %s not applied: %r",
                message.doc_id,
                message.node,
                exc,
            )

    def _control(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("cluster control message failed")

        task = asyncio.ensure_future(run())
        self._control_tasks.add(task)
        task.add_done_callback(self._control_tasks.discard)

    def _on_bus_resync(self) -> None:
        """Messages may have been lost: every room exchanges state vectors (once, however
        many triggers arrive in the same moment)."""
        if self._resync_pending:
            return
        self._resync_pending = True
        asyncio.get_running_loop().call_later(0.05, self._resync_all)

    def _resync_all(self) -> None:
        self._resync_pending = False
        for room in list(self._rooms.values()):
            room.request_sync()

    async def _cluster_upkeep(self) -> None:
        """Periodic state-vector exchange of every room, and snapshots of rooms holding
        other nodes' updates."""
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for room in list(self._rooms.values()):
                if room.closed:
                    continue
                if now >= room.next_resync:
                    room.request_sync()
                if (
                    room.remote_dirty
                    and now - room.last_remote_snapshot >= self.bus.remote_snapshot_interval
                ):
                    room.last_remote_snapshot = now
                    try:
                        await room._compact_quietly()
                    except Exception:
                        log.exception("document %s: remote snapshot failed", room.doc_id)

    async def close(self, flush_timeout: float | None = None) -> None:
        """Close every room (shutdown): sockets first, then each room's last writes.

        The sockets close at once with 1001, so clients reconnect (to another node, or
        after the restart) instead of waiting for the store; a y-websocket client resends
        in its sync step 2 whatever the server it reaches lacks. The writes then get at
        most ``flush_timeout`` seconds (None: no bound): a store that is down cannot hold
        shutdown forever. What is still unwritten after it is logged and dropped; the
        clients that made it still hold it."""
        metrics.unregister(self)
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        if self._cluster_task is not None:
            self._cluster_task.cancel()
            await asyncio.gather(self._cluster_task, return_exceptions=True)
            self._cluster_task = None
        for task in list(self._control_tasks):
            task.cancel()
        await asyncio.gather(*self._control_tasks, return_exceptions=True)
        rooms = list(self._rooms.values())
        for room in rooms:
            for conn in list(room.clients):
                conn.close(CLOSE_GOING_AWAY, "server shutting down")
        # A few at a time: each close may load its document to compact it.
        limit = asyncio.Semaphore(SHUTDOWN_CONCURRENCY)
        evictions = [
            asyncio.create_task(
                self._evict_at_shutdown(room.doc_id, limit), name=f"close-{room.doc_id}"
            )
            for room in rooms
        ]
        if not evictions:
            return
        _, late = await asyncio.wait(evictions, timeout=flush_timeout)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for room in rooms:
            if not room.closed:  # cancelled before or in a before-close hook
                self._rooms.pop(room.doc_id, None)
                await room.close(persist=False)
        unwritten = [room for room in rooms if room.backlog_updates]
        for room in unwritten:
            log.error(
                "document %s: shut down with %s (%d bytes) unwritten",
                room.doc_id,
                _plural(room.backlog_updates, "update"),
                room.backlog_bytes,
            )
        if unwritten:
            log.error(
                "shutdown: %s left %s (%d bytes) unwritten: the store did not take them "
                "within shutdown_flush_timeout (%.1f s); the clients that made them still "
                "hold them and send them again when they reconnect",
                _plural(len(unwritten), "document"),
                _plural(sum(room.backlog_updates for room in unwritten), "update"),
                sum(room.backlog_bytes for room in unwritten),
                flush_timeout or 0.0,
            )

    async def _evict_at_shutdown(self, doc_id: str, limit: asyncio.Semaphore) -> None:
        async with limit:
            try:
                await self.evict(doc_id, force=True)
            except Exception:
                log.exception("document %s: could not close cleanly", doc_id)


def _detached(work: Coroutine[Any, Any, None]) -> asyncio.Future[None]:
    """Run ``work`` in a task of an empty context: the tasks it starts (a room's writer)
    outlive the request that opened the room, and the request's context holds its
    handler (Jupyter's ``CallContext``), which a task would keep alive as long as it runs."""
    return contextvars.Context().run(asyncio.ensure_future, work)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
