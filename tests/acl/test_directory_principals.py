"""The directory queries behind share checks and completion (principals.py), on SQLite and
on a real MariaDB (names are utf8mb4_bin there: matching must still ignore case, and
LIKE's wildcards must stay plain characters)."""

from __future__ import annotations

from jupyter_collab_docs.acl.directory import AccessDirectory

# The contract's backends (SQLite, MariaDB) and its directory fixture, used as parameters.
from .test_access_contract import acl_url, db, directory  # noqa: F401

BOTH = ("user", "group")


async def test_principals_exist_by_exact_name(directory: AccessDirectory):  # noqa: F811
    directory.add("alice", "Alice Liddell")
    directory.add_group("physics")
    assert await directory.has_principal("user", "alice")
    assert await directory.has_principal("group", "physics")
    for kind, name in [("user", "Alice"), ("user", "ali"), ("user", "physics"),
                       ("group", "alice"), ("group", "Physics")]:  # fmt: skip
        assert not await directory.has_principal(kind, name), (kind, name)


async def test_names_starting_with_a_prefix(directory: AccessDirectory):  # noqa: F811
    directory.add("alice", "Alice Liddell")
    directory.add("Albert", "Bert")
    directory.add("a_b")
    directory.add("axb")
    directory.add_group("algebra")
    directory.add_group("biology")
    assert await directory.principals_starting_with("al", BOTH, 10) == [
        ("user", "Albert", "Bert"),
        ("user", "alice", "Alice Liddell"),
        ("group", "algebra", "algebra"),
    ]
    assert await directory.principals_starting_with("bert", BOTH, 10) == [
        ("user", "Albert", "Bert")
    ]
    assert await directory.principals_starting_with("alice l", ("user",), 10) == [
        ("user", "alice", "Alice Liddell")
    ]
    assert await directory.principals_starting_with("a_", BOTH, 10) == [("user", "a_b", "a_b")]
    for wildcard in ("%", "_", "a%", "/"):
        assert await directory.principals_starting_with(wildcard, BOTH, 10) == [], wildcard
    assert await directory.principals_starting_with("al", ("group",), 10) == [
        ("group", "algebra", "algebra")
    ]
    assert len(await directory.principals_starting_with("a", ("user",), 2)) == 2
