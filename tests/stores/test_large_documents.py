"""Large documents through every store: a 10,000-cell notebook and the real editing trace
(259,778 edits, tests/data, CC BY 4.0: "Editing trace by Martin Kleppmann, from
automerge-perf") load correctly after compaction. Load times are printed (pytest -s)."""

from __future__ import annotations

import gzip
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc, Text

from jupyter_collab_docs.stores import DocumentRecord, PendingUpdate

from .test_store_contract import contained_in, make_store  # noqa: F401  (the per-backend fixture)

# In the repository with its licence and attribution: tests/data/README.md.
TRACE = Path(__file__).resolve().parents[1] / "data" / "automerge-paper.json.gz"
NOW = datetime(2026, 11, 26, tzinfo=timezone.utc)


def grouped(updates: list[bytes], size: int) -> list[bytes]:
    """Consecutive updates folded ``size`` at a time, each group as one diff update."""
    doc: Doc = Doc()
    out = []
    for start in range(0, len(updates), size):
        before = doc.get_state()
        for update in updates[start : start + size]:
            doc.apply_update(update)
        out.append(doc.get_update(before))
    return out


async def load_doc(store, doc_id: str) -> tuple[Doc, float]:
    started = time.perf_counter()
    loaded = await store.load(doc_id)
    doc: Doc = Doc()
    for record in ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates:
        doc.apply_update(record.data)
    return doc, time.perf_counter() - started


async def test_a_ten_thousand_cell_notebook(make_store):  # noqa: F811
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "code", "id": f"c{i}", "source": f"x = {i}", "metadata": {},
             "outputs": [], "execution_count": None}
            for i in range(10_000)
        ],
    }  # fmt: skip
    source: Doc = Doc()
    YNotebook(source).set(notebook)
    state = source.get_update()
    async with make_store() as store:
        await store.create(DocumentRecord("nb", "big", "notebook", "alice", NOW, NOW), None)
        await store.append("nb", [PendingUpdate(state, "alice", "n", NOW)])
        assert await store.compact("nb", state, contained_in(state, await store.load("nb")))
        doc, seconds = await load_doc(store, "nb")
        print(f"\n10,000-cell notebook ({len(state):,} bytes) loaded in {seconds * 1000:.0f} ms")
    cells = YNotebook(doc).get()["cells"]
    assert len(cells) == 10_000
    assert cells[9_999]["source"] == "x = 9999"


@pytest.mark.timeout(300)
async def test_the_editing_trace_after_compaction(make_store):  # noqa: F811
    assert TRACE.exists(), f"the editing trace is missing: {TRACE}"
    trace = json.loads(gzip.decompress(TRACE.read_bytes()))
    source: Doc = Doc()
    text = source.get("source", type=Text)
    updates: list[bytes] = []
    source.observe(lambda event: updates.append(event.update))
    for txn in trace["txns"]:
        for position, deleted, inserted in txn["patches"]:
            with source.transaction():
                if deleted:
                    del text[position : position + deleted]
                if inserted:
                    text.insert(position, inserted)
    assert len(updates) >= 259_778
    assert str(text) == trace["endContent"]
    async with make_store() as store:
        records = updates
        if type(store).__name__ == "MongoDocumentStore":
            # FerretDB (SQLite underneath) takes minutes for 260k inserts and deletes: log
            # the same trace as 260 records of 1,000 edits each (diffs through a Doc).
            records = grouped(updates, 1_000)
        await store.create(DocumentRecord("tr", "paper", "file", "alice", NOW, NOW), None)
        for start in range(0, len(records), 10_000):
            batch = [PendingUpdate(u, "alice", "n", NOW) for u in records[start : start + 10_000]]
            await store.append("tr", batch)
        replayed, log_seconds = await load_doc(store, "tr")
        assert str(replayed.get("source", type=Text)) == trace["endContent"]
        state = replayed.get_update()
        assert await store.compact("tr", state, contained_in(state, await store.load("tr")))
        assert await store.log_length("tr") == 0
        doc, seconds = await load_doc(store, "tr")
        print(
            f"\ntrace: {len(updates):,} edits in {len(records):,} records; "
            f"load from the log {log_seconds:.2f} s, "
            f"after compaction {seconds * 1000:.0f} ms"
        )
    assert str(doc.get("source", type=Text)) == trace["endContent"]
