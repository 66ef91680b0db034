"""The per-user inbox (mentions, docs/comments.md "Mentions and notifications") in both
document stores: kept per user, newest first, read marks by id and all at once, capped,
and shared by every node of a cluster (two store instances on one MongoDB database)."""

from __future__ import annotations

from typing import Any

from jupyter_collab_docs.stores import DocumentStore

from .test_store_contract import make_store  # noqa: F401  (fixture)


def note(note_id: str, user: str, created: str, doc_id: str = "d1") -> dict[str, Any]:
    return {
        "id": note_id,
        "user": user,
        "kind": "mention",
        "doc_id": doc_id,
        "thread_id": "t" * 32,
        "comment_id": "c" * 32,
        "author": "bob",
        "excerpt": "hi @alice",
        "created": created,
        "read": False,
    }


async def test_inbox_per_user_newest_first_with_read_marks(make_store):  # noqa: F811
    async with make_store() as store:
        store: DocumentStore
        assert await store.list_notifications("alice") == []
        await store.add_notifications(
            [
                note("n1", "alice", "2026-12-02T10:00:00.000001Z"),
                note("n2", "alice", "2026-12-02T10:00:02.000001Z"),
                note("n3", "erin", "2026-12-02T10:00:01.000001Z"),
            ]
        )
        assert [n["id"] for n in await store.list_notifications("alice")] == ["n2", "n1"]
        assert [n["id"] for n in await store.list_notifications("erin")] == ["n3"]
        assert await store.list_notifications("alice", limit=1) == [
            note("n2", "alice", "2026-12-02T10:00:02.000001Z")
        ]

        # a read mark names the user: nobody marks another's notification
        assert await store.mark_notifications_read("erin", ["n1"]) == 0
        assert await store.mark_notifications_read("alice", ["n1"]) == 1
        assert [n["read"] for n in await store.list_notifications("alice")] == [False, True]
        assert await store.mark_notifications_read("alice", None) == 1
        assert all(n["read"] for n in await store.list_notifications("alice"))
        assert not (await store.list_notifications("erin"))[0]["read"]


async def test_inbox_keeps_the_newest_per_user(make_store, monkeypatch):  # noqa: F811
    async with make_store() as store:
        store: DocumentStore
        monkeypatch.setattr(type(store), "max_notifications_per_user", 3)
        await store.add_notifications(
            [note(f"n{i}", "alice", f"2026-12-02T10:00:0{i}.000001Z") for i in range(5)]
        )
        await store.add_notifications([note("e", "erin", "2026-12-02T09:00:00.000001Z")])
        assert [n["id"] for n in await store.list_notifications("alice")] == ["n4", "n3", "n2"]
        assert len(await store.list_notifications("erin")) == 1


async def test_two_nodes_share_one_inbox(make_store):  # noqa: F811
    if make_store.backend != "mongodb":
        return  # one SQLite file belongs to one node; the MongoDB store is shared
    async with make_store() as node_a, make_store() as node_b:
        await node_a.add_notifications([note("n1", "alice", "2026-12-02T10:00:00.000001Z")])
        assert [n["id"] for n in await node_b.list_notifications("alice")] == ["n1"]
        assert await node_b.mark_notifications_read("alice", ["n1"]) == 1
        assert (await node_a.list_notifications("alice"))[0]["read"] is True


async def test_notifications_follow_their_comment(make_store):  # noqa: F811
    async with make_store() as store:
        store: DocumentStore
        first = note("n1", "alice", "2026-12-02T10:00:00.000001Z")
        other = {**note("n2", "erin", "2026-12-02T10:00:01.000001Z"), "comment_id": "d" * 32}
        await store.add_notifications([first, other])
        # an edit: the excerpt follows, read marks stay
        await store.mark_notifications_read("alice", ["n1"])
        await store.update_notifications("c" * 32, {"excerpt": "hi again"})
        assert await store.list_notifications("alice") == [
            {**first, "excerpt": "hi again", "read": True}
        ]
        assert (await store.list_notifications("erin"))[0]["excerpt"] == "hi @alice"
        # a deletion: nothing of the comment stays
        await store.delete_notifications(["c" * 32, "e" * 32])
        assert await store.list_notifications("alice") == []
        assert len(await store.list_notifications("erin")) == 1
