"""The document stores' activity feed: append_activity / list_activity."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from jupyter_collab_docs.stores import DocumentStore
from jupyter_collab_docs.stores.mongodb import MongoDocumentStore
from jupyter_collab_docs.stores.sqlite import SQLiteDocumentStore


def event(doc_id: str, n: int) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "document_id": doc_id,
        "timestamp": f"2026-11-26T10:00:{n:02d}.000001Z",
        "kind": "document.renamed",
        "__schema__": "https://jupyter.org/collab-docs/events/document-renamed/v1",
        "new_name": f"n{n}",
    }


async def check_feed(store: DocumentStore) -> None:
    await store.start()
    try:
        first = [event("d1", n) for n in range(5)]
        await store.append_activity([*first, event("d2", 9)])
        await store.append_activity([*first[3:], event("d1", 5)])  # a batch written twice
        feed = await store.list_activity("d1", 4)
        assert [e["new_name"] for e in feed] == ["n5", "n4", "n3", "n2"]
        assert feed[1] == first[4]  # the event as given, "__schema__" and all
        assert len(await store.list_activity("d1", 100)) == 6
        assert [e["new_name"] for e in await store.list_activity("d2", 10)] == ["n9"]
        assert await store.list_activity("nope", 10) == []
    finally:
        await store.close()


async def test_sqlite_store_keeps_the_activity_feed(tmp_path: Path) -> None:
    await check_feed(SQLiteDocumentStore(tmp_path / "documents.db"))
    # it survives a reopen
    store = SQLiteDocumentStore(tmp_path / "documents.db")
    await store.start()
    assert len(await store.list_activity("d1", 100)) == 6
    await store.close()


async def test_mongodb_store_keeps_the_activity_feed(mongodb_test_url: str) -> None:
    await check_feed(MongoDocumentStore(mongodb_test_url))
