"""The probes a load balancer or Kubernetes calls without a token (issue #18):
``GET api/collab-docs/live`` (the process answers) and ``GET api/collab-docs/ready`` (this
node's store, access database, cluster bus and audit trail can take work, and it is not
draining). Both say only ``{"status": ...}``: no node id, no backend, no error text."""

from __future__ import annotations

from typing import Any

import pytest
import tornado.httpclient
import tornado.websocket

from jupyter_collab_docs.stores import StoreError
from tests.test_openapi import checked, openapi  # noqa: F401  (fixtures)


async def test_liveness_and_readiness_answer_without_a_token(api):
    live = await api(None, "GET", "live")
    assert (live.status, live.body) == (200, {"status": "ok"})
    ready = await api(None, "GET", "ready")
    assert (ready.status, ready.body) == (200, {"status": "ready"})
    # cheap and not cached by anything in between
    assert "no-store" in ready.headers.get("Cache-Control", "")


async def test_readiness_fails_with_the_store_and_says_nothing_more(api, monkeypatch, collab):
    async def broken(doc_id: str) -> Any:
        raise StoreError("database at secret-host:27017 is down")

    monkeypatch.setattr(collab.store, "get", broken)
    ready = await api(None, "GET", "ready")
    assert (ready.status, ready.body) == (503, {"status": "not ready"})
    # liveness is about the process only: a store outage must not get the node restarted
    live = await api(None, "GET", "live")
    assert (live.status, live.body) == (200, {"status": "ok"})
    # the authenticated health endpoint keeps its detail for administrators
    admin = await api("carol", "GET", "health")
    assert "secret-host" in admin.body["checks"]["store"]["error"]


async def test_readiness_fails_with_the_bus_audit_or_access_database(api, monkeypatch, collab):
    monkeypatch.setattr(collab.cluster, "status", lambda: {"ok": False, "error": "redis"})
    assert (await api(None, "GET", "ready")).status == 503
    monkeypatch.undo()
    monkeypatch.setattr(collab.audit, "status", lambda: {"ok": False}, raising=False)
    assert (await api(None, "GET", "ready")).status == 503
    monkeypatch.undo()

    async def no_database(name: str) -> Any:
        raise RuntimeError("access database gone")

    monkeypatch.setattr(collab.users, "lookup", no_database)
    assert (await api(None, "GET", "ready")).status == 503
    monkeypatch.undo()
    assert (await api(None, "GET", "ready")).status == 200


async def test_a_draining_node_is_not_ready_but_alive(api, collab):
    collab.draining = True
    try:
        ready = await api(None, "GET", "ready")
        assert (ready.status, ready.body) == (503, {"status": "draining"})
        assert (await api(None, "GET", "live")).status == 200
    finally:
        collab.draining = False


async def test_probes_take_only_get_and_head(api):
    for path in ("live", "ready"):
        assert (await api(None, "POST", path)).status == 405
        assert (await api(None, "DELETE", path)).status == 405


async def test_a_draining_node_refuses_new_room_sockets_before_the_upgrade(api, ws_url, collab):
    """503 before the upgrade: nginx (proxy_next_upstream http_503) tries another node."""
    doc = (await api("alice", "POST", "documents", {"name": "d", "type": "file"})).body
    collab.draining = True
    try:
        with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
            await tornado.websocket.websocket_connect(ws_url(doc["id"], "alice"))
        assert refused.value.code == 503
    finally:
        collab.draining = False
    socket = await tornado.websocket.websocket_connect(ws_url(doc["id"], "alice"))
    assert await socket.read_message() is not None  # served again once not draining
    socket.close()


async def test_the_probes_answer_as_docs_openapi_says(checked, collab):  # noqa: F811
    assert (await checked(None, "GET", "live")).status == 200
    assert (await checked(None, "GET", "ready")).status == 200
    collab.draining = True
    try:
        assert (await checked(None, "GET", "ready")).body == {"status": "draining"}
    finally:
        collab.draining = False
