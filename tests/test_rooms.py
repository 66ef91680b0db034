"""Rooms over real sockets: convergence, awareness, close codes, races, size caps."""

from __future__ import annotations

import json
import random

import anyio
import nbformat
import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc, Text

from jupyter_collab_docs import protocol
from jupyter_collab_docs.protocol import AwarenessEntry
from jupyter_collab_docs.testing import RawClient, eventually, yclient


async def new_doc(api, user="alice", doc_type="file", content=None):
    body = {"name": "doc", "type": doc_type}
    if content is not None:
        body["content"] = content
    reply = await api(user, "POST", "documents", body)
    assert reply.status == 201, reply.body
    return reply.body["id"]


async def test_two_clients_converge_on_concurrent_text_edits(api, ws_url):
    doc_id = await new_doc(api, content="start")
    async with yclient(ws_url(doc_id)) as a, yclient(ws_url(doc_id)) as b:
        await eventually(lambda: str(a.text) == str(b.text) == "start", what="initial sync")
        rng = random.Random(7)
        for i in range(200):
            client = a if i % 2 else b
            text = client.text
            text.insert(rng.randrange(len(text) + 1), "ab"[i % 2])
            if i % 10 == 0:
                await anyio.sleep(0)
        await eventually(lambda: str(a.text) == str(b.text) and len(str(a.text)) == 205)
        final = str(a.text)
    assert sorted(final) == sorted("start" + "ab" * 100)
    content = (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]
    assert content == final


async def test_two_clients_converge_on_a_notebook(api, ws_url):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", id="first")])
    doc_id = await new_doc(api, doc_type="notebook", content=nb)
    async with yclient(ws_url(doc_id)) as a, yclient(ws_url(doc_id)) as b:
        await eventually(lambda: len(a.doc.get("cells", type=__import__("pycrdt").Array)) == 1)
        await eventually(lambda: len(b.doc.get("cells", type=__import__("pycrdt").Array)) == 1)
        na, nb_ = YNotebook(a.doc), YNotebook(b.doc)
        na.append_cell({"cell_type": "markdown", "source": "# from a", "metadata": {}, "id": "a1"})
        nb_.append_cell(
            {
                "cell_type": "code",
                "source": "print('b')",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "id": "b1",
            }
        )
        source = na.ycells[0]["source"]
        source.insert(len(source), "\ny = 2")
        await eventually(lambda: na.get() == nb_.get() and len(na.get()["cells"]) == 3)
        expected = na.get()
    content = (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]
    assert [c["source"] for c in content["cells"]] == [c["source"] for c in expected["cells"]]
    assert content["cells"][0]["source"] == "x = 1\ny = 2"
    nbformat.validate(nbformat.from_dict(content))


async def test_rest_replace_is_seen_live(api, ws_url):
    doc_id = await new_doc(api, content="before")
    async with yclient(ws_url(doc_id)) as a:
        await eventually(lambda: str(a.text) == "before")
        reply = await api("alice", "PUT", f"documents/{doc_id}/content", {"content": "after it"})
        assert reply.status == 200
        await eventually(lambda: str(a.text) == "after it", what="live REST change")


async def test_awareness_is_relayed_with_the_server_identity(api, ws_url):
    doc_id = await new_doc(api)
    writer = await RawClient.connect(ws_url(doc_id))
    watcher = await RawClient.connect(ws_url(doc_id, "carol"))
    try:
        fake = {"user": {"name": "mallory", "color": "#000"}, "cursor": {"x": 1}}
        await writer.send(protocol.awareness_message([AwarenessEntry(1234, 1, fake)]))
        seen = None
        while seen is None:
            frame = protocol.parse_frame(await watcher.recv())
            if frame.kind == protocol.MESSAGE_AWARENESS:
                seen = protocol.decode_awareness(frame.payload)
        assert [(e.client_id, e.clock) for e in seen] == [(1234, 1)]
        assert seen[0].state["cursor"] == {"x": 1}
        assert seen[0].state["user"]["name"] == "alice"
        assert seen[0].state["user"]["display_name"] == "Alice Liddell"
        # carol cannot speak for alice's client id
        spoof = {"user": {"name": "alice"}, "cursor": {"x": 99}}
        await watcher.send(protocol.awareness_message([AwarenessEntry(1234, 5, spoof)]))
        await watcher.send(bytes([protocol.MESSAGE_QUERY_AWARENESS]))
        states = None
        while states is None:
            frame = protocol.parse_frame(await watcher.recv())
            if frame.kind == protocol.MESSAGE_AWARENESS:
                states = protocol.decode_awareness(frame.payload)
        assert [(e.client_id, e.clock, e.state["cursor"]) for e in states] == [(1234, 1, {"x": 1})]
        # when alice leaves, the others see her state removed
        writer.close()
        removed = None
        while removed is None:
            frame = protocol.parse_frame(await watcher.recv())
            if frame.kind == protocol.MESSAGE_AWARENESS:
                removed = protocol.decode_awareness(frame.payload)
        assert [(e.client_id, e.state) for e in removed] == [(1234, None)]
    finally:
        writer.close()
        watcher.close()


