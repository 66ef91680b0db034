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
from jupyter_collab_docs.stores import StoreError

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
        if not pattern.startswith("/api/collab-docs/"):
            continue  # the web page (handlers/webapp.py) is not part of the REST API
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
        f"documents/{MISSING}/versions",
        f"documents/{MISSING}/versions/compare",
        f"documents/{MISSING}/activity",
        "health",
        "principals",
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
        ("POST", f"documents/{MISSING}/versions", {"label": "x"}),
        ("POST", f"documents/{MISSING}/versions/{MISSING[:16]}/restore", None),
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
        ("GET", "/versions", None),
        ("POST", "/versions", {"label": "x"}),
        ("POST", "/versions", None),
        ("POST", f"/versions/{MISSING[:16]}/restore", None),
        ("GET", "/activity", None),
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
    for version in ("1", ""):  # (an empty query value is not a valid request)
        reply = await checked(
            "alice", "GET", path, params={"version": version}, valid_request=bool(version)
        )
        assert (reply.status, reply.body["message"]) == (404, "no such version")


@pytest.mark.parametrize("collab_config", [{"max_body_size": 1000}])
async def test_oversized_bodies_are_413(checked, collab_config):
    doc = await new_doc(checked)
    big = "x" * 2000
    for method, path, body in [
        ("POST", "documents", {"name": "A", "type": "file", "content": big}),
        ("PATCH", f"documents/{doc['id']}", {"name": big}),
        ("PUT", f"documents/{doc['id']}/content", {"content": big}),
        ("POST", f"documents/{doc['id']}/versions", {"label": "x", "pad": big}),
    ]:
        reply = await checked("alice", method, path, body, valid_request=False)
        assert reply.status == 413, (method, path)
    assert (await checked("alice", "GET", f"documents/{doc['id']}/versions")).body == {
        "versions": []
    }


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
    collab.users.add_group("team")  # shares name users and groups that exist
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


async def test_sharing_with_an_unknown_principal_is_404(checked):
    doc = await new_doc(checked)
    path = f"documents/{doc['id']}/shares"
    for principal, message in (
        ("user:dave", "no user 'dave' on this server"),
        ("group:ghosts", "no group 'ghosts' on this server"),
    ):
        reply = await checked("alice", "PUT", f"{path}/{principal}", {"role": "viewer"})
        assert (reply.status, reply.body["message"]) == (404, message)
    assert len((await checked("alice", "GET", path)).body["shares"]) == 1


async def test_principals_completion(checked, collab):
    collab.users.add_group("biology")
    reply = await checked("bob", "GET", "principals", params={"q": "b"})
    assert reply.status == 200
    assert reply.body == {
        "principals": [
            {"principal": "user:bob", "display_name": "bob"},
            {"principal": "group:biology", "display_name": "biology"},
        ],
        "directory": True,
    }
    reply = await checked("alice", "GET", "principals", params={"q": "group:z"})
    assert reply.body == {"principals": [], "directory": True}
    for params in ({}, {"q": ""}, {"q": "user:"}, {"q": "x" * 65}):
        reply = await checked("alice", "GET", "principals", params=params, valid_request=False)
        assert reply.status == 400, params
    reply = await checked(None, "GET", "principals", params={"q": "a"}, valid_request=False)
    assert reply.status == 401


async def test_wrong_principals_answers_fail_validation(checked, openapi, jp_http_port):
    real = (await checked("alice", "GET", "principals", params={"q": "a"})).body
    request = SpecRequest(
        f"http://127.0.0.1:{jp_http_port}",
        f"{API_PREFIX}principals",
        "get",
        None,
        "",
        RequestParameters(query=ImmutableMultiDict({"q": "a"})),
    )
    json_headers = Headers({"Content-Type": "application/json"})

    def answer(body: Any) -> SpecResponse:
        return spec_response(200, json.dumps(body).encode(), json_headers)

    openapi.validate_response(request, answer(real))
    alice = {"principal": "user:alice", "display_name": "Alice"}
    for body in [
        {"principals": [alice]},  # no directory flag
        [alice],  # a bare array
        {"principals": [{**alice, "is_admin": True}], "directory": True},
        {"principals": [{**alice, "principal": "alice"}], "directory": True},
        {"principals": [{**alice, "principal": "link"}], "directory": True},
        {"principals": [alice] * 11, "directory": True},  # more than a dialog needs
    ]:
        with pytest.raises(OpenAPIError):
            openapi.validate_response(request, answer(body))


