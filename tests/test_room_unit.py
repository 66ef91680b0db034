"""DocumentRoom without sockets: read-only filtering, broadcast batching, awareness
binding, the write backlog bound, and a long seeded fuzz loop."""

from __future__ import annotations

import asyncio
import random
from contextlib import asynccontextmanager
from datetime import datetime, timezone

from pycrdt import Doc, Text

from jupyter_collab_docs import protocol
from jupyter_collab_docs.identity import Actor
from jupyter_collab_docs.protocol import AwarenessEntry, ProtocolError
from jupyter_collab_docs.rooms import DocumentRoom, RoomConfig, RoomManager, clocks, is_fatal
from jupyter_collab_docs.stores import DocumentRecord
from jupyter_collab_docs.stores.sqlite import SQLiteDocumentStore


class FakeConnection:
    def __init__(self, name: str, can_write: bool = True) -> None:
        self.actor = Actor.create(name)
        self.can_write = can_write
        self.sent: list[bytes] = []
        self.closed: tuple[int, str] | None = None

    def send(self, message: bytes) -> None:
        self.sent.append(message)

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def frames(self, kind: int, step: int | None = None) -> list[protocol.Frame]:
        parsed = [protocol.parse_frame(m) for m in self.sent]
        return [f for f in parsed if f.kind == kind and (step is None or f.step == step)]


def edits(n: int, seed: int = 1) -> tuple[Doc, list[bytes]]:
    doc = Doc()
    text = doc.get("source", type=Text)
    updates: list[bytes] = []
    doc.observe(lambda e: updates.append(e.update))
    rng = random.Random(seed)
    for _ in range(n):
        text.insert(rng.randrange(len(text) + 1), rng.choice("abcdef"))
    return doc, updates


@asynccontextmanager
async def document_store(tmp_path):
    """A started SQLite store holding one empty file document, "d1"."""
    store = SQLiteDocumentStore(tmp_path / "documents.db")
    await store.start()
    now = datetime.now(timezone.utc)
    await store.create(DocumentRecord("d1", "doc", "file", "alice", now, now), None)
    try:
        yield store
    finally:
        await store.close()


async def open_room(store, **config) -> DocumentRoom:
    room = DocumentRoom("d1", "file", store, RoomConfig(write_delay=0.01, **config))
    await room.load()
    return room


async def turn() -> None:
    """Let the loop run the room's once-per-turn broadcast."""
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_join_sends_step1_first(tmp_path):
    async with document_store(tmp_path) as store:
        room = await open_room(store)
        conn = FakeConnection("alice")
        room.join(conn)
        first = protocol.parse_frame(conn.sent[0])
        assert (first.kind, first.step) == (protocol.MESSAGE_SYNC, protocol.SYNC_STEP1)
        await room.close()


async def test_updates_from_read_only_sockets_are_dropped(tmp_path):
    async with document_store(tmp_path) as store:
        room = await open_room(store)
        viewer, editor = FakeConnection("vera", can_write=False), FakeConnection("ed")
        room.join(viewer)
        room.join(editor)
        _, updates = edits(3)
        for update in updates:
            room.receive(viewer, protocol.update_message(update))
            room.receive(viewer, protocol.sync_step2(update))
        await turn()
        assert str(room.doc.get("source", type=Text)) == ""
        assert editor.frames(protocol.MESSAGE_SYNC, protocol.SYNC_UPDATE) == []
        assert room.backlog_bytes == 0
        # a viewer still gets the document: its step 1 is answered
        room.apply_server_update(updates[0], "ed")
        room.receive(viewer, protocol.sync_step1(Doc().get_state()))
        step2 = viewer.frames(protocol.MESSAGE_SYNC, protocol.SYNC_STEP2)[-1]
        check = Doc()
        check.apply_update(step2.payload)
        assert str(check.get("source", type=Text)) == str(room.doc.get("source", type=Text))
        await room.close()
        assert await store.log_length("d1") == 0  # folded into the snapshot on close
        loaded = await store.load("d1")
        assert loaded.snapshot is not None


