"""Hostile updates over real sockets (issue #12, items 2, 3 and 8).

A small, valid Yjs update must not crash, stall or bloat the server, nor split the
document between yrs and JavaScript clients, nor carry a cell's trust to its readers.
The updates that used to crash the server run against a standalone server in its own
process (this test process must never apply them: a native stack overflow is a
SIGSEGV, not an exception)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import anyio
import nbformat
import pytest
from pycrdt import Array, Doc, Map, Text

from jupyter_collab_docs import protocol
from jupyter_collab_docs.protocol import AwarenessEntry
from jupyter_collab_docs.testing import RawClient, StandaloneServer, eventually, yclient

from . import yjs_forge as forge

EMPTY_NOTEBOOK = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", id="first")])


async def new_doc(api, doc_type="file", content=None, user="alice") -> str:
    body: dict[str, Any] = {"name": "doc", "type": doc_type}
    if content is not None:
        body["content"] = content
    reply = await api(user, "POST", "documents", body)
    assert reply.status == 201, reply.body
    return reply.body["id"]


async def send_update(url: str, update: bytes) -> RawClient:
    client = await RawClient.connect(url)
    await client.recv()  # sync step 1: the room is open
    await client.send(protocol.update_message(update))
    return client


# -- deep nesting, against a server in its own process -----------------------------------


def ws(server: StandaloneServer, doc_id: str, token: str) -> str:
    return f"ws://127.0.0.1:{server.port}/api/collab-docs/rooms/{doc_id}?token={token}"


def cells_of(server: StandaloneServer, doc_id: str, token: str) -> list[str]:
    content = server.request("GET", f"documents/{doc_id}/content", token=token)["content"]
    return [cell["id"] for cell in content["cells"]]


@pytest.mark.parametrize("depth", [40_000, 20_000, 10_000])
async def test_a_deeply_nested_value_closes_its_socket_and_nothing_else(
    standalone: StandaloneServer, depth
):
    alice = standalone.cli("users", "add", "alice")
    standalone.start()
    doc = standalone.request(
        "POST", "documents", {"name": "d", "type": "notebook", "content": EMPTY_NOTEBOOK}, alice
    )
    url = ws(standalone, doc["id"], alice)
    attacker = await send_update(
        url, forge.cell_with_metadata(7, "deep", forge.nested_arrays(depth))
    )
    assert await attacker.closed(timeout=20) == 4413
    assert standalone.process is not None and standalone.process.poll() is None
    assert cells_of(standalone, doc["id"], alice) == ["first"]
    async with yclient(url) as reader:
        await eventually(lambda: len(reader.doc.get("cells", type=Array)) == 1, what="sync")
    standalone.stop()
    standalone.start()
    assert cells_of(standalone, doc["id"], alice) == ["first"]


async def test_a_poisoned_stored_record_is_quarantined_and_the_document_opens(
    standalone: StandaloneServer,
):
    alice = standalone.cli("users", "add", "alice")
    standalone.start()
    doc = standalone.request(
        "POST", "documents", {"name": "d", "type": "notebook", "content": EMPTY_NOTEBOOK}, alice
    )
    standalone.stop()
    poison = forge.cell_with_metadata(7, "deep", forge.nested_arrays(20_000))
    db = sqlite3.connect(standalone.data_dir / "documents.db")
    with db:
        db.execute(
            "INSERT INTO updates (doc_id, data, user, node, created) VALUES (?, ?, ?, ?, ?)",
            (doc["id"], poison, "mallory", "n", "2026-11-26T00:00:00+00:00"),
        )
    for _ in range(2):  # opens, and opens again after a restart
        standalone.start()
        assert cells_of(standalone, doc["id"], alice) == ["first"]
        async with yclient(ws(standalone, doc["id"], alice)) as reader:
            await eventually(lambda: len(reader.doc.get("cells", type=Array)) == 1, what="sync")
        standalone.stop()
    rows = db.execute("SELECT doc_id, kind, data FROM quarantine").fetchall()
    assert rows == [(doc["id"], "update", poison)]


# -- bounds on one update, in process ----------------------------------------------------


async def test_nesting_up_to_the_bound_is_kept_and_one_level_more_is_refused(api, ws_url):
    doc_id = await new_doc(api, "notebook", EMPTY_NOTEBOOK)
    ok = await send_update(
        ws_url(doc_id), forge.cell_with_metadata(7, "ok", forge.nested_arrays(100))
    )
    refused = await send_update(
        ws_url(doc_id), forge.cell_with_metadata(8, "deep", forge.nested_arrays(101))
    )
    assert await refused.closed() == 4413
    ok.close()
    content = (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]
    metadata = [cell["metadata"] for cell in content["cells"]]
    assert any("ok" in m for m in metadata) and not any("deep" in m for m in metadata)


async def test_a_long_chain_of_items_is_refused_and_a_short_one_kept(api, ws_url, collab):
    doc_id = await new_doc(api, content="")
    async with yclient(ws_url(doc_id, "carol")) as bystander:
        attacker = await send_update(ws_url(doc_id), forge.chained_text(9, 20_000))
        assert await attacker.closed() == 4413
        honest = await send_update(ws_url(doc_id), forge.chained_text(10, 300))
        await eventually(lambda: len(str(bystander.text)) == 300, what="the short chain")
        honest.close()
    content = (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]
    assert content == "x" * 300


@pytest.mark.parametrize(
    "frame",
    [
        protocol.update_message(forge.text_insert(2**53)),
        protocol.update_message(forge.deletion(2**53)),
        protocol.sync_step2(forge.text_insert(2**64 - 1)),
        protocol.awareness_message([AwarenessEntry(2**53, 1, {"cursor": 1})]),
    ],
    ids=["struct", "delete set", "step 2", "awareness"],
)
async def test_client_ids_javascript_cannot_hold_close_with_1002(api, ws_url, frame):
    doc_id = await new_doc(api, content="abc")
    async with yclient(ws_url(doc_id, "carol")) as bystander:
        await eventually(lambda: str(bystander.text) == "abc")
        attacker = await RawClient.connect(ws_url(doc_id))
        await attacker.recv()
        await attacker.send(frame)
        assert await attacker.closed() == 1002
        bystander.text.insert(3, "!")
        async with yclient(ws_url(doc_id)) as fresh:
            await eventually(lambda: str(fresh.text) == "abc!")
    assert (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"] == "abc!"


async def test_an_awareness_client_id_just_below_2_53_is_relayed(api, ws_url):
    doc_id = await new_doc(api)
    writer = await RawClient.connect(ws_url(doc_id))
    await writer.recv()
    await writer.send(protocol.awareness_message([AwarenessEntry(2**53 - 1, 1, {"c": 1})]))
    watcher = await RawClient.connect(ws_url(doc_id, "carol"))
    try:
        seen = None
        while seen is None:
            frame = protocol.parse_frame(await watcher.recv())
            if frame.kind == protocol.MESSAGE_AWARENESS:
                seen = protocol.decode_awareness(frame.payload)
        assert [e.client_id for e in seen] == [2**53 - 1]
    finally:
        writer.close()
        watcher.close()


# -- budgets and the document size bound -------------------------------------------------


@pytest.mark.parametrize(
    "collab_config", [{"write_budget_structs": 50, "write_budget_window": 60.0}]
)
async def test_a_writer_past_its_budget_is_closed_with_4429(api, ws_url, collab_config):
    doc_id = await new_doc(api, content="")
    writer = await RawClient.connect(ws_url(doc_id))
    await writer.recv()
    for client in range(100, 160):  # 60 one-struct updates; 50 fit the budget
        await writer.send(protocol.update_message(forge.text_insert(client)))
    assert await writer.closed() == 4429
    content = (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]
    assert content == "x" * 50
    # the budget is per user: carol's edit still goes through
    carol = await send_update(ws_url(doc_id, "carol"), forge.text_insert(999, "c"))

    async def stored() -> str:
        return (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]

    with anyio.fail_after(10):
        while len(await stored()) != 51:
            await anyio.sleep(0.05)
    carol.close()


@pytest.mark.parametrize("collab_config", [{"max_document_structs": 40}])
async def test_a_document_past_its_size_bound_refuses_growth(api, ws_url, collab_config):
    doc_id = await new_doc(api, content="")
    writer = await RawClient.connect(ws_url(doc_id))
    await writer.recv()
    for client in range(100, 150):
        await writer.send(protocol.update_message(forge.text_insert(client)))
    assert await writer.closed() == 4413
    content = (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]
    assert 0 < len(content) <= 40
    # a full document refuses REST growth too (413), and keeps what it holds
    reply = await api("alice", "PUT", f"documents/{doc_id}/content", {"content": "y" * 10})
    assert reply.status == 413, reply.body
    assert (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"] == content


async def test_rest_writes_refuse_deep_values(api):
    deep: Any = []
    for _ in range(150):
        deep = [deep]
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x", id="c", metadata={"deep": deep})]
    )
    created = await api(
        "alice", "POST", "documents", {"name": "n", "type": "notebook", "content": notebook}
    )
    assert created.status == 413, created.body
    doc_id = await new_doc(api, "notebook", EMPTY_NOTEBOOK)
    replaced = await api("alice", "PUT", f"documents/{doc_id}/content", {"content": notebook})
    assert replaced.status == 413, replaced.body
    content = (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]
    assert [c["id"] for c in content["cells"]] == ["first"]


# -- trust (item 2, the server half) -----------------------------------------------------

HTML_OUTPUT = {
    "output_type": "display_data",
    "data": {"text/html": "<img src=x onerror=alert(document.cookie)>"},
    "metadata": {},
}


def trusted_anywhere(notebook: dict[str, Any]) -> bool:
    return "trusted" in notebook.get("metadata", {}) or any(
        "trusted" in cell.get("metadata", {}) for cell in notebook["cells"]
    )


def doc_cells(doc: Doc) -> list[dict[str, Any]]:
    cells = doc.get("cells", type=Array).to_py() or []
    return [cell if isinstance(cell, dict) else {} for cell in cells]


def forged_cell(metadata: Any) -> Map:
    return Map(
        {
            "cell_type": "code",
            "id": "evil",
            "source": Text("1"),
            "metadata": metadata,
            "outputs": Array([Map(HTML_OUTPUT)]),
            "execution_count": None,
        }
    )


@pytest.mark.parametrize("form", ["map", "plain", "existing cell"])
async def test_trust_from_a_socket_is_neither_forwarded_nor_stored(api, ws_url, collab, form):
    doc_id = await new_doc(api, "notebook", EMPTY_NOTEBOOK)
    watcher = await RawClient.connect(ws_url(doc_id, "carol"))
    await watcher.send(protocol.sync_step1(b"\x00"))
    seen: Doc = Doc()
    async with yclient(ws_url(doc_id)) as writer:
        cells = writer.doc.get("cells", type=Array)
        await eventually(lambda: len(cells) == 1, what="initial sync")
        if form == "map":
            cells.append(forged_cell(Map({"trusted": True})))
        elif form == "plain":
            cells.append(forged_cell({"trusted": True, "tags": ["x"]}))
        else:
            with writer.doc.transaction():
                cells[0]["metadata"]["trusted"] = True
                cells[0]["outputs"].append(Map(HTML_OUTPUT))
        # Every frame the reader gets leaves it without trust, from the first one on.
        with anyio.fail_after(10):
            while True:
                frame = protocol.parse_frame(await watcher.recv())
                if frame.kind != protocol.MESSAGE_SYNC or frame.step == protocol.SYNC_STEP1:
                    continue
                seen.apply_update(frame.payload)
                assert not any("trusted" in c.get("metadata", {}) for c in doc_cells(seen))
                if any(c.get("outputs") for c in doc_cells(seen)):
                    break
        # and the writer's own copy loses it too
        await eventually(
            lambda: not any("trusted" in c.get("metadata", {}) for c in doc_cells(writer.doc)),
            what="the server's removal reached the writer",
        )
        if form == "plain":
            assert doc_cells(writer.doc)[1]["metadata"] == {"tags": ["x"]}
    watcher.close()
    content = (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]
    assert any(c.get("outputs") for c in content["cells"])
    assert not trusted_anywhere(content)
    await collab.rooms.evict(doc_id, force=True)
    loaded = await collab.store.load(doc_id)
    fresh: Doc = Doc()
    for record in ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates:
        fresh.apply_update(record.data)
    assert len(doc_cells(fresh)) == (1 if form == "existing cell" else 2)
    assert not any("trusted" in c.get("metadata", {}) for c in doc_cells(fresh))


async def test_rest_content_never_carries_trust(api):
    empty = await new_doc(api, "notebook", nbformat.v4.new_notebook())  # jupyter_ydoc adds
    content = (await api("alice", "GET", f"documents/{empty}/content")).body["content"]
    assert content["cells"] and not trusted_anywhere(content)
    notebook = nbformat.v4.new_notebook(
        metadata={"trusted": True},
        cells=[
            nbformat.v4.new_code_cell(
                "x", id="c", metadata={"trusted": True}, outputs=[nbformat.from_dict(HTML_OUTPUT)]
            )
        ],
    )
    created = await new_doc(api, "notebook", notebook)
    content = (await api("alice", "GET", f"documents/{created}/content")).body["content"]
    assert not trusted_anywhere(content)
    reply = await api("alice", "PUT", f"documents/{empty}/content", {"content": notebook})
    assert reply.status == 200
    content = (await api("alice", "GET", f"documents/{empty}/content")).body["content"]
    assert content["cells"][0]["outputs"] and not trusted_anywhere(content)
    assert json.dumps(content).count("trusted") == 0


async def test_trust_stored_before_the_guard_is_removed_when_the_room_loads(api, ws_url, collab):
    from datetime import datetime, timezone

    from jupyter_collab_docs.stores import PendingUpdate

    doc_id = await new_doc(api, "notebook", EMPTY_NOTEBOOK)
    assert doc_id not in collab.rooms.open_rooms
    loaded = await collab.store.load(doc_id)
    old: Doc = Doc()
    for record in ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates:
        old.apply_update(record.data)
    before = old.get_state()
    old.get("cells", type=Array)[0]["metadata"]["trusted"] = True
    now = datetime.now(timezone.utc)
    update = old.get_update(before)
    await collab.store.append(doc_id, [PendingUpdate(update, "mallory", "old", now)])
    async with yclient(ws_url(doc_id, "carol")) as reader:
        cells = reader.doc.get("cells", type=Array)
        await eventually(lambda: len(cells) == 1, what="sync")
        assert "trusted" not in doc_cells(reader.doc)[0]["metadata"]
    await collab.rooms.evict(doc_id, force=True)
    loaded = await collab.store.load(doc_id)
    fresh: Doc = Doc()
    for record in ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates:
        fresh.apply_update(record.data)
    assert doc_cells(fresh)[0]["id"] == "first"
    assert "trusted" not in doc_cells(fresh)[0]["metadata"]


async def test_trust_in_an_update_that_waits_for_its_dependency_is_removed_when_it_lands(
    api, ws_url, collab
):
    doc_id = await new_doc(api, "notebook", EMPTY_NOTEBOOK)
    loaded = await collab.store.load(doc_id)
    source: Doc = Doc()
    for record in ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates:
        source.apply_update(record.data)
    cells = source.get("cells", type=Array)
    state = source.get_state()
    cells.append(forged_cell(Map({"tags": ["x"]})))
    new_cell = source.get_update(state)
    state = source.get_state()
    cells[1]["metadata"]["trusted"] = True
    trust = source.get_update(state)
    watcher = await RawClient.connect(ws_url(doc_id, "carol"))
    await watcher.send(protocol.sync_step1(b"\x00"))
    writer = await RawClient.connect(ws_url(doc_id))
    await writer.recv()
    await writer.send(protocol.update_message(trust))  # waits for the cell it changes
    await writer.send(protocol.update_message(new_cell))
    seen: Doc = Doc()
    with anyio.fail_after(10):
        while len(doc_cells(seen)) < 2:
            frame = protocol.parse_frame(await watcher.recv())
            if frame.kind == protocol.MESSAGE_SYNC and frame.step != protocol.SYNC_STEP1:
                seen.apply_update(frame.payload)
                assert not any("trusted" in c.get("metadata", {}) for c in doc_cells(seen))
    assert doc_cells(seen)[1]["metadata"] == {"tags": ["x"]}
    writer.close()
    watcher.close()
    content = (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]
    assert len(content["cells"]) == 2 and not trusted_anywhere(content)


async def test_a_deeply_nested_awareness_state_closes_with_1002(api, ws_url):
    doc_id = await new_doc(api)
    attacker = await RawClient.connect(ws_url(doc_id))
    await attacker.recv()
    state = ("[" * 20_000 + "]" * 20_000).encode()  # 40 KB: under the awareness size cap
    entry = b"".join(protocol.write_var_uint(n) for n in (1, 77, 1)) + protocol.write_var_bytes(
        state
    )
    await attacker.send(bytes([protocol.MESSAGE_AWARENESS]) + protocol.write_var_bytes(entry))
    assert await attacker.closed() == 1002
    assert (await api("alice", "GET", "me")).status == 200
