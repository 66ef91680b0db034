"""Awareness amplification (issue #12 item 9), over real sockets: one viewer held 300
sockets and 80 MB of awareness states. Capped: the size of one client's state (4413),
the awareness bytes a room keeps (4429), a user's sockets per room and per process
(4429; administrators exempt)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jupyter_collab_docs import protocol
from jupyter_collab_docs.protocol import AwarenessEntry
from jupyter_collab_docs.testing import RawClient, eventually

CAPS = {
    "max_awareness_state_bytes": 1000,
    "max_awareness_room_bytes": 6000,
    "max_sockets_per_user_room": 3,
    "max_sockets_per_user": 5,
}


@pytest.fixture
def collab_config() -> dict[str, Any]:
    return dict(CAPS)


async def new_doc(api: Any, share_with_bob: bool = True) -> str:
    reply = await api("alice", "POST", "documents", {"name": "doc", "type": "file"})
    assert reply.status == 201, reply.body
    doc_id = str(reply.body["id"])
    if share_with_bob:
        shared = await api(
            "alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "viewer"}
        )
        assert shared.status == 200
    return doc_id


def state_of(size: int) -> dict[str, Any]:
    """An awareness state whose JSON is ``size`` bytes long."""
    state = {"cursor": ""}
    state["cursor"] = "x" * (size - len(json.dumps(state, separators=(",", ":"))))
    assert len(json.dumps(state, separators=(",", ":"))) == size
    return state


async def joined(url: str) -> RawClient:
    """A socket that got the handshake (sync step 1), i.e. was let into the room."""
    client = await RawClient.connect(url)
    first = await client.recv()
    assert first is not None, f"refused with {client.conn.close_code}"
    return client


class Watcher:
    """A client that keeps the room's awareness states as a y-websocket client would."""

    def __init__(self, client: RawClient, client_id: int) -> None:
        self.client = client
        self.client_id = client_id
        self.clock = 0
        self.states: dict[int, Any] = {}

    async def sync(self) -> dict[int, Any]:
        """Every state the room holds now: asks for them, then renews its own state and
        reads up to that renewal's echo (frames on one socket arrive in order)."""
        await self.client.send(bytes([protocol.MESSAGE_QUERY_AWARENESS]))
        self.clock += 1
        mark = AwarenessEntry(self.client_id, self.clock, {"watching": True})
        await self.client.send(protocol.awareness_message([mark]))
        while True:
            frame = protocol.parse_frame(await self.client.recv())
            if frame.kind != protocol.MESSAGE_AWARENESS:
                continue
            done = False
            for entry in protocol.decode_awareness(frame.payload):
                if entry.state is None:
                    self.states.pop(entry.client_id, None)
                else:
                    self.states[entry.client_id] = entry.state
                done = done or (entry.client_id, entry.clock) == (self.client_id, self.clock)
            if done:
                return {cid: s for cid, s in self.states.items() if cid != self.client_id}


def test_the_defaults() -> None:
    from jupyter_collab_docs.app import CollabDocsApp

    app = CollabDocsApp()
    assert app.max_awareness_state_bytes == 64 * 1024
    assert app.max_awareness_room_bytes == 4 * 1024 * 1024
    assert app.max_sockets_per_user_room == 20
    assert app.max_sockets_per_user == 100


async def test_a_too_large_state_closes_its_socket_with_4413(api, ws_url):
    doc_id = await new_doc(api)
    watcher = Watcher(await joined(ws_url(doc_id, "alice")), 1)
    fits = await joined(ws_url(doc_id, "bob"))
    await fits.send(protocol.awareness_message([AwarenessEntry(2, 1, state_of(900))]))
    big = await joined(ws_url(doc_id, "bob"))
    await big.send(protocol.awareness_message([AwarenessEntry(3, 1, state_of(1500))]))
    assert await big.closed() == 4413
    seen = await watcher.sync()
    assert sorted(seen) == [2]  # the big state was never kept nor relayed
    # a huge awareness frame is refused before it is even decoded
    huge = await joined(ws_url(doc_id, "bob"))
    await huge.send(bytes([protocol.MESSAGE_AWARENESS]) + protocol.write_var_bytes(b"{" * 8000))
    assert await huge.closed() == 4413
    assert sorted(await watcher.sync()) == [2]


async def test_a_room_keeps_a_bounded_number_of_awareness_bytes(api, ws_url, tokens, collab):
    tokens["dave"] = collab.users.add("dave")
    doc_id = await new_doc(api)
    await api("alice", "PUT", f"documents/{doc_id}/shares/user:dave", {"role": "viewer"})
    watcher = Watcher(await joined(ws_url(doc_id, "alice")), 1)
    first = await joined(ws_url(doc_id, "bob"))
    # four client ids of 900 bytes each: 3,600 bytes (the most one socket may speak for)
    await first.send(
        protocol.awareness_message([AwarenessEntry(10 + n, 1, state_of(900)) for n in range(4)])
    )
    second = await joined(ws_url(doc_id, "dave"))
    await second.send(
        protocol.awareness_message([AwarenessEntry(20 + n, 1, state_of(900)) for n in range(4)])
    )
    assert await second.closed() == 4429  # 7,200 bytes would pass the room's 6,000
    seen = await watcher.sync()
    assert sorted(seen) == [10, 11, 12, 13]
    kept = sum(len(json.dumps(s, separators=(",", ":"))) for s in seen.values())
    assert kept <= CAPS["max_awareness_room_bytes"]
    # an update that does not grow the room is still taken when it is full
    await first.send(protocol.awareness_message([AwarenessEntry(10, 2, state_of(500))]))
    await first.send(protocol.awareness_message([AwarenessEntry(11, 2, None)]))
    seen = await watcher.sync()
    assert sorted(seen) == [10, 12, 13] and len(seen[10]["cursor"]) < 500
    # and the freed bytes are free again
    third = await joined(ws_url(doc_id, "dave"))
    await third.send(protocol.awareness_message([AwarenessEntry(30, 1, state_of(900))]))
    await third.send(protocol.awareness_message([AwarenessEntry(31, 1, state_of(900))]))
    assert sorted(await watcher.sync()) == [10, 12, 13, 30, 31]


def bobs_sockets(collab: Any) -> int:
    rooms = collab.rooms.open_rooms.values()
    return sum(1 for room in rooms for conn in room.clients if conn.actor.username == "bob")


async def test_sockets_per_user_per_room_and_per_process(api, ws_url, collab):
    first, second, third = [await new_doc(api) for _ in range(3)]
    held = [await joined(ws_url(first, "bob")) for _ in range(3)]
    one_more = await RawClient.connect(ws_url(first, "bob"))
    assert await one_more.closed() == 4429
    # other users are not affected
    alices = await joined(ws_url(first, "alice"))
    # per process: 5 in all
    held += [await joined(ws_url(second, "bob")) for _ in range(2)]
    elsewhere = await RawClient.connect(ws_url(third, "bob"))
    assert await elsewhere.closed() == 4429
    # leaving frees a place
    held.pop().close()
    await eventually(lambda: bobs_sockets(collab) == 4, what="the close to land")
    held.append(await joined(ws_url(third, "bob")))
    # the earlier sockets were never disturbed
    for client in [*held, alices]:
        assert client.conn.close_code is None


async def test_administrators_are_exempt_from_the_socket_caps(api, ws_url):
    doc_id = await new_doc(api)
    held = [await joined(ws_url(doc_id, "carol")) for _ in range(6)]
    assert all(client.conn.close_code is None for client in held)