async def test_first_frame_is_the_handshake_even_while_others_type(api, ws_url):
    doc_id = await new_doc(api)
    async with yclient(ws_url(doc_id)) as typist:
        await anyio.sleep(0.1)
        for round_ in range(20):
            typist.text.insert(0, "x")
            late = await RawClient.connect(ws_url(doc_id, "carol"))
            typist.text.insert(0, "y")
            first = protocol.parse_frame(await late.recv())
            assert (first.kind, first.step) == (protocol.MESSAGE_SYNC, protocol.SYNC_STEP1), round_
            late.close()


async def test_simultaneous_joins_of_a_new_room_all_receive_every_update(
    api, ws_url, collab, monkeypatch
):
    doc_id = await new_doc(api)
    assert doc_id not in collab.rooms.open_rooms
    loads = []
    real_load = collab.store.load

    async def slow_counting_load(doc):
        loads.append(doc)
        await anyio.sleep(0.2)  # widen the window in which the other sockets arrive
        return await real_load(doc)

    monkeypatch.setattr(collab.store, "load", slow_counting_load)
    docs = [Doc() for _ in range(8)]
    received = [0] * len(docs)
    for i, d in enumerate(docs):
        d.observe(lambda _e, i=i: received.__setitem__(i, received[i] + 1))
    async with anyio.create_task_group() as tg:
        clients = {}

        async def join(i):
            async with yclient(ws_url(doc_id), docs[i]) as c:
                clients[i] = c
                await done.wait()

        done = anyio.Event()
        for i in range(len(docs)):
            tg.start_soon(join, i)
        await eventually(lambda: len(clients) == len(docs), what="all connected")
        rooms = collab.rooms.open_rooms
        await eventually(
            lambda: doc_id in rooms and len(rooms[doc_id].clients) == len(docs),
            what="all joined one room",
        )
        writer = clients[0]
        for n in range(50):
            writer.text.insert(len(writer.text), str(n % 10))
            await anyio.sleep(0.005)
        expected = str(writer.text)
        await eventually(
            lambda: all(str(c.text) == expected for c in clients.values()),
            what="every observer got every update",
        )
        done.set()
    assert loads == [doc_id]  # one room, loaded once
    # each observer applied the edits (possibly merged into fewer transactions)
    assert all(count >= 1 for count in received[1:])


@pytest.mark.parametrize(
    ("user", "doc", "code"),
    [(None, "mine", 4401), ("alice", "missing", 4404), ("bob", "mine", 4404)],
)
async def test_refused_sockets_get_close_codes(api, ws_url, tokens, user, doc, code):
    doc_id = await new_doc(api)
    target = doc_id if doc == "mine" else "f" * 32
    client = await RawClient.connect(ws_url(target, user))
    assert await client.closed() == code


async def test_bad_token_on_socket_is_4401(api, ws_url):
    doc_id = await new_doc(api)
    url = ws_url(doc_id, None) + "?token=cd_not-a-real-token"
    assert await (await RawClient.connect(url)).closed() == 4401


async def test_delete_closes_live_sockets_with_4410(api, ws_url):
    doc_id = await new_doc(api)
    a = await RawClient.connect(ws_url(doc_id))
    b = await RawClient.connect(ws_url(doc_id, "carol"))
    await a.recv()
    await b.recv()
    assert (await api("alice", "DELETE", f"documents/{doc_id}")).status == 204
    assert await a.closed() == 4410
    assert await b.closed() == 4410


