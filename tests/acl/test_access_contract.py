"""Contract of the access database: :class:`ShareAccess` (who holds which role) and
:class:`AccessDirectory` (users, tokens, groups), run unchanged on every backend.

``sqlite`` uses a file in the test's tmp directory; ``mariadb`` uses the session's real
MariaDB server (the ``mariadb_url`` fixture of ``tests/servers/mariadb.py``) with a fresh
database of its own per test, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, delete, inspect, select, text, update
from sqlalchemy.engine import make_url

from jupyter_collab_docs.acl import LINK, Share, ShareAccess
from jupyter_collab_docs.acl import directory as directory_module
from jupyter_collab_docs.acl.database import MIGRATIONS, AccessDatabase
from jupyter_collab_docs.acl.directory import AccessDirectory
from jupyter_collab_docs.acl.models import LinkRow, ShareRow, TokenRow, UserRow
from jupyter_collab_docs.identity import Actor
from jupyter_collab_docs.stores import DocumentRecord
from jupyter_collab_docs.users import UserError

TABLES = {"users", "api_tokens", "groups", "group_members", "shares", "share_links"}


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


# -- backends ------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "mariadb"])
def acl_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty access database of the backend under test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'acl' / 'access.db'}"
        return
    server_url = make_url(request.getfixturevalue("mariadb_url"))
    name = f"acl_test_{secrets.token_hex(6)}"
    admin = create_engine(server_url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE DATABASE `{name}`"))  # the server's default charset
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@pytest.fixture
def db(acl_url: str) -> Iterator[AccessDatabase]:
    database = AccessDatabase(acl_url)
    yield database
    database.close()


@pytest.fixture
def access(db: AccessDatabase) -> ShareAccess:
    return ShareAccess(db)


@pytest.fixture
def directory(db: AccessDatabase) -> Iterator[AccessDirectory]:
    users = AccessDirectory(db)
    yield users
    users.close()


def actor(name: str, *groups: str, admin: bool = False) -> Actor:
    return Actor.create(name, is_admin=admin, groups=frozenset(groups))


def record(doc_id: str, owner: str = "alice") -> DocumentRecord:
    now = datetime.now(timezone.utc)
    return DocumentRecord(
        id=doc_id, name=doc_id, type="file", owner=owner, created=now, modified=now
    )


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


DOC = record("doc-1")
OTHER = record("doc-2")


# -- schema and migrations -----------------------------------------------------------------


def test_a_new_database_is_migrated_to_the_newest_revision(db: AccessDatabase):
    names = set(inspect(db.engine).get_table_names())
    assert names >= TABLES
    assert "alembic_version" in names
    with db.engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [v for (v,) in versions] == [head_revision()]


def test_reopening_keeps_the_data_and_migrates_nothing(acl_url: str):
    first = AccessDatabase(acl_url)
    users = AccessDirectory(first)
    token = users.add("alice")
    users.add_group("team")
    users.add_member("team", "alice")
    asyncio.run(ShareAccess(first).grant(DOC.id, "user:bob", "editor", "alice"))
    first.migrate()  # again, on an up-to-date schema
    first.close()

    for _ in range(2):
        again = AccessDatabase(acl_url)
        try:
            again.migrate()
            users = AccessDirectory(again)
            assert [u.username for u in users.list_users()] == ["alice"]
            assert users.groups() == {"team": ["alice"]}
            assert asyncio.run(users.authenticate(token)).username == "alice"
            shares = asyncio.run(ShareAccess(again).shares(DOC))
            assert shares == [Share("user:alice", "owner"), Share("user:bob", "editor")]
            with again.engine.connect() as connection:
                rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            assert [v for (v,) in rows] == [head_revision()]
        finally:
            again.close()


NODE_START = """
import sys, time
from jupyter_collab_docs.acl.database import AccessDatabase
start_at = float(sys.argv[2])
time.sleep(max(0.0, start_at - time.time()))
AccessDatabase(sys.argv[1]).close()
"""


def test_nodes_starting_together_on_a_new_database(acl_url: str):
    """Several server nodes share one acl_url and may start at the same moment (separate
    processes): each must come up, with the schema migrated once."""
    start_at = time.time() + 3.0
    nodes = [
        subprocess.Popen(
            [sys.executable, "-c", NODE_START, acl_url, str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(5)
    ]
    failures = []
    for node in nodes:
        _out, err = node.communicate(timeout=120)
        if node.returncode != 0:
            failures.append([line for line in err.splitlines() if "Error" in line][-1:])
    assert failures == []
    database = AccessDatabase(acl_url)
    try:
        with database.engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [v for (v,) in rows] == [head_revision()]
        AccessDirectory(database).add("alice")
    finally:
        database.close()


# -- roles: the creator, users, groups, links ----------------------------------------------


async def test_the_creator_owns_and_administrators_act_as_owners(access: ShareAccess):
    assert await access.role_of(actor("alice"), DOC) == "owner"
    assert await access.role_of(actor("root", admin=True), DOC) == "owner"
    assert await access.role_of(actor("bob"), DOC) is None
    assert await access.shares(DOC) == [Share("user:alice", "owner")]


async def test_user_grants(access: ShareAccess):
    assert await access.grant(DOC.id, "user:bob", "commenter", "alice") is None
    assert await access.role_of(actor("bob"), DOC) == "commenter"
    assert await access.role_of(actor("bob"), OTHER) is None
    assert await access.role_of(actor("bobby"), DOC) is None
    assert await access.role_of(actor("carol"), DOC) is None
    # changing the role replaces the grant
    assert await access.grant(DOC.id, "user:bob", "editor", "alice") is None
    assert await access.role_of(actor("bob"), DOC) == "editor"
    assert await access.shares(DOC) == [Share("user:alice", "owner"), Share("user:bob", "editor")]


async def test_a_changed_grant_records_who_changed_it(access: ShareAccess, db: AccessDatabase):
    await access.grant(DOC.id, "user:bob", "viewer", "alice")
    await access.grant(DOC.id, "user:bob", "editor", "carol")
    rows = db.call(
        lambda s: [(r.principal, r.role, r.granted_by) for r in s.scalars(select(ShareRow))]
    )
    assert rows == [("user:bob", "editor", "carol")]


async def test_group_grants(access: ShareAccess):
    await access.grant(DOC.id, "group:team", "editor", "alice")
    assert await access.role_of(actor("bob", "team"), DOC) == "editor"
    assert await access.role_of(actor("bob", "other", "team"), DOC) == "editor"
    assert await access.role_of(actor("bob"), DOC) is None
    assert await access.role_of(actor("bob", "teams"), DOC) is None
    # a group named like a user is not that user
    assert await access.role_of(actor("team"), DOC) is None
    await access.grant(DOC.id, "user:dave", "viewer", "alice")
    assert await access.role_of(actor("someone", "dave"), DOC) is None


async def test_usernames_and_group_names_are_case_sensitive(access: ShareAccess):
    await access.grant(DOC.id, "user:Bob", "editor", "alice")
    await access.grant(DOC.id, "group:Team", "editor", "alice")
    assert await access.role_of(actor("Bob"), DOC) == "editor"
    assert await access.role_of(actor("bob"), DOC) is None
    assert await access.role_of(actor("x", "team"), DOC) is None
    assert await access.readable(actor("bob", "team"), [DOC]) == {}


@pytest.mark.parametrize(
    ("grants", "groups", "expected"),
    [
        ([("user:bob", "viewer"), ("group:a", "editor")], ("a",), "editor"),
        ([("user:bob", "editor"), ("group:a", "viewer")], ("a",), "editor"),
        ([("group:a", "viewer"), ("group:b", "commenter")], ("a", "b"), "commenter"),
        ([("group:a", "owner"), ("group:b", "commenter")], ("a", "b"), "owner"),
        ([("group:a", "owner"), ("user:bob", "viewer")], ("b",), "viewer"),
        ([("user:bob", "commenter"), ("group:b", "viewer")], ("a", "b"), "commenter"),
    ],
)
async def test_the_strongest_grant_wins(access: ShareAccess, grants, groups, expected):
    for principal, role in grants:
        await access.grant(DOC.id, principal, role, "alice")
    bob = actor("bob", *groups)
    assert await access.role_of(bob, DOC) == expected
    assert await access.readable(bob, [DOC]) == {DOC.id: expected}


async def test_links(access: ShareAccess, db: AccessDatabase):
    token = await access.grant(DOC.id, LINK, "viewer", "alice")
    assert isinstance(token, str) and token.startswith("cdl_") and len(token) > 20
    bob = actor("bob")
    assert await access.role_of(bob, DOC, token) == "viewer"
    assert await access.role_of(bob, DOC) is None
    assert await access.role_of(bob, DOC, token + "x") is None
    assert await access.role_of(bob, DOC, "") is None
    assert await access.role_of(bob, OTHER, token) is None  # one document's link only
    assert await access.shares(DOC) == [Share("user:alice", "owner"), Share(LINK, "viewer")]
    # only a hash is stored
    hashes = db.call(lambda s: [r.token_hash for r in s.scalars(select(LinkRow))])
    assert hashes == [hashlib.sha256(token.encode()).hexdigest()]

    # changing the role keeps the token (and answers none)
    assert await access.grant(DOC.id, LINK, "editor", "alice") is None
    assert await access.role_of(bob, DOC, token) == "editor"

    # a revoked link is dead; a new link has a new token
    assert await access.revoke(DOC.id, LINK) is True
    assert await access.role_of(bob, DOC, token) is None
    assert await access.shares(DOC) == [Share("user:alice", "owner")]
    fresh = await access.grant(DOC.id, LINK, "commenter", "alice")
    assert fresh and fresh != token
    assert await access.role_of(bob, DOC, token) is None
    assert await access.role_of(bob, DOC, fresh) == "commenter"


async def test_links_of_two_documents_are_independent(access: ShareAccess):
    first = await access.grant(DOC.id, LINK, "viewer", "alice")
    second = await access.grant(OTHER.id, LINK, "editor", "alice")
    assert first != second
    bob = actor("bob")
    assert await access.role_of(bob, DOC, first) == "viewer"
    assert await access.role_of(bob, OTHER, second) == "editor"
    assert await access.role_of(bob, DOC, second) is None
    await access.revoke(DOC.id, LINK)
    assert await access.role_of(bob, OTHER, second) == "editor"


async def test_a_link_and_own_grants_combine_strongest_first(access: ShareAccess):
    token = await access.grant(DOC.id, LINK, "commenter", "alice")
    await access.grant(DOC.id, "user:bob", "viewer", "alice")
    await access.grant(DOC.id, "group:team", "editor", "alice")
    assert await access.role_of(actor("bob"), DOC, token) == "commenter"  # link is stronger
    assert await access.role_of(actor("bob", "team"), DOC, token) == "editor"  # link weaker
    assert await access.role_of(actor("alice"), DOC, token) == "owner"


async def test_expired_links_grant_nothing(access: ShareAccess, db: AccessDatabase):
    token = await access.grant(DOC.id, LINK, "editor", "alice")
    bob = actor("bob")

    def expire(when: datetime | None) -> None:
        db.call(lambda s: s.execute(update(LinkRow).values(expires=when)))

    expire(utcnow() + timedelta(hours=1))
    assert await access.role_of(bob, DOC, token) == "editor"
    expire(utcnow() - timedelta(seconds=5))
    assert await access.role_of(bob, DOC, token) is None
    expire(None)
    assert await access.role_of(bob, DOC, token) == "editor"


async def test_revoke(access: ShareAccess):
    await access.grant(DOC.id, "user:bob", "editor", "alice")
    await access.grant(DOC.id, "group:team", "viewer", "alice")
    await access.grant(OTHER.id, "user:bob", "viewer", "alice")
    assert await access.revoke(DOC.id, "user:bob") is True
    assert await access.revoke(DOC.id, "user:bob") is False
    assert await access.revoke(DOC.id, "user:nobody") is False
    assert await access.revoke(DOC.id, LINK) is False
    assert await access.role_of(actor("bob"), DOC) is None
    assert await access.role_of(actor("bob", "team"), DOC) == "viewer"
    assert await access.role_of(actor("bob"), OTHER) == "viewer"
    assert await access.revoke(DOC.id, "group:team") is True
    assert await access.role_of(actor("bob", "team"), DOC) is None


async def test_forget_drops_every_grant_of_one_document(access: ShareAccess):
    token = await access.grant(DOC.id, LINK, "viewer", "alice")
    other_token = await access.grant(OTHER.id, LINK, "viewer", "alice")
    for doc in (DOC, OTHER):
        await access.grant(doc.id, "user:bob", "editor", "alice")
        await access.grant(doc.id, "group:team", "viewer", "alice")
    await access.forget(DOC.id)
    assert await access.shares(DOC) == [Share("user:alice", "owner")]
    assert await access.role_of(actor("bob", "team"), DOC, token) is None
    assert await access.role_of(actor("bob"), OTHER) == "editor"
    assert await access.role_of(actor("x"), OTHER, other_token) == "viewer"
    assert len(await access.shares(OTHER)) == 4
    await access.forget(DOC.id)  # twice is fine


async def test_shares_are_listed_creator_first_in_grant_order_link_last(access: ShareAccess):
    await access.grant(DOC.id, LINK, "viewer", "alice")
    await access.grant(DOC.id, "user:zed", "viewer", "alice")
    await access.grant(DOC.id, "group:alpha", "editor", "alice")
    await access.grant(DOC.id, "user:amy", "commenter", "alice")
    await access.grant(DOC.id, "user:zed", "owner", "alice")  # a change keeps its place
    assert await access.shares(DOC) == [
        Share("user:alice", "owner"),
        Share("user:zed", "owner"),
        Share("group:alpha", "editor"),
        Share("user:amy", "commenter"),
        Share(LINK, "viewer"),
    ]
    assert await access.shares(OTHER) == [Share("user:alice", "owner")]


async def test_readable(access: ShareAccess):
    docs = [record(f"d{i}", owner="alice") for i in range(5)] + [record("mine", owner="bob")]
    await access.grant("d0", "user:bob", "viewer", "alice")
    await access.grant("d1", "group:team", "commenter", "alice")
    await access.grant("d2", "user:bob", "viewer", "alice")
    await access.grant("d2", "group:team", "editor", "alice")
    token = await access.grant("d3", LINK, "editor", "alice")
    await access.grant("gone", "user:bob", "editor", "alice")  # not among the records
    bob = actor("bob", "team")
    assert await access.readable(bob, docs) == {
        "d0": "viewer",
        "d1": "commenter",
        "d2": "editor",
        "mine": "owner",
    }  # links do not list documents
    assert await access.readable(actor("bob"), docs) == {
        "d0": "viewer",
        "d2": "viewer",
        "mine": "owner",
    }
    assert await access.readable(actor("carol"), docs) == {}
    assert await access.readable(actor("alice"), docs) == {f"d{i}": "owner" for i in range(5)}
    assert await access.readable(actor("root", admin=True), docs) == {d.id: "owner" for d in docs}
    assert await access.readable(bob, []) == {}
    assert await access.role_of(actor("carol"), docs[3], token) == "editor"


async def warm_up(db: AccessDatabase) -> None:
    """Open every worker's connection first, so the requests below really overlap."""
    await asyncio.gather(*(db.run(lambda s: s.execute(text("SELECT 1"))) for _ in range(8)))


