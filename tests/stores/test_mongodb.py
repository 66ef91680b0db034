"""What only the MongoDB store does: leases, chunked large values, write concern, failing
fast when the server is away, and its answers to the races a transaction-less store has.

The contract every store keeps is in test_store_contract.py; these run on FerretDB too
(tests/servers/ferretdb.py), or on the server named by COLLAB_DOCS_TEST_MONGODB_URL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Text
from pymongo.errors import OperationFailure
from pymongo.write_concern import WriteConcern

from jupyter_collab_docs.stores import StoreError, VersionRecord, store_from_url
from jupyter_collab_docs.stores.mongodb import MongoDocumentStore
from jupyter_collab_docs.testing import free_port
from tests.servers.ferretdb import FerretDB, with_database

from .test_store_contract import NOW, Writer, pending, rebuild, record, state_of_all, stored, typed

MiB = 1024 * 1024


@asynccontextmanager
async def started(url: str, **kwargs: Any) -> AsyncIterator[MongoDocumentStore]:
    store = MongoDocumentStore(url, **kwargs)
    await store.start()
    try:
        yield store
    finally:
        await store.close()


def with_options(url: str, options: str) -> str:
    return url + ("&" if "?" in url else "?") + options


def state_of(updates: list[bytes]) -> bytes:
    doc = Doc()
    for u in updates:
        doc.apply_update(u)
    return doc.get_update()


def big_text(size: int, char: str = "x") -> tuple[str, bytes]:
    """A document whose full state is a little over ``size`` bytes."""
    doc = Doc()
    text = doc.get("source", type=Text)
    text.insert(0, char * size)
    return str(text), doc.get_update()


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def store_log() -> Any:
    logger = logging.getLogger("jupyter_collab_docs.stores.mongodb")
    handler = ListHandler()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    yield handler.records
    logger.removeHandler(handler)
    logger.setLevel(level)


# -- configuration ------------------------------------------------------------------------


def test_the_factory_and_the_app_take_mongodb_urls() -> None:
    from jupyter_collab_docs.app import CollabDocsApp

    store = store_from_url("mongodb://127.0.0.1:1/mydocs?serverSelectionTimeoutMS=100")
    assert isinstance(store, MongoDocumentStore) and store.database_name == "mydocs"
    assert MongoDocumentStore("mongodb://h/").database_name == "collab_docs"
    # No DNS lookup for +srv before start.
    assert MongoDocumentStore("mongodb+srv://cluster.invalid/x").database_name == "x"
    app = CollabDocsApp()
    app.store_url = "mongodb+srv://cluster.example.org/docs"
    app.store_url = "mongodb://a:27017,b:27017/docs?replicaSet=rs0"
    with pytest.raises(Exception, match="unsupported store_url scheme 'postgresql'"):
        app.store_url = "postgresql://x/y"
    with pytest.raises(ValueError, match="w=0"):
        MongoDocumentStore("mongodb://h/x?w=0")


async def test_write_concern_defaults_to_majority_journaled(mongodb_test_url: str) -> None:
    async with started(mongodb_test_url) as store:
        assert store.write_concern is not None
        assert store.write_concern.document == {"w": "majority", "j": True}
        assert store._documents.write_concern.document == {"w": "majority", "j": True}
        assert store._updates.write_concern.document == {"w": "majority", "j": True}


async def test_write_concern_from_the_url_is_kept(mongodb_test_url: str) -> None:
    url = with_options(mongodb_test_url, "w=1&journal=false&wtimeoutMS=2000")
    async with started(url) as store:
        assert store.write_concern is not None
        assert store.write_concern.document == {"w": 1, "j": False, "wtimeout": 2000}
        assert store._chunks.write_concern.document == {"w": 1, "j": False, "wtimeout": 2000}


def refuse_majority(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server answers w=majority as a mongod without a replica set config would."""
    original = MongoDocumentStore._probe_write_concern

    async def probe(self: MongoDocumentStore, db: Any, concern: WriteConcern) -> None:
        if concern.document.get("w") == "majority":
            raise OperationFailure("cannot satisfy write concern", code=100)
        await original(self, db, concern)

    monkeypatch.setattr(MongoDocumentStore, "_probe_write_concern", probe)


