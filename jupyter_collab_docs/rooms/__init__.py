"""Rooms: one live pycrdt ``Doc`` per open document, shared by every socket on it, and
the manager that opens, evicts and closes them.

One module per concern, after Hocuspocus's split of ``Document``, ``Connection`` and
``MessageReceiver``:

* ``room.py``: :class:`DocumentRoom`'s core: join, leave, read a frame, apply a change
  and broadcast it once per loop turn;
* ``guard.py``: what stands between a socket's bytes and the doc (bounds, budget,
  document size, trust stripping);
* ``persistence.py``: loading, the writer and the write tick, compaction, repair;
* ``exchange.py``: the exchange with the other nodes of a cluster;
* ``awareness.py``: awareness, local and relayed;
* ``state.py``: what the parts share (:class:`RoomConfig`, :class:`Connection`);
* ``manager.py``: :class:`RoomManager`;
* ``updates.py``: Yjs update bytes (state vectors, delete sets, containment).

The WebSocket close codes are in :mod:`..close_codes`, outside the package, so the
update guard and the handlers use them without importing the rooms.

The parts of a room are a chain of mixins (state ← awareness ← exchange ← persistence
← guard ← room), not objects of their own: they share one ``Doc``, one set of sockets
and one outbox within one loop turn, and a change crosses them synchronously (a guarded
update is applied, broadcast and queued for the writer before the next frame is read).
As separate objects each would hold the room anyway and call back into it; as layers,
each module names what it builds on (its base) and the few core entry points it calls
(declared in :class:`~.state.RoomState`), and the hot path stays a plain method call.
Each layer builds only on those below it, so the imports run one way (no loop).
"""

from .exchange import REMOTE
from .manager import RoomManager, RoomTotals
from .room import DocumentRoom
from .state import Connection, RoomConfig, RoomLoadError
from .updates import clocks, contained, is_fatal

__all__ = [
    "REMOTE",
    "Connection",
    "DocumentRoom",
    "RoomConfig",
    "RoomLoadError",
    "RoomManager",
    "RoomTotals",
    "clocks",
    "contained",
    "is_fatal",
]