@pytest.mark.parametrize("collab_config", [{"max_message_size": 1000}])
async def test_oversized_and_text_frames_close_that_socket_only(api, ws_url, collab_config):
    doc_id = await new_doc(api, content="keep")
    async with yclient(ws_url(doc_id, "carol")) as bystander:
        await eventually(lambda: str(bystander.text) == "keep")
        big = await RawClient.connect(ws_url(doc_id))
        await big.send(protocol.update_message(b"\x00" * 1500))
        assert await big.closed() == 4413
        text = await RawClient.connect(ws_url(doc_id))
        await text.conn.write_message("hello")
        assert await text.closed() == 1003
        bystander.text.insert(4, "!")
        async with yclient(ws_url(doc_id)) as fresh:
            await eventually(lambda: str(fresh.text) == "keep!")


async def test_room_load_failure_closes_with_4500_and_writes_nothing(
    api, ws_url, collab, monkeypatch
):
    from jupyter_collab_docs.stores import StoreError

    doc_id = await new_doc(api, content="safe")

    async def broken_load(_doc_id):
        raise StoreError("disk on fire")

    appended = []

    async def spy_append(doc, updates):
        appended.append(doc)
        return 0

    monkeypatch.setattr(collab.store, "load", broken_load)
    monkeypatch.setattr(collab.store, "append", spy_append)
    client = await RawClient.connect(ws_url(doc_id))
    assert await client.closed() == 4500
    assert doc_id not in collab.rooms.open_rooms
    reply = await api("alice", "PUT", f"documents/{doc_id}/content", {"content": "lost?"})
    assert reply.status == 503
    assert appended == []
    monkeypatch.undo()
    assert (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"] == "safe"


async def test_malformed_update_closes_the_sender_only(api, ws_url):
    doc_id = await new_doc(api, content="abc")
    async with yclient(ws_url(doc_id, "carol")) as bystander:
        await eventually(lambda: str(bystander.text) == "abc")
        bad = await RawClient.connect(ws_url(doc_id))
        await bad.recv()
        await bad.send(protocol.update_message(b"\xff\xff\xff\x01\x02garbage"))
        assert await bad.closed() == 1002
        truncated = await RawClient.connect(ws_url(doc_id))
        await truncated.send(bytes([0, 2, 50, 1, 2]))  # says 50 bytes, carries 2
        assert await truncated.closed() == 1002
        bystander.text.insert(0, ">")
        async with yclient(ws_url(doc_id)) as fresh:
            await eventually(lambda: str(fresh.text) == ">abc")


async def test_random_and_mutated_frames_never_take_down_the_room(api, ws_url, collab):
    """A seeded fuzz loop over real sockets; the unit-level loop in test_room_fuzz.py
    sends thousands more frames straight into a room."""
    doc_id = await new_doc(api, content="fuzz")
    rng = random.Random(2026)
    source = Doc()
    text = source.get("source", type=Text)
    valid = []
    source.observe(lambda e: valid.append(e.update))
    for _ in range(30):
        text.insert(rng.randrange(len(text) + 1), "q")
    templates = [protocol.update_message(u) for u in valid] + [
        protocol.sync_step1(source.get_state()),
        protocol.awareness_message([AwarenessEntry(1, 1, {"a": 1})]),
    ]
    async with yclient(ws_url(doc_id, "carol")) as a, yclient(ws_url(doc_id, "carol")) as b:
        fuzzer = await RawClient.connect(ws_url(doc_id))
        closes = 0
        for i in range(300):
            frame = bytearray(rng.choice(templates))
            if rng.random() < 0.3:
                frame = bytearray(rng.randbytes(rng.randrange(1, 40)))
            else:
                for _ in range(rng.randrange(1, 4)):
                    frame[rng.randrange(len(frame))] = rng.randrange(256)
            try:
                await fuzzer.send(bytes(frame))
            except Exception:
                closes += 1
                fuzzer = await RawClient.connect(ws_url(doc_id))
            if fuzzer.conn.close_code is not None or fuzzer.conn.protocol is None:
                closes += 1
                fuzzer = await RawClient.connect(ws_url(doc_id))
            if i % 50 == 0:
                a.text.insert(0, "A")
                b.text.insert(0, "B")
        fuzzer.close()
        await eventually(lambda: str(a.text) == str(b.text), what="bystanders converge")
        assert str(a.text).count("A") == 6 and str(a.text).count("B") == 6
        assert closes > 0  # the fuzzer did hit the error paths
    me = await api("alice", "GET", "me")
    assert me.status == 200
    content = (await api("alice", "GET", f"documents/{doc_id}/content")).body
    assert json.dumps(content)  # the room still answers
