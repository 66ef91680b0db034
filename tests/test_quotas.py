"""Quotas (issue #12 item 11): documents per user and shares per document are capped
(403, nothing half-written), and the document list comes from the access index (the
caller's own documents and the shares naming them), not from a scan of every document."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

QUOTAS = {"max_documents_per_user": 3, "max_shares_per_document": 2}


@pytest.fixture
def collab_config() -> dict[str, Any]:
    return dict(QUOTAS)


async def create(api: Any, user: str, name: str = "doc") -> Any:
    return await api(user, "POST", "documents", {"name": name, "type": "file", "content": "x"})


async def owned(collab: Any, user: str) -> list[str]:
    return sorted(r.name for r in await collab.store.list_documents(owner=user))


def test_defaults_are_set() -> None:
    from jupyter_collab_docs.app import CollabDocsApp

    app = CollabDocsApp()
    assert app.max_documents_per_user == 1000
    assert app.max_shares_per_document == 100


async def test_documents_per_user(api, collab):
    for n in range(3):
        assert (await create(api, "alice", f"d{n}")).status == 201
    refused = await create(api, "alice", "one too many")
    assert refused.status == 403
    assert "max_documents_per_user" in refused.body["message"]
    assert await owned(collab, "alice") == ["d0", "d1", "d2"]  # nothing half-written
    audit = (collab.data_dir + "/audit.jsonl", "one too many")
    with open(audit[0]) as f:
        assert audit[1] not in f.read()
    # others are not affected; an administrator is exempt
    assert (await create(api, "bob")).status == 201
    for n in range(4):
        assert (await create(api, "carol", f"c{n}")).status == 201
    # a deleted one still counts while in the trash (docs/sharing.md, "The trash");
    # emptying it from the trash frees a place
    first = (await api("alice", "GET", "documents")).body["documents"][0]["id"]
    assert (await api("alice", "DELETE", f"documents/{first}")).status == 204
    assert (await create(api, "alice", "again")).status == 403
    assert (await api("alice", "DELETE", f"trash/{first}")).status == 204
    assert (await create(api, "alice", "again")).status == 201


async def test_concurrent_creates_do_not_pass_the_quota(api, collab):
    statuses: list[int] = []

    async def one(n: int) -> None:
        statuses.append((await create(api, "bob", f"b{n}")).status)

    async with anyio.create_task_group() as tg:
        for n in range(10):
            tg.start_soon(one, n)
    assert sorted(statuses) == [201] * 3 + [403] * 7
    assert len(await owned(collab, "bob")) == 3


async def test_shares_per_document(api, collab, tokens):
    for name in ("dave", "erin"):  # shares name users and groups that exist
        collab.users.add(name)
    collab.users.add_group("team")
    doc_id = (await create(api, "alice")).body["id"]
    shares = f"documents/{doc_id}/shares"
    assert (await api("alice", "PUT", f"{shares}/user:bob", {"role": "viewer"})).status == 200
    assert (await api("alice", "PUT", f"{shares}/group:team", {"role": "viewer"})).status == 200
    refused = await api("alice", "PUT", f"{shares}/user:dave", {"role": "viewer"})
    assert refused.status == 403
    assert "max_shares_per_document" in refused.body["message"]
    listed = (await api("alice", "GET", shares)).body["shares"]
    assert [s["principal"] for s in listed] == ["user:alice", "user:bob", "group:team"]
    # changing an existing share, and the one share link, stay possible
    assert (await api("alice", "PUT", f"{shares}/user:bob", {"role": "editor"})).status == 200
    assert (await api("alice", "PUT", f"{shares}/link", {"role": "viewer"})).status == 200
    # administrators are held to it too (the cap protects the document, not the user)
    assert (await api("carol", "PUT", f"{shares}/user:erin", {"role": "viewer"})).status == 403
    # revoking one frees a place
    assert (await api("alice", "DELETE", f"{shares}/group:team")).status == 204
    assert (await api("alice", "PUT", f"{shares}/user:dave", {"role": "viewer"})).status == 200


async def test_concurrent_grants_do_not_pass_the_cap(api, collab):
    for n in range(8):  # shares name users that exist
        collab.users.add(f"u{n}")
    doc_id = (await create(api, "alice")).body["id"]
    statuses: list[int] = []

    async def grant(n: int) -> None:
        reply = await api(
            "alice", "PUT", f"documents/{doc_id}/shares/user:u{n}", {"role": "viewer"}
        )
        statuses.append(reply.status)

    async with anyio.create_task_group() as tg:
        for n in range(8):
            tg.start_soon(grant, n)
    assert sorted(statuses) == [200] * 2 + [403] * 6
    listed = (await api("alice", "GET", f"documents/{doc_id}/shares")).body["shares"]
    assert len(listed) == 3  # the creator and two shares


async def test_the_list_comes_from_the_access_index(api, collab, monkeypatch):
    mine = (await create(api, "alice", "alice's")).body["id"]
    shared = (await create(api, "bob", "shared with alice")).body["id"]
    by_group = (await create(api, "bob", "shared with alice's group")).body["id"]
    await create(api, "bob", "bob's own")
    collab.users.add_group("team")
    collab.users.add_member("team", "alice")
    await api("bob", "PUT", f"documents/{shared}/shares/user:alice", {"role": "editor"})
    await api("bob", "PUT", f"documents/{by_group}/shares/group:team", {"role": "viewer"})

    scans: list[str | None] = []
    real = collab.store.list_documents

    async def spy(owner: str | None = None) -> Any:
        scans.append(owner)
        return await real(owner)

    monkeypatch.setattr(collab.store, "list_documents", spy)
    listed = (await api("alice", "GET", "documents")).body["documents"]
    assert {(d["id"], d["role"]) for d in listed} == {
        (mine, "owner"),
        (shared, "editor"),
        (by_group, "viewer"),
    }
    assert None not in scans, "a non-administrator's list scanned every document"
    # newest modified first, as before
    modified = [d["modified"] for d in listed]
    assert modified == sorted(modified, reverse=True)
    # an administrator sees everything (that is a scan, and meant)
    everything = (await api("carol", "GET", "documents")).body["documents"]
    assert len(everything) == 4
