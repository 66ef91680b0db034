"""Every handler is authenticated and authorized; the socket checks origin; inside a
plain Jupyter server the server's own identity is used."""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest
import tornado.httpclient
import tornado.websocket

from jupyter_collab_docs.handlers import handlers
from jupyter_collab_docs.handlers.health import LiveHandler, ProbeHandler, ReadyHandler
from jupyter_collab_docs.handlers.rooms import RoomHandler
from jupyter_collab_docs.handlers.webapp import PUBLIC_HANDLERS

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
PROBES = (LiveHandler, ReadyHandler)


def decorators_of(handler: type) -> dict[str, list[str]]:
    """HTTP method name -> its decorators, as written in the handler's class body."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(handler)))
    found = {}
    for node in tree.body[0].body:  # type: ignore[attr-defined]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in HTTP_METHODS:
            found[node.name] = [ast.unparse(d) for d in node.decorator_list]
    return found


def test_every_handler_method_is_authenticated_and_authorized():
    """The CI guard: adding a handler method without its decorators fails here."""
    checked = 0
    for _pattern, handler in handlers():
        assert getattr(handler, "auth_resource", None) == "collab-docs", handler
        for name, decorators in decorators_of(handler).items():
            if handler is RoomHandler:
                # The upgrade answers refusals with close codes y-websocket can read;
                # write rights are checked per message.
                assert decorators == ["ws_authenticated_with_close_code"], name
                assert getattr(handler.get, "__allow_unauthenticated", True) is False
            elif handler in PROBES:
                raise AssertionError(f"{handler.__name__}: its methods are ProbeHandler's")
            elif handler in PUBLIC_HANDLERS:
                # The web page's shell and assets (handlers/webapp.py): public like Jupyter's
                # login page, holding no data; only GET/HEAD, never under the API.
                assert decorators == ["allow_unauthenticated"], (handler, name)
                assert name in ("get", "head"), (handler, name)
                assert not _pattern.startswith("/api/"), _pattern
            else:
                assert decorators == ["web.authenticated", "authorized"], (handler, name)
            checked += 1
    # A new handler method changes this count: review its decorators, then update it.
    assert checked == 40  # + trash (3), comment threads (8), inbox and readers (4),
    # suggestions: accept and reject (2)
    # The probes (issue #18): anonymous by design, GET and HEAD only, a status and no data.
    assert decorators_of(ProbeHandler) == {
        "get": ["allow_unauthenticated"],
        "head": ["allow_unauthenticated"],
    }
    assert {h for _, h in handlers() if issubclass(h, ProbeHandler)} == set(PROBES)


async def test_cross_origin_upgrade_with_a_cookie_is_refused(api, ws_url, tokens):
    """Jupyter's origin rule: a token in the request proves intent, a cookie does not."""
    doc = (await api("alice", "POST", "documents", {"name": "x", "type": "file"})).body
    me = await api("alice", "GET", "me")
    cookie = me.headers.get("Set-Cookie", "").split(";")[0]
    assert cookie, "Jupyter sets its login cookie on a token-authenticated request"
    evil = {"Origin": "http://evil.example", "Cookie": cookie}
    request = tornado.httpclient.HTTPRequest(ws_url(doc["id"], None), headers=evil)
    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
        await tornado.websocket.websocket_connect(request)
    assert refused.value.code == 403
    # the same cookie from the server's own origin is accepted
    port = ws_url(doc["id"]).split("/")[2]
    same = {"Origin": f"http://{port}", "Cookie": cookie}
    conn = await tornado.websocket.websocket_connect(
        tornado.httpclient.HTTPRequest(ws_url(doc["id"], None), headers=same)
    )
    first = await conn.read_message()
    assert first is not None and first[0] == 0  # sync step 1, not a close
    conn.close()