async def test_one_turn_of_updates_is_merged_and_framed_once(tmp_path):
    async with document_store(tmp_path) as store:
        room = await open_room(store)
        writer, watchers = FakeConnection("w"), [FakeConnection(f"o{i}") for i in range(3)]
        for conn in [writer, *watchers]:
            room.join(conn)
        source, updates = edits(20)
        for update in updates:
            room.receive(writer, protocol.update_message(update))
        await turn()
        for watcher in watchers:
            got = watcher.frames(protocol.MESSAGE_SYNC, protocol.SYNC_UPDATE)
            assert len(got) == 1  # twenty updates, one message
            check = Doc()
            check.apply_update(got[0].payload)
            assert str(check.get("source", type=Text)) == str(source.get("source", type=Text))
        # the same bytes object went to every watcher: encoded once
        sent = {id(w.sent[-1]) for w in watchers}
        assert len(sent) == 1
        # the sender does not get its own updates back
        assert writer.frames(protocol.MESSAGE_SYNC, protocol.SYNC_UPDATE) == []
        await room.close()


async def test_awareness_binds_client_ids_to_their_connection(tmp_path):
    async with document_store(tmp_path) as store:
        room = await open_room(store, max_client_ids=2)
        a, b = FakeConnection("alice"), FakeConnection("bob")
        room.join(a)
        room.join(b)
        room.receive(a, protocol.awareness_message([AwarenessEntry(1, 1, {"user": "x"})]))
        room.receive(b, protocol.awareness_message([AwarenessEntry(1, 2, {"user": "y"})]))
        room.receive(
            a, protocol.awareness_message([AwarenessEntry(2, 1, {}), AwarenessEntry(3, 1, {})])
        )
        await turn()
        states = {}
        for frame in b.frames(protocol.MESSAGE_AWARENESS):
            for entry in protocol.decode_awareness(frame.payload):
                states[entry.client_id] = entry
        assert set(states) == {1, 2}  # id 3 is past alice's limit of two ids
        assert states[1].clock == 1 and states[1].state["user"]["name"] == "alice"
        room.leave(a)
        removed = protocol.decode_awareness(b.frames(protocol.MESSAGE_AWARENESS)[-1].payload)
        assert sorted((e.client_id, e.state) for e in removed) == [(1, None), (2, None)]
        await room.close()


async def test_write_backlog_is_bounded(tmp_path, monkeypatch):
    async with document_store(tmp_path) as store:
        room = await open_room(store, max_pending_bytes=200)
        gate = asyncio.Event()
        real_append = store.append

        async def stuck_append(doc_id, updates):
            await gate.wait()
            return await real_append(doc_id, updates)

        monkeypatch.setattr(store, "append", stuck_append)
        writer = FakeConnection("w")
        room.join(writer)
        _, updates = edits(200)
        for update in updates:
            if writer.closed:
                break
            room.receive(writer, protocol.update_message(update))
        assert writer.closed is not None and writer.closed[0] == 4429
        accepted = room.backlog_updates
        assert 0 < accepted < 200
        gate.set()
        await room.flush()
        assert room.backlog_bytes == 0
        assert await store.log_length("d1") == accepted
        await room.close()


async def test_compaction_keeps_content_and_shrinks_the_log(tmp_path):
    async with document_store(tmp_path) as store:
        room = await open_room(store, compact_threshold=10**9)
        writer = FakeConnection("w")
        room.join(writer)
        source, updates = edits(2000, seed=5)
        for update in updates:
            room.receive(writer, protocol.update_message(update))
        await room.flush()
        before_rows = await store.log_length("d1")
        before_bytes = sum(len(u) for u in updates)
        expected = str(source.get("source", type=Text))
        await room.compact()
        assert before_rows == 2000
        assert await store.log_length("d1") == 0
        loaded = await store.load("d1")
        assert loaded.updates == []
        assert len(loaded.snapshot.data) < before_bytes
        check = Doc()
        check.apply_update(loaded.snapshot.data)
        assert str(check.get("source", type=Text)) == expected
        await room.close()


async def test_log_threshold_triggers_compaction(tmp_path):
    async with document_store(tmp_path) as store:
        room = await open_room(store, compact_threshold=50)
        writer = FakeConnection("w")
        room.join(writer)
        _, updates = edits(120, seed=9)
        for update in updates:
            room.receive(writer, protocol.update_message(update))
            await asyncio.sleep(0)
        await room.flush()
        for _ in range(100):
            if (await store.load("d1")).snapshot is not None:
                break
            await asyncio.sleep(0.02)
        assert (await store.load("d1")).snapshot is not None
        assert await store.log_length("d1") < 120
        await room.close()


