"""The room's one permanent doc observer (issue #16): what counts as an edit (an echo does
not, a pending update does) stays right on every doc the room holds, including the doc a
repair swaps in."""

from __future__ import annotations

import asyncio
import gc
import weakref

from pycrdt import Doc, Text

from jupyter_collab_docs import protocol
from jupyter_collab_docs.rooms import DocumentRoom, clocks

from .test_room_unit import FakeConnection, document_store, edits, open_room, turn


def updates_counted(room: DocumentRoom, conn: FakeConnection) -> int:
    return room.contributions.get(conn.actor.username, {}).get("updates", 0)


def send(room: DocumentRoom, conn: FakeConnection, update: bytes) -> None:
    room.receive(conn, protocol.update_message(update))


async def test_edits_echoes_and_pending_updates_are_told_apart_across_doc_swaps(tmp_path):
    async with document_store(tmp_path) as store:
        room = await open_room(store)  # the load already swapped in the stored doc
        writer = FakeConnection("w")
        room.join(writer)
        _, updates = edits(6, seed=5)

        send(room, writer, updates[0])
        assert updates_counted(room, writer) == 1
        send(room, writer, updates[0])  # an echo adds nothing
        assert updates_counted(room, writer) == 1

        # A repair rebuilds the doc from the store and swaps it in.
        before = room.doc
        room._schedule_repair()
        for _ in range(500):
            if not room.repairing:
                break
            await asyncio.sleep(0.01)
        assert not room.repairing and room.doc is not before

        send(room, writer, updates[1])
        assert updates_counted(room, writer) == 2
        send(room, writer, updates[1])
        assert updates_counted(room, writer) == 2
        # Its dependency missing, yrs keeps updates[3] pending (no transaction reaches the
        # observer): it still adds something. Then updates[2] integrates both.
        send(room, writer, updates[3])
        assert updates_counted(room, writer) == 3
        send(room, writer, updates[2])
        assert updates_counted(room, writer) == 4
        expected: Doc = Doc()
        for update in updates[:4]:
            expected.apply_update(update)
        assert clocks(room.doc.get_state()) == clocks(expected.get_state())
        assert str(room.doc.get("source", type=Text)) == str(expected.get("source", type=Text))
        await room.close()


async def test_a_closed_room_and_its_docs_are_freed(tmp_path):
    """yrs holds the observer's callback, which holds the room and its doc: a cycle the
    garbage collector cannot see. Closing the room must unsubscribe, or every room visit
    leaks its room and doc."""
    async with document_store(tmp_path) as store:
        room = await open_room(store)
        writer = FakeConnection("w")
        room.join(writer)
        for update in edits(3, seed=7)[1]:
            send(room, writer, update)
        refs = [weakref.ref(room), weakref.ref(room.doc)]
        await room.close()
        del room
        await turn()  # the queued broadcast's handle holds the room until it runs
        gc.collect()
        assert [ref() for ref in refs] == [None, None]
