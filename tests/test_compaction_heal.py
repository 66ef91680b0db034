"""Compaction heals the doc from the store before folding. Issue #16 skips building a
second Doc from the store when the doc already holds every record: a record the doc
lacks, even one that only deletes, must still be healed into it and then folded."""

from __future__ import annotations

from datetime import datetime, timezone

from pycrdt import Doc, Text

from jupyter_collab_docs import protocol
from jupyter_collab_docs.stores import PendingUpdate

from .test_room_unit import FakeConnection, document_store, open_room


async def test_a_stored_deletion_the_doc_lacks_is_healed_then_folded(tmp_path):
    async with document_store(tmp_path) as store:
        room = await open_room(store, compact_threshold=10**9)
        writer = FakeConnection("w")
        room.join(writer)
        # Another server on the same store: it holds the same text and deletes from it.
        other: Doc = Doc()
        text = other.get("source", type=Text)
        made: list[bytes] = []
        other.observe(lambda event: made.append(event.update))
        text += "hello world"
        room.receive(writer, protocol.update_message(made[-1]))
        await room.flush()
        del text[0:6]
        deletion = made[-1]
        assert deletion[:1] == b"\x00"  # no structs: a deletion only
        now = datetime.now(timezone.utc)
        await store.append("d1", [PendingUpdate(deletion, "other", "elsewhere", now)])
        assert str(room.doc.get("source", type=Text)) == "hello world"

        await room.compact()

        assert str(room.doc.get("source", type=Text)) == "world"
        loaded = await store.load("d1")
        assert loaded.updates == []
        rebuilt: Doc = Doc()
        rebuilt.apply_update(loaded.snapshot.data)
        assert str(rebuilt.get("source", type=Text)) == "world"
        await room.close()
