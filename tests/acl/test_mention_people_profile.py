"""A person a comment mentions (comments/mentions.py ``DirectoryPeople.actor``) is
resolved in one access-database unit of work: the record and the groups together
(``users.profile``), not ``lookup`` then ``groups_of``; on SQLite and MariaDB."""

from __future__ import annotations

from jupyter_collab_docs.acl.database import AccessDatabase
from jupyter_collab_docs.acl.directory import AccessDirectory
from jupyter_collab_docs.comments.mentions import DirectoryPeople

from .engine_counts import counted_statements, counted_units
from .test_access_contract import acl_url, db, directory  # noqa: F401


async def test_a_mentioned_person_is_one_unit_of_work(
    db: AccessDatabase,  # noqa: F811
    directory: AccessDirectory,  # noqa: F811
):
    directory.add("bob", "Bob Builder", admin=True)
    directory.add_group("data-team")
    directory.add_group("ops")
    directory.add_member("data-team", "bob")
    directory.add_member("ops", "bob")
    people = DirectoryPeople(directory)
    await people.actor("nobody")  # the pool's connection is open before counting

    with counted_units(db) as units, counted_statements(db) as sent:
        bob = await people.actor("bob")

    assert bob is not None
    assert (bob.username, bob.display_name, bob.is_admin) == ("bob", "Bob Builder", True)
    assert bob.groups == frozenset({"data-team", "ops"})
    assert len(units) == 1, sent
    assert len(sent) <= 2, sent  # the user's row and their groups


async def test_a_name_nobody_has_is_one_unit_of_work(
    db: AccessDatabase,  # noqa: F811
    directory: AccessDirectory,  # noqa: F811
):
    people = DirectoryPeople(directory)
    await people.actor("warmup")
    with counted_units(db) as units:
        assert await people.actor("nobody") is None
    assert len(units) == 1
