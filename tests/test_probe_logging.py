"""A readiness probe answering 503 is the probe doing its job (a draining node, a backend
down), not a server error: Jupyter's request log writes its line as a warning (not ready)
or as information (draining), never at error level. Other requests keep Jupyter's levels."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from jupyter_collab_docs.stores import StoreError


def request_lines(caplog: pytest.LogCaptureFixture, path: str) -> list[logging.LogRecord]:
    """The request log's lines (``STATUS METHOD URI ...``) for ``path``."""
    return [
        r
        for r in caplog.records
        if f"/api/collab-docs/{path} (" in r.getMessage() and r.getMessage()[:3].isdigit()
    ]


async def test_a_draining_probe_is_logged_as_information(api, collab, caplog):
    caplog.set_level(logging.DEBUG)
    collab.draining = True
    try:
        for method in ("GET", "HEAD"):
            assert (await api(None, method, "ready")).status == 503
    finally:
        collab.draining = False
    lines = request_lines(caplog, "ready")
    assert [(r.getMessage()[:8], r.levelname) for r in lines] == [
        ("503 GET ", "INFO"),
        ("503 HEAD", "INFO"),
    ]


async def test_a_backend_down_probe_is_a_warning(api, collab, caplog, monkeypatch):
    async def broken(doc_id: str) -> Any:
        raise StoreError("down")

    monkeypatch.setattr(collab.store, "get", broken)
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    assert (await api(None, "GET", "ready")).status == 503
    lines = request_lines(caplog, "ready")
    assert [(r.getMessage()[:8], r.levelname) for r in lines] == [("503 GET ", "WARNING")]
    # Jupyter writes a 5xx request's headers before its line: at the same level too
    logged = [(r.levelname, r.getMessage()[:40]) for r in caplog.records]
    assert all(r.levelno <= logging.WARNING for r in caplog.records), logged
    # and the line still names Jupyter's request log as where it was written
    assert lines[0].pathname.endswith("jupyter_server/log.py"), lines[0].pathname


async def test_other_answers_keep_jupyters_levels(api, jp_fetch, collab, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    assert (await api(None, "GET", "ready")).status == 200
    assert [r.levelname for r in request_lines(caplog, "ready")] == ["DEBUG"]

    async def crash(self: Any) -> tuple[int, str]:
        raise RuntimeError("a bug, not an answer")

    from jupyter_collab_docs.handlers.health import ReadyHandler

    monkeypatch.setattr(ReadyHandler, "status", crash)
    caplog.clear()
    crashed = await jp_fetch("api", "collab-docs", "ready", raise_error=False)
    assert crashed.code == 500
    assert [r.levelname for r in request_lines(caplog, "ready")] == ["ERROR"]
    # and the authenticated health endpoint's 503 is still Jupyter's error line
    monkeypatch.setattr(collab.cluster, "status", lambda: {"ok": False})
    caplog.clear()
    assert (await api("carol", "GET", "health")).status == 503
    assert [r.levelname for r in request_lines(caplog, "health")] == ["ERROR"]
