"""The DocumentStore contract, run against every implementation."""

from __future__ import annotations

import asyncio
import itertools
import random
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pycrdt import Doc, Text

from jupyter_collab_docs.stores import (
    DocumentRecord,
    DocumentStore,
    LoadedDocument,
    PendingUpdate,
    StoredUpdate,
    StoreError,
)
from jupyter_collab_docs.stores.containment import SnapshotContent
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

    started.backend = request.param  # type: ignore[attr-defined]
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


def stored(loaded) -> list[bytes]:
    return [r.data for r in ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates]


def state_of_all(updates: list[bytes]) -> Doc:
    doc = Doc()
    for u in updates:
        doc.apply_update(u)
    return doc


def contained_in(snapshot: bytes, loaded: LoadedDocument) -> list[StoredUpdate]:
    """The loaded records ``snapshot`` holds: what a compaction may delete."""
    content = SnapshotContent.of(snapshot)
    return [r for r in loaded.updates if content.contains(r.data)]


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
        loaded = await store.load("d1")
        doc = Doc()
        for u in updates[:200]:
            doc.apply_update(u)
        await store.append("d1", pending(updates[200:]))
        assert await store.compact("d1", doc.get_update(), contained_in(doc.get_update(), loaded))
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
        assert await store.compact("d1", doc.get_update(), folded=[])
        loaded = await store.load("d1")
        assert len(loaded.updates) == 100  # everything is still there, twice
        assert rebuild(loaded) == text


async def test_a_snapshot_replaces_another_only_if_it_contains_it(make_store):
    text, updates = typed(20)
    full = Doc()
    for u in updates:
        full.apply_update(u)
    async with make_store() as store:
        await store.create(record(), None)
        await store.append("d1", pending(updates))
        early = await store.load("d1")
        assert await store.compact("d1", full.get_update(), early.updates)
        # A late compaction from an older state (it folds the first half): refused,
        # nothing deleted.
        half = state_of_all(updates[:10]).get_update()
        bobs = typed(3)[1]
        await store.append("d1", pending(bobs, user="bob"))
        assert not await store.compact("d1", half, contained_in(half, await store.load("d1")))
        assert not await store.compact("d1", Doc().get_update(), [])
        loaded = await store.load("d1")
        assert [r.data for r in loaded.updates] == bobs
        assert rebuild(loaded) == str(state_of_all(updates + bobs).get("source", type=Text))
        assert text in rebuild(loaded)
        # One containing the stored snapshot replaces it.
        newer = state_of_all(stored(loaded)).get_update()
        assert await store.compact("d1", newer, loaded.updates)
        assert (await store.load("d1")).updates == []


async def test_compaction_deletes_exactly_the_records_it_is_given(make_store):
    text, updates = typed(6)
    async with make_store() as store:
        await store.create(record(), None)
        await store.append("d1", pending(updates))
        loaded = await store.load("d1")
        keep = [loaded.updates[1], loaded.updates[4]]
        fold_these = [r for r in loaded.updates if r not in keep]
        assert await store.compact("d1", state_of_all(updates).get_update(), fold_these)
        after = await store.load("d1")
        assert [(r.id, r.data) for r in after.updates] == [(r.id, r.data) for r in keep]
        assert rebuild(after) == text


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


# -- several writers, compactions and counter faults ---------------------------------------


def counter_back_sqlite(store: DocumentStore, doc_id: str) -> None:
    """SQLite numbers every log record from ``sqlite_sequence``: set it back to 0 (a
    restored or hand-edited file); rows still in the log keep it from colliding."""
    assert isinstance(store, SQLiteDocumentStore)
    db = sqlite3.connect(store.path, timeout=10)
    try:
        with db:
            db.execute("UPDATE sqlite_sequence SET seq = 0 WHERE name = 'updates'")
    finally:
        db.close()