# -- versions ---------------------------------------------------------------------------------


async def test_versions_lifecycle(checked, collab, tokens):
    tokens["dave"] = collab.users.add("dave")
    doc = await new_doc(checked, content="one")
    doc_id = doc["id"]
    versions = f"documents/{doc_id}/versions"
    content = f"documents/{doc_id}/content"
    assert (await checked("alice", "GET", versions)).body == {"versions": []}

    first = await checked("alice", "POST", versions, {"label": "  first draft  "})
    assert first.status == 201
    v1 = first.body
    assert (v1["label"], v1["created_by"], v1["auto"]) == ("first draft", "alice", False)

    await checked("alice", "PUT", content, {"content": "one two"})
    second = await checked("alice", "POST", versions)  # no body: an empty label
    assert second.status == 201
    v2 = second.body
    assert v2["label"] == ""
    assert v2["contributors"]["alice"]["updates"] == 1
    empty_object = await checked("alice", "POST", versions, {})
    assert (empty_object.status, empty_object.body["label"]) == (201, "")
    v3 = empty_object.body
    assert v3["contributors"] == {}

    listed = (await checked("alice", "GET", versions)).body["versions"]
    assert [v["id"] for v in listed] == [v3["id"], v2["id"], v1["id"]]  # newest first
    assert listed[-1] == v1

    old = await checked("alice", "GET", content, params={"version": v1["id"]})
    assert old.body == {"type": "file", "format": "text", "content": "one"}

    compared = await checked(
        "alice", "GET", f"{versions}/compare", params={"from": v1["id"], "to": v3["id"]}
    )
    assert compared.body["contributors"] == v2["contributors"]
    assert compared.body["changes"]["type"] == "file"
    now = await checked(
        "alice", "GET", f"{versions}/compare", params={"from": v1["id"], "to": "current"}
    )
    assert now.body["to"] == "current" and now.body["authors"][0]["username"] == "alice"
    same = await checked(
        "alice", "GET", f"{versions}/compare", params={"from": v2["id"], "to": v2["id"]}
    )
    assert same.body["contributors"] == {}

    # a viewer reads versions and their content; an editor also names and restores them
    for who, role in (("bob", "viewer"), ("dave", "editor")):
        reply = await checked(
            "alice", "PUT", f"documents/{doc_id}/shares/user:{who}", {"role": role}
        )
        assert reply.status == 200
    assert len((await checked("bob", "GET", versions)).body["versions"]) == 3
    reply = await checked("bob", "GET", content, params={"version": v1["id"]})
    assert reply.body["content"] == "one"
    reply = await checked(
        "bob", "GET", f"{versions}/compare", params={"from": v1["id"], "to": v2["id"]}
    )
    assert reply.status == 200
    by_editor = await checked("dave", "POST", versions, {"label": "dave's"})
    assert (by_editor.status, by_editor.body["created_by"]) == (201, "dave")

    restored = await checked("dave", "POST", f"{versions}/{v1['id']}/restore")
    assert restored.status == 200
    assert (restored.body["id"], restored.body["role"]) == (doc_id, "editor")
    assert (await checked("alice", "GET", content)).body["content"] == "one"
    listed = (await checked("alice", "GET", versions)).body["versions"]
    kept = listed[0]  # what the restore replaced, to undo it
    assert (kept["label"], kept["auto"], kept["created_by"]) == (
        "Before restoring first draft",
        True,
        "dave",
    )
    undone = await checked("carol", "POST", f"{versions}/{kept['id']}/restore")  # an admin
    assert (undone.status, undone.body["role"]) == (200, "owner")
    assert (await checked("alice", "GET", content)).body["content"] == "one two"


