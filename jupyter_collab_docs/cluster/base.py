"""The cluster bus: how the server nodes of one deployment tell each other about rooms.

A node publishes what its own clients change (Yjs updates, awareness) on the channel of
the document; every other node holding that document's room applies it and forwards it
to its sockets. Nodes also exchange state vectors (the Yjs sync handshake, between nodes)
so that a message the transport lost is recovered, and they announce access changes.

The bus only moves bytes: :class:`ClusterBus` knows channels and envelopes, never rooms.
The rooms (:mod:`jupyter_collab_docs.rooms`) decide what a message means.

Delivery contract of every implementation:

* at most once, unordered between different senders (Redis pub/sub is exactly that);
* a node never receives its own messages;
* ``publish`` never blocks and never raises: it queues, and a full queue drops (the
  state-vector exchange repairs what was dropped);
* ``on_resync`` is called whenever messages may have been lost in either direction
  (reconnect, dropped publishes), so the rooms can run the exchange at once.
"""

from __future__ import annotations

import abc
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from traitlets import Float
from traitlets.config import LoggingConfigurable

from ..backends import Backend, ConfigurableABCMeta
from ..metrics import BusStats
from ..protocol import ProtocolError, Reader, write_var_bytes, write_var_uint

ENVELOPE_VERSION = 1

# Document channel: everyone holding the room.
UPDATE = 1  # parts: (update,)                 a change made on the sending node
AWARENESS = 2  # parts: (awareness payload,)   awareness entries of the sender's clients
SYNC_REQUEST = 3  # parts: (state vector,)     "send me what I lack"
# Node channel: one node only.
SYNC_REPLY = 4  # parts: (diff, state vector, awareness payload)   answer to SYNC_REQUEST
SYNC_DIFF = 5  # parts: (diff,)                 the requester's answer to the reply's vector
# Control channel: every node.
ACCESS_CHANGED = 6  # parts: ()                 re-check the roles of the document's sockets
DELETED = 7  # parts: (reason,)                 close the document's room with 4410
# Document channel again (added later, hence the number).
COMMENTS = 8  # parts: (JSON event,)           a comment thread changed (comments/live.py)

KIND_NAMES = {
    UPDATE: "update",
    AWARENESS: "awareness",
    SYNC_REQUEST: "sync_request",
    SYNC_REPLY: "sync_reply",
    SYNC_DIFF: "sync_diff",
    ACCESS_CHANGED: "access_changed",
    DELETED: "deleted",
    COMMENTS: "comments",
}

_TIME = struct.Struct("!d")


@dataclass
class BusMessage:
    """One decoded envelope."""

    kind: int
    node: str  # the sender
    doc_id: str
    sent: float  # the sender's wall clock (time.time()) when it queued the message
    parts: list[bytes] = field(default_factory=list)


def encode(kind: int, node: str, doc_id: str, parts: tuple[bytes, ...] | list[bytes]) -> bytes:
    """``version, kind, node, doc id, sent time, parts``: small and self-describing."""
    out = [
        bytes((ENVELOPE_VERSION, kind)),
        write_var_bytes(node.encode()),
        write_var_bytes(doc_id.encode()),
        _TIME.pack(time.time()),
        write_var_uint(len(parts)),
    ]
    out.extend(write_var_bytes(p) for p in parts)
    return b"".join(out)


def decode(data: bytes) -> BusMessage:
    """Parse an envelope; raises ProtocolError for anything else."""
    if len(data) < 2 or data[0] != ENVELOPE_VERSION:
        raise ProtocolError("not a collab-docs bus envelope")
    reader = Reader(data, 2)
    node = reader.var_string()
    doc_id = reader.var_string()
    if reader.pos + _TIME.size > len(data):
        raise ProtocolError("truncated envelope")
    (sent,) = _TIME.unpack_from(data, reader.pos)
    reader.pos += _TIME.size
    count = reader.var_uint()
    if count > 16:
        raise ProtocolError("too many parts")
    parts = [reader.var_bytes() for _ in range(count)]
    return BusMessage(data[1], node, doc_id, sent, parts)


