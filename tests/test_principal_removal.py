"""Removing a group or a user drops the shares naming it (docs/sharing.md, issue #12 item
13): a group or user made again under the same name starts with no access."""

from __future__ import annotations

from typing import Any


async def shared_doc(api: Any) -> tuple[str, str]:
    reply = await api("alice", "POST", "documents", {"name": "doc", "type": "file"})
    assert reply.status == 201
    doc_id = reply.body["id"]
    path = f"documents/{doc_id}/shares"
    assert (await api("alice", "PUT", f"{path}/group:team", {"role": "editor"})).status == 200
    assert (await api("alice", "PUT", f"{path}/user:bob", {"role": "viewer"})).status == 200
    return doc_id, path


async def principals(api: Any, path: str) -> list[str]:
    return [s["principal"] for s in (await api("alice", "GET", path)).body["shares"]]


async def test_removing_a_group_drops_its_shares(api, collab, tokens):
    tokens["dave"] = collab.users.add("dave")
    collab.users.add_group("team")
    collab.users.add_member("team", "dave")
    doc_id, path = await shared_doc(api)
    assert (await api("dave", "GET", f"documents/{doc_id}")).body["role"] == "editor"

    collab.users.remove_group("team")
    assert await principals(api, path) == ["user:alice", "user:bob"]
    # a new group of the same name does not inherit the old one's shares
    collab.users.add_group("team")
    collab.users.add_member("team", "dave")
    assert (await api("dave", "GET", f"documents/{doc_id}")).status == 404


async def test_removing_a_user_drops_their_shares(api, collab, tokens):
    collab.users.add_group("team")  # shares name groups that exist
    doc_id, path = await shared_doc(api)
    assert (await api("bob", "GET", f"documents/{doc_id}")).status == 200

    collab.users.remove("bob")
    assert await principals(api, path) == ["user:alice", "group:team"]
    tokens["bob"] = collab.users.add("bob")  # a new user of the same name
    assert (await api("bob", "GET", f"documents/{doc_id}")).status == 404