async def test_restoring_a_long_label(checked):
    doc = await new_doc(checked, content="one")
    versions = f"documents/{doc['id']}/versions"
    label = "L" * 200  # the longest label
    v1 = await checked("alice", "POST", versions, {"label": label})
    assert (v1.status, v1.body["label"]) == (201, label)
    await checked("alice", "POST", f"{versions}/{v1.body['id']}/restore")
    listed = (await checked("alice", "GET", versions)).body["versions"]
    assert listed[0]["label"] == f"Before restoring {label}"[:200]  # cut to the label limit


async def test_notebook_versions(checked):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", id="c1")])
    doc = await new_doc(checked, name="NB", type="notebook", content=nb)
    versions = f"documents/{doc['id']}/versions"
    v1 = (await checked("alice", "POST", versions, {"label": "v1"})).body
    nb.cells.append(nbformat.v4.new_markdown_cell("more", id="m2"))
    await checked("alice", "PUT", f"documents/{doc['id']}/content", {"content": nb})
    old = await checked(
        "alice", "GET", f"documents/{doc['id']}/content", params={"version": v1["id"]}
    )
    assert old.body["format"] == "json"
    assert [c["source"] for c in old.body["content"]["cells"]] == ["1 + 1"]
    compared = await checked(
        "alice", "GET", f"{versions}/compare", params={"from": v1["id"], "to": "current"}
    )
    added = [c for c in compared.body["changes"]["cells"] if c["status"] == "added"]
    assert [(c["id"], c["by"]) for c in added] == [("m2", ["alice"])]
    restored = await checked("alice", "POST", f"{versions}/{v1['id']}/restore")
    assert restored.status == 200
    now = await checked("alice", "GET", f"documents/{doc['id']}/content")
    assert [c["source"] for c in now.body["content"]["cells"]] == ["1 + 1"]


@pytest.mark.parametrize(
    ("user", "method", "suffix", "kwargs", "status"),
    [
        # bad input
        ("alice", "POST", "", {"body": {"label": 5}}, 400),
        ("alice", "POST", "", {"body": {"label": None}}, 400),
        ("alice", "POST", "", {"body": {"label": "x" * 201}}, 400),
        ("alice", "POST", "", {"body": ["label"]}, 400),
        ("alice", "POST", "", {"raw": b"{not json"}, 400),
        ("alice", "POST", "", {"raw": b"null"}, 400),
        ("alice", "GET", "/compare", {"params": {}}, 400),
        ("alice", "GET", "/compare", {"params": {"from": "{v1}"}}, 400),
        ("alice", "GET", "/compare", {"params": {"to": "{v1}"}}, 400),
        ("alice", "GET", "/compare", {"params": {"from": "", "to": "{v1}"}}, 400),
        ("alice", "GET", "/compare", {"params": {"from": "{v2}", "to": "{v1}"}}, 400),
        # not allowed by the caller's role
        ("bob", "POST", "", {"body": {"label": "x"}}, 403),  # bob is a viewer
        ("bob", "POST", "", {}, 403),
        ("bob", "POST", "/{v1}/restore", {}, 403),
        ("dave", "POST", "", {"body": {"label": "x"}}, 403),  # dave is a commenter
        ("dave", "POST", "/{v1}/restore", {}, 403),
        # no such version
        ("alice", "POST", "/0000000000000000/restore", {}, 404),
        ("alice", "GET", "/compare", {"params": {"from": "{v1}", "to": "nope"}}, 404),
        ("alice", "GET", "/compare", {"params": {"from": "nope", "to": "{v2}"}}, 404),
        ("bob", "GET", "/compare", {"params": {"from": "nope", "to": "{v2}"}}, 404),
        ("alice", "content", "", {"params": {"version": "nope"}}, 404),
        # a document the caller may not read
        ("eve", "GET", "", {}, 404),
        ("eve", "POST", "", {"body": {"label": "x"}}, 404),
        ("eve", "POST", "/{v1}/restore", {}, 404),
        ("eve", "GET", "/compare", {"params": {"from": "{v1}", "to": "{v2}"}}, 404),
        ("eve", "content", "", {"params": {"version": "{v1}"}}, 404),
    ],
)
async def test_version_errors(checked, collab, tokens, user, method, suffix, kwargs, status):
    for name in ("dave", "eve"):
        tokens[name] = collab.users.add(name)
    doc = await new_doc(checked, content="one")
    doc_id = doc["id"]
    versions = f"documents/{doc_id}/versions"
    for who, role in (("bob", "viewer"), ("dave", "commenter")):
        await checked("alice", "PUT", f"documents/{doc_id}/shares/user:{who}", {"role": role})
    v1 = (await checked("alice", "POST", versions, {"label": "v1"})).body["id"]
    await checked("alice", "PUT", f"documents/{doc_id}/content", {"content": "one two"})
    v2 = (await checked("alice", "POST", versions, {"label": "v2"})).body["id"]

    def fill(value: str) -> str:
        return value.replace("{v1}", v1).replace("{v2}", v2)

    async def state() -> tuple[Any, ...]:
        return (
            (await checked("alice", "GET", f"documents/{doc_id}")).body,
            (await checked("alice", "GET", versions)).body,
            (await checked("alice", "GET", f"documents/{doc_id}/content")).body,
        )

    before = await state()
    kwargs = dict(kwargs)
    if "params" in kwargs:
        kwargs["params"] = {k: fill(v) for k, v in kwargs["params"].items()}
    if method == "content":
        method, path = "GET", f"documents/{doc_id}/content"
    else:
        path = versions + fill(suffix)
    reply = await checked(user, method, path, **kwargs, valid_request=status != 400)
    assert reply.status == status, reply.body
    assert reply.body["message"]
    assert await state() == before