async def test_concurrent_grants_of_one_principal(access: ShareAccess, db: AccessDatabase):
    """Two owners sharing with the same person at the same moment both succeed; one
    grant remains."""
    await warm_up(db)
    for round in range(10):
        doc = record(f"doc-{round}")
        roles = ["viewer", "commenter", "editor", "owner"]
        results = await asyncio.gather(
            *(access.grant(doc.id, "user:bob", role, "alice") for role in roles),
            return_exceptions=True,
        )
        assert [repr(r) for r in results if isinstance(r, BaseException)] == []
        shares = await access.shares(doc)
        assert [s.principal for s in shares] == ["user:alice", "user:bob"]
        assert shares[1].role in roles


async def test_concurrent_link_creation(access: ShareAccess, db: AccessDatabase):
    """Creating a document's link twice at once: both succeed, one link exists, and only
    its token is handed out."""
    await warm_up(db)
    for round in range(10):
        doc = record(f"doc-{round}")
        results = await asyncio.gather(
            *(access.grant(doc.id, LINK, "viewer", "alice") for _ in range(4)),
            return_exceptions=True,
        )
        assert [repr(r) for r in results if isinstance(r, BaseException)] == []
        tokens = [r for r in results if r is not None]
        assert len(tokens) == 1
        assert await access.role_of(actor("bob"), doc, tokens[0]) == "viewer"


