"""The DocumentStore contract, run against every implementation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pycrdt import Doc, Text

from jupyter_collab_docs.stores import DocumentRecord, DocumentStore, PendingUpdate, StoreError
from jupyter_collab_docs.stores.sqlite import SQLiteDocumentStore

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


def sqlite_store(request: pytest.FixtureRequest, tmp_path: Path) -> DocumentStore:
    return SQLiteDocumentStore(tmp_path / "documents.db")


def mongodb_store(request: pytest.FixtureRequest, tmp_path: Path) -> DocumentStore:
    from jupyter_collab_docs.stores.mongodb import MongoDocumentStore

    # FerretDB (tests/servers/ferretdb.py), a database of this test's own.
    return MongoDocumentStore(request.getfixturevalue("mongodb_test_url"))


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], DocumentStore]] = {
    "sqlite": sqlite_store,
    "mongodb": mongodb_store,
}


@pytest.fixture(params=sorted(BACKENDS))
def make_store(request: pytest.FixtureRequest, tmp_path: Path):
    @asynccontextmanager
    async def started() -> AsyncIterator[DocumentStore]:
        store = BACKENDS[request.param](request, tmp_path)
        await store.start()
        try:
            yield store
        finally:
            await store.close()

    return started


def record(doc_id: str = "d1", owner: str = "alice", minutes: int = 0) -> DocumentRecord:
    when = NOW + timedelta(minutes=minutes)
    return DocumentRecord(doc_id, f"name {doc_id}", "file", owner, when, when)


def typed(n: int) -> tuple[str, list[bytes]]:
    doc = Doc()
    text = doc.get("source", type=Text)
    updates: list[bytes] = []
    doc.observe(lambda e: updates.append(e.update))
    for i in range(n):
        text.insert(len(text), str(i % 10))
    return str(text), updates


def pending(updates: list[bytes], user: str = "alice") -> list[PendingUpdate]:
    return [PendingUpdate(u, user, "node-1", NOW) for u in updates]


def rebuild(loaded) -> str:
    doc = Doc()
    for item in ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates:
        doc.apply_update(item.data)
    return str(doc.get("source", type=Text))


async def test_create_get_list_rename_delete(make_store):
    async with make_store() as store:
        assert await store.get("d1") is None
        await store.create(record("d1", minutes=0), None)
        await store.create(record("d2", owner="bob", minutes=5), None)
        got = await store.get("d1")
        assert got is not None and (got.name, got.owner, got.created) == ("name d1", "alice", NOW)
        assert [r.id for r in await store.list_documents()] == ["d2", "d1"]  # newest modified first
        assert [r.id for r in await store.list_documents(owner="bob")] == ["d2"]
        later = NOW + timedelta(hours=1)
        await store.update_metadata("d1", name="renamed", modified=later)
        got = await store.get("d1")
        assert got is not None and (got.name, got.modified) == ("renamed", later)
        assert await store.delete("d1") is True
        assert await store.delete("d1") is False
        assert await store.get("d1") is None


async def test_duplicate_ids_are_refused(make_store):
    async with make_store() as store:
        await store.create(record("d1"), None)
        with pytest.raises(StoreError):
            await store.create(record("d1"), None)


async def test_append_and_load_keep_order(make_store):
    text, updates = typed(50)
    async with make_store() as store:
        await store.create(record(), None)
        seq_a = await store.append("d1", pending(updates[:20]))
        seq_b = await store.append("d1", pending(updates[20:]))
        assert seq_b > seq_a > 0
        loaded = await store.load("d1")
        assert [u.data for u in loaded.updates] == updates
        assert loaded.last_seq == seq_b
        assert rebuild(loaded) == text
        assert await store.log_length("d1") == 50
        modified = (await store.get("d1")).modified
        assert modified == NOW


async def test_initial_state_is_the_first_snapshot(make_store):
    text, updates = typed(5)
    doc = Doc()
    for u in updates:
        doc.apply_update(u)
    async with make_store() as store:
        await store.create(record(), doc.get_update())
        loaded = await store.load("d1")
        assert loaded.snapshot is not None and loaded.updates == []
        assert rebuild(loaded) == text


async def test_append_to_a_deleted_document_goes_nowhere(make_store):
    _, updates = typed(3)
    async with make_store() as store:
        await store.create(record(), None)
        await store.delete("d1")
        assert await store.append("d1", pending(updates)) == 0
        assert (await store.load("d1")).updates == []


async def test_compaction_equivalence(make_store):
    text, updates = typed(300)
    async with make_store() as store:
        await store.create(record(), None)
        await store.append("d1", pending(updates[:200]))
        upto = (await store.load("d1")).last_seq
        doc = Doc()
        for u in updates[:200]:
            doc.apply_update(u)
        await store.append("d1", pending(updates[200:]))
        await store.compact("d1", doc.get_update(), upto)
        loaded = await store.load("d1")
        assert len(loaded.updates) == 100  # only what the snapshot did not fold
        assert rebuild(loaded) == text
        assert await store.log_length("d1") == 100


async def test_a_crash_between_snapshot_and_log_trim_leaves_duplicates_not_a_gap(make_store):
    """A snapshot that says it folds less than it holds (as after a crash in a store that
    writes the snapshot before trimming) must still load to the full text."""
    text, updates = typed(100)
    doc = Doc()
    for u in updates:
        doc.apply_update(u)
    async with make_store() as store:
        await store.create(record(), None)
        await store.append("d1", pending(updates))
        await store.compact("d1", doc.get_update(), upto_seq=0)
        loaded = await store.load("d1")
        assert len(loaded.updates) == 100  # everything is still there, twice
        assert rebuild(loaded) == text


async def test_an_older_snapshot_never_replaces_a_newer_one(make_store):
    text, updates = typed(20)
    full = Doc()
    for u in updates:
        full.apply_update(u)
    async with make_store() as store:
        await store.create(record(), None)
        seq = await store.append("d1", pending(updates))
        await store.compact("d1", full.get_update(), seq)
        await store.compact("d1", Doc().get_update(), 0)  # a late, stale compaction
        assert rebuild(await store.load("d1")) == text


async def test_quarantine_moves_a_record_aside(make_store):
    text, updates = typed(10)
    async with make_store() as store:
        await store.create(record(), None)
        await store.append("d1", pending(updates[:5]))
        await store.append("d1", [PendingUpdate(b"\xffjunk", "mallory", "n", NOW)])
        await store.append("d1", pending(updates[5:]))
        loaded = await store.load("d1")
        bad = loaded.updates[5]
        assert bad.data == b"\xffjunk"
        await store.quarantine("d1", bad, "does not decode")
        loaded = await store.load("d1")
        assert [u.data for u in loaded.updates] == updates
        assert rebuild(loaded) == text


async def test_concurrent_appends_all_land(make_store):
    _, updates = typed(100)
    async with make_store() as store:
        await store.create(record(), None)
        await asyncio.gather(*(store.append("d1", pending([u])) for u in updates))
        assert await store.log_length("d1") == 100


async def test_calls_before_start_fail_clearly(tmp_path):
    store = SQLiteDocumentStore(tmp_path / "x.db")
    with pytest.raises(StoreError, match="not started"):
        await store.get("d1")


async def test_versions_round_trip_newest_first_and_go_with_the_document(make_store):
    from jupyter_collab_docs.stores import VersionRecord

    async with make_store() as store:
        await store.create(record(), None)
        older = VersionRecord("v1", "d1", "first", NOW, "alice", auto=False)
        newer = VersionRecord(
            "v2",
            "d1",
            "",
            NOW + timedelta(minutes=1),
            "bob",
            auto=True,
            contributors={"bob": {"updates": 3, "bytes": 60}},
        )
        await store.create_version(older, b"state-1")
        await store.create_version(newer, b"state-2")
        assert await store.list_versions("d1") == [newer, older]
        got = await store.get_version("d1", "v1")
        assert got == (older, b"state-1")
        assert await store.get_version("d1", "nope") is None
        assert await store.get_version("other", "v1") is None
        await store.delete_versions("d1", ["v2"])
        assert [v.id for v in await store.list_versions("d1")] == ["v1"]
        await store.delete("d1")
        assert await store.list_versions("d1") == []
