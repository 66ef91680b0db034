"""The trash of the DocumentStore contract (issue #15), on both real backends: a trashed
document keeps everything but leaves the listings; restore brings it back; purge deletes
it for good, once, even when two stores (two cluster nodes) purge at the same moment."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from jupyter_collab_docs.stores import VersionRecord

from . import test_store_contract
from .test_store_contract import NOW, pending, rebuild, record, typed

make_store = test_store_contract.make_store  # the per-backend fixture

LATER = NOW + timedelta(days=3)


async def test_a_trashed_document_leaves_the_listings_and_keeps_its_content(make_store):
    text, updates = typed(5)
    async with make_store() as store:
        await store.create(record("d1"), None)
        await store.create(record("d2", minutes=5), None)
        await store.append("d1", pending(updates))
        assert await store.trash("d1", LATER) is True
        assert await store.trash("d1", LATER) is False  # already in the trash
        assert await store.trash("nope", LATER) is False
        assert [r.id for r in await store.list_documents()] == ["d2"]
        assert [r.id for r in await store.list_documents(owner="alice")] == ["d2"]
        got = await store.get("d1")  # still there, marked
        assert got is not None and got.trashed == LATER
        assert (await store.get("d2")).trashed is None
        assert [(r.id, r.trashed) for r in await store.list_trash(owner="alice")] == [("d1", LATER)]
        assert await store.list_trash(owner="bob") == []
        assert rebuild(await store.load("d1")) == text


async def test_restore_brings_it_back_as_it_was(make_store):
    text, updates = typed(5)
    async with make_store() as store:
        await store.create(record("d1"), None)
        await store.append("d1", pending(updates))
        await store.create_version(VersionRecord("v1", "d1", "kept", NOW, "alice", False), b"s")
        await store.trash("d1", LATER)
        assert await store.restore("d1") is True
        assert await store.restore("d1") is False  # not in the trash any more
        assert await store.restore("nope") is False
        assert [r.id for r in await store.list_documents(owner="alice")] == ["d1"]
        assert (await store.get("d1")).trashed is None
        assert await store.list_trash() == []
        assert rebuild(await store.load("d1")) == text
        assert [v.id for v in await store.list_versions("d1")] == ["v1"]


async def test_purge_deletes_only_what_was_trashed_long_enough(make_store):
    _, updates = typed(3)
    async with make_store() as store:
        await store.create(record("d1"), None)
        await store.create(record("d2"), None)
        await store.append("d1", pending(updates))
        await store.create_version(VersionRecord("v1", "d1", "kept", NOW, "alice", False), b"s")
        await store.trash("d1", LATER)
        # Not in the trash: never purged.
        assert await store.purge("d2", LATER + timedelta(days=99)) is False
        # In the trash, but since after the cut-off: kept.
        assert await store.purge("d1", LATER - timedelta(seconds=1)) is False
        assert [r.id for r in await store.list_trash(trashed_before=LATER)] == ["d1"]
        assert await store.list_trash(trashed_before=LATER - timedelta(microseconds=1)) == []
        assert await store.purge("d1", LATER) is True
        assert await store.get("d1") is None
        assert (await store.load("d1")).updates == []
        assert await store.list_versions("d1") == []
        assert await store.list_trash() == []
        assert await store.get("d2") is not None


async def test_a_restored_document_is_not_purged(make_store):
    async with make_store() as store:
        await store.create(record("d1"), None)
        await store.trash("d1", NOW)
        await store.restore("d1")
        assert await store.purge("d1", LATER) is False
        assert await store.get("d1") is not None


async def test_two_nodes_purging_at_once_purge_once(make_store):
    """Two stores on the same database (two nodes): exactly one of them purges each
    document, so one ``document.purged`` event is recorded per document."""
    async with make_store() as one, make_store() as other:
        for n in range(6):
            await one.create(record(f"d{n}"), None)
            await one.trash(f"d{n}", NOW)
        results = await asyncio.gather(
            *(s.purge(f"d{n}", LATER) for n in range(6) for s in (one, other))
        )
        assert sum(results) == 6
        assert await one.list_trash() == [] and await other.list_trash() == []


async def test_a_restore_and_a_purge_at_once_do_one_thing(make_store):
    """Two nodes: the owner restores as the retention purge runs. One of the two wins,
    and a document whose restore succeeded is never purged after it."""
    async with make_store() as one, make_store() as other:
        ids = [f"d{n}" for n in range(30)]
        for doc_id in ids:
            await one.create(record(doc_id), None)
            await one.trash(doc_id, NOW)
        results = await asyncio.gather(
            *(asyncio.gather(one.restore(doc_id), other.purge(doc_id, LATER)) for doc_id in ids)
        )
        for doc_id, (restored, purged) in zip(ids, results, strict=True):
            assert restored != purged, (doc_id, restored, purged)
            kept = await one.get(doc_id)
            if restored:
                assert kept is not None and kept.trashed is None, doc_id
            else:
                assert kept is None, doc_id
