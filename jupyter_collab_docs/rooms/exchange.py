"""A room's exchange with the other nodes of a cluster (docs/cluster.md).

What this node's clients change is published by the room's broadcast (room.py); here,
what other nodes send about the document: their updates (applied with origin
:data:`REMOTE`: forwarded to this node's sockets, never stored nor published again),
their awareness, and the state-vector exchange that recovers what the at-most-once bus
lost: a node publishes its vector, the others answer with what it lacks and their own
vector, and it sends back what they lack.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from .. import protocol
from ..cluster import base as bus_kinds
from ..cluster.base import BusMessage
from .awareness import RoomAwareness
from .updates import NO_STRUCTS, clocks, covers, delete_set

log = logging.getLogger(__name__)


class _Remote:
    """Origin of the updates that another node applied first."""

    def __repr__(self) -> str:
        return "REMOTE"


REMOTE: Any = _Remote()


class ClusterExchange(RoomAwareness):
    """The cluster part of a room; it relays awareness, so it builds on that part."""

    def _init_exchange(self) -> None:
        self._inbox: list[BusMessage] | None = None  # bus messages received while loading
        self._remote_dirty = False  # holds updates of other nodes not in a snapshot of ours
        self.next_resync = 0.0

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
                    mine = delete_set(answer)
                    if mine is None or mine != delete_set(parts[0]):
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
        if not self.clustered or self.closed or self._damaged or self._inbox is not None:
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
        deletes_before = delete_set(self.doc.get_update(self.doc.get_state()))
        theirs = delete_set(update)
        if deletes_before is not None and theirs is not None and covers(deletes_before, theirs):
            return  # nothing new: leave the doc alone
        self._apply_to_doc(update)
        if delete_set(self.doc.get_update(self.doc.get_state())) != deletes_before:
            self.stats.resync_healed += 1
            self.stats.updates_in["remote"] += 1
            self._remote_dirty = True
            self._queue_broadcast(update, REMOTE)

    @property
    def remote_dirty(self) -> bool:
        """Whether the doc holds updates of other nodes that no snapshot of ours holds."""
        return self._remote_dirty
