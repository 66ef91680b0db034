"""Rooms: one live pycrdt ``Doc`` per open document, shared by every socket on it.

A :class:`DocumentRoom` speaks the y-websocket protocol of pycrdt-websocket's ``YRoom``
but is built for the hot path, after the traps recorded in ARCHITECTURE.md:

* a frame is handled synchronously as it arrives (no task per message or recipient);
* every change enters the doc through one method (from a socket, REST or a restore),
  is queued, and broadcast once per event-loop turn: the updates of one turn are merged,
  framed once, and the same bytes are written to every socket;
* persistence is off the hot path: a writer task appends batches to the store with a
  bounded delay and a bounded backlog, and compacts when the log grows or the room idles.

:class:`RoomManager` opens rooms under a per-document lock (two sockets opening the same
new room at once both join the one room), evicts idle rooms, and closes them all on
shutdown, so no task or socket outlives its room.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from pycrdt import Doc, merge_updates

from . import protocol
from .identity import Actor
from .protocol import AwarenessEntry
from .stores import DocumentStore, LoadedDocument, PendingUpdate, StoredUpdate, StoreError

log = logging.getLogger(__name__)

# WebSocket close codes of the public contract (API.md).
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
    revalidate_interval: float = 30.0


class RoomLoadError(Exception):
    """The room's document could not be loaded; nothing is written to it."""


@dataclass
class _AwarenessSlot:
    clock: int
    state: Any
    updated: float
    owner: Connection


class DocumentRoom:
    """One document's live state: its ``Doc``, its sockets, awareness and write queue."""

    def __init__(
        self,
        doc_id: str,
        doc_type: str,
        store: DocumentStore,
        config: RoomConfig,
        on_edit: Callable[[str, str, int], None] | None = None,
    ):
        self.doc_id = doc_id
        self.on_edit = on_edit
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
        behind, and the doc must be exactly what the stored records rebuild."""
        while True:
            try:
                loaded = await self.store.load(self.doc_id)
            except StoreError as exc:
                raise RoomLoadError(str(exc)) from exc
            doc: Doc[Any] = Doc()
            records = ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates
            for record in records:
                try:
                    doc.apply_update(record.data)
                except BaseException as exc:
                    if is_fatal(exc):
                        raise
                    await self._quarantine(record, exc, snapshot=record is loaded.snapshot)
                    break
            else:
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

    async def close(self, code: int = CLOSE_GOING_AWAY, reason: str = "", *, persist: bool = True):
        """Close every socket, flush and compact (unless the document is gone), stop."""
        if self.closed:
            return
        self.closed = True
        for conn in list(self.clients):
            conn.close(code, reason)
        self.clients.clear()
        self._awareness.clear()
        if self._repair is not None:
            # The log is the truth; a damaged doc is simply not folded into a snapshot.
            self._repair.cancel()
            await asyncio.gather(self._repair, return_exceptions=True)
        if persist:
            await self.flush()
            if self._log_length > 0:
                await self._compact_quietly()
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
        if self._awareness:
            conn.send(self._awareness_message(list(self._awareness)))
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
        elif frame.kind == protocol.MESSAGE_QUERY_AWARENESS and self._awareness:
            conn.send(self._awareness_message(list(self._awareness)))

    # -- document changes ----------------------------------------------------------------

    def _apply_from(self, conn: Connection, update: bytes) -> None:
        if self._pending_bytes > self.config.max_pending_bytes:
            log.warning("document %s: write backlog full, refusing an edit", self.doc_id)
            conn.close(CLOSE_RATE_LIMITED, "the document store is behind; retry shortly")
            return
        self._apply(update, conn, conn.actor.username)

    def apply_server_update(self, update: bytes, author: str) -> None:
        """Apply a change made by the server for ``author`` (REST content replace, a
        restore); live sockets receive it like any other edit."""
        if self.closed:
            raise RoomLoadError("the room is closed")
        self._apply(update, None, author)

    def _apply(self, update: bytes, origin: Connection | None, author: str) -> None:
        """The one way into the doc. The update applied, byte for byte, is what gets
        broadcast and stored: replaying the log in order rebuilds exactly this doc, even
        from updates that yrs keeps pending or that only partly make sense."""
        try:
            self.doc.apply_update(update)
        except BaseException as exc:
            # Nothing is queued, but yrs may have kept part of it: rebuild the doc.
            if not is_fatal(exc):
                self._schedule_repair()
            raise
        if self._captured is not None:
            self._captured.append(update)
        self.last_active = time.monotonic()
        self.last_edit = self.last_active
        counts = self.contributions.setdefault(author, {"updates": 0, "bytes": 0})
        counts["updates"] += 1
        counts["bytes"] += len(update)
        if self.on_edit is not None:
            self.on_edit(self.doc_id, author, len(update))
        self._outbox.append((update, origin))
        if not self._broadcast_scheduled:
            self._broadcast_scheduled = True
            asyncio.get_running_loop().call_soon(self._broadcast)
        now = datetime.now(timezone.utc)
        self._pending.append(PendingUpdate(update, author, self.config.node, now))
        self._pending_bytes += len(update)
        self._drained.clear()
        self._writes_wanted.set()

    def _broadcast(self) -> None:
        """Send everything applied during the last loop turn, framed once."""
        self._broadcast_scheduled = False
        batch, self._outbox = self._outbox, []
        if not batch or not self.clients:
            return
        origins = {origin for _, origin in batch}
        skip = batch[0][1] if len(origins) == 1 else None
        if len(batch) == 1:
            messages = [protocol.update_message(batch[0][0])]
        else:
            try:
                messages = [protocol.update_message(merge_updates(*(u for u, _ in batch)))]
            except BaseException as exc:  # an odd update yrs applied but cannot merge
                if is_fatal(exc):
                    raise
                messages = [protocol.update_message(u) for u, _ in batch]
        for conn in self.clients:
            if conn is not skip:
                for message in messages:
                    conn.send(message)

    # -- awareness -----------------------------------------------------------------------

    def _receive_awareness(self, conn: Connection, payload: bytes) -> None:
        owned = self.clients.get(conn)
        if owned is None:
            return
        now = time.monotonic()
        changed: list[int] = []
        for entry in protocol.decode_awareness(payload):
            cid = entry.client_id
            slot = self._awareness.get(cid)
            if cid not in owned:
                # A connection may speak only for the client ids it claimed first.
                if (slot is not None and slot.owner is not conn) or any(
                    cid in ids for c, ids in self.clients.items() if c is not conn
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
                    self._tombstone(cid, entry.clock)
                continue
            state = entry.state if isinstance(entry.state, dict) else {}
            state["user"] = conn.actor.awareness_user()
            self._awareness[cid] = _AwarenessSlot(entry.clock, state, now, conn)
            changed.append(cid)
        if changed:
            message = self._awareness_message(changed)
            for client in self.clients:
                client.send(message)

    def _tombstone(self, client_id: int, clock: int) -> None:
        message = protocol.awareness_message([AwarenessEntry(client_id, clock, None)])
        for client in self.clients:
            client.send(message)

    def _remove_awareness(self, client_ids: list[int]) -> None:
        entries = []
        for cid in client_ids:
            slot = self._awareness.pop(cid)
            entries.append(AwarenessEntry(cid, slot.clock + 1, None))
        if entries and self.clients:
            message = protocol.awareness_message(entries)
            for client in self.clients:
                client.send(message)

    def expire_awareness(self) -> None:
        """Drop states not renewed within the awareness timeout (clients renew every 15 s)."""
        limit = time.monotonic() - self.config.awareness_timeout
        stale = [cid for cid, slot in self._awareness.items() if slot.updated < limit]
        if stale:
            self._remove_awareness(stale)

    def _awareness_message(self, client_ids: list[int]) -> bytes:
        entries = []
        for cid in client_ids:
            slot = self._awareness[cid]
            entries.append(AwarenessEntry(cid, slot.clock, slot.state))
        return protocol.awareness_message(entries)

    # -- persistence ---------------------------------------------------------------------

    @property
    def backlog_bytes(self) -> int:
        return self._pending_bytes

    async def _write_loop(self) -> None:
        while True:
            await self._writes_wanted.wait()
            self._writes_wanted.clear()
            try:
                await asyncio.sleep(self.config.write_delay)
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
            try:
                seq = await self.store.append(self.doc_id, batch)
            except StoreError as exc:
                # Keep the updates in memory and retry; the backlog bound refuses new
                # edits if the store stays away.
                self._write_failures += 1
                delay = min(5.0, 0.1 * 2 ** min(self._write_failures, 6))
                log.error(
                    "document %s: write failed (%s); retrying in %.1fs", self.doc_id, exc, delay
                )
                await asyncio.sleep(delay)
                continue
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
        merging a long log (see ARCHITECTURE.md). Pending updates may already be in the
        snapshot: when they land in the log later they are duplicates, which load ignores.
        A snapshot that does not rebuild the same state (yrs cannot always encode what
        odd updates left behind) is not stored; the log stays as it is."""
        async with self._compact_lock:
            if self._damaged:
                return  # never fold a half-applied update into the snapshot
            upto = self._durable_seq
            snapshot = self.doc.get_update()
            check: Doc[Any] = Doc()
            check.apply_update(snapshot)
            if check.get_state() != self.doc.get_state():
                log.warning("document %s: snapshot does not round-trip; log kept", self.doc_id)
                return
            await self.store.compact(self.doc_id, snapshot, upto)
            self._log_length = 0

    async def _compact_quietly(self) -> None:
        try:
            await self.compact()
        except StoreError as exc:
            log.error("document %s: compaction failed: %s", self.doc_id, exc)


