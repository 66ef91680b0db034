"""REST: every documents endpoint of docs/openapi.yaml, success and error paths, JSON errors."""

from __future__ import annotations

import nbformat
import pytest


async def test_me_reports_the_token_holder(api):
    reply = await api("alice", "GET", "me")
    assert reply.status == 200
    assert reply.body["username"] == "alice"
    assert reply.body["display_name"] == "Alice Liddell"
    assert reply.body["initials"] == "AL"
    assert reply.body["color"].startswith("#")
    assert reply.body["is_admin"] is False
    assert (await api("carol", "GET", "me")).body["is_admin"] is True


async def test_server_token_is_the_administrator(api):
    reply = await api("server", "GET", "me")
    assert reply.status == 200
    assert reply.body["is_admin"] is True


@pytest.mark.parametrize("path", ["me", "documents", "documents/0123"])
async def test_anonymous_requests_get_401_json(api, path):
    reply = await api(None, "GET", path)
    assert reply.status == 401
    assert reply.body["message"] == "not authenticated"


async def test_a_revoked_token_stops_working(api, collab, tokens):
    collab.users.issue_token("bob")
    collab.users.close()  # drop the token cache, as its 5 s expiry would
    assert (await api("bob", "GET", "me")).status == 401


async def test_create_file_and_read_it_back(api):
    reply = await api(
        "alice", "POST", "documents", {"name": "Notes", "type": "file", "content": "hi"}
    )
    assert reply.status == 201
    doc = reply.body
    assert set(doc) == {"id", "name", "type", "role", "owner", "created", "modified"}
    assert (doc["name"], doc["type"], doc["role"], doc["owner"]) == (
        "Notes",
        "file",
        "owner",
        "alice",
    )
    assert reply.headers["Location"].endswith(doc["id"])
    content = await api("alice", "GET", f"documents/{doc['id']}/content")
    assert content.body == {"type": "file", "format": "text", "content": "hi"}
    assert (await api("alice", "GET", f"documents/{doc['id']}")).body == doc


async def test_create_notebook_defaults_to_an_empty_notebook(api):
    doc = (await api("alice", "POST", "documents", {"name": "NB", "type": "notebook"})).body
    content = (await api("alice", "GET", f"documents/{doc['id']}/content")).body
    assert content["type"] == "notebook" and content["format"] == "json"
    notebook = nbformat.from_dict(content["content"])
    nbformat.validate(notebook)
    assert notebook.nbformat == 4


async def test_create_notebook_with_content(api):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)", id="c1")])
    doc = (
        await api("alice", "POST", "documents", {"name": "NB", "type": "notebook", "content": nb})
    ).body
    content = (await api("alice", "GET", f"documents/{doc['id']}/content")).body["content"]
    assert [c["source"] for c in content["cells"]] == ["print(1)"]
    assert content["cells"][0]["id"] == "c1"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"type": "file"}, "name"),
        ({"name": "x"}, "type"),
        ({"name": "", "type": "file"}, "name"),
        ({"name": "x", "type": "spreadsheet"}, "type"),
        ({"name": "x", "type": "file", "content": 3}, "string"),
        ({"name": "x", "type": "notebook", "content": {"cells": "nope"}}, "nbformat"),
        (
            {"name": "x", "type": "notebook", "content": {"nbformat": 4, "cells": 5}},
            "invalid notebook",
        ),
        ({"name": "a\x00b", "type": "file"}, "control"),
        ({"name": "x" * 300, "type": "file"}, "longer"),
    ],
)
async def test_create_rejects_bad_input_and_creates_nothing(api, body, fragment):
    reply = await api("alice", "POST", "documents", body)
    assert reply.status == 400
    assert fragment in reply.body["message"]
    assert (await api("alice", "GET", "documents")).body == {"documents": []}


async def test_malformed_json_and_non_object_bodies_are_400(api):
    assert (await api("alice", "POST", "documents", raw=b"{not json")).status == 400
    reply = await api("alice", "POST", "documents", ["a list"])
    assert reply.status == 400
    assert "JSON object" in reply.body["message"]


async def test_list_shows_only_readable_documents(api):
    a = (await api("alice", "POST", "documents", {"name": "A", "type": "file"})).body
    b = (await api("bob", "POST", "documents", {"name": "B", "type": "file"})).body
    assert [d["id"] for d in (await api("alice", "GET", "documents")).body["documents"]] == [
        a["id"]
    ]
    assert [d["id"] for d in (await api("bob", "GET", "documents")).body["documents"]] == [b["id"]]
    admin_view = (await api("carol", "GET", "documents")).body["documents"]
    assert {d["id"] for d in admin_view} == {a["id"], b["id"]}


