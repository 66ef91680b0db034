"""The store path of many rooms: the rooms with pending updates at a write tick reach the
SQLite store's thread in one hand-off, and its answer wakes the event loop once; the
updates are durable when flush returns. A real SQLite store, in process."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from pycrdt import Doc, Text

from jupyter_collab_docs.rooms import RoomConfig, RoomManager
from jupyter_collab_docs.rooms.persistence import _until_next_tick
from jupyter_collab_docs.stores import DocumentRecord
from jupyter_collab_docs.stores.sqlite import SQLiteDocumentStore

ROOMS = 60
TICK = 0.5  # write_delay: long, so that the whole test's updates fall in one tick


async def test_many_rooms_pending_in_one_tick_cost_one_hand_off(tmp_path, monkeypatch):
    store = SQLiteDocumentStore(tmp_path / "documents.db")
    await store.start()
    now = datetime.now(timezone.utc)
    for i in range(ROOMS):
        await store.create(DocumentRecord(f"d{i}", f"d{i}", "file", "alice", now, now), None)
    manager = RoomManager(store, RoomConfig(write_delay=TICK))
    rooms = [await manager.get(f"d{i}", "file") for i in range(ROOMS)]
    loop = asyncio.get_running_loop()
    hand_offs, wake_ups = 0, 0
    submit, wake = store._executor.submit, loop.call_soon_threadsafe

    def counting_submit(*args, **kwargs):
        nonlocal hand_offs
        hand_offs += 1
        return submit(*args, **kwargs)

    def counting_wake(*args, **kwargs):
        nonlocal wake_ups
        wake_ups += 1
        return wake(*args, **kwargs)

    monkeypatch.setattr(store._executor, "submit", counting_submit)
    monkeypatch.setattr(loop, "call_soon_threadsafe", counting_wake)
    try:
        await _until_next_tick(TICK)  # a tick just passed: the next is TICK away
        for i, room in enumerate(rooms):
            edit = Doc()
            edit.get("source", type=Text).insert(0, f"room {i}")
            room.apply_server_update(edit.get_update(), "alice")
            await asyncio.sleep(0)  # each room's update in a loop turn of its own
        await asyncio.gather(*(room.flush() for room in rooms))
        assert (hand_offs, wake_ups) == (1, 1)
        loaded = await store.load("d7")
        assert [len(u.data) > 0 for u in loaded.updates] == [True]
    finally:
        monkeypatch.undo()
        await manager.close()
        await store.close()
