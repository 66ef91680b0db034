"""docs/openapi.yaml against the live server: every endpoint's real answers, success and
error, are validated by openapi-core; and the spec itself is valid OpenAPI."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from openapi_spec_validator import validate as validate_spec
from werkzeug.datastructures import Headers, ImmutableMultiDict

from jupyter_collab_docs.rooms import RoomLoadError

SPEC_PATH = Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml"
API_PREFIX = "/api/collab-docs/"  # the spec's server path (base_url "/")
MISSING = "0" * 32


# -- adapters: the tornado exchange as openapi-core's Request / Response protocols ------


@dataclass
class SpecRequest:
    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters = field(default_factory=RequestParameters)


@dataclass
class SpecResponse:
    status_code: int
    data: bytes | None
    headers: Headers
    content_type: str


def spec_response(status: int, data: bytes | None, headers: Headers) -> SpecResponse:
    return SpecResponse(status, data, headers, headers.get("Content-Type", "").lower())


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC_PATH))


@pytest.fixture
def checked(api, openapi, jp_http_port, tokens, jp_auth_header) -> Callable[..., Any]:
    """``api`` whose every exchange is validated against the spec.

    The in-process server lives under base_url ``/a%40b/``; the spec's paths are those of
    the default base_url, so the request is described as ``/api/collab-docs/<path>``.
    ``valid_request=False`` skips request validation for deliberately bad requests (the
    response is validated all the same).
    """

    async def call(
        user: str | None,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        params: dict[str, str] | None = None,
        valid_request: bool = True,
    ) -> Any:
        reply = await api(user, method, path, body, raw=raw, params=params)
        if user in tokens:
            headers = {"Authorization": f"token {tokens[user]}"}
        elif user == "server":
            headers = dict(jp_auth_header)
        else:
            headers = {}
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = SpecRequest(
            host_url=f"http://127.0.0.1:{jp_http_port}",
            path=API_PREFIX + path,
            method=method.lower(),
            body=data,
            content_type="application/json" if data is not None else "",
            parameters=RequestParameters(
                query=ImmutableMultiDict(params or {}), header=Headers(headers)
            ),
        )
        if valid_request:
            openapi.validate_request(request)
        data_out = json.dumps(reply.body).encode() if reply.body is not None else b""
        response = spec_response(reply.status, data_out, Headers(list(reply.headers.get_all())))
        openapi.validate_response(request, response)
        return reply

    return call


async def new_doc(checked, user: str = "alice", **fields: Any) -> dict[str, Any]:
    body = {"name": "Doc", "type": "file", **fields}
    reply = await checked(user, "POST", "documents", body)
    assert reply.status == 201, reply.body
    return reply.body


# -- the spec itself ------------------------------------------------------------------------


def test_the_spec_is_valid_openapi():
    spec = yaml.safe_load(SPEC_PATH.read_text())
    validate_spec(spec)
    assert spec["openapi"].startswith("3.1")


def test_the_spec_covers_every_route():
    from jupyter_collab_docs.handlers import handlers

    spec_paths = set(yaml.safe_load(SPEC_PATH.read_text())["paths"])
    for pattern, _ in handlers():
        path = pattern.removeprefix("/api/collab-docs").replace("/?", "")
        path = path.replace("(?P<doc_id>[^/]+)", "{id}")
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path)  # (?P<principal>...)
        assert path in spec_paths, pattern


async def test_a_wrong_answer_fails_validation(checked, openapi, jp_http_port):
    """The validator is not a rubber stamp: real answers, then broken copies of them."""
    doc = await new_doc(checked)
    request = SpecRequest(
        f"http://127.0.0.1:{jp_http_port}", f"{API_PREFIX}documents/{doc['id']}", "get", None, ""
    )
    json_headers = Headers({"Content-Type": "application/json"})

    def answer(body: Any, status: int = 200) -> SpecResponse:
        return spec_response(status, json.dumps(body).encode(), json_headers)

    openapi.validate_response(request, answer(doc))  # the real one passes
    broken = [
        {k: v for k, v in doc.items() if k != "id"},
        {**doc, "role": "superuser"},
        {**doc, "type": "spreadsheet"},
        {**doc, "created": "yesterday"},
    ]
    for body in broken:
        with pytest.raises(OpenAPIError):
            openapi.validate_response(request, answer(body))
    with pytest.raises(OpenAPIError):
        openapi.validate_response(request, answer({"reason": None}, 404))  # no message
    with pytest.raises(OpenAPIError):
        openapi.validate_response(request, answer({"message": "teapot"}, 418))  # undocumented


# -- identity ---------------------------------------------------------------------------------


async def test_me(checked):
    for user in ("alice", "carol", "server"):
        reply = await checked(user, "GET", "me")
        assert reply.status == 200
    assert reply.body["is_admin"] is True


async def test_token_in_the_query_string(checked, tokens):
    reply = await checked(None, "GET", "me", params={"token": tokens["bob"]})
    assert (reply.status, reply.body["username"]) == (200, "bob")


@pytest.mark.parametrize(
    "path",
    [
        "me",
        "documents",
        f"documents/{MISSING}",
        f"documents/{MISSING}/content",
        f"documents/{MISSING}/shares",
    ],
)
async def test_anonymous_reads_are_401(checked, path):
    reply = await checked(None, "GET", path, valid_request=False)
    assert reply.status == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "documents", {"name": "x", "type": "file"}),
        ("PATCH", f"documents/{MISSING}", {"name": "x"}),
        ("DELETE", f"documents/{MISSING}", None),
        ("PUT", f"documents/{MISSING}/content", {"content": "x"}),
        ("PUT", f"documents/{MISSING}/shares/user:bob", {"role": "viewer"}),
        ("DELETE", f"documents/{MISSING}/shares/user:bob", None),
    ],
)
async def test_anonymous_writes_are_refused(checked, method, path, body):
    reply = await checked(None, method, path, body, valid_request=False)
    assert reply.status == 401
    assert reply.body["message"] == "not authenticated"


# -- documents --------------------------------------------------------------------------------


async def test_documents_lifecycle(checked):
    assert (await checked("alice", "GET", "documents")).body == {"documents": []}
    text = await new_doc(checked, content="hello")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title", id="m1")])
    notebook = await new_doc(checked, name="NB", type="notebook", content=nb)
    empty = await new_doc(checked, name="Empty", type="notebook")

    listing = await checked("alice", "GET", "documents")
    assert {d["id"] for d in listing.body["documents"]} == {text["id"], notebook["id"], empty["id"]}
    assert (await checked("carol", "GET", "documents")).status == 200

    assert (await checked("alice", "GET", f"documents/{text['id']}")).body == text
    assert (await checked("carol", "GET", f"documents/{text['id']}")).body["role"] == "owner"
    renamed = await checked("alice", "PATCH", f"documents/{text['id']}", {"name": "Renamed"})
    assert renamed.body["name"] == "Renamed"

    content = await checked("alice", "GET", f"documents/{text['id']}/content")
    assert content.body == {"type": "file", "format": "text", "content": "hello"}
    content = await checked("alice", "GET", f"documents/{notebook['id']}/content")
    assert content.body["format"] == "json"
    assert content.body["content"]["cells"][0]["source"] == "# Title"

    replaced = await checked("alice", "PUT", f"documents/{text['id']}/content", {"content": "bye"})
    assert replaced.status == 200
    nb.cells.append(nbformat.v4.new_code_cell("1 + 1", id="c2"))
    replaced = await checked("alice", "PUT", f"documents/{notebook['id']}/content", {"content": nb})
    assert replaced.body["id"] == notebook["id"]

    assert (await checked("alice", "DELETE", f"documents/{text['id']}")).status == 204
    assert (await checked("carol", "DELETE", f"documents/{empty['id']}")).status == 204
    assert (await checked("alice", "GET", f"documents/{text['id']}")).status == 404


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"name": "x"}),
        ("DELETE", "", None),
        ("GET", "/content", None),
        ("PUT", "/content", {"content": "x"}),
        ("GET", "/shares", None),
        ("PUT", "/shares/user:carol", {"role": "viewer"}),
        ("DELETE", "/shares/user:carol", None),
    ],
)
async def test_missing_and_unreadable_documents_are_404(checked, method, suffix, body):
    doc = await new_doc(checked)
    for user, doc_id in (("alice", MISSING), ("bob", doc["id"])):
        reply = await checked(user, method, f"documents/{doc_id}{suffix}", body)
        assert reply.status == 404


@pytest.mark.parametrize(
    ("method", "suffix", "kwargs"),
    [
        ("POST", None, {"raw": b"{not json"}),
        ("POST", None, {"body": ["not", "an", "object"]}),
        ("POST", None, {"body": {"type": "file"}}),
        ("POST", None, {"body": {"name": "x", "type": "spreadsheet"}}),
        ("POST", None, {"body": {"name": "", "type": "file"}}),
        ("POST", None, {"body": {"name": "x", "type": "file", "content": 3}}),
        ("POST", None, {"body": {"name": "x", "type": "notebook", "content": {"nbformat": 3}}}),
        ("PATCH", "", {"body": {"name": 7}}),
        ("PATCH", "", {"body": {}}),
        ("PUT", "/content", {"body": {"nothing": 1}}),
        ("PUT", "/content", {"body": {"content": {"nbformat": 4, "cells": 5}}}),
    ],
)
async def test_bad_input_is_400(checked, method, suffix, kwargs):
    doc = await new_doc(checked, type="notebook")
    path = "documents" if suffix is None else f"documents/{doc['id']}{suffix}"
    reply = await checked("alice", method, path, **kwargs, valid_request=False)
    assert reply.status == 400
    assert reply.body["message"]


async def test_content_of_an_unknown_version_is_404(checked):
    doc = await new_doc(checked)
    path = f"documents/{doc['id']}/content"
    reply = await checked("alice", "GET", path, params={"version": "1"})
    assert reply.status == 404


@pytest.mark.parametrize("collab_config", [{"max_body_size": 1000}])
async def test_oversized_bodies_are_413(checked, collab_config):
    doc = await new_doc(checked)
    big = "x" * 2000
    for method, path, body in [
        ("POST", "documents", {"name": "A", "type": "file", "content": big}),
        ("PATCH", f"documents/{doc['id']}", {"name": big}),
        ("PUT", f"documents/{doc['id']}/content", {"content": big}),
    ]:
        reply = await checked("alice", method, path, body, valid_request=False)
        assert reply.status == 413, (method, path)


async def test_a_viewer_reads_but_may_not_write_403(checked):
    doc = await new_doc(checked, content="seen")
    shared = await checked(
        "alice", "PUT", f"documents/{doc['id']}/shares/user:bob", {"role": "viewer"}
    )
    assert shared.status == 200
    assert (await checked("bob", "GET", f"documents/{doc['id']}")).body["role"] == "viewer"
    assert [d["role"] for d in (await checked("bob", "GET", "documents")).body["documents"]] == [
        "viewer"
    ]
    assert (await checked("bob", "GET", f"documents/{doc['id']}/content")).status == 200
    for method, suffix, body in [
        ("PATCH", "", {"name": "x"}),
        ("DELETE", "", None),
        ("PUT", "/content", {"content": "x"}),
    ]:
        reply = await checked("bob", method, f"documents/{doc['id']}{suffix}", body)
        assert reply.status == 403, (method, suffix)
    content = await checked("alice", "GET", f"documents/{doc['id']}/content")
    assert content.body["content"] == "seen"


async def test_a_room_that_cannot_load_is_503(checked, collab, monkeypatch):
    doc = await new_doc(checked)

    async def broken_get(doc_id: str, doc_type: str) -> Any:
        raise RoomLoadError("the store is away")

    monkeypatch.setattr(collab.rooms, "get", broken_get)
    assert (await checked("alice", "GET", f"documents/{doc['id']}/content")).status == 503
    reply = await checked("alice", "PUT", f"documents/{doc['id']}/content", {"content": "x"})
    assert reply.status == 503


async def test_rooms_path_without_upgrade_is_400(jp_fetch, openapi, jp_http_port, tokens):
    doc_id = MISSING
    response = await jp_fetch(
        "api", "collab-docs", "rooms", doc_id,
        headers={"Authorization": f"token {tokens['alice']}"}, raise_error=False,
    )  # fmt: skip
    request = SpecRequest(
        f"http://127.0.0.1:{jp_http_port}",
        f"{API_PREFIX}rooms/{doc_id}",
        "get",
        None,
        "",
        RequestParameters(header=Headers({"Authorization": f"token {tokens['alice']}"})),
    )
    openapi.validate_request(request)
    headers = Headers(list(response.headers.get_all()))
    openapi.validate_response(request, spec_response(response.code, response.body, headers))
    assert response.code == 400


# -- shares -----------------------------------------------------------------------------------


async def test_shares_lifecycle(checked, collab, tokens):
    tokens["dave"] = collab.users.add("dave")
    doc = await new_doc(checked)
    shares_path = f"documents/{doc['id']}/shares"

    listed = await checked("alice", "GET", shares_path)
    assert listed.body == {"shares": [{"principal": "user:alice", "role": "owner"}]}

    granted = await checked("alice", "PUT", f"{shares_path}/user:bob", {"role": "editor"})
    assert (granted.status, granted.body) == (200, {"principal": "user:bob", "role": "editor"})
    granted = await checked("alice", "PUT", f"{shares_path}/group:team", {"role": "viewer"})
    assert granted.body == {"principal": "group:team", "role": "viewer"}

    link = await checked("alice", "PUT", f"{shares_path}/link", {"role": "viewer"})
    assert link.status == 200
    assert set(link.body) == {"principal", "role", "token"}
    token = link.body["token"]
    again = await checked("alice", "PUT", f"{shares_path}/link", {"role": "commenter"})
    assert again.body == {"principal": "link", "role": "commenter"}  # the token is shown once

    listed = await checked("bob", "GET", shares_path)  # editors (any reader) may list
    assert listed.body["shares"] == [
        {"principal": "user:alice", "role": "owner"},
        {"principal": "user:bob", "role": "editor"},
        {"principal": "group:team", "role": "viewer"},
        {"principal": "link", "role": "commenter"},
    ]
    # an editor shares up to editor; the changed share answers its new role
    lowered = await checked("bob", "PUT", f"{shares_path}/group:team", {"role": "editor"})
    assert lowered.body == {"principal": "group:team", "role": "editor"}

    # dave holds the link: with it he reads (as a commenter), without it the doc is 404
    with_link = {"link": token}
    reply = await checked("dave", "GET", f"documents/{doc['id']}", params=with_link)
    assert (reply.status, reply.body["role"]) == (200, "commenter")
    reply = await checked("dave", "GET", f"documents/{doc['id']}/content", params=with_link)
    assert reply.status == 200
    assert (await checked("dave", "GET", shares_path, params=with_link)).status == 200
    reply = await checked("dave", "PUT", f"{shares_path}/user:dave", {"role": "editor"},
                          params=with_link)  # fmt: skip
    assert reply.status == 403
    assert (await checked("dave", "GET", f"documents/{doc['id']}")).status == 404

    assert (await checked("alice", "DELETE", f"{shares_path}/user:bob")).status == 204
    assert (await checked("bob", "GET", f"documents/{doc['id']}")).status == 404
    assert (await checked("alice", "DELETE", f"{shares_path}/link")).status == 204
    reply = await checked("dave", "GET", f"documents/{doc['id']}", params=with_link)
    assert reply.status == 404
    # a new link has a new token; the old one stays dead
    fresh = await checked("alice", "PUT", f"{shares_path}/link", {"role": "viewer"})
    assert fresh.body["token"] != token
    reply = await checked("dave", "GET", f"documents/{doc['id']}", params=with_link)
    assert reply.status == 404
    reply = await checked("dave", "GET", f"documents/{doc['id']}",
                          params={"link": fresh.body["token"]})  # fmt: skip
    assert (reply.status, reply.body["role"]) == (200, "viewer")

    listed = await checked("carol", "GET", shares_path)  # administrators too
    assert listed.body["shares"] == [
        {"principal": "user:alice", "role": "owner"},
        {"principal": "group:team", "role": "editor"},
        {"principal": "link", "role": "viewer"},
    ]


async def test_the_link_header(checked, collab, tokens, jp_fetch, openapi, jp_http_port):
    tokens["dave"] = collab.users.add("dave")
    doc = await new_doc(checked)
    token = (
        await checked("alice", "PUT", f"documents/{doc['id']}/shares/link", {"role": "viewer"})
    ).body["token"]
    for link in (token, "cdl_wrong"):
        headers = {"Authorization": f"token {tokens['dave']}", "X-Collab-Docs-Link": link}
        response = await jp_fetch(
            "api", "collab-docs", "documents", doc["id"], headers=headers, raise_error=False
        )
        request = SpecRequest(
            f"http://127.0.0.1:{jp_http_port}",
            f"{API_PREFIX}documents/{doc['id']}",
            "get",
            None,
            "",
            RequestParameters(header=Headers(headers)),
        )
        openapi.validate_request(request)
        reply_headers = Headers(list(response.headers.get_all()))
        openapi.validate_response(
            request, spec_response(response.code, response.body, reply_headers)
        )
        assert response.code == (200 if link == token else 404)


@pytest.mark.parametrize(
    ("user", "method", "principal", "body", "status"),
    [
        # bad input
        ("alice", "PUT", "bob", {"role": "viewer"}, 400),
        ("alice", "PUT", "user:", {"role": "viewer"}, 400),
        ("alice", "PUT", "team:x", {"role": "viewer"}, 400),
        ("alice", "PUT", "user:b%20b", {"role": "viewer"}, 400),
        ("alice", "PUT", "user:bob", {"role": "admin"}, 400),
        ("alice", "PUT", "user:bob", {"role": None}, 400),
        ("alice", "PUT", "user:bob", {}, 400),
        ("alice", "PUT", "user:bob", ["viewer"], 400),
        ("alice", "PUT", "link", {"role": "owner"}, 400),
        ("alice", "DELETE", "nobody", None, 400),
        # not allowed by the caller's role
        ("bob", "PUT", "user:dave", {"role": "viewer"}, 403),  # bob is a viewer
        ("bob", "DELETE", "user:bob", None, 403),
        ("eve", "PUT", "user:dave", {"role": "owner"}, 403),  # eve is an editor
        ("eve", "PUT", "user:olga", {"role": "editor"}, 403),  # olga is an owner
        ("eve", "DELETE", "user:olga", None, 403),
        # no such share on a readable document
        ("alice", "DELETE", "user:dave", None, 404),
        ("alice", "DELETE", "group:team", None, 404),
        ("alice", "DELETE", "link", None, 404),
        # the creator's own share
        ("alice", "PUT", "user:alice", {"role": "viewer"}, 409),
        ("carol", "PUT", "user:alice", {"role": "owner"}, 409),
        ("olga", "DELETE", "user:alice", None, 409),
        ("alice", "DELETE", "user:alice", None, 409),
    ],
)
async def test_share_errors(checked, collab, tokens, user, method, principal, body, status):
    for name in ("dave", "eve", "olga"):
        tokens[name] = collab.users.add(name)
    doc = await new_doc(checked)
    path = f"documents/{doc['id']}/shares"
    for who, role in (("bob", "viewer"), ("eve", "editor"), ("olga", "owner")):
        reply = await checked("alice", "PUT", f"{path}/user:{who}", {"role": role})
        assert reply.status == 200
    before = (await checked("alice", "GET", path)).body
    reply = await checked(
        user, method, f"{path}/{principal}", body, valid_request=status not in (400, 413)
    )
    assert reply.status == status, reply.body
    assert reply.body["message"]
    assert (await checked("alice", "GET", path)).body == before


@pytest.mark.parametrize("collab_config", [{"max_body_size": 1000}])
async def test_oversized_share_bodies_are_413(checked, collab_config):
    doc = await new_doc(checked)
    path = f"documents/{doc['id']}/shares/user:bob"
    reply = await checked("alice", "PUT", path, {"role": "viewer", "pad": "x" * 2000})
    assert reply.status == 413
    listed = await checked("alice", "GET", f"documents/{doc['id']}/shares")
    assert len(listed.body["shares"]) == 1


async def test_wrong_share_answers_fail_validation(checked, openapi, jp_http_port):
    doc = await new_doc(checked)
    host = f"http://127.0.0.1:{jp_http_port}"
    json_headers = Headers({"Content-Type": "application/json"})

    def answer(body: Any) -> SpecResponse:
        return spec_response(200, json.dumps(body).encode(), json_headers)

    listing = SpecRequest(host, f"{API_PREFIX}documents/{doc['id']}/shares", "get", None, "")
    real = (await checked("alice", "GET", f"documents/{doc['id']}/shares")).body
    openapi.validate_response(listing, answer(real))
    for body in [
        {"shares": []},
        {"shares": [{"principal": "alice", "role": "owner"}]},
        {"shares": [{"principal": "user:alice", "role": "admin"}]},
        {"shares": [{"principal": "link", "role": "viewer", "token": "leaked"}]},
        {"grants": real["shares"]},
    ]:
        with pytest.raises(OpenAPIError):
            openapi.validate_response(listing, answer(body))

    put = SpecRequest(
        host,
        f"{API_PREFIX}documents/{doc['id']}/shares/link",
        "put",
        b'{"role": "viewer"}',
        "application/json",
    )
    openapi.validate_response(put, answer({"principal": "link", "role": "viewer", "token": "t"}))
    openapi.validate_response(put, answer({"principal": "link", "role": "viewer"}))
    for body in [
        {"principal": "link", "role": "owner", "token": "t"},
        {"principal": "user:bob", "role": "viewer", "token": "t"},
        {"principal": "link"},
    ]:
        with pytest.raises(OpenAPIError):
            openapi.validate_response(put, answer(body))
