"""What every part of a room shares: its tunables (:class:`RoomConfig`), what it needs of
a socket (:class:`Connection`), and :class:`RoomState`, the fields and core entry points
that each part of :class:`~.room.DocumentRoom` may use (see the package docstring)."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol

from pycrdt import Doc

from ..cluster.base import ClusterBus
from ..identity import Actor
from ..metrics import RoomStats
from ..stores import DocumentStore
from ..update_guard import UpdateLimits


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
        return _limits(self.max_update_depth, self.max_update_structs, self.max_update_chain)

    @property
    def stored_limits(self) -> UpdateLimits:
        """Bounds on a stored record or a server update: no struct count (a snapshot
        holds the whole document), but the nesting and chains yrs cannot survive."""
        return _limits(self.max_update_depth, None, self.max_update_chain)


@functools.lru_cache(maxsize=16)
def _limits(depth: int, structs: int | None, chain: int | None) -> UpdateLimits:
    """One (immutable) UpdateLimits per set of bounds: read on every edit, and the
    config's fields may still be changed after it is built, so not a cached property."""
    return UpdateLimits(depth, structs, chain)


class RoomLoadError(Exception):
    """The room's document could not be loaded; nothing is written to it."""


class RoomState(ABC):
    """The fields every part of a room reads, and the core's entry points (defined in
    room.py) that the parts call: declared here so that each part is a module of its own
    that names what it relies on."""

    doc_id: str
    doc_type: str
    store: DocumentStore
    config: RoomConfig
    bus: ClusterBus | None
    clustered: bool  # publish, exchange and heal only when other nodes may exist
    stats: RoomStats
    doc: Doc[Any]
    clients: dict[Connection, set[int]]  # socket -> the awareness client ids it claimed
    closed: bool
    last_active: float
    _damaged: bool  # a refused update may have left part of itself in the doc
    _doc_structs: int  # an upper estimate of the structs the doc holds (the guard's)

    @abstractmethod
    def leave(self, conn: Connection) -> None:
        """A socket leaves the room, and its awareness states with it."""

    @abstractmethod
    def _apply(self, update: bytes, origin: Connection | None, author: str) -> None:
        """The one way into the doc: apply, then queue the broadcast and the write."""

    @abstractmethod
    def _apply_to_doc(self, update: bytes) -> None:
        """Apply to the doc only; a refused update schedules a repair."""

    @abstractmethod
    def _queue_broadcast(self, update: bytes, origin: Any) -> None:
        """Send ``update`` to the sockets (not ``origin``) at the end of this loop turn."""