Receiver = Callable[[BusMessage], None]


class ClusterBus(LoggingConfigurable, Backend, metaclass=ConfigurableABCMeta):
    """What a room manager needs from the cluster transport (the interface of the cluster
    bus family; the built-in ones and their URL schemes: :data:`.BUSES`).

    A plugged bus (``CollabDocsApp.cluster_class``) subclasses it, keeps the delivery
    contract of this module and hands what it receives to :meth:`_deliver`."""

    resync_interval = Float(
        10.0,
        help="""Seconds between state-vector exchanges of every open room with the other
        nodes (the backstop for messages the transport lost).""",
    ).tag(config=True)

    remote_snapshot_interval = Float(
        30.0,
        help="""While a room holds updates that other nodes made (and may not have stored
        yet, if they crashed), it snapshots its document at least this often (seconds).""",
    ).tag(config=True)

    #: True when other nodes may exist: rooms then publish, exchange and heal.
    clustered = False
    backend = "abstract"

    def __init__(self, node_id: str, url: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.node_id = node_id
        self.url = url
        self.stats = BusStats()
        self._receiver: Receiver | None = None
        self._on_resync: Callable[[], None] | None = None

    @classmethod
    def from_url(cls, url: str, *, node: str, parent: Any = None) -> ClusterBus:
        """The bus for ``cluster_url`` (see :mod:`jupyter_collab_docs.backends`)."""
        return cls(node, url=url, parent=parent)

    def attach(self, receiver: Receiver, on_resync: Callable[[], None]) -> None:
        """Where incoming messages go (called synchronously, on the event loop) and whom
        to tell when messages may have been lost."""
        self._receiver = receiver
        self._on_resync = on_resync

    def _deliver(self, data: bytes) -> None:
        """Decode and hand one received envelope to the receiver (never our own)."""
        try:
            message = decode(data)
        except ProtocolError as exc:
            self.stats.malformed += 1
            self.log.warning("cluster bus: dropping a malformed message (%s)", exc)
            return
        if message.node == self.node_id:
            return
        self.stats.received += 1
        self.stats.observe_lag(time.time() - message.sent)
        if self._receiver is not None:
            self._receiver(message)

    def _resync(self) -> None:
        self.stats.resync_triggers += 1
        if self._on_resync is not None:
            self._on_resync()

    @abc.abstractmethod
    async def start(self) -> None:
        """Connect (or keep trying in the background: a bus never fails the start)."""
        raise NotImplementedError

    @abc.abstractmethod
    async def close(self) -> None:
        """Send what is queued (briefly) and disconnect."""
        raise NotImplementedError

    @abc.abstractmethod
    async def subscribe(self, doc_id: str) -> None:
        """Receive the document's channel; returns once the transport confirmed it (or
        at once while disconnected: the reconnect subscribes and triggers a resync)."""
        raise NotImplementedError

    @abc.abstractmethod
    async def unsubscribe(self, doc_id: str) -> None:
        """Stop receiving the document's channel."""
        raise NotImplementedError

    @abc.abstractmethod
    def publish(self, doc_id: str, kind: int, *parts: bytes) -> None:
        """To every other node holding the document's room."""
        raise NotImplementedError

    @abc.abstractmethod
    def send_to(self, node: str, doc_id: str, kind: int, *parts: bytes) -> None:
        """To one node."""
        raise NotImplementedError

    @abc.abstractmethod
    def broadcast(self, doc_id: str, kind: int, *parts: bytes) -> None:
        """To every other node (control messages)."""
        raise NotImplementedError

    @abc.abstractmethod
    def status(self) -> dict[str, Any]:
        """``{"ok": bool, "backend": ..., ...}`` for the health endpoint."""
        raise NotImplementedError

    @property
    def connected(self) -> bool:
        """Whether messages currently flow (for metrics and health)."""
        return True

    @property
    def queued(self) -> int:
        """Messages waiting to be sent."""
        return 0
