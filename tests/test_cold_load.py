"""Cold load of a large stored document: the update guard reads each stored record once
per process (a verified digest), never less: a record with other bytes is read again,
and a poisoned one is still quarantined."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

from pycrdt import Doc, Text

from jupyter_collab_docs import update_guard
from jupyter_collab_docs.rooms import RoomConfig, RoomManager
from jupyter_collab_docs.stores import DocumentRecord, PendingUpdate
from jupyter_collab_docs.stores.sqlite import SQLiteDocumentStore

from . import yjs_forge as forge

LARGE = 300_000  # bytes of text: past the size from which digests are kept


def large_state(seed: str) -> bytes:
    doc = Doc()
    doc.get("source", type=Text).insert(0, (seed * LARGE)[:LARGE])
    return doc.get_update()


def count_guard_reads(monkeypatch) -> list[int]:
    """The sizes of the updates the guard parses."""
    sizes: list[int] = []

    parse = update_guard._inspect

    def counting_parse(data: bytes, limits: update_guard.UpdateLimits) -> update_guard.UpdateShape:
        sizes.append(len(data))
        return parse(data, limits)

    monkeypatch.setattr(update_guard, "_inspect", counting_parse)
    return sizes


async def test_a_reopened_large_document_is_not_parsed_again(tmp_path, monkeypatch):
    store = SQLiteDocumentStore(tmp_path / "documents.db")
    await store.start()
    now = datetime.now(timezone.utc)
    await store.create(DocumentRecord("big", "big", "file", "alice", now, now), large_state("a"))
    manager = RoomManager(store, RoomConfig(write_delay=0.01))
    reads = count_guard_reads(monkeypatch)
    try:
        room = await manager.get("big", "file")
        text = str(room.doc.get("source", type=Text))
        assert len(text) == LARGE
        assert [size for size in reads if size > LARGE] != []  # the first load reads it
        await manager.evict("big", force=True)
        reads.clear()

        room = await manager.get("big", "file")  # the same stored bytes: not read again
        assert str(room.doc.get("source", type=Text)) == text
        assert [size for size in reads if size > LARGE] == []

        # Other bytes (a new snapshot after an edit and a compaction) are read again.
        edit = Doc()
        edit.apply_update(room.doc.get_update())
        edit.get("source", type=Text).insert(0, "b")
        room.apply_server_update(edit.get_update(room.doc.get_state()), "alice")
        await room.flush()
        await manager.evict("big", force=True)
        reads.clear()
        room = await manager.get("big", "file")
        assert str(room.doc.get("source", type=Text)) == "b" + text
        assert [size for size in reads if size > LARGE] != []
    finally:
        await manager.close()
        await store.close()


async def test_a_poisoned_large_record_is_quarantined_on_every_load(tmp_path):
    store = SQLiteDocumentStore(tmp_path / "documents.db")
    await store.start()
    now = datetime.now(timezone.utc)
    await store.create(DocumentRecord("big", "big", "file", "alice", now, now), large_state("a"))
    manager = RoomManager(store, RoomConfig(write_delay=0.01))
    # Large (a long text first) and nested 1,000 levels deep, past max_update_depth.
    poison = forge.update(
        7,
        [
            bytes([0x04]) + forge._root("pad") + forge.var_string("p" * LARGE),
            bytes([0x08]) + forge._root("deep") + b"\x01" + forge.nested_arrays(1000),
        ],
    )
    try:
        for attempt in range(2):  # a refusal is never remembered as a pass
            await store.append("big", [PendingUpdate(poison, "mallory", "n", now)])
            room = await manager.get("big", "file")
            assert len(str(room.doc.get("source", type=Text))) == LARGE
            assert str(room.doc.get("pad", type=Text)) == ""
            await manager.evict("big", force=True)
            assert (await store.load("big")).updates == []
            rows = sqlite3.connect(tmp_path / "documents.db").execute(
                "SELECT count(*) FROM quarantine"
            )
            assert rows.fetchone()[0] == attempt + 1
    finally:
        await manager.close()
        await store.close()


def test_the_first_room_of_a_process_pays_no_import():
    """pycrdt's first Doc in a loop imports anyio's asyncio backend (~20 ms, inside the
    first join after a start): the manager pays it when it starts."""
    code = (
        "import asyncio, sys\n"
        "from jupyter_collab_docs.rooms import RoomConfig, RoomManager\n"
        "async def main():\n"
        "    manager = RoomManager(None, RoomConfig())\n"
        "    loaded = 'anyio._backends._asyncio' in sys.modules\n"
        "    manager.start()\n"
        "    print(loaded, 'anyio._backends._asyncio' in sys.modules)\n"
        "    await manager.close()\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == ["False", "True"]
