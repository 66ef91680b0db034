"""An activity feed page (activity.py ``read_feed``, as ``documents/{id}/activity`` calls
it) names all its people with one access-database query, however many there are;
names from elsewhere (any ``DisplayNames``) are asked once too."""

from __future__ import annotations

from typing import Any

from jupyter_collab_docs.acl.database import AccessDatabase
from jupyter_collab_docs.acl.directory import AccessDirectory
from jupyter_collab_docs.activity import ActivityFilter, directory_names, read_feed
from jupyter_collab_docs.identity import Actor

from .engine_counts import counted_statements
from .test_access_contract import acl_url, db, directory  # noqa: F401

DOC = "d" * 32


class Trail:
    """The audit trail's ``activity``: the events given, newest first."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events

    async def activity(self, document_id: str, limit: int = 50) -> list[dict[str, Any]]:
        assert document_id == DOC
        return self.events[:limit]


class NoVersions:
    async def list_versions(self, doc_id: str) -> list[Any]:
        return []


def feed_naming_five() -> list[dict[str, Any]]:
    """alice (the reader) shares with bob and carol, who rename; carol mentions dave and
    erin (erin has no account)."""
    return [
        {"kind": "comment.created", "actor": "carol", "mentions": ["dave", "erin"]},
        {"kind": "document.renamed", "actor": "bob", "old_name": "a", "new_name": "b"},
        {"kind": "share.granted", "actor": "alice", "principal": "user:carol", "role": "editor"},
        {"kind": "share.granted", "actor": "alice", "principal": "user:bob", "role": "editor"},
        {"kind": "document.created", "actor": "alice", "name": "a", "type": "file"},
    ]


def people(directory: AccessDirectory) -> Actor:  # noqa: F811
    directory.add("alice", "Alice Liddell")
    directory.add("bob", "Bob Builder")
    directory.add("carol", "Carol Singer")
    directory.add("dave")  # no display name: shown by username
    return Actor.create("alice", "Alice (as signed in)")


async def test_a_feed_naming_several_people_is_one_query(
    db: AccessDatabase,  # noqa: F811
    directory: AccessDirectory,  # noqa: F811
):
    alice = people(directory)
    names = directory_names(db, alice)
    await names("bob")  # the pool's connection is open before counting
    trail = Trail(feed_naming_five())

    with counted_statements(db) as sent:
        events, truncated = await read_feed(trail, NoVersions(), DOC, 50, ActivityFilter(), names)

    assert [s for s in sent if s.lstrip().upper().startswith("SELECT")] == sent
    assert len(sent) == 1, sent
    assert truncated is False
    assert [e["actor_name"] for e in events] == [
        "Carol Singer",
        "Bob Builder",
        "Alice (as signed in)",  # the reader's own name comes from their actor
        "Alice (as signed in)",
        "Alice (as signed in)",
    ]
    assert "Carol Singer" in events[2]["summary"] and "Bob Builder" in events[3]["summary"]
    # dave has no display name, erin no account: both shown by username
    assert events[0]["summary"] == "Carol Singer replied to a comment thread, mentioning dave, erin"


async def test_only_the_reader_named_costs_no_query(
    db: AccessDatabase,  # noqa: F811
    directory: AccessDirectory,  # noqa: F811
):
    alice = people(directory)
    trail = Trail(feed_naming_five()[-1:])
    with counted_statements(db) as sent:
        events, _ = await read_feed(
            trail, NoVersions(), DOC, 50, ActivityFilter(), directory_names(db, alice)
        )
    assert sent == []
    assert events[0]["actor_name"] == "Alice (as signed in)"


async def test_names_from_elsewhere_are_asked_once_unknown_ones_stay_usernames():
    """JupyterHub or a plugged caller: any DisplayNames callable, asked once for the page,
    unknown names shown as usernames."""
    asked: list[list[str]] = []

    async def display_names(usernames: list[str]) -> dict[str, str]:
        asked.append(usernames)
        return {"bob": "Bob from the hub"}

    events, _ = await read_feed(
        Trail(feed_naming_five()), NoVersions(), DOC, 50, ActivityFilter(), display_names
    )
    assert [sorted(names) for names in asked] == [["alice", "bob", "carol", "dave", "erin"]]
    assert [e["actor_name"] for e in events] == [
        "carol",
        "Bob from the hub",
        "alice",
        "alice",
        "alice",
    ]