@dataclass
class _LockEntry:
    lock: asyncio.Lock
    users: int = 0


class RoomManager:
    """Opens, shares, evicts and closes the rooms of one server node."""

    def __init__(
        self,
        store: DocumentStore,
        config: RoomConfig,
        on_edit: Callable[[str, str, int], None] | None = None,
    ):
        self.store = store
        self.config = config
        self.on_edit = on_edit  # told of every applied update (the audit's edit bursts)
        self._rooms: dict[str, DocumentRoom] = {}
        self._locks: dict[str, _LockEntry] = {}
        # Called with a room about to close, before its last flush (automatic versions).
        self.before_close: list[Callable[[DocumentRoom], Awaitable[None]]] = []
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep(), name="collab-docs-room-sweeper")

    @property
    def rooms(self) -> dict[str, DocumentRoom]:
        return self._rooms

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
            room = DocumentRoom(doc_id, doc_type, self.store, self.config, self.on_edit)
            await room.load()
            self._rooms[doc_id] = room
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

    async def discard(self, doc_id: str, code: int, reason: str) -> None:
        """Close a deleted document's room without writing anything more."""
        async with self._locked(doc_id):
            room = self._rooms.pop(doc_id, None)
            if room is not None:
                await room.close(code, reason, persist=False)

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
        interval = max(0.05, min(self.config.idle_timeout, self.config.awareness_timeout) / 4)
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

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        for doc_id in list(self._rooms):
            try:
                await self.evict(doc_id, force=True)
            except Exception:
                log.exception("document %s: could not close cleanly", doc_id)
