"""A suggestion is decided once, whichever node asks: both document stores (SQLite, and
MongoDB on FerretDB) set a thread's fields only while ``expect`` holds
(``update_comment_thread(..., expect={"suggestion.status": "pending"})``)."""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_collab_docs.stores import DocumentStore

from .test_comment_storage import comment, thread
from .test_store_contract import make_store, record  # noqa: F401  (fixture)


def suggested(status: str = "pending") -> dict[str, Any]:
    proposal = {"text": "y", "original": "x", "status": status}
    return {**thread("t1"), "suggestion": {**proposal, "decided_by": None, "decided_at": None}}


def decided(status: str, by: str) -> dict[str, Any]:
    decision = {**suggested()["suggestion"], "status": status, "decided_by": by}
    return {"suggestion": decision, "resolved": True, "resolved_by": by}


async def test_a_suggestion_is_decided_once(make_store):  # noqa: F811
    # two stores on one database: two nodes
    async with make_store() as store, make_store() as other:
        store: DocumentStore
        await store.create(record("d1"), None)
        assert await store.create_comment_thread(suggested(), comment("c1", "t1"))
        pending = {"suggestion.status": "pending"}

        # eight deciders at once, on both nodes: exactly one wins
        deciders = [f"user{i}" for i in range(8)]
        wins = await asyncio.gather(
            *(
                (store, other)[i % 2].update_comment_thread(
                    "d1", "t1", decided("accepted", who), expect=pending
                )
                for i, who in enumerate(deciders)
            )
        )
        assert wins.count(True) == 1, wins
        [kept] = await other.list_comment_threads("d1")
        winner = deciders[wins.index(True)]
        assert (kept["suggestion"]["decided_by"], kept["resolved_by"]) == (winner, winner)
        assert kept["suggestion"]["text"] == "y"  # the rest of the thread as it was
        assert kept["comments"][0]["id"] == "c1"

        # a decided one is not decided again; undone only from what it is
        assert not await store.update_comment_thread(
            "d1", "t1", decided("accepted", "bob"), expect=pending
        )
        status = kept["suggestion"]["status"]
        assert await store.update_comment_thread(
            "d1",
            "t1",
            {"suggestion": suggested()["suggestion"]},
            expect={"suggestion.status": status},
        )
        [again] = await store.list_comment_threads("d1")
        assert again["suggestion"]["status"] == "pending"

        # without expect, as before; a thread that is gone is False either way
        assert await store.update_comment_thread("d1", "t1", {"resolved": False})
        assert not await store.update_comment_thread("d1", "nope", {"resolved": True})
        assert not await store.update_comment_thread(
            "d1", "nope", {"resolved": True}, expect=pending
        )
        # a plain thread has no suggestion: an expectation on it does not hold
        assert await store.create_comment_thread(thread("t2"), comment("c2", "t2"))
        assert not await store.update_comment_thread("d1", "t2", {"resolved": True}, expect=pending)