async def test_a_refused_default_write_concern_falls_back_with_a_warning(
    mongodb_test_url: str, monkeypatch: pytest.MonkeyPatch, store_log: list[logging.LogRecord]
) -> None:
    refuse_majority(monkeypatch)
    async with started(mongodb_test_url) as store:
        assert store.write_concern is not None
        assert store.write_concern.document == {"w": 1, "j": True}
        await store.create(record(), None)  # and it writes with it
    warnings = [r.getMessage() for r in store_log if r.levelno == logging.WARNING]
    assert any("refused the default write concern" in w and "'w': 1" in w for w in warnings)


async def test_a_refused_write_concern_from_the_url_fails_start(
    mongodb_test_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_majority(monkeypatch)
    store = MongoDocumentStore(with_options(mongodb_test_url, "w=majority"))
    with pytest.raises(StoreError, match="write concern"):
        await store.start()
    await store.close()


async def test_nodes_starting_at_once_on_a_new_database_all_start(mongodb_test_url: str) -> None:
    """Three nodes of a new cluster start together: on FerretDB their first upserts race
    (one got E11000 and the node answered 503 for good: found by the kill -9 cluster test)."""
    for attempt in range(4):
        url = with_database(mongodb_test_url, f"{mongodb_test_url.rsplit('/', 1)[1]}_{attempt}")
        stores = [MongoDocumentStore(url, node=f"n{i}") for i in range(4)]
        try:
            await asyncio.gather(*(store.start() for store in stores))
        finally:
            if stores[0]._client is not None:
                await stores[0]._client.drop_database(stores[0].database_name)
            for store in stores:
                await store.close()


# -- failures -----------------------------------------------------------------------------


async def test_calls_before_start_fail_clearly() -> None:
    store = MongoDocumentStore("mongodb://127.0.0.1:1/x")
    with pytest.raises(StoreError, match="not started"):
        await store.get("d1")
    with pytest.raises(StoreError, match="not started"):
        await store.append("d1", pending(typed(1)[1]))


async def test_a_bad_url_option_is_a_store_error_at_start() -> None:
    store = MongoDocumentStore("mongodb://127.0.0.1:1,127.0.0.1:2/x?directConnection=true")
    with pytest.raises(StoreError, match="store URL"):
        await store.start()
    await store.close()


async def test_an_unreachable_server_fails_fast_with_store_error() -> None:
    port = free_port()  # nothing listens there
    began = time.monotonic()
    store = MongoDocumentStore(f"mongodb://127.0.0.1:{port}/x")
    with pytest.raises(StoreError, match="MongoDB"):
        await store.start()
    assert time.monotonic() - began < 6  # the 3 s default, not the driver's 30 s
    await store.close()

    began = time.monotonic()
    store = MongoDocumentStore(f"mongodb://127.0.0.1:{port}/x?serverSelectionTimeoutMS=300")
    with pytest.raises(StoreError):
        await store.start()
    assert time.monotonic() - began < 2
    await store.close()


async def test_a_server_that_goes_away_gives_store_errors_then_recovers(tmp_path: Path) -> None:
    """What a room's retry loop relies on: StoreError while down, success once back."""
    server = FerretDB(tmp_path / "ferretdb")
    server.start()
    _, updates = typed(4)
    try:
        url = with_options(with_database(server.url, "outage"), "serverSelectionTimeoutMS=500")
        async with started(url) as store:
            await store.create(record(), None)
            assert await store.append("d1", pending(updates[:2])) == 2
            server.stop()
            began = time.monotonic()
            with pytest.raises(StoreError):
                await store.append("d1", pending(updates[2:]))
            with pytest.raises(StoreError):
                await store.load("d1")
            assert time.monotonic() - began < 5
            server.start()
            assert await store.append("d1", pending(updates[2:])) == 4
            assert [u.data for u in (await store.load("d1")).updates] == updates
    finally:
        server.stop()


# -- leases and compaction ----------------------------------------------------------------


async def test_a_lease_excludes_other_nodes_until_released(mongodb_test_url: str) -> None:
    async with (
        started(mongodb_test_url, node="node-a") as a,
        started(mongodb_test_url, node="node-b") as b,
    ):
        token = await a.acquire_lease("d1")
        assert token is not None and token.startswith("node-a:")
        assert await b.acquire_lease("d1") is None
        assert await a.acquire_lease("d1") is None  # not reentrant either
        assert await b.lease_holder("d1") == "node-a"
        assert await b.acquire_lease("d2") is not None  # per document
        assert await b.release_lease("d1", "node-b:forged") is False
        assert await a.release_lease("d1", token) is True
        assert await b.lease_holder("d1") is None
        assert await b.acquire_lease("d1") is not None


async def test_a_dead_holders_lease_expires(mongodb_test_url: str) -> None:
    async with (
        started(mongodb_test_url, node="dead") as dead,
        started(mongodb_test_url, node="alive") as alive,
    ):
        token = await dead.acquire_lease("d1", ttl=0.5)
        assert token is not None
        assert await alive.acquire_lease("d1") is None
        await asyncio.sleep(0.6)
        mine = await alive.acquire_lease("d1")
        assert mine is not None
        assert await alive.lease_holder("d1") == "alive"
        # The late holder can neither renew nor release what is now someone else's.
        assert await dead.renew_lease("d1", token) is False
        assert await dead.release_lease("d1", token) is False
        assert await alive.renew_lease("d1", mine) is True


async def test_concurrent_compactions_of_one_document_never_overlap(
    mongodb_test_url: str,
) -> None:
    text, updates = typed(200)
    inside = 0
    most_inside = 0
    ran: list[str] = []

    class Slow(MongoDocumentStore):
        async def _compact_holding(self, *args: Any) -> None:
            nonlocal inside, most_inside
            inside += 1
            most_inside = max(most_inside, inside)
            ran.append(self.node)
            try:
                await asyncio.sleep(0.2)
                await super()._compact_holding(*args)
            finally:
                inside -= 1

    stores = [Slow(mongodb_test_url, node=f"node-{i}") for i in range(4)]
    for store in stores:
        await store.start()
    try:
        await stores[0].create(record(), None)
        upto = await stores[0].append("d1", pending(updates[:150]))
        first = (await stores[0].load("d1")).updates
        await stores[0].append("d1", pending(updates[150:]))
        snapshot = state_of(updates[:150])
        await asyncio.gather(*(s.compact("d1", snapshot, first) for s in stores))
        assert most_inside == 1 and len(ran) == 1  # the others found the lease taken
        assert await stores[1].log_length("d1") == 50
        assert await stores[1].lease_holder("d1") is None  # released
        # Taken in turn, they all run (and a repeat of the same fold changes nothing).
        for store in stores:
            await store.compact("d1", snapshot, first)
        assert len(ran) == 5
        loaded = await stores[2].load("d1")
        assert loaded.snapshot is not None and loaded.snapshot.seq == upto
        assert [u.data for u in loaded.updates] == updates[150:]
        assert rebuild(loaded) == text
    finally:
        for store in stores:
            await store.close()


async def test_compaction_waits_out_a_dead_holders_lease(mongodb_test_url: str) -> None:
    text, updates = typed(30)
    async with (
        started(mongodb_test_url, node="dead") as dead,
        started(mongodb_test_url, node="alive") as alive,
    ):
        await alive.create(record(), None)
        await alive.append("d1", pending(updates))
        assert await dead.acquire_lease("d1", ttl=0.5) is not None  # and it never returns
        folded = (await alive.load("d1")).updates
        assert not await alive.compact("d1", state_of(updates), folded)
        assert await alive.log_length("d1") == 30  # skipped: the lease is held
        await asyncio.sleep(0.6)
        assert await alive.compact("d1", state_of(updates), folded)
        assert await alive.log_length("d1") == 0
        assert rebuild(await alive.load("d1")) == text


async def test_a_compaction_on_another_node_during_load_leaves_no_gap(
    mongodb_test_url: str,
) -> None:
    """load reads the snapshot, then the log: a compaction in between deletes records it
    has yet to read. It notices (the snapshot changed) and reads again."""
    text, updates = typed(400)
    other: MongoDocumentStore | None = None
    compacted = False
    first_300: list[Any] = []

    class Racing(MongoDocumentStore):
        async def _get_blob(self, fields: Any) -> bytes:
            nonlocal compacted
            if not compacted and other is not None:
                compacted = True  # once: on the first record this load reads
                await other.compact("d1", state_of(updates[:300]), first_300)
            return await super()._get_blob(fields)

    async with started(mongodb_test_url, node="other") as other_store:
        await other_store.create(record(), None)
        assert await other_store.append("d1", pending(updates)) == 400
        first_300.extend((await other_store.load("d1")).updates[:300])
        reader = Racing(mongodb_test_url, node="reader")
        await reader.start()
        try:
            other = other_store
            loaded = await reader.load("d1")
        finally:
            await reader.close()
    assert compacted
    assert loaded.snapshot is not None and loaded.snapshot.seq == 300
    assert [u.seq for u in loaded.updates] == list(range(301, 401))
    assert rebuild(loaded) == text


# -- sequence numbers and appends ---------------------------------------------------------


async def test_seqs_are_per_document_and_keep_arrival_order(mongodb_test_url: str) -> None:
    _, updates = typed(60)
    async with started(mongodb_test_url) as store:
        await store.create(record("d1"), None)
        await store.create(record("d2"), None)
        seqs = await asyncio.gather(
            *(store.append("d1" if i % 2 else "d2", pending([u])) for i, u in enumerate(updates))
        )
        assert sorted(seqs[1::2]) == seqs[1::2] == list(range(1, 31))
        assert seqs[0::2] == list(range(1, 31))
        loaded = await store.load("d1")
        assert [u.data for u in loaded.updates] == updates[1::2]
        # A compaction does not reset the counter.
        await store.compact("d1", state_of(updates[1::2]), loaded.updates)
        assert await store.append("d1", pending(updates[:1])) == 31


async def test_a_counter_behind_the_log_renumbers_and_repairs_instead_of_failing(
    mongodb_test_url: str, store_log: list[logging.LogRecord]
) -> None:
    """FerretDB's ``$inc`` can hand out numbers already in the log (issue 13: 303
    numbers given two or three times): the refused records are numbered again above the
    highest stored one and the counter is raised to it; no append fails."""
    text, updates = typed(30)
    async with started(mongodb_test_url) as store:
        await store.create(record(), None)
        assert await store.append("d1", pending(updates[:10])) == 10
        await store._documents.update_one({"_id": "d1"}, {"$set": {"seq": 3}})
        # It hands out 4..13, but 4 is taken: all ten are numbered again above 10.
        last = await store.append("d1", pending(updates[10:20]))
        assert last > 10
        assert (await store._documents.find_one({"_id": "d1"}))["seq"] >= last
        # A counter set back to 0 while a block below it is free keeps what it can.
        await store._documents.update_one({"_id": "d1"}, {"$set": {"seq": 0}})
        await store.append("d1", pending(updates[20:]))
        loaded = await store.load("d1")
        assert [u.data for u in loaded.updates] == updates
        assert len({u.seq for u in loaded.updates}) == 30  # unique
        assert rebuild(loaded) == text
        # A fold raises a counter that is behind what it folded.
        await store._documents.update_one({"_id": "d1"}, {"$set": {"seq": 0}})
        assert await store.compact("d1", state_of(updates), loaded.updates)
        counter = (await store._documents.find_one({"_id": "d1"}))["seq"]
        assert counter >= max(u.seq for u in loaded.updates)
    assert any("is taken" in r.getMessage() for r in store_log)


async def test_appends_from_processes_sharing_a_counter_all_land(mongodb_test_url: str) -> None:
    """Several store instances (separate connection pools, like nodes) appending to one
    document at once: on FerretDB their ``$inc`` races; every record still lands once."""
    writers = [Writer(f"n{i}", seed=i) for i in range(3)]
    stores = [MongoDocumentStore(mongodb_test_url, node=f"n{i}") for i in range(3)]
    for store in stores:
        await store.start()
    try:
        await stores[0].create(record(), None)
        sent: list[bytes] = []

        async def node(i: int) -> None:
            for _ in range(40):
                updates = writers[i].edit(1)
                await stores[i].append("d1", pending(updates, f"n{i}"))
                sent.extend(updates)

        await asyncio.gather(*(node(i) for i in range(3)))
        loaded = await stores[1].load("d1")
        assert sorted(u.data for u in loaded.updates) == sorted(sent)
        assert len({u.seq for u in loaded.updates}) == len(sent)
    finally:
        for store in stores:
            await store.close()


async def test_an_append_racing_a_delete_leaves_nothing_behind(mongodb_test_url: str) -> None:
    """The seqs were reserved, then the document was deleted before the records landed."""
    _, updates = typed(5)

    class Racing(MongoDocumentStore):
        async def _put_blob(self, doc_id: str, kind: str, data: bytes, **kw: Any) -> Any:
            if kind == "update":
                await self.delete(doc_id)
            return await super()._put_blob(doc_id, kind, data, **kw)

    async with started(mongodb_test_url) as store:
        await store.create(record(), None)
        racing = Racing(mongodb_test_url)
        await racing.start()
        try:
            assert await racing.append("d1", pending(updates)) == 0
        finally:
            await racing.close()
        assert await store.get("d1") is None
        assert await store._updates.count_documents({}) == 0


# -- values over the 16 MB BSON limit ------------------------------------------------------


async def test_snapshots_versions_and_updates_over_16_mb(mongodb_test_url: str) -> None:
    text, state = big_text(17 * MiB)
    assert len(state) > 16 * MiB
    other_text, other_state = big_text(17 * MiB, "y")
    async with started(mongodb_test_url) as store:
        # As the first state, given to create.
        await store.create(record("d1"), state)
        loaded = await store.load("d1")
        assert loaded.snapshot is not None and loaded.snapshot.data == state
        assert await store._chunks.count_documents({"doc_id": "d1"}) == 3  # 8 + 8 + 1 MiB

        # As a snapshot, replacing the first state: the old chunks go.
        _, small = typed(3)
        seq = await store.append("d1", pending(small))
        both = state_of([state, *small])
        assert await store.compact("d1", both, (await store.load("d1")).updates)
        loaded = await store.load("d1")
        assert loaded.snapshot is not None and loaded.snapshot.seq == seq
        assert loaded.snapshot.data == both and loaded.updates == []
        assert await store._chunks.count_documents({"doc_id": "d1"}) == 3
        row = await store._snapshots.find_one({"_id": "d1"})
        assert row is not None and row["chunks"] == 3 and row["size"] == len(both)

        # As a version.
        version = VersionRecord("v1", "d1", "big", NOW, "alice", auto=False)
        await store.create_version(version, other_state)
        assert await store.get_version("d1", "v1") == (version, other_state)
        assert [v.id for v in await store.list_versions("d1")] == ["v1"]

        # As one update in the log (a client may send a 16 MiB message).
        await store.create(record("d2"), None)
        await store.append("d2", pending([other_state, small[0]]))
        loaded = await store.load("d2")
        assert [u.data for u in loaded.updates] == [other_state, small[0]]
        folded = (await store.load("d2")).updates
        assert await store.compact("d2", state_of([other_state, small[0]]), folded)
        assert await store._chunks.count_documents({"doc_id": "d2", "kind": "update"}) == 0
        expected = Doc()
        expected.apply_update(state_of([other_state, small[0]]))
        rebuilt = rebuild(await store.load("d2"))
        assert rebuilt == str(expected.get("source", type=Text))
        assert len(rebuilt) == len(other_text) + 1

        await store.delete_versions("d1", ["v1"])
        assert await store._chunks.count_documents({"kind": "version"}) == 0
        assert await store.delete("d1") is True
        assert await store._chunks.count_documents({"doc_id": "d1"}) == 0
    assert len(text) == 17 * MiB


async def test_a_stale_compaction_drops_its_own_chunks(mongodb_test_url: str) -> None:
    _, state = big_text(9 * MiB)
    _, updates = typed(10)
    async with started(mongodb_test_url, chunk_size=4 * MiB) as store:
        await store.create(record(), None)
        seq = await store.append("d1", pending(updates))
        both = state_of([state, *updates])
        assert await store.compact("d1", both, (await store.load("d1")).updates)
        assert await store._chunks.count_documents({}) == 3
        # Late: the stored snapshot holds edits this one lacks.
        assert not await store.compact("d1", state, [])
        assert await store._chunks.count_documents({}) == 3
        loaded = await store.load("d1")
        assert loaded.snapshot is not None and loaded.snapshot.seq == seq
        assert loaded.snapshot.data == both


async def test_contributors_with_any_user_name(mongodb_test_url: str) -> None:
    contributors = {
        "alice.liddell@example.org": {"updates": 3, "bytes": 60},
        "$bob": {"updates": 1, "bytes": 7},
    }
    version = VersionRecord("v1", "d1", "", NOW, "alice", auto=True, contributors=contributors)
    async with started(mongodb_test_url) as store:
        await store.create(record(), None)
        await store.create_version(version, b"state")
        assert await store.list_versions("d1") == [version]
        assert await store.get_version("d1", "v1") == (version, b"state")


# -- the audit activity feed ---------------------------------------------------------------


def event(n: int, doc: str | None = "d1", timestamp: str | None = None) -> dict[str, Any]:
    return {
        "event_id": f"e{n}",
        "schema_id": "https://example.org/edit",
        "kind": "edit",
        "timestamp": timestamp or f"2026-11-26T09:00:{n:02d}.500000Z",
        "actor": {"username": "alice.liddell", "$odd": [[1, 2], [3]]},
        "document_id": doc,
        "node": "node-1",
    }


async def test_activity_newest_first_once_per_event(mongodb_test_url: str) -> None:
    async with started(mongodb_test_url) as store:
        batch = [event(1), event(2, doc="d2"), event(3), event(4, doc=None)]
        await store.append_activity(batch)
        await store.append_activity([*batch, event(5)])  # written twice: kept once
        assert await store.list_activity("d1", 10) == [event(5), event(3), event(1)]
        assert await store.list_activity("d1", 2) == [event(5), event(3)]
        assert await store.list_activity("d2", 10) == [event(2, doc="d2")]
        assert await store.list_activity("nope", 10) == []
        # Same instant: emission order; a whole second (isoformat drops ".000000")
        # still sorts before the fractions of that second.
        same = "2026-11-26T10:00:00.250000Z"
        await store.append_activity([event(6, timestamp=same), event(7, timestamp=same)])
        await store.append_activity([event(8, timestamp="2026-11-26T10:00:01Z")])
        await store.append_activity([event(9, timestamp="2026-11-26T10:00:01.5Z")])
        newest = [e["event_id"] for e in await store.list_activity("d1", 4)]
        assert newest == ["e9", "e8", "e7", "e6"]


# -- a fold racing another node's append ---------------------------------------------------


@pytest.mark.parametrize("lands", ["before the fold deletes", "after the fold"])
async def test_a_fold_never_loses_another_nodes_append_in_flight(
    mongodb_test_url: str, lands: str
) -> None:
    """Node B numbers its record, then stalls before inserting it; node A appends after
    it (higher numbers), loads and compacts. B's record lands while A's fold runs or after
    it, with a number below everything A folded: it must be in every later load."""
    from jupyter_collab_docs.rooms import DocumentRoom, RoomConfig

    numbered = asyncio.Event()
    go = asyncio.Event()

    class StallingNode(MongoDocumentStore):
        async def _put_blob(self, doc_id: str, kind: str, data: bytes, **kw: Any) -> Any:
            if kind == "update" and not go.is_set():
                numbered.set()
                await go.wait()
            return await super()._put_blob(doc_id, kind, data, **kw)

    b_landed = asyncio.Event()

    class FoldingNode(MongoDocumentStore):
        async def compact(self, *args: Any, **kw: Any) -> Any:
            if lands == "before the fold deletes":
                go.set()  # A has loaded the log without B's record
                await b_landed.wait()
            return await super().compact(*args, **kw)

    b_text, b_updates = typed(1)
    a_updates = Writer("a", seed=1).edit(5)
    async with started(mongodb_test_url, node="a") as a_store:
        a_store.__class__ = FoldingNode
        await a_store.create(record(), None)
        b_store = StallingNode(mongodb_test_url, node="b")
        await b_store.start()
        try:
            b_append = asyncio.create_task(b_store.append("d1", pending(b_updates, "bob")))
            await numbered.wait()
            room = DocumentRoom("d1", "file", a_store, RoomConfig(node="a", write_delay=0.01))
            await room.load()
            for update in a_updates:
                room.apply_server_update(update, "alice")
            await room.flush()
            assert await a_store.log_length("d1") == 5
            b_append.add_done_callback(lambda _: b_landed.set())
            await room.compact()
            go.set()
            assert await b_append > 0
            await room.close()
        finally:
            await b_store.close()
        loaded = await a_store.load("d1")
    expected = state_of_all([*a_updates, *b_updates])
    got = state_of_all(stored(loaded))
    assert b_text in str(got.get("source", type=Text))
    assert str(got.get("source", type=Text)) == str(expected.get("source", type=Text))
