"""Shares name principals that exist, and the share dialogs can complete them (issue #15).

On the standalone server the directory (users and groups of the access database) is the
list of who exists: sharing with anyone else is refused (404, nothing written), and
``GET principals?q=PREFIX`` completes names for the share dialogs, a few at a time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


async def new_doc(api: Any, user: str = "alice") -> str:
    reply = await api(user, "POST", "documents", {"name": "doc", "type": "file"})
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


async def shares_of(api: Any, doc_id: str) -> list[dict[str, str]]:
    return list((await api("alice", "GET", f"documents/{doc_id}/shares")).body["shares"])


def audit_kinds(collab: Any) -> list[str]:
    path = Path(collab.data_dir) / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["kind"] for line in path.read_text().splitlines() if line]


# -- sharing refuses unknown principals ---------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "named"),
    [("user:dave", "user 'dave'"), ("group:ghosts", "group 'ghosts'")],
)
async def test_sharing_with_an_unknown_principal_is_404_and_writes_nothing(
    api, collab, principal, named
):
    doc_id = await new_doc(api)
    before = await shares_of(api, doc_id)
    for role in ("viewer", "editor", "owner"):
        reply = await api("alice", "PUT", f"documents/{doc_id}/shares/{principal}", {"role": role})
        assert reply.status == 404, reply.body
        assert named in reply.body["message"]
    # an administrator is held to it too
    reply = await api("carol", "PUT", f"documents/{doc_id}/shares/{principal}", {"role": "viewer"})
    assert reply.status == 404
    assert await shares_of(api, doc_id) == before
    assert "share.granted" not in audit_kinds(collab)


async def test_existing_users_and_groups_are_shared_with(api, collab, tokens):
    collab.users.add_group("physics")
    collab.users.add_member("physics", "bob")
    doc_id = await new_doc(api)
    path = f"documents/{doc_id}/shares"
    assert (await api("alice", "PUT", f"{path}/user:bob", {"role": "viewer"})).status == 200
    assert (await api("alice", "PUT", f"{path}/group:physics", {"role": "editor"})).status == 200
    assert (await api("bob", "GET", f"documents/{doc_id}")).body["role"] == "editor"
    # names are exact: no other case, no prefix
    for other in ("user:Bob", "user:bo", "group:Physics"):
        assert (await api("alice", "PUT", f"{path}/{other}", {"role": "viewer"})).status == 404


async def test_a_removed_user_can_no_longer_be_shared_with(api, collab, tokens):
    tokens["dave"] = collab.users.add("dave")
    doc_id = await new_doc(api)
    path = f"documents/{doc_id}/shares/user:dave"
    assert (await api("alice", "PUT", path, {"role": "viewer"})).status == 200
    collab.users.remove("dave")
    reply = await api("alice", "PUT", path, {"role": "editor"})
    assert reply.status == 404 and "user 'dave'" in reply.body["message"]
    assert [s["principal"] for s in await shares_of(api, doc_id)] == ["user:alice"]


async def test_who_may_not_share_learns_nothing_about_names(api, collab, tokens):
    """The existence check comes after the caller's right to share: a viewer gets 403 and a
    stranger 404 about the document, whether or not the name exists."""
    doc_id = await new_doc(api)
    path = f"documents/{doc_id}/shares"
    assert (await api("alice", "PUT", f"{path}/user:bob", {"role": "viewer"})).status == 200
    answers = []
    for name in ("carol", "nobody"):
        viewer = await api("bob", "PUT", f"{path}/user:{name}", {"role": "viewer"})
        answers.append((viewer.status, viewer.body["message"]))
    assert answers[0] == answers[1] and answers[0][0] == 403
    tokens["eve"] = collab.users.add("eve")
    answers = []
    for name in ("carol", "nobody"):
        stranger = await api("eve", "PUT", f"{path}/user:{name}", {"role": "viewer"})
        answers.append((stranger.status, stranger.body["message"]))
    assert answers[0] == answers[1] == (404, "document not found")


async def test_an_old_share_of_an_unknown_principal_can_still_be_removed(api, collab):
    """Shares written before names were checked (or behind the CLI's back) stay removable."""
    doc_id = await new_doc(api)
    await collab.sharing.access.grant(doc_id, "user:ghost", "viewer", "alice")
    assert (await api("alice", "DELETE", f"documents/{doc_id}/shares/user:ghost")).status == 204
    assert [s["principal"] for s in await shares_of(api, doc_id)] == ["user:alice"]


# -- completion ------------------------------------------------------------------------------


async def complete(api: Any, q: str | None, user: str = "alice") -> Any:
    return await api(user, "GET", "principals", params=None if q is None else {"q": q})


async def test_completion_lists_users_and_groups_by_prefix(api, collab, tokens):
    collab.users.add_group("biology")
    collab.users.add_group("physics")
    reply = await complete(api, "b", user="bob")  # any signed-in user
    assert reply.status == 200, reply.body
    assert reply.body == {
        "principals": [
            {"principal": "user:bob", "display_name": "bob"},
            {"principal": "group:biology", "display_name": "biology"},
        ],
        "directory": True,
    }
    assert (await complete(api, "ali")).body["principals"] == [
        {"principal": "user:alice", "display_name": "Alice Liddell"}
    ]
    # by display name, case-insensitively
    assert [p["principal"] for p in (await complete(api, "LIDD")).body["principals"]] == []
    assert [p["principal"] for p in (await complete(api, "ALICE l")).body["principals"]] == [
        "user:alice"
    ]
    # one kind only
    assert [p["principal"] for p in (await complete(api, "group:b")).body["principals"]] == [
        "group:biology"
    ]
    assert [p["principal"] for p in (await complete(api, "user:b")).body["principals"]] == [
        "user:bob"
    ]
    assert (await complete(api, "zz")).body["principals"] == []


async def test_completion_is_bounded_and_escapes_wildcards(api, collab, tokens):
    for n in range(30):
        collab.users.add(f"u{n:02}")
    collab.users.add("a_b")
    collab.users.add("axb")
    listed = (await complete(api, "u")).body["principals"]
    assert [p["principal"] for p in listed] == [f"user:u{n:02}" for n in range(10)]
    assert [p["principal"] for p in (await complete(api, "a_")).body["principals"]] == ["user:a_b"]
    for wildcard in ("%", "_", "a%", "*"):
        assert (await complete(api, wildcard)).body["principals"] == [], wildcard


async def test_completion_reveals_names_only(api, collab, tokens):
    """No administrator flag, no members, no tokens: what a share dialog shows."""
    collab.users.add_group("carols")
    collab.users.add_member("carols", "carol")
    listed = (await complete(api, "carol")).body["principals"]
    assert listed == [
        {"principal": "user:carol", "display_name": "carol"},
        {"principal": "group:carols", "display_name": "carols"},
    ]


@pytest.mark.parametrize("q", [None, "", "user:", "group:", "x" * 65, "a\nb", "a\tb"])
async def test_completion_needs_a_short_prefix(api, q):
    reply = await complete(api, q)
    assert reply.status == 400, reply.body
    assert reply.body["message"]


async def test_completion_needs_a_signed_in_user(api):
    reply = await complete(api, "a", user=None)
    assert reply.status == 401
