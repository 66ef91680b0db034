"""Comment threads in both document stores (SQLite, and MongoDB on FerretDB): kept as
given, in order, atomically tied to their document and thread, deleted with the
document."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from jupyter_collab_docs.stores import DocumentStore

from .test_store_contract import NOW, make_store, record  # noqa: F401  (fixture)


def thread(thread_id: str, doc_id: str = "d1", created: str = "2026-11-26T09:00:00.000001Z"):
    return {
        "id": thread_id,
        "doc_id": doc_id,
        "anchor": {"kind": "cell", "cell_id": "c1"},
        "quote": "x = 1",
        "author": "alice",
        "created": created,
        "resolved": False,
        "resolved_by": None,
        "resolved_at": None,
    }


def comment(
    comment_id: str, thread_id: str, doc_id: str = "d1", created: str = ""
) -> dict[str, Any]:
    return {
        "id": comment_id,
        "doc_id": doc_id,
        "thread_id": thread_id,
        "author": "bob",
        "body": f"body of {comment_id} @alice",
        "mentions": ["alice"],
        "created": created or "2026-11-26T09:00:01.000000Z",
        "edited": None,
    }


async def test_threads_round_trip_in_order(make_store):  # noqa: F811
    async with make_store() as store:
        store: DocumentStore
        await store.create(record("d1"), None)
        await store.create(record("d2"), None)
        assert await store.list_comment_threads("d1") == []
        first, second = thread("t1"), thread("t2", created="2026-11-26T09:00:02.000000Z")
        assert await store.create_comment_thread(first, comment("c1", "t1"))
        assert await store.create_comment_thread(second, comment("c2", "t2"))
        assert await store.create_comment_thread(thread("t3", "d2"), comment("c3", "t3", "d2"))
        reply = comment("c4", "t1", created="2026-11-26T09:00:05.000000Z")
        assert await store.add_comment(reply)

        listed = await store.list_comment_threads("d1")
        assert listed == [
            {**first, "comments": [comment("c1", "t1"), reply]},
            {**second, "comments": [comment("c2", "t2")]},
        ]

        resolved = {"resolved": True, "resolved_by": "bob", "resolved_at": "2026-11-26T10:00:00Z"}
        assert await store.update_comment_thread("d1", "t1", resolved)
        assert await store.update_comment("d1", "c4", {"body": "changed", "mentions": []})
        assert not await store.update_comment_thread("d2", "t1", resolved)  # not d2's
        assert not await store.update_comment("d1", "nope", {"body": "x"})
        listed = await store.list_comment_threads("d1")
        assert listed[0]["resolved_by"] == "bob"
        assert listed[0]["comments"][1]["body"] == "changed"
        assert listed[0]["comments"][1]["mentions"] == []

        assert await store.delete_comment("d1", "c4")
        assert not await store.delete_comment("d1", "c4")
        assert await store.delete_comment_thread("d1", "t2")
        assert not await store.delete_comment_thread("d1", "t2")
        assert [t["id"] for t in await store.list_comment_threads("d1")] == ["t1"]
        assert [c["id"] for c in (await store.list_comment_threads("d1"))[0]["comments"]] == ["c1"]


async def test_nothing_hangs_on_what_is_gone(make_store):  # noqa: F811
    async with make_store() as store:
        await store.create(record("d1"), None)
        # no document: nothing kept, not even the comment
        assert not await store.create_comment_thread(
            thread("t1", "gone"), comment("c1", "t1", "gone")
        )
        assert await store.list_comment_threads("gone") == []
        # no thread: the reply is not kept
        assert not await store.add_comment(comment("c2", "t-missing"))
        assert await store.create_comment_thread(thread("t1"), comment("c1", "t1"))
        assert not await store.add_comment(comment("c3", "t1", doc_id="d2"))  # another doc's
        assert [len(t["comments"]) for t in await store.list_comment_threads("d1")] == [1]


async def test_deleted_with_their_document(make_store):  # noqa: F811
    async with make_store() as store:
        await store.create(record("d1"), None)
        await store.create(record("d2"), None)
        await store.create_comment_thread(thread("t1"), comment("c1", "t1"))
        await store.create_comment_thread(thread("t2", "d2"), comment("c2", "t2", "d2"))
        assert await store.delete("d1")
        assert await store.list_comment_threads("d1") == []
        # a document made again under the same id starts without threads
        await store.create(record("d1"), None)
        assert await store.list_comment_threads("d1") == []
        assert [t["id"] for t in await store.list_comment_threads("d2")] == ["t2"]

        # the trash keeps them (a restore brings the document back whole); a purge does not
        await store.create_comment_thread(thread("t4"), comment("c4", "t4"))
        assert await store.trash("d1", NOW)
        assert [t["id"] for t in await store.list_comment_threads("d1")] == ["t4"]
        assert await store.purge("d1", NOW + timedelta(seconds=1))
        assert await store.list_comment_threads("d1") == []
