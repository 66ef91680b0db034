"""The trash in a cluster (issue #15): a document deleted through one node keeps what
another node's room had not written yet, so a restore brings back every edit."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import anyio
from pycrdt import Text

from jupyter_collab_docs.testing import eventually

from .test_local_bus import DOC, cluster, stored_text


async def test_edits_another_node_had_not_written_are_kept_in_the_trash(tmp_path):
    # A long write delay: node b holds the edit unwritten when the deletion arrives.
    async with cluster(tmp_path, write_delay=2.0) as (_, (a, b)):
        on_b = await b.join("bob")
        b.edit(on_b, "typed on b")
        room_b = b.rooms.open_rooms[DOC]
        await eventually(lambda: str(room_b.doc.get("source", type=Text)) == "typed on b")
        assert await stored_text(a.store) == ""

        # What DocumentService.delete does on node a.
        assert await a.store.trash(DOC, datetime.now(timezone.utc))
        await a.rooms.document_deleted(DOC)
        await eventually(lambda: on_b.closed is not None, timeout=2)
        assert on_b.closed[0] == 4410
        deadline = time.monotonic() + 5
        while await stored_text(a.store) != "typed on b" and time.monotonic() < deadline:
            await anyio.sleep(0.02)
        assert await a.store.restore(DOC)
        assert await stored_text(a.store) == "typed on b"