async def counter_back_mongodb(store: DocumentStore, doc_id: str) -> None:
    """What FerretDB's non-atomic ``$inc`` does under load: the document's counter falls
    behind the numbers it already handed out (here: back to 0, so the next numbers are
    duplicates of records still in the log, or below a snapshot's old fold point)."""
    await store._documents.update_one({"_id": doc_id}, {"$set": {"seq": 0}})  # type: ignore[attr-defined]


async def set_counter_back(backend: str, store: DocumentStore, doc_id: str) -> None:
    if backend == "sqlite":
        await asyncio.to_thread(counter_back_sqlite, store, doc_id)
    else:
        await counter_back_mongodb(store, doc_id)


class Writer:
    """One client of the log: its own Doc (its own Yjs client id), typing and deleting;
    every update a store acknowledged is kept to check the loads against."""

    def __init__(self, name: str, seed: int) -> None:
        self.name = name
        self.doc = Doc()
        self.text = self.doc.get("source", type=Text)
        self.rng = random.Random(seed)
        self._made: list[bytes] = []
        self.doc.observe(lambda e: self._made.append(e.update))

    def edit(self, n: int) -> list[bytes]:
        for _ in range(n):
            if len(self.text) > 3 and self.rng.random() < 0.2:
                del self.text[self.rng.randrange(len(self.text))]
            else:
                self.text.insert(self.rng.randrange(len(self.text) + 1), f"<{self.name}>")
        made, self._made = self._made, []
        return made


async def fold(store: DocumentStore, doc_id: str) -> None:
    """What a room's compaction does: rebuild the document from the store, snapshot it,
    fold the records the snapshot contains."""
    loaded = await store.load(doc_id)
    snapshot = state_of_all(stored(loaded)).get_update()
    await store.compact(doc_id, snapshot, contained_in(snapshot, loaded))


async def test_every_acknowledged_update_survives_writers_compactions_and_counter_faults(
    make_store,
):
    """Several store instances on one database (cluster nodes, or JupyterHub servers
    sharing a store) append concurrently while others compact and the sequence counter is
    knocked back: every update any store acknowledged is in the next load, whatever
    numbers the records got."""
    rng = random.Random(13)
    async with make_store() as a, make_store() as b, make_store() as c:
        stores = [a, b, c]
        await a.create(record(), None)
        writers = [Writer(f"w{i}", seed=i) for i in range(len(stores))]
        acknowledged: list[bytes] = []

        numbers: list[list[int]] = [[] for _ in stores]  # each writer's, in its order

        async def append(i: int) -> None:
            updates = writers[i].edit(rng.randint(1, 4))
            numbers[i].append(await stores[i].append("d1", pending(updates, writers[i].name)))
            acknowledged.extend(updates)

        for round_ in range(30):
            work = [append(i) for i in range(len(stores))]
            if round_ % 3 == 2:
                work.append(fold(rng.choice(stores), "d1"))  # racing the appends
            await asyncio.gather(*work)
            if round_ % 5 == 4:
                if round_ % 2:
                    await fold(rng.choice(stores), "d1")  # the next numbers are below its fold
                await set_counter_back(make_store.backend, rng.choice(stores), "d1")
            if round_ % 3 == 2:
                loaded = await rng.choice(stores).load("d1")
                expected = state_of_all(acknowledged)
                got = state_of_all(stored(loaded))
                assert str(got.get("source", type=Text)) == str(
                    expected.get("source", type=Text)
                ), f"round {round_}: acknowledged updates are missing from the load"
        # The faults took effect: a writer was given numbers below its earlier ones.
        assert any(
            later <= earlier for mine in numbers for earlier, later in itertools.pairwise(mine)
        )
        await fold(a, "d1")
        loaded = await c.load("d1")
        expected = state_of_all(acknowledged)
        got = state_of_all(stored(loaded))
        assert str(got.get("source", type=Text)) == str(expected.get("source", type=Text))
