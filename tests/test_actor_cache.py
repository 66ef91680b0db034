"""The actor of a join or a request (issue #16, joins): the user's record and groups are
one access-database unit of work, kept briefly and only while this process wrote nothing
to that database; a socket's re-check always looks again, so a change another process
made (the CLI) still ends a socket's access within the re-check interval."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from jupyter_server.auth.identity import User

from jupyter_collab_docs.acl.database import AccessDatabase
from jupyter_collab_docs.acl.directory import AccessDirectory
from jupyter_collab_docs.testing import RawClient


@pytest.fixture
def units_of_work(collab: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the access database's units of work on the event loop (each a thread hop)."""
    calls: list[str] = []
    run = collab.access_db.run

    async def counted(fn: Any) -> Any:
        calls.append(getattr(fn, "__qualname__", repr(fn)))
        return await run(fn)

    monkeypatch.setattr(collab.access_db, "run", counted)
    return calls


def other_process(collab: Any) -> AccessDirectory:
    """The same access database through its own engine, as the CLI would open it: its
    writes are not this server's, so they are seen only through the database."""
    return AccessDirectory(AccessDatabase(collab.access_db.url))


async def test_an_actor_is_one_look_up_then_kept_until_this_process_writes(
    collab: Any, tokens: dict[str, str], units_of_work: list[str]
) -> None:
    alice = User(username="alice", display_name="alice")
    first = await collab.actor_for(alice)
    assert (first.display_name, first.is_admin, first.groups) == ("Alice Liddell", False, set())
    assert len(units_of_work) == 1  # record and groups together (was two hops)

    assert await collab.actor_for(alice) == first
    assert len(units_of_work) == 1  # kept

    collab.users.add_group("team")  # a write by this process: what was kept may be stale
    collab.users.add_member("team", "alice")
    assert (await collab.actor_for(alice)).groups == {"team"}
    assert len(units_of_work) == 2

    assert (await collab.actor_for(alice, fresh=True)).groups == {"team"}
    assert len(units_of_work) == 3  # a re-check never takes the kept one


async def test_another_processs_change_is_seen_once_the_window_passed(
    collab: Any, tokens: dict[str, str], units_of_work: list[str]
) -> None:
    collab.users.add_group("team")
    collab.users.add_member("team", "bob")
    bob = User(username="bob", display_name="bob")
    assert (await collab.actor_for(bob)).groups == {"team"}
    cli = other_process(collab)
    try:
        cli.remove_member("team", "bob")
        assert (await collab.actor_for(bob)).groups == {"team"}  # within the window
        assert (await collab.actor_for(bob, fresh=True)).groups == set()  # and kept so
        cli.add_member("team", "bob")
        collab.ACTOR_CACHE_SECONDS = 0.2  # the window (min with revalidate_interval)
        assert (await collab.actor_for(bob)).groups == set()
        await asyncio.sleep(0.25)
        assert (await collab.actor_for(bob)).groups == {"team"}
    finally:
        cli.db.close()


async def test_a_socket_whose_group_lost_its_membership_elsewhere_closes_at_the_recheck(
    api: Any, ws_url: Any, collab: Any, tokens: dict[str, str]
) -> None:
    """The kept actor does not outlive the re-check: bob's socket came through group
    ``team``; another process removes him from it (no write here to invalidate the kept
    actor), and the next re-check closes the socket with 4403 (access changed)."""
    collab.users.add_group("team")
    collab.users.add_member("team", "bob")
    doc_id = (await api("alice", "POST", "documents", {"name": "d", "type": "file"})).body["id"]
    shared = await api("alice", "PUT", f"documents/{doc_id}/shares/group:team", {"role": "editor"})
    assert shared.status == 200
    assert (await api("bob", "GET", f"documents/{doc_id}")).status == 200  # actor kept
    socket = await RawClient.connect(ws_url(doc_id, "bob"))
    assert await socket.recv() is not None  # joined
    cli = other_process(collab)
    try:
        cli.remove_member("team", "bob")
    finally:
        cli.db.close()
    await collab.rooms.revalidate(doc_id)
    assert await socket.closed() == 4403
