"""A room's awareness (y-protocols): who is here and where their cursor is.

Each socket may speak only for the client ids it claimed first (at most
``max_client_ids``); a state is stamped with the server's view of its user; states are
bounded per client and per room (issue #12). In a cluster, this node's states are
relayed to the other nodes and theirs kept apart (:class:`_RemoteSlot`); every state
expires unless renewed, so a dead node's clients go too.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from .. import protocol
from ..close_codes import CLOSE_RATE_LIMITED, CLOSE_TOO_LARGE
from ..cluster import base as bus_kinds
from ..protocol import AwarenessEntry
from .state import Connection, RoomState

log = logging.getLogger(__name__)


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


def _json_size(state: Any) -> int:
    """Bytes of an awareness state as JSON (compact, as y-protocols writes it)."""
    return len(json.dumps(state, separators=(",", ":")).encode("utf-8"))


class RoomAwareness(RoomState):
    """The awareness part of a room."""

    def _init_awareness(self) -> None:
        self._awareness: dict[int, _AwarenessSlot] = {}
        self._awareness_bytes = 0  # sum of the slots' sizes
        self._remote_awareness: dict[int, _RemoteSlot] = {}

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
        if self.clustered and self.bus is not None:
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

    def _send_all_awareness(self, conn: Connection) -> None:
        """Tell one socket every state the room knows (nothing if there is none)."""
        if self._awareness or self._remote_awareness:
            conn.send(self._awareness_message(self._all_client_ids()))

    def _forget_awareness(self, client_ids: set[int]) -> None:
        """A socket left: the states of the client ids it claimed leave with it."""
        self._remove_awareness([cid for cid in client_ids if cid in self._awareness])

    def _close_awareness(self) -> None:
        """The room closes: forget every state; other nodes drop this node's
        collaborators now, not after the timeout."""
        if self.clustered and self._awareness:
            gone = [AwarenessEntry(c, s.clock + 1, None) for c, s in self._awareness.items()]
            self._publish_awareness(protocol.encode_awareness(gone))
        self._awareness.clear()
        self._remote_awareness.clear()

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
