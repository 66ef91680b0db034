"""Comment events to the people who have the document open, on every node.

A socket opened with ``?comments=1`` on the document's room also receives, besides the
y-websocket frames, one frame per change of a thread: ``varuint 100`` and a ``varstring``
JSON event (docs/comments.md, "Live"). Y-websocket clients ignore nothing they are not
told about: the event frames go only to sockets that asked, whose client registers a
handler for type 100 (``provider.messageHandlers[100]``).

The node that made the change sends the frame to its own sockets and publishes the event
on the document's bus channel, which the nodes holding the room receive; they send it
to their sockets. Delivery is the bus's: at most once (a client that reconnects lists
the threads again).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ..cluster.base import COMMENTS, BusMessage
from ..protocol import write_var_bytes, write_var_uint
from ..rooms import RoomManager

log = logging.getLogger(__name__)

MESSAGE_COMMENTS = 100  # the frame type, after y-websocket's 0-3 (and Hocuspocus' 0-8)
MAX_EVENT_BYTES = 1 << 20  # a bus message past this is not another node's event


def comments_frame(payload: bytes) -> bytes:
    """The frame carrying one JSON event."""
    return write_var_uint(MESSAGE_COMMENTS) + write_var_bytes(payload)


class CommentEvents:
    """Sends comment events to this node's sockets and, through the bus, to the others'."""

    def __init__(self, rooms: RoomManager) -> None:
        self.rooms = rooms
        rooms.bus_handlers[COMMENTS] = self._from_bus

    def publish(self, doc_id: str, event: dict[str, Any]) -> None:
        payload = json.dumps(event, separators=(",", ":")).encode()
        self._to_sockets(doc_id, payload)
        self.rooms.bus.publish(doc_id, COMMENTS, payload)

    def _to_sockets(self, doc_id: str, payload: bytes) -> None:
        room = self.rooms.open_rooms.get(doc_id)
        if room is None:
            return
        frame = comments_frame(payload)
        for conn in list(room.clients):
            if getattr(conn, "comment_events", False):
                conn.send(frame)  # never raises, never blocks

    def _from_bus(self, message: BusMessage) -> None:
        payload = message.parts[0] if message.parts else b""
        try:
            if len(payload) > MAX_EVENT_BYTES:
                raise ValueError("too large")
            event = json.loads(payload)
            if not isinstance(event, dict) or event.get("document_id") != message.doc_id:
                raise ValueError("not an event of this document")
        except ValueError as exc:
            log.warning("comment event from %s dropped: %s", message.node, exc)
            return
        self._to_sockets(message.doc_id, payload)