# -- users and tokens ----------------------------------------------------------------------


async def test_users(directory: AccessDirectory):
    token = directory.add("alice", "Alice Liddell")
    admin_token = directory.add("carol", admin=True)
    assert token.startswith("cd_") and token != admin_token
    alice = directory.get("alice")
    assert alice is not None
    assert (alice.username, alice.display_name, alice.is_admin) == ("alice", "Alice Liddell", False)
    assert datetime.fromisoformat(alice.created)
    carol = directory.get("carol")
    assert carol is not None and carol.display_name == "carol" and carol.is_admin
    assert directory.get("nobody") is None
    assert [u.username for u in directory.list_users()] == ["alice", "carol"]
    assert await directory.lookup("alice") == alice
    assert await directory.lookup("nobody") is None
    assert await directory.authenticate(token) == alice
    assert (await directory.authenticate(admin_token)).username == "carol"
    assert await directory.authenticate("cd_not-a-token") is None
    assert await directory.authenticate("") is None


@pytest.mark.parametrize("name", ["", "-alice", "a b", "a/b", "x" * 65, "al:ice", "ünï"])
def test_invalid_usernames_are_refused(directory: AccessDirectory, name: str):
    with pytest.raises(UserError):
        directory.add(name)
    with pytest.raises(UserError):
        directory.add_group(name)
    assert directory.list_users() == [] and directory.groups() == {}


