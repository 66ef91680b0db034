"""The display names of a thread's people (comments/mentions.py ``DirectoryPeople``) come
from one access-database query however many people there are, on SQLite and MariaDB."""

from __future__ import annotations

from jupyter_collab_docs.acl.database import AccessDatabase
from jupyter_collab_docs.acl.directory import AccessDirectory
from jupyter_collab_docs.comments.mentions import DirectoryPeople

from .engine_counts import counted_statements
from .test_access_contract import acl_url, db, directory  # noqa: F401


async def test_display_names_in_one_query(
    db: AccessDatabase,  # noqa: F811
    directory: AccessDirectory,  # noqa: F811
):
    directory.add("alice", "Alice Liddell")
    directory.add("bob", "Bob Builder")
    directory.add("carol", "Carol Singer")
    directory.add("dave")  # no display name: shown by username
    people = DirectoryPeople(directory)
    await people.display_names(["alice"])  # the pool's connection is open before counting

    asked = ["alice", "bob", "carol", "dave", "nobody", "erin"]
    with counted_statements(db) as sent:
        names = await people.display_names(asked)

    assert names == {
        "alice": "Alice Liddell",
        "bob": "Bob Builder",
        "carol": "Carol Singer",
        "dave": "dave",
        "nobody": "nobody",
        "erin": "erin",
    }
    selects = [s for s in sent if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, sent


async def test_no_names_no_query(db: AccessDatabase, directory: AccessDirectory):  # noqa: F811
    people = DirectoryPeople(directory)
    with counted_statements(db) as sent:
        assert await people.display_names([]) == {}
    assert sent == []


async def test_many_names_stay_few_queries(
    db: AccessDatabase,  # noqa: F811
    directory: AccessDirectory,  # noqa: F811
):
    """A thread's people are few; a long list is still a handful of queries, each under
    every backend's limit of bound parameters."""
    for i in range(30):
        directory.add(f"user{i:04d}", f"User {i}")
    people = DirectoryPeople(directory)
    await people.display_names(["user0000"])
    asked = [f"user{i:04d}" for i in range(1200)]
    with counted_statements(db) as sent:
        names = await people.display_names(asked)
    assert names["user0007"] == "User 7"
    assert names["user1100"] == "user1100"
    assert len(names) == 1200
    assert 1 <= len([s for s in sent if s.lstrip().upper().startswith("SELECT")]) <= 3, len(sent)
