"""Comments with real clients: anchors that follow the concurrent edits of pycrdt clients
over real sockets (and positions those clients make themselves, as Yjs clients do), and
comment events reaching another socket on the document at once."""

from __future__ import annotations

import base64
import json
from typing import Any

import anyio
from pycrdt import Array, Assoc, Map, StickyIndex, Text

from jupyter_collab_docs.comments import MESSAGE_COMMENTS
from jupyter_collab_docs.protocol import Reader, sync_step1
from jupyter_collab_docs.testing import RawClient, eventually, yclient
from tests.notebooks import cell, notebook


async def new_text(api, content: str) -> str:
    reply = await api(
        "alice", "POST", "documents", {"name": "T", "type": "file", "content": content}
    )
    assert reply.status == 201
    return reply.body["id"]


async def server_text(api, doc_id: str) -> str:
    return (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]


def b64(position: StickyIndex) -> str:
    return base64.b64encode(position.encode()).decode()


async def test_anchors_follow_concurrent_edits(api, ws_url):
    doc_id = await new_text(api, "hello world")
    await api("alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "editor"})
    threads = f"documents/{doc_id}/threads"
    async with yclient(ws_url(doc_id, "alice")) as alice, yclient(ws_url(doc_id, "bob")) as bob:
        await eventually(lambda: str(alice.text) == str(bob.text) == "hello world")
        # one thread placed by the server (index, length), one by the client's own positions
        by_index = await api(
            "alice",
            "POST",
            threads,
            {"anchor": {"kind": "text", "index": 6, "length": 5}, "body": "w"},
        )
        assert by_index.status == 201, by_index.body
        start = StickyIndex.new(alice.text, 0, Assoc.AFTER)
        end = StickyIndex.new(alice.text, 5, Assoc.BEFORE)
        anchor = {"kind": "text", "start": b64(start), "end": b64(end)}
        by_client = await api("bob", "POST", threads, {"anchor": anchor, "body": "h"})
        assert by_client.status == 201, by_client.body
        assert by_client.body["quote"] == "hello"
        assert by_client.body["anchor"] == anchor  # stored as the client encoded it

        # both clients edit at once, before either sees the other's change
        alice.text.insert(6, "big ")  # inside the gap between the two ranges
        bob.text.insert(0, ">> ")
        bob.text.insert(len(bob.text), "!")
        expected = ">> hello big world!"
        await eventually(lambda: str(alice.text) == str(bob.text) == expected, what="converged")
        text = await server_text(api, doc_id)
        assert text == expected

        listed = (await api("alice", "GET", threads)).body["threads"]
        spans = [text[t["position"]["start"] : t["position"]["end"]] for t in listed]
        assert spans == ["world", "hello"]
        # the client's own positions resolve where the server says
        assert (start.get_index(), end.get_index()) == (
            listed[1]["position"]["start"],
            listed[1]["position"]["end"],
        )

        # the anchored text goes: the thread stays, detached, with its quote
        at = str(bob.text).index("world")
        del bob.text[at : at + len("world")]
        await eventually(lambda: "world" not in str(alice.text), what="deletion seen")
        await eventually(lambda: str(alice.text) == ">> hello big !")
        assert await server_text(api, doc_id) == ">> hello big !"
        thread = (await api("alice", "GET", f"{threads}/{by_index.body['id']}")).body
        assert thread["position"] == {
            "attached": False,
            "start": None,
            "end": None,
            "cell_index": None,
        }
        assert thread["quote"] == "world"
        # a partly deleted range stays attached, shrunk to what is left
        at = str(alice.text).index("hello")
        del alice.text[at : at + 2]  # "he"
        # (bob sees alice's deletion once the server applied it)
        await eventually(lambda: str(bob.text) == ">> llo big !")
        assert await _span_is(api, threads, by_client.body["id"], "llo")


async def _span_is(api, threads: str, thread_id: str, wanted: str) -> bool:
    thread = (await api("alice", "GET", f"{threads}/{thread_id}")).body
    text = (await api("alice", "GET", threads.replace("/threads", "/content"))).body["content"]
    position = thread["position"]
    return bool(position["attached"]) and text[position["start"] : position["end"]] == wanted


def comment_event(frame: bytes) -> dict[str, Any] | None:
    reader = Reader(frame)
    if reader.var_uint() != MESSAGE_COMMENTS:
        return None
    return json.loads(reader.var_string())


async def next_event(client: RawClient) -> dict[str, Any]:
    while True:
        frame = await client.recv()
        assert frame is not None, "socket closed"
        event = comment_event(frame)
        if event is not None:
            return event


def without_notifications(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key != "notifications"}


async def test_events_reach_other_sockets_at_once(api, ws_url, collab, tokens):
    tokens["dave"] = collab.users.add("dave")
    doc_id = await new_text(api, "hello world")
    await api("alice", "PUT", f"documents/{doc_id}/shares/user:dave", {"role": "viewer"})
    threads = f"documents/{doc_id}/threads"
    watcher = await RawClient.connect(ws_url(doc_id, "dave") + "&comments=1")
    plain = await RawClient.connect(ws_url(doc_id, "dave"))
    try:
        assert (await watcher.recv())[0] == 0  # sync step 1 first: the socket has joined
        assert (await plain.recv())[0] == 0
        created = await api(
            "alice",
            "POST",
            threads,
            {"anchor": {"kind": "text", "index": 0, "length": 5}, "body": "hi @dave"},
        )
        thread_id = created.body["id"]
        # whom a mention told is the commenter's alone (docs/comments.md): the answer
        # carries it, the event every reader gets does not; the rest is the same thread
        assert created.body["notifications"]["notified"] == ["dave"]
        event = await next_event(watcher)
        assert event == {
            "type": "comments",
            "event": "thread.created",
            "document_id": doc_id,
            "thread_id": thread_id,
            "thread": without_notifications(created.body),
        }
        replied = await api("alice", "POST", f"{threads}/{thread_id}/comments", {"body": "more"})
        event = await next_event(watcher)
        assert (event["event"], event["thread"]) == (
            "thread.updated",
            without_notifications(replied.body),
        )
        await api("alice", "PATCH", f"{threads}/{thread_id}", {"resolved": True})
        event = await next_event(watcher)
        assert (event["event"], event["thread"]["resolved"]) == ("thread.updated", True)
        assert (await api("alice", "DELETE", f"{threads}/{thread_id}")).status == 204
        event = await next_event(watcher)
        assert event == {
            "type": "comments",
            "event": "thread.deleted",
            "document_id": doc_id,
            "thread_id": thread_id,
            "thread": None,
        }

        # a socket that did not ask gets no comment frames: everything sent to it before
        # the answer to its sync step 1 is plain y-websocket
        await plain.send(sync_step1(b"\x00"))
        while True:
            frame = await plain.recv()
            assert frame is not None
            assert comment_event(frame) is None
            if frame[:2] == b"\x00\x01":  # sync step 2: the answer
                break
    finally:
        watcher.close()
        plain.close()


async def test_a_cell_moved_by_a_client_detaches_its_ranges_quietly(api, ws_url, capfd):
    """JupyterLab moves a cell by deleting it and inserting a copy under the same id: a
    range in the old source is gone (detached), the cell thread follows the id, and
    resolving never reaches into the collected cell (pycrdt panics there)."""
    nb = notebook(cell("m1", "# T", "markdown"), cell("c2", "x = 1\ny = 2"))
    reply = await api(
        "alice", "POST", "documents", {"name": "N", "type": "notebook", "content": nb}
    )
    doc_id = reply.body["id"]
    threads = f"documents/{doc_id}/threads"
    cell_range = {"kind": "cell_range", "cell_id": "c2", "index": 6, "length": 5}
    on_range = (await api("alice", "POST", threads, {"anchor": cell_range, "body": "r"})).body
    on_cell = (
        await api(
            "alice", "POST", threads, {"anchor": {"kind": "cell", "cell_id": "c2"}, "body": "c"}
        )
    ).body
    assert on_range["position"]["attached"] and on_cell["position"]["cell_index"] == 1

    async with yclient(ws_url(doc_id, "alice")) as client:
        cells = client.doc.get("cells", type=Array)
        await eventually(lambda: len(cells) == 2, what="synced")
        with client.doc.transaction():
            old = cells[1]
            copy = Map(
                {
                    "id": "c2",
                    "cell_type": "code",
                    "source": Text(str(old["source"])),
                    "metadata": Map(),
                    "outputs": Array(),
                    "execution_count": None,
                }
            )
            del cells[1]
            cells.insert(0, copy)

        async def moved() -> bool:
            listed = (await api("alice", "GET", threads)).body["threads"]
            return [t["position"]["cell_index"] for t in listed] == [None, 0]

        for _ in range(100):  # until the server applied the move
            if await moved():
                break
            await anyio.sleep(0.05)
        listed = (await api("alice", "GET", threads)).body["threads"]
    assert [(t["id"], t["position"]["attached"]) for t in listed] == [
        (on_range["id"], False),
        (on_cell["id"], True),
    ]
    assert listed[0]["quote"] == "y = 2"
    assert "panicked" not in capfd.readouterr().err
