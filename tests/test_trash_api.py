"""The trash (issue #15): DELETE moves a document to its owner's trash, where it can be
restored (shares intact) or purged; past ``trash_retention_days`` it is purged by the
server. REST on both real stores (SQLite, MongoDB on FerretDB); the clock is injected."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Text

from jupyter_collab_docs.identity import Actor
from jupyter_collab_docs.testing import RawClient, eventually, yclient
from jupyter_collab_docs.timeutil import utc_now


@pytest.fixture(params=["sqlite", "mongodb"])
def collab_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    # A long write delay: an edit the server has not written yet is still in the room
    # when the document is deleted (the trash must keep it).
    config: dict[str, Any] = {"write_delay": 5.0, "max_documents_per_user": 2}
    if request.param == "mongodb":
        config["store_url"] = request.getfixturevalue("mongodb_test_url")
    return config


def audit(collab: Any, kind: str) -> list[dict[str, Any]]:
    path = Path(collab.data_dir) / "audit.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [e for e in events if e["kind"] == kind]


async def shared_doc(api: Any, content: str = "keep me") -> str:
    """alice's text document, shared with bob as an editor."""
    reply = await api(
        "alice", "POST", "documents", {"name": "Notes", "type": "file", "content": content}
    )
    doc_id = str(reply.body["id"])
    granted = await api("alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "editor"})
    assert granted.status in (200, 201), granted.body
    return doc_id


def listed(reply: Any, key: str = "documents") -> list[str]:
    return [d["id"] for d in reply.body[key]]


async def test_delete_moves_the_document_to_its_owners_trash(api, collab):
    doc_id = await shared_doc(api)
    before = utc_now()
    assert (await api("alice", "DELETE", f"documents/{doc_id}")).status == 204
    # Gone for everyone's ordinary use, the owner's included.
    for user in ("alice", "bob"):
        assert doc_id not in listed(await api(user, "GET", "documents"))
        assert (await api(user, "GET", f"documents/{doc_id}")).status == 404
        assert (await api(user, "GET", f"documents/{doc_id}/content")).status == 404
    assert (await api("alice", "DELETE", f"documents/{doc_id}")).status == 404
    # In alice's trash only, with when it goes for good.
    trash = await api("alice", "GET", "trash")
    assert trash.status == 200 and listed(trash) == [doc_id]
    entry = trash.body["documents"][0]
    assert (entry["name"], entry["owner"], entry["role"]) == ("Notes", "alice", "owner")
    assert entry["trashed"] >= before.strftime("%Y-%m-%dT%H:%M:%S")
    trashed = entry["trashed"]
    assert entry["purge_after"] > trashed
    assert listed(await api("bob", "GET", "trash")) == []
    assert doc_id in listed(await api("carol", "GET", "trash"))  # an administrator
    [event] = audit(collab, "document.deleted")
    assert (event["actor"], event["document_id"]) == ("alice", doc_id)
    assert event["purge_after"] == entry["purge_after"]


async def test_restore_brings_back_content_and_shares(api, collab):
    doc_id = await shared_doc(api)
    await api("alice", "DELETE", f"documents/{doc_id}")
    # Not by a sharee (not even told it is there), not by the link-less anonymous.
    assert (await api("bob", "POST", f"trash/{doc_id}/restore")).status == 404
    assert (await api("bob", "DELETE", f"trash/{doc_id}")).status == 404
    restored = await api("alice", "POST", f"trash/{doc_id}/restore")
    assert restored.status == 200 and restored.body["id"] == doc_id
    assert restored.body["role"] == "owner"
    assert (await api("alice", "POST", f"trash/{doc_id}/restore")).status == 404  # done
    assert listed(await api("alice", "GET", "trash")) == []
    assert doc_id in listed(await api("alice", "GET", "documents"))
    bob = await api("bob", "GET", f"documents/{doc_id}")
    assert bob.status == 200 and bob.body["role"] == "editor"
    content = await api("bob", "GET", f"documents/{doc_id}/content")
    assert content.body["content"] == "keep me"
    [event] = audit(collab, "document.restored")
    assert (event["actor"], event["document_id"]) == ("alice", doc_id)


async def test_the_owner_may_purge_at_once(api, collab):
    doc_id = await shared_doc(api)
    await api("alice", "DELETE", f"documents/{doc_id}")
    assert (await api("alice", "DELETE", f"trash/{doc_id}")).status == 204
    assert listed(await api("alice", "GET", "trash")) == []
    assert (await api("alice", "POST", f"trash/{doc_id}/restore")).status == 404
    assert (await api("alice", "DELETE", f"trash/{doc_id}")).status == 404
    assert await collab.store.get(doc_id) is None
    # Its shares went with it: a new document under the same id could not inherit them.
    assert await collab.documents.access.shared_with(Actor.create("bob")) == {}
    [event] = audit(collab, "document.purged")
    assert (event["actor"], event["document_id"], event["reason"]) == ("alice", doc_id, "owner")


async def test_a_document_not_in_the_trash_cannot_be_purged_from_it(api):
    doc_id = await shared_doc(api)
    assert (await api("alice", "DELETE", f"trash/{doc_id}")).status == 404
    assert (await api("alice", "POST", f"trash/{doc_id}/restore")).status == 404
    assert (await api("alice", "GET", f"documents/{doc_id}")).status == 200
    assert (await api("alice", "DELETE", "trash/not-an-id")).status == 404


async def test_purged_after_the_retention_by_the_server(api, collab):
    assert collab.trash_retention_days == 30
    old, recent = await shared_doc(api), await shared_doc(api)
    now = utc_now()
    collab.documents.clock = lambda: now - timedelta(days=30, seconds=1)
    await api("alice", "DELETE", f"documents/{old}")
    collab.documents.clock = lambda: now - timedelta(days=29)
    await api("alice", "DELETE", f"documents/{recent}")
    collab.documents.clock = lambda: now
    assert await collab.trash_purger.run_once() == 1
    assert await collab.trash_purger.run_once() == 0  # nothing more to do
    assert listed(await api("alice", "GET", "trash")) == [recent]
    assert await collab.store.get(old) is None
    [event] = audit(collab, "document.purged")
    assert (event["actor"], event["document_id"], event["reason"]) == (None, old, "retention")


async def test_trashed_documents_count_in_the_quota(api):
    first = await shared_doc(api)
    await shared_doc(api)
    await api("alice", "DELETE", f"documents/{first}")
    new = {"name": "third", "type": "file"}
    refused = await api("alice", "POST", "documents", new)
    assert refused.status == 403 and "trash" in refused.body["message"]
    await api("alice", "DELETE", f"trash/{first}")
    assert (await api("alice", "POST", "documents", new)).status == 201


async def test_open_sockets_close_and_unwritten_edits_are_kept(api, collab, ws_url):
    doc_id = await shared_doc(api, content="")
    bystander = await RawClient.connect(ws_url(doc_id, "bob"))
    await bystander.recv()
    async with yclient(ws_url(doc_id)) as alice:
        alice.text.insert(0, "typed just before")
        room = collab.rooms.open_rooms[doc_id]
        # The room has it, not yet written (write_delay is 5 s).
        await eventually(lambda: str(room.doc.get("source", type=Text)) == "typed just before")
        assert (await api("alice", "DELETE", f"documents/{doc_id}")).status == 204
        assert await bystander.closed() == 4410
        # A socket cannot open it again.
        assert await (await RawClient.connect(ws_url(doc_id))).closed() == 4404
    assert (await api("alice", "POST", f"trash/{doc_id}/restore")).status == 200
    content = await api("alice", "GET", f"documents/{doc_id}/content")
    assert content.body["content"] == "typed just before"
