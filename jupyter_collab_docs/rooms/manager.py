"""The rooms of one server node: :class:`RoomManager`.

It opens rooms under a per-document lock (two sockets opening the same new room at once
both join the one room), evicts idle rooms, re-checks the sockets' roles, and closes
them all on shutdown, so no task or socket outlives its room. In a cluster it routes the
bus's messages to its rooms, runs the periodic state-vector exchange and the snapshots
of other nodes' updates, and turns access changes and deletions into bus events.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pycrdt import Doc

from .. import metrics
from ..close_codes import CLOSE_ACCESS_CHANGED, CLOSE_DELETED, CLOSE_GOING_AWAY
from ..cluster import base as bus_kinds
from ..cluster.base import BusMessage, ClusterBus
from ..cluster.local import LocalBus
from ..identity import Actor
from ..metrics import RoomStats
from ..stores import DocumentStore
from ..update_guard import VerifiedUpdates
from .recheck import recheck_pass
from .room import DocumentRoom
from .state import Connection, RoomConfig
from .updates import is_fatal

log = logging.getLogger(__name__)


SHUTDOWN_CONCURRENCY = 8  # rooms closing at once at shutdown
DISCARD_FLUSH_TIMEOUT = 10.0  # seconds a deleted document's room may take to write


@dataclass(frozen=True)
class RoomTotals:
    """The rooms of one node, counted."""

    open: int
    connections: int
    backlog_bytes: int


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
        self.verified = VerifiedUpdates()  # large stored records the guard passed
        self._rooms: dict[str, DocumentRoom] = {}
        self._opening: dict[str, DocumentRoom] = {}  # subscribed, still loading
        self._locks: dict[str, _LockEntry] = {}
        # Called with a room about to close, before its last flush (automatic versions).
        self.before_close: list[Callable[[DocumentRoom], Awaitable[None]]] = []
        self._sweeper: asyncio.Task[None] | None = None
        self._cluster_task: asyncio.Task[None] | None = None
        self._control_tasks: set[asyncio.Task[None]] = set()
        self._resync_pending = False
        #: Bus message kinds handled outside the rooms (comment events: comments/live.py).
        self.bus_handlers: dict[int, Callable[[BusMessage], None]] = {}
        metrics.register(self)

    def start(self) -> None:
        # pycrdt's first Doc in a running loop imports anyio's asyncio backend (~20 ms):
        # paid here, not inside the first join after a start.
        Doc()
        self._sweeper = asyncio.create_task(self._sweep(), name="collab-docs-room-sweeper")
        if self.bus.clustered:
            self._cluster_task = asyncio.create_task(
                self._cluster_upkeep(), name="collab-docs-cluster-upkeep"
            )

    def totals(self) -> RoomTotals:
        """How many rooms are open, their sockets and unwritten bytes (health, metrics)."""
        rooms = list(self._rooms.values())
        return RoomTotals(
            open=len(rooms),
            connections=sum(len(r.clients) for r in rooms),
            backlog_bytes=sum(r.backlog_bytes for r in rooms),
        )

    def metrics_gauges(self) -> dict[str, Any]:
        totals = self.totals()
        return {
            "node": self.config.node,
            "rooms": totals.open,
            "connections": totals.connections,
            "backlog_bytes": totals.backlog_bytes,
            "bus_queue": self.bus.queued,
            "bus_connected": self.bus.connected,
            "bus_stats": self.bus.stats,
        }

    @property
    def open_rooms(self) -> Mapping[str, DocumentRoom]:
        """The rooms open on this node, by document id (read only: opening and closing
        is the manager's)."""
        return MappingProxyType(self._rooms)

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
                verified=self.verified,
            )
            if not room.clustered:
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
            if room.clustered:
                await self.bus.unsubscribe(doc_id)

    async def discard(self, doc_id: str, code: int, reason: str) -> None:
        """Close a deleted document's room. What this node has not written yet is
        written first (within ``DISCARD_FLUSH_TIMEOUT``): a document in the trash keeps
        it for a restore; a purged one takes nothing (no append reaches it)."""
        async with self._locked(doc_id):
            room = self._rooms.pop(doc_id, None)
            if room is not None:
                try:
                    await asyncio.wait_for(room.close(code, reason), DISCARD_FLUSH_TIMEOUT)
                except Exception:  # the store is away: the room is closed all the same
                    log.exception("document %s: unwritten edits lost on deletion", doc_id)
                if room.clustered:
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
        with recheck_pass():
            await self._recheck({doc_id: list(room.clients)})

    async def revalidate_all(self) -> None:
        """Re-check every socket of every room in one pass: the periodic backstop for
        access changes that no notification reached. Each distinct credential and each
        (identity, document) pair is looked up once in the pass (rooms/recheck.py)."""
        sockets = {doc_id: list(room.clients) for doc_id, room in self._rooms.items()}
        with recheck_pass():
            await self._recheck({doc_id: conns for doc_id, conns in sockets.items() if conns})

    async def _recheck(self, sockets: dict[str, list[Connection]]) -> None:
        pairs = [(doc_id, conn) for doc_id, conns in sockets.items() for conn in conns]
        roles = await asyncio.gather(
            *(conn.current_role() for _, conn in pairs), return_exceptions=True
        )
        for (doc_id, conn), role in zip(pairs, roles, strict=True):
            if isinstance(role, BaseException):
                log.error("document %s: revalidation failed: %r", doc_id, role)
                continue
            if role != conn.role:
                conn.close(CLOSE_ACCESS_CHANGED, "access changed; reconnect")

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
                await self.revalidate_all()
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
        handler = self.bus_handlers.get(kind)
        if handler is not None:
            handler(message)
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
                try:
                    await room.snapshot_remote_updates(self.bus.remote_snapshot_interval)
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