async def test_version_errors_on_a_missing_document(checked):
    versions = f"documents/{MISSING}/versions"
    for method, path, params in [
        ("GET", f"{versions}/compare", {"from": "a", "to": "b"}),
        ("GET", f"documents/{MISSING}/content", {"version": "a"}),
    ]:
        reply = await checked("alice", method, path, params=params)
        assert (reply.status, reply.body["message"]) == (404, "document not found")


async def test_wrong_version_answers_fail_validation(checked, openapi, jp_http_port):
    doc = await new_doc(checked)
    host = f"http://127.0.0.1:{jp_http_port}"
    json_headers = Headers({"Content-Type": "application/json"})
    versions = f"documents/{doc['id']}/versions"

    def answer(body: Any, status: int = 200) -> SpecResponse:
        return spec_response(status, json.dumps(body).encode(), json_headers)

    created = (await checked("alice", "POST", versions, {"label": "v"})).body
    listing = SpecRequest(host, f"{API_PREFIX}{versions}", "get", None, "")
    openapi.validate_response(listing, answer({"versions": [created]}))
    for version in [
        {k: v for k, v in created.items() if k != "contributors"},
        {**created, "auto": "no"},
        {**created, "created": "now"},
        {**created, "contributors": {"alice": {"updates": 1}}},
        {**created, "contributors": {"alice": {"updates": -1, "bytes": 3}}},
        {**created, "state": "AAE="},
    ]:
        with pytest.raises(OpenAPIError):
            openapi.validate_response(listing, answer({"versions": [version]}))
    with pytest.raises(OpenAPIError):
        openapi.validate_response(listing, answer([created]))

    post = SpecRequest(host, f"{API_PREFIX}{versions}", "post", b"{}", "application/json")
    openapi.validate_response(post, answer(created, 201))
    with pytest.raises(OpenAPIError):
        openapi.validate_response(post, answer({"versions": [created]}, 201))

    compare = SpecRequest(
        host,
        f"{API_PREFIX}{versions}/compare",
        "get",
        None,
        "",
        RequestParameters(query=ImmutableMultiDict({"from": "a", "to": "b"})),
    )
    nothing = {"type": "file", "hunks": [], "added": 0, "removed": 0, "truncated": False}
    compared = {"from": "a", "to": "b", "contributors": {}, "authors": [], "changes": nothing}
    openapi.validate_response(compare, answer(compared))
    for body in [
        {"from": "a", "to": "b"},
        {**compared, "contributors": {"bob": 3}},
        {**compared, "extra": 1},
        {**compared, "authors": [{"username": "bob"}]},
        {**compared, "changes": {**nothing, "hunks": [{"lines": []}]}},
        {**compared, "changes": {**nothing, "type": "notebook"}},
    ]:
        with pytest.raises(OpenAPIError):
            openapi.validate_response(compare, answer(body))


