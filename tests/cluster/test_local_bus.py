"""Several room managers in one process, joined by the in-process bus (``LocalHub``):
the cluster logic of the rooms without Redis, including messages the bus loses."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any

from pycrdt import Doc, Text

from jupyter_collab_docs import protocol
from jupyter_collab_docs.cluster import LocalBus, LocalHub
from jupyter_collab_docs.cluster import base as kinds
from jupyter_collab_docs.identity import Actor
from jupyter_collab_docs.protocol import AwarenessEntry
from jupyter_collab_docs.rooms import RoomConfig, RoomManager
from jupyter_collab_docs.stores import DocumentRecord, PendingUpdate
from jupyter_collab_docs.stores.sqlite import SQLiteDocumentStore
from jupyter_collab_docs.testing import eventually

DOC = "d1"


class FakeConnection:
    def __init__(self, name: str, role: str = "editor") -> None:
        self.actor = Actor.create(name)
        self.role: str | None = role
        self.new_role: str | None = role
        self.can_write = role != "viewer"
        self.doc = Doc()
        self.closed: tuple[int, str] | None = None
        self.awareness: dict[int, Any] = {}

    @property
    def text(self) -> str:
        return str(self.doc.get("source", type=Text))

    async def current_role(self) -> str | None:
        return self.new_role

    def send(self, message: bytes) -> None:
        frame = protocol.parse_frame(message)
        if frame.kind == protocol.MESSAGE_SYNC and frame.step != protocol.SYNC_STEP1:
            self.doc.apply_update(frame.payload)
        elif frame.kind == protocol.MESSAGE_AWARENESS:
            for entry in protocol.decode_awareness(frame.payload):
                if entry.state is None:
                    self.awareness.pop(entry.client_id, None)
                else:
                    self.awareness[entry.client_id] = entry.state

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


class Node:
    def __init__(self, name: str, store: SQLiteDocumentStore, hub: LocalHub, **config: Any):
        self.name = name
        self.store = store
        self.bus = LocalBus(name, hub, resync_interval=0.5, remote_snapshot_interval=0.5)
        settings = {"write_delay": 0.01, "idle_timeout": 60.0, **config}
        self.rooms = RoomManager(store, RoomConfig(node=name, **settings), bus=self.bus)

    async def join(self, user: str = "alice") -> FakeConnection:
        room = await self.rooms.get(DOC, "file")
        conn = FakeConnection(user)
        room.join(conn)
        room.receive(conn, protocol.sync_step1(conn.doc.get_state()))
        return conn

    def edit(self, conn: FakeConnection, text: str, at: int | None = None) -> None:
        """What a client does: change its doc, send the update."""
        before = conn.doc.get_state()
        source = conn.doc.get("source", type=Text)
        source.insert(len(source) if at is None else at, text)
        self.rooms.open_rooms[DOC].receive(
            conn, protocol.update_message(conn.doc.get_update(before))
        )


@asynccontextmanager
async def cluster(tmp_path, n: int = 2, **config: Any):
    hub = LocalHub()
    nodes = []
    first = SQLiteDocumentStore(tmp_path / "documents.db")
    await first.start()
    now = datetime.now(timezone.utc)
    await first.create(DocumentRecord(DOC, "doc", "file", "alice", now, now), None)
    for i in range(n):
        store = first if i == 0 else SQLiteDocumentStore(tmp_path / "documents.db")
        if i:
            await store.start()
        node = Node(f"n{i}", store, hub, **config)
        node.rooms.start()
        nodes.append(node)
    try:
        yield hub, nodes
    finally:
        for node in nodes:
            await node.rooms.close()
            await node.bus.close()
            await node.store.close()


async def stored_text(store: SQLiteDocumentStore) -> str:
    loaded = await store.load(DOC)
    doc = Doc()
    for record in ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates:
        doc.apply_update(record.data)
    return str(doc.get("source", type=Text))


async def test_updates_reach_the_other_node_and_are_stored_once(tmp_path):
    async with cluster(tmp_path) as (_, (a, b)):
        on_a, on_b = await a.join(), await b.join("bob")
        for i in range(20):
            a.edit(on_a, f"a{i} ")
            b.edit(on_b, f"b{i} ")
            await asyncio.sleep(0)
        await eventually(lambda: on_a.text == on_b.text and len(on_a.text) > 100, what="converge")
        room_a, room_b = a.rooms.open_rooms[DOC], b.rooms.open_rooms[DOC]
        await room_a.flush()
        await room_b.flush()
        loaded = await a.store.load(DOC)
        # every update stored once, by the node its client sent it to
        assert len(loaded.updates) == 40
        assert await stored_text(a.store) == on_a.text
        assert room_a.stats.updates_in["remote"] >= 1


async def test_lost_messages_are_recovered_by_the_state_vector_exchange(tmp_path):
    async with cluster(tmp_path, n=3) as (hub, nodes):
        conns = [await node.join(f"u{i}") for i, node in enumerate(nodes)]
        rng = random.Random(7)
        hub.drop = lambda channel, data: rng.random() < 0.5  # a very lossy bus
        for step in range(150):
            i = rng.randrange(3)
            conn = conns[i]
            nodes[i].edit(conn, rng.choice("xyz"), rng.randrange(len(conn.text) + 1))
            if step % 10 == 0:
                await asyncio.sleep(0)
        hub.drop = None
        await eventually(
            lambda: len({c.text for c in conns}) == 1 and len(conns[0].text) == 150,
            what="every client converges after the loss",
        )
        healed = sum(n.rooms.stats.resync_healed for n in nodes)
        assert healed > 0


async def test_deletions_lost_on_the_bus_are_recovered(tmp_path):
    """A lost deletion moves no state vector: the answers carry the delete set."""
    async with cluster(tmp_path) as (hub, (a, b)):
        on_a, on_b = await a.join(), await b.join("bob")
        a.edit(on_a, "hello world")
        await eventually(lambda: on_b.text == "hello world")
        hub.drop = lambda channel, data: True
        before = on_a.doc.get_state()
        del on_a.doc.get("source", type=Text)[0:6]
        a.rooms.open_rooms[DOC].receive(on_a, protocol.update_message(on_a.doc.get_update(before)))
        await asyncio.sleep(0.1)
        assert on_b.text == "hello world"
        hub.drop = None
        await eventually(lambda: on_b.text == "world", what="the deletion")


async def test_a_room_opening_buffers_what_arrives_while_it_loads(tmp_path):
    async with cluster(tmp_path) as (_, (a, b)):
        on_a = await a.join()
        a.edit(on_a, "stored ")
        await a.rooms.open_rooms[DOC].flush()
        real_load = b.store.load
        loading = asyncio.Event()

        async def slow_load(doc_id: str):
            loaded = await real_load(doc_id)  # read before the next edit is stored
            loading.set()
            await asyncio.sleep(0.3)
            return loaded

        b.store.load = slow_load  # type: ignore[method-assign]
        # the exchange after opening must not be what saves us here
        b.bus.resync_interval = a.bus.resync_interval = 1000
        opening = asyncio.create_task(b.join("bob"))
        await loading.wait()
        a.edit(on_a, "published-while-loading")
        for _ in range(3):
            await asyncio.sleep(0)
        b.store.load = real_load  # type: ignore[method-assign]
        room_b = None
        on_b = await opening
        room_b = b.rooms.open_rooms[DOC]
        assert str(room_b.doc.get("source", type=Text)) == "stored published-while-loading"
        await eventually(lambda: on_b.text == "stored published-while-loading")


async def test_compaction_never_drops_records_the_doc_lacks(tmp_path):
    async with cluster(tmp_path) as (hub, (a, b)):
        on_a, on_b = await a.join(), await b.join("bob")
        hub.drop = lambda channel, data: True  # b never hears of a's edits
        b.bus.resync_interval = a.bus.resync_interval = 1000
        for i in range(10):
            a.edit(on_a, f"a{i}")
        b.edit(on_b, "B")
        await a.rooms.open_rooms[DOC].flush()
        room_b = b.rooms.open_rooms[DOC]
        await room_b.flush()
        await room_b.compact()
        # b healed its doc (and its client) from the store before folding
        text = str(room_b.doc.get("source", type=Text))
        assert "a9" in text and "B" in text
        assert on_b.text == text
        assert await stored_text(b.store) == text
        assert await b.store.log_length(DOC) == 0


async def test_compaction_keeps_records_it_cannot_contain_for_a_while(tmp_path):
    """A stored update whose dependency nobody stored yet (in flight, or only in another
    node's memory) stays in the log rather than being folded into a snapshot that cannot
    hold it; if the dependency never comes, it is quarantined, not deleted."""
    async with cluster(tmp_path, n=1, pending_grace=0.3) as (_, (a,)):
        source = Doc()
        text = source.get("source", type=Text)
        text += "first"
        first = source.get_update()
        state = source.get_state()
        text += " second"
        second = source.get_update(state)
        now = datetime.now(timezone.utc)
        await a.store.append(DOC, [PendingUpdate(second, "x", "gone", now)])
        on_a = await a.join()
        a.edit(on_a, "A")
        room = a.rooms.open_rooms[DOC]
        await room.flush()
        await room.compact()
        loaded = await a.store.load(DOC)
        assert [u.data for u in loaded.updates][:1] == [second]
        # the missing part arrives (from another node's memory): now it folds
        room.on_bus(kinds.decode(kinds.encode(kinds.SYNC_DIFF, "n9", DOC, [first])))
        await room.compact()
        assert await a.store.log_length(DOC) == 0
        assert "first second" in await stored_text(a.store)
        # an update whose dependency never comes is quarantined after the grace period
        elsewhere = Doc()
        other = elsewhere.get("source", type=Text)
        other += "never stored"
        state = elsewhere.get_state()
        other += " orphan"
        orphan = elsewhere.get_update(state)
        await a.store.append(DOC, [PendingUpdate(orphan, "x", "gone", now)])
        await room.compact()
        assert await a.store.log_length(DOC) == 1
        await asyncio.sleep(0.35)
        await room.compact()
        assert await a.store.log_length(DOC) == 0
        db = sqlite3.connect(tmp_path / "documents.db")
        assert db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0] == 1


async def test_a_crashed_nodes_unstored_updates_are_snapshotted_by_the_others(tmp_path):
    async with cluster(tmp_path) as (_, (a, b)):
        on_a, on_b = await a.join(), await b.join("bob")
        room_a = a.rooms.open_rooms[DOC]
        room_a._writer.cancel()  # node a "crashes" before storing anything
        a.edit(on_a, "only in memory")
        await eventually(lambda: on_b.text == "only in memory")
        assert await stored_text(b.store) == ""
        # b snapshots within remote_snapshot_interval (0.5 s here)
        await eventually(lambda: b.rooms.stats.compactions > 0, what="remote snapshot")
        assert await stored_text(b.store) == "only in memory"
        room_a._pending.clear()
        room_a._drained.set()


async def test_awareness_is_relayed_and_expires_with_its_node(tmp_path):
    async with cluster(tmp_path, awareness_timeout=0.6) as (hub, (a, b)):
        on_a, on_b = await a.join("alice"), await b.join("bob")
        state = {"cursor": 3}
        a.rooms.open_rooms[DOC].receive(
            on_a, protocol.awareness_message([AwarenessEntry(1234, 1, state)])
        )
        await eventually(lambda: 1234 in on_b.awareness, what="relayed awareness")
        assert on_b.awareness[1234]["user"]["name"] == on_a.actor.awareness_user()["name"]
        # bob's client cannot take over alice's client id
        b.rooms.open_rooms[DOC].receive(
            on_b, protocol.awareness_message([AwarenessEntry(1234, 9, {"fake": True})])
        )
        await asyncio.sleep(0.05)
        assert "fake" not in on_a.awareness.get(1234, {})
        # a late joiner on b sees alice at once
        late = FakeConnection("carol")
        b.rooms.open_rooms[DOC].join(late)
        assert 1234 in late.awareness
        # node a dies silently: its entries expire on b
        hub.buses.pop("n0")
        await eventually(lambda: 1234 not in on_b.awareness, timeout=3, what="expiry")


async def test_a_closing_room_removes_its_clients_awareness_elsewhere_at_once(tmp_path):
    async with cluster(tmp_path) as (_, (a, b)):
        on_a, on_b = await a.join("alice"), await b.join("bob")
        a.rooms.open_rooms[DOC].receive(
            on_a, protocol.awareness_message([AwarenessEntry(77, 1, {"x": 1})])
        )
        await eventually(lambda: 77 in on_b.awareness)
        a.rooms.open_rooms[DOC].leave(on_a)
        await eventually(lambda: 77 not in on_b.awareness, timeout=1)


async def test_access_changes_and_deletions_travel(tmp_path):
    async with cluster(tmp_path) as (_, (a, b)):
        on_a, on_b = await a.join("alice"), await b.join("bob")
        on_b.new_role = "viewer"
        await a.rooms.access_changed(DOC)
        await eventually(lambda: on_b.closed is not None, timeout=2)
        assert on_b.closed[0] == 4403 and on_a.closed is None
        other = await b.join("carol")
        await a.rooms.document_deleted(DOC)
        await eventually(lambda: other.closed is not None, timeout=2)
        assert other.closed[0] == 4410 and on_a.closed[0] == 4410
        await eventually(lambda: DOC not in b.rooms.open_rooms)


async def test_an_outage_heals_on_reconnect(tmp_path):
    async with cluster(tmp_path) as (hub, (a, b)):
        on_a, on_b = await a.join(), await b.join("bob")
        b.bus.resync_interval = a.bus.resync_interval = 1000
        for room in (a.rooms.open_rooms[DOC], b.rooms.open_rooms[DOC]):
            room.next_resync = float("inf")
        hub.connected = False
        a.edit(on_a, "while ")
        b.edit(on_b, "down")
        await asyncio.sleep(0.1)
        assert on_a.text != on_b.text
        hub.reconnect()
        await eventually(lambda: on_a.text == on_b.text and len(on_a.text) == 10, timeout=2)