def test_usernames_up_to_64_characters(directory: AccessDirectory):
    name = "a" + "b.c_d@e-" * 7 + "x" * 7
    assert len(name) == 64
    directory.add(name)
    assert directory.get(name) is not None


def test_duplicate_users_are_refused(directory: AccessDirectory):
    directory.add("alice")
    with pytest.raises(UserError):
        directory.add("alice", admin=True)
    assert directory.get("alice").is_admin is False


def test_usernames_differing_in_case_are_different_users(directory: AccessDirectory):
    directory.add("alice")
    directory.add("Alice", "Upper")
    assert [u.username for u in directory.list_users()] == ["Alice", "alice"]
    assert directory.get("Alice").display_name == "Upper"
    assert directory.get("alice").display_name == "alice"


async def test_a_new_token_replaces_the_old(directory: AccessDirectory):
    old = directory.add("alice")
    assert (await directory.authenticate(old)).username == "alice"  # now cached
    new = directory.issue_token("alice")
    assert new != old
    assert await directory.authenticate(old) is None  # the cache was cleared
    assert (await directory.authenticate(new)).username == "alice"
    with pytest.raises(UserError):
        directory.issue_token("nobody")


async def test_removing_a_user(directory: AccessDirectory):
    token = directory.add("alice")
    directory.add("bob")
    directory.add_group("team")
    directory.add_member("team", "alice")
    directory.add_member("team", "bob")
    assert (await directory.authenticate(token)).username == "alice"
    directory.remove("alice")
    assert directory.get("alice") is None
    assert await directory.authenticate(token) is None
    assert directory.groups() == {"team": ["bob"]}
    assert await directory.groups_of("alice") == frozenset()
    with pytest.raises(UserError):
        directory.remove("alice")
    # the name may be used again, with a new token; the old one stays dead
    again = directory.add("alice")
    assert await directory.authenticate(token) is None
    assert (await directory.authenticate(again)).username == "alice"
    assert await directory.groups_of("alice") == frozenset()