# -- activity ---------------------------------------------------------------------------------


async def test_activity(checked, collab, tokens):
    tokens["dave"] = collab.users.add("dave")
    doc = await new_doc(checked, content="one")
    doc_id = doc["id"]
    await checked("alice", "PATCH", f"documents/{doc_id}", {"name": "Renamed"})
    await checked("alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "editor"})
    await checked("alice", "PUT", f"documents/{doc_id}/shares/user:dave", {"role": "owner"})
    v1 = (await checked("bob", "POST", f"documents/{doc_id}/versions", {"label": "v1"})).body
    await checked("bob", "PUT", f"documents/{doc_id}/content", {"content": "two"})
    await checked("bob", "POST", f"documents/{doc_id}/versions/{v1['id']}/restore")

    path = f"documents/{doc_id}/activity"
    reply = await checked("alice", "GET", path)
    assert reply.status == 200
    events = reply.body["events"]

    def kind(event: dict[str, Any]) -> str:
        if "kind" in event:
            return str(event["kind"])
        return str(event["schema_id"]).rstrip("/").split("/")[-2].replace("-", ".", 1)

    for event in events:
        assert "kind" in event or "schema_id" in event, event
        assert "actor" in event, event
        assert event["document_id"] == doc_id, event
    kinds = [kind(e) for e in events]
    expected_oldest_first = [
        "document.created",
        "document.renamed",
        "share.granted",
        "version.created",
        "version.restored",
    ]
    positions = [kinds.index(k) for k in expected_oldest_first]
    assert positions == sorted(positions, reverse=True), kinds  # newest first
    assert kinds[-1] == "document.created"
    stamps = [e.get("timestamp") for e in events]
    if all(isinstance(t, str) for t in stamps):
        assert stamps == sorted(stamps, reverse=True)
    actors = {kind(e): e["actor"] for e in events}
    assert actors["document.created"] == "alice"
    assert actors["version.restored"] == "bob"

    two = await checked("alice", "GET", path, params={"limit": "2"})
    assert two.body["events"] == events[:2]
    everything = await checked("alice", "GET", path, params={"limit": "500"})
    assert len(everything.body["events"]) == len(events)
    assert (await checked("carol", "GET", path)).status == 200  # administrators
    assert (await checked("dave", "GET", path)).status == 200  # any owner

    # editors may not read it; the refusal is itself recorded
    refused = await checked("bob", "GET", path)
    assert refused.status == 403
    newest = (await checked("alice", "GET", path, params={"limit": "1"})).body["events"][0]
    assert (kind(newest), newest["actor"]) == ("access.denied", "bob")


@pytest.mark.parametrize(
    ("user", "params", "status"),
    [
        ("alice", {"limit": "0"}, 400),
        ("alice", {"limit": "501"}, 400),
        ("alice", {"limit": "-1"}, 400),
        ("alice", {"limit": "ten"}, 400),
        ("alice", {"limit": ""}, 400),
        ("alice", {"limit": "1.5"}, 400),
        ("bob", {}, 403),  # an editor
        ("dave", {}, 403),  # a viewer
        ("dave", {"limit": "5"}, 403),
        ("eve", {}, 404),  # no access at all
    ],
)
async def test_activity_errors(checked, collab, tokens, user, params, status):
    for name in ("dave", "eve"):
        tokens[name] = collab.users.add(name)
    doc = await new_doc(checked)
    doc_id = doc["id"]
    for who, role in (("bob", "editor"), ("dave", "viewer")):
        await checked("alice", "PUT", f"documents/{doc_id}/shares/user:{who}", {"role": role})

    async def state() -> tuple[Any, ...]:
        events = (await checked("alice", "GET", f"documents/{doc_id}/activity")).body["events"]
        return (
            (await checked("alice", "GET", f"documents/{doc_id}")).body,
            (await checked("alice", "GET", f"documents/{doc_id}/shares")).body,
            # refusals are recorded as access.denied: everything else stays the same
            [e for e in events if e.get("kind") != "access.denied"],
        )

    before = await state()
    path = f"documents/{doc_id}/activity"
    reply = await checked(user, "GET", path, params=params, valid_request=status != 400)
    assert reply.status == status, reply.body
    assert reply.body["message"]
    assert await state() == before
    missing = await checked("alice", "GET", f"documents/{MISSING}/activity")
    assert missing.status == 404


# -- health -----------------------------------------------------------------------------------


async def test_health(checked, collab):
    user = await checked("alice", "GET", "health")
    assert (user.status, user.body) == (200, {"status": "ok"})  # no details for users
    for admin in ("carol", "server"):
        reply = await checked(admin, "GET", "health")
        assert reply.status == 200
        assert reply.body["status"] == "ok"
        assert reply.body["node"] == collab.node_id
        checks = reply.body["checks"]
        assert set(checks) == {"store", "access_database", "cluster", "audit", "rooms"}
        assert all(check["ok"] is True for check in checks.values())


async def test_health_degraded_is_503(checked, collab, monkeypatch):
    async def broken_get(doc_id: str) -> Any:
        raise StoreError("the store is away")

    monkeypatch.setattr(collab.store, "get", broken_get)
    user = await checked("alice", "GET", "health")
    assert (user.status, user.body) == (503, {"status": "degraded"})
    admin = await checked("carol", "GET", "health")
    assert (admin.status, admin.body["status"]) == (503, "degraded")
    store = admin.body["checks"]["store"]
    assert store["ok"] is False
    assert "the store is away" in store["error"]
    assert admin.body["checks"]["access_database"]["ok"] is True


async def test_wrong_health_answers_fail_validation(checked, openapi, jp_http_port):
    request = SpecRequest(
        f"http://127.0.0.1:{jp_http_port}", f"{API_PREFIX}health", "get", None, ""
    )
    json_headers = Headers({"Content-Type": "application/json"})

    def answer(body: Any, status: int = 200) -> SpecResponse:
        return spec_response(status, json.dumps(body).encode(), json_headers)

    real = (await checked("carol", "GET", "health")).body
    openapi.validate_response(request, answer(real))
    openapi.validate_response(request, answer({**real, "status": "degraded"}, 503))
    checks = real["checks"]
    for body, status in [
        ({"status": "degraded"}, 200),
        ({"status": "ok"}, 503),
        ({"status": "fine"}, 200),
        ({}, 200),
        ({**real, "checks": {k: v for k, v in checks.items() if k != "store"}}, 200),
        ({**real, "checks": {**checks, "store": {"latency_ms": 1}}}, 200),
        ({**real, "checks": {**checks, "rooms": {"ok": True}}}, 200),
        ({**real, "password": "x"}, 200),
    ]:
        with pytest.raises(OpenAPIError):
            openapi.validate_response(request, answer(body, status))


# -- the trash ----------------------------------------------------------------------------


async def test_trash_lifecycle(checked):
    doc = await new_doc(checked)
    assert (await checked("alice", "DELETE", f"documents/{doc['id']}")).status == 204
    trash = await checked("alice", "GET", "trash")
    assert [d["id"] for d in trash.body["documents"]] == [doc["id"]]
    assert (await checked("bob", "POST", f"trash/{doc['id']}/restore")).status == 404
    assert (await checked("alice", "POST", f"trash/{doc['id']}/restore")).status == 200
    assert (await checked("alice", "DELETE", f"trash/{doc['id']}")).status == 404  # not in it
    assert (await checked("alice", "DELETE", f"documents/{doc['id']}")).status == 204
    assert (await checked("alice", "DELETE", f"trash/{doc['id']}")).status == 204
    assert (await checked(None, "GET", "trash", valid_request=False)).status == 401