async def test_seeded_fuzz_of_thousands_of_frames(tmp_path):
    """Random and mutated frames: each either works or raises an error the handler turns
    into closing that socket; the room keeps serving honest clients."""
    async with document_store(tmp_path) as store:
        room = await open_room(store)
        fuzzer, honest, watcher = FakeConnection("f"), FakeConnection("h"), FakeConnection("o")
        for conn in (fuzzer, honest, watcher):
            room.join(conn)
        source, updates = edits(40, seed=3)
        templates = [protocol.update_message(u) for u in updates] + [
            protocol.sync_step2(source.get_update()),
            protocol.sync_step1(source.get_state()),
            protocol.awareness_message([AwarenessEntry(7, 1, {"cursor": [1, 2]})]),
            bytes([protocol.MESSAGE_QUERY_AWARENESS]),
        ]
        rng = random.Random(20261126)
        outcomes = {"ok": 0, "protocol": 0, "apply": 0}
        for _ in range(4000):
            frame = bytearray(rng.choice(templates))
            mode = rng.random()
            if mode < 0.2:
                frame = bytearray(rng.randbytes(rng.randrange(1, 64)))
            elif mode < 0.9:
                for _ in range(rng.randrange(1, 5)):
                    frame[rng.randrange(len(frame))] = rng.randrange(256)
            else:
                del frame[rng.randrange(len(frame)) :]
            try:
                room.receive(fuzzer, bytes(frame) or b"\x00")
                outcomes["ok"] += 1
            except ProtocolError:
                outcomes["protocol"] += 1
            except BaseException as exc:
                assert not is_fatal(exc)
                outcomes["apply"] += 1
        assert outcomes["protocol"] > 100 and outcomes["ok"] > 100
        # the room still works for honest clients
        _, honest_updates = edits(10, seed=11)
        for update in honest_updates:
            room.receive(honest, protocol.update_message(update))
        await turn()
        assert watcher.frames(protocol.MESSAGE_SYNC, protocol.SYNC_UPDATE)
        assert outcomes["apply"] > 0 and room.repairing
        for _ in range(500):
            if not room.repairing:
                break
            await asyncio.sleep(0.01)
        assert not room.repairing
        await room.flush()
        await room.close()
        # and whatever was accepted reloads into the same state
        reloaded = await open_room(store)
        assert clocks(reloaded.doc.get_state()) == clocks(room.doc.get_state())
        await reloaded.close()


async def test_manager_opens_one_room_for_simultaneous_gets(tmp_path):
    async with document_store(tmp_path) as store:
        manager = RoomManager(store, RoomConfig(write_delay=0.01))
        rooms = await asyncio.gather(*(manager.get("d1", "file") for _ in range(10)))
        assert len({id(r) for r in rooms}) == 1
        await manager.close()


async def test_eviction_persists_and_a_racing_get_reloads_everything(tmp_path):
    async with document_store(tmp_path) as store:
        manager = RoomManager(store, RoomConfig(write_delay=0.01))
        room = await manager.get("d1", "file")
        writer = FakeConnection("w")
        room.join(writer)
        source, updates = edits(50, seed=4)
        for update in updates:
            room.receive(writer, protocol.update_message(update))
        room.leave(writer)
        evicting = asyncio.create_task(manager.evict("d1"))
        await asyncio.sleep(0)  # eviction holds the lock and is flushing
        again = await manager.get("d1", "file")
        await evicting
        assert again is not room and room.closed
        assert str(again.doc.get("source", type=Text)) == str(source.get("source", type=Text))
        await manager.close()
        assert manager.open_rooms == {} and manager._locks == {}


async def test_idle_rooms_are_evicted_and_nothing_outlives_them(tmp_path):
    async with document_store(tmp_path) as store:
        manager = RoomManager(store, RoomConfig(write_delay=0.01, idle_timeout=0.2))
        manager.start()
        room = await manager.get("d1", "file")
        conn = FakeConnection("w")
        room.join(conn)
        room.receive(conn, protocol.update_message(edits(3)[1][0]))
        room.leave(conn)
        for _ in range(100):
            if not manager.open_rooms and room.writer_stopped:
                break
            await asyncio.sleep(0.02)
        assert manager.open_rooms == {}
        assert room.closed and room.writer_stopped
        assert await store.log_length("d1") == 0 and (await store.load("d1")).snapshot
        await manager.close()