async def test_unreadable_and_missing_documents_answer_the_same_404(api):
    doc = (await api("alice", "POST", "documents", {"name": "A", "type": "file"})).body
    other = await api("bob", "GET", f"documents/{doc['id']}")
    missing = await api("bob", "GET", "documents/" + "0" * 32)
    assert other.status == missing.status == 404
    assert other.body == missing.body
    for method, path, body in [
        ("PATCH", "", {"name": "x"}),
        ("DELETE", "", None),
        ("GET", "/content", None),
        ("PUT", "/content", {"content": "x"}),
    ]:
        reply = await api("bob", method, f"documents/{doc['id']}{path}", body)
        assert (reply.status, reply.body) == (404, missing.body), (method, path)
    # and nothing changed
    assert (await api("alice", "GET", f"documents/{doc['id']}")).body == doc


async def test_rename(api):
    doc = (await api("alice", "POST", "documents", {"name": "A", "type": "file"})).body
    reply = await api("alice", "PATCH", f"documents/{doc['id']}", {"name": "  Renamed "})
    assert reply.status == 200
    assert reply.body["name"] == "Renamed"
    assert reply.body["modified"] >= doc["modified"]
    assert (await api("alice", "GET", f"documents/{doc['id']}")).body["name"] == "Renamed"
    bad = await api("alice", "PATCH", f"documents/{doc['id']}", {"name": 7})
    assert bad.status == 400
    assert (await api("alice", "GET", f"documents/{doc['id']}")).body["name"] == "Renamed"


async def test_admin_can_rename_and_delete_anything(api):
    doc = (await api("alice", "POST", "documents", {"name": "A", "type": "file"})).body
    assert (await api("carol", "PATCH", f"documents/{doc['id']}", {"name": "B"})).status == 200
    assert (await api("carol", "DELETE", f"documents/{doc['id']}")).status == 204


async def test_delete(api):
    doc = (
        await api("alice", "POST", "documents", {"name": "A", "type": "file", "content": "x"})
    ).body
    reply = await api("alice", "DELETE", f"documents/{doc['id']}")
    assert reply.status == 204
    assert reply.body is None
    assert (await api("alice", "GET", f"documents/{doc['id']}")).status == 404
    assert (await api("alice", "GET", f"documents/{doc['id']}/content")).status == 404
    assert (await api("alice", "DELETE", f"documents/{doc['id']}")).status == 404


async def test_replace_content_of_a_file(api):
    doc = (
        await api("alice", "POST", "documents", {"name": "A", "type": "file", "content": "old"})
    ).body
    reply = await api("alice", "PUT", f"documents/{doc['id']}/content", {"content": "new text"})
    assert reply.status == 200
    assert reply.body["id"] == doc["id"]
    content = (await api("alice", "GET", f"documents/{doc['id']}/content")).body
    assert content["content"] == "new text"


async def test_replace_content_rejects_wrong_shapes(api):
    doc = (await api("alice", "POST", "documents", {"name": "A", "type": "notebook"})).body
    before = (await api("alice", "GET", f"documents/{doc['id']}/content")).body
    for body in [{"content": "text for a notebook"}, {"nothing": 1}, {"content": {"nbformat": 4}}]:
        reply = await api("alice", "PUT", f"documents/{doc['id']}/content", body)
        assert reply.status == 400, body
        assert reply.body["message"]
    assert (await api("alice", "GET", f"documents/{doc['id']}/content")).body == before


async def test_content_of_an_unknown_version_is_404(api):
    doc = (await api("alice", "POST", "documents", {"name": "A", "type": "file"})).body
    reply = await api("alice", "GET", f"documents/{doc['id']}/content", params={"version": "v1"})
    assert reply.status == 404
    assert reply.body["message"] == "no such version"


@pytest.mark.parametrize("collab_config", [{"max_body_size": 1000}])
async def test_oversized_bodies_are_413_and_change_nothing(api, collab_config):
    reply = await api(
        "alice", "POST", "documents", {"name": "A", "type": "file", "content": "x" * 2000}
    )
    assert reply.status == 413
    assert (await api("alice", "GET", "documents")).body == {"documents": []}
