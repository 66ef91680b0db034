"""A join to an open room takes the record its last join read (issue #16, joins): no
store hop, while deleting the document, the re-check and REST still read the store."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_collab_docs.testing import RawClient


@pytest.fixture
def store_gets(collab: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    get = collab.store.get

    async def counted(doc_id: str) -> Any:
        calls.append(doc_id)
        return await get(doc_id)

    monkeypatch.setattr(collab.store, "get", counted)
    return calls


async def join(url: str) -> RawClient:
    socket = await RawClient.connect(url)
    assert await socket.recv() is not None  # joined: the server's sync step 1
    return socket


async def test_joins_to_an_open_room_read_the_record_once(
    api: Any, ws_url: Any, collab: Any, store_gets: list[str]
) -> None:
    doc_id = (await api("alice", "POST", "documents", {"name": "d", "type": "file"})).body["id"]
    first = await join(ws_url(doc_id, "alice"))  # loads the room: nothing remembered yet
    second = await join(ws_url(doc_id, "alice"))
    before = len(store_gets)
    third = await join(ws_url(doc_id, "alice"))
    assert len(store_gets) == before  # no store hop
    assert (await api("alice", "GET", f"documents/{doc_id}")).status == 200
    assert len(store_gets) == before + 1  # REST reads the store
    await collab.rooms.revalidate(doc_id)
    assert len(store_gets) == before + 2  # and so does the re-check (one for the three:
    # sockets of one identity share their look-ups within a pass, rooms/recheck.py)
    for socket in (first, second, third):
        socket.close()


async def test_a_record_trashed_elsewhere_answers_joins_only_within_the_window(
    api: Any, ws_url: Any, collab: Any, store_gets: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process (the CLI) trashed it and the room here has not heard: the
    remembered record is used for at most the window, then the store says 404."""
    doc_id = (await api("alice", "POST", "documents", {"name": "d", "type": "file"})).body["id"]
    sockets = [await join(ws_url(doc_id, "alice")) for _ in range(2)]  # record remembered
    monkeypatch.setattr(collab.documents, "LIVE_RECORD_SECONDS", 0.0)
    assert await collab.store.trash(doc_id, collab.documents.clock())
    late = await RawClient.connect(ws_url(doc_id, "alice"))
    assert await late.closed() == 4404
    for socket in sockets:
        socket.close()


async def test_delete_forgets_the_record_before_the_trash(
    api: Any, ws_url: Any, collab: Any, store_gets: list[str]
) -> None:
    doc_id = (await api("alice", "POST", "documents", {"name": "d", "type": "file"})).body["id"]
    sockets = [await join(ws_url(doc_id, "alice")) for _ in range(2)]
    room = collab.rooms.open_rooms[doc_id]
    assert room in collab.documents._live_records
    assert (await api("alice", "DELETE", f"documents/{doc_id}")).status == 204
    assert room not in collab.documents._live_records
    assert doc_id not in collab.rooms.open_rooms
    late = await RawClient.connect(ws_url(doc_id, "alice"))
    assert await late.closed() == 4404
    for socket in sockets:
        assert await socket.closed() == 4410