async def test_tokens_are_stored_as_hashes_and_record_their_use(
    directory: AccessDirectory, db: AccessDatabase
):
    token = directory.add("alice")
    rows = db.call(lambda s: [(r.token_hash, r.last_used) for r in s.scalars(select(TokenRow))])
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(), None)]
    assert token not in str(rows)
    await directory.authenticate(token)
    last_used = db.call(lambda s: s.scalar(select(TokenRow.last_used)))
    assert last_used is not None and abs(last_used - utcnow()) < timedelta(minutes=1)


async def test_expired_tokens_and_disabled_users(directory: AccessDirectory, db: AccessDatabase):
    directory.CACHE_SECONDS = 0.0  # type: ignore[misc] - look every token up afresh
    token = directory.add("alice")
    db.call(lambda s: s.execute(update(TokenRow).values(expires=utcnow() - timedelta(seconds=5))))
    assert await directory.authenticate(token) is None
    db.call(lambda s: s.execute(update(TokenRow).values(expires=utcnow() + timedelta(hours=1))))
    assert (await directory.authenticate(token)).username == "alice"
    db.call(lambda s: s.execute(update(UserRow).values(disabled=True)))
    assert await directory.authenticate(token) is None


async def test_the_token_cache(directory: AccessDirectory, db: AccessDatabase, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(directory_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    lookups: list[str] = []
    real = directory._by_token
    monkeypatch.setattr(directory, "_by_token", lambda t: lookups.append(t) or real(t))
    token = directory.add("alice")
    assert (await directory.authenticate(token)).username == "alice"
    assert lookups == [token]

    # the token disappears behind the directory's back: still good until the entry expires
    db.call(lambda s: s.execute(delete(TokenRow)))
    clock[0] += directory.CACHE_SECONDS - 0.5
    assert (await directory.authenticate(token)).username == "alice"
    assert lookups == [token]
    clock[0] += 1.0
    assert await directory.authenticate(token) is None
    assert lookups == [token, token]

    # failures are cached too: a token that appears later is seen once the entry expires
    later = "cd_" + secrets.token_urlsafe(32)
    assert await directory.authenticate(later) is None
    db.call(
        lambda s: s.add(
            TokenRow(token_hash=hashlib.sha256(later.encode()).hexdigest(), username="alice",
                     label="", created=utcnow())
        )
    )  # fmt: skip
    assert await directory.authenticate(later) is None
    clock[0] += directory.CACHE_SECONDS + 0.1
    assert (await directory.authenticate(later)).username == "alice"

    # removing a user empties the cache at once
    directory.remove("alice")
    assert await directory.authenticate(later) is None


# -- groups ------------------------------------------------------------------------------


async def test_groups(directory: AccessDirectory):
    for name in ("alice", "bob", "carol"):
        directory.add(name)
    directory.add_group("team")
    directory.add_group("admins")
    assert directory.groups() == {"admins": [], "team": []}
    directory.add_member("team", "bob")
    directory.add_member("team", "alice")
    directory.add_member("admins", "carol")
    directory.add_member("admins", "alice")
    assert directory.groups() == {"admins": ["alice", "carol"], "team": ["alice", "bob"]}
    assert await directory.groups_of("alice") == frozenset({"team", "admins"})
    assert await directory.groups_of("bob") == frozenset({"team"})
    assert await directory.groups_of("nobody") == frozenset()

    with pytest.raises(UserError):
        directory.add_group("team")
    with pytest.raises(UserError):
        directory.add_member("team", "bob")  # already in it
    with pytest.raises(UserError):
        directory.add_member("nope", "bob")
    with pytest.raises(UserError):
        directory.add_member("team", "nobody")
    assert directory.groups() == {"admins": ["alice", "carol"], "team": ["alice", "bob"]}

    directory.remove_member("team", "bob")
    assert await directory.groups_of("bob") == frozenset()
    with pytest.raises(UserError):
        directory.remove_member("team", "bob")
    directory.remove_group("admins")
    assert directory.groups() == {"team": ["alice"]}
    assert await directory.groups_of("alice") == frozenset({"team"})
    assert await directory.groups_of("carol") == frozenset()
    with pytest.raises(UserError):
        directory.remove_group("admins")
    # a group made again under an old name starts empty
    directory.add_group("admins")
    assert directory.groups()["admins"] == []


def test_group_names_differing_in_case_are_different_groups(directory: AccessDirectory):
    directory.add("alice")
    directory.add_group("team")
    directory.add_group("Team")
    directory.add_member("Team", "alice")
    assert directory.groups() == {"Team": ["alice"], "team": []}


async def test_directory_and_access_share_one_database(
    directory: AccessDirectory, access: ShareAccess
):
    """The server's path: a group from the directory, a share to it, the member's role."""
    directory.add("bob")
    directory.add_group("team")
    directory.add_member("team", "bob")
    await access.grant(DOC.id, "group:team", "editor", "alice")
    bob = Actor.create("bob", groups=await directory.groups_of("bob"))
    assert await access.role_of(bob, DOC) == "editor"
    directory.remove_member("team", "bob")
    bob = Actor.create("bob", groups=await directory.groups_of("bob"))
    assert await access.role_of(bob, DOC) is None


def test_work_runs_off_the_calling_thread(db: AccessDatabase):
    async def main() -> tuple[str, str]:
        here = threading.current_thread().name
        there = await db.run(lambda _s: threading.current_thread().name)
        return here, there

    here, there = asyncio.run(main())
    assert here != there and there.startswith("collab-acl")


def test_a_failed_unit_of_work_changes_nothing(db: AccessDatabase, directory: AccessDirectory):
    def half_done(session: Any) -> None:
        session.add(UserRow(username="ghost", display_name="g", is_admin=False, disabled=False,
                            created=utcnow()))  # fmt: skip
        session.flush()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        db.call(half_done)
    assert directory.get("ghost") is None
