"""The fixtures of :mod:`jupyter_collab_docs.pytest_plugin`: an in-process Jupyter server
with the extension (pytest-jupyter's ``jp_serverapp``), users with tokens, a REST helper,
room URLs, and a standalone server in its own process.

Loaded after ``pytest_jupyter.jupyter_server`` (see the plugin), so that this
``jp_server_config`` is the one pytest-jupyter's server uses.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..identity import CollabDocsIdentityProvider
from . import EXTENSION
from .clients import Reply
from .standalone import StandaloneServer
from .waiting import free_port


@pytest.fixture
def collab_config() -> dict[str, Any]:
    """Extra CollabDocsApp traits for one test (override in a test module)."""
    return {}


@pytest.fixture
def jp_server_config(tmp_path: Path, collab_config: dict[str, Any]) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {EXTENSION: True},
            "identity_provider_class": CollabDocsIdentityProvider,
        },
        "CollabDocsApp": {"data_dir": str(tmp_path / "collab"), **collab_config},
    }


@pytest.fixture
def collab(jp_serverapp: Any, jp_asyncio_loop: Any) -> Any:
    """The running CollabDocsApp (pytest-jupyter does not run the server's start hooks)."""
    app = next(iter(jp_serverapp.extension_manager.extension_apps[EXTENSION]))
    jp_asyncio_loop.run_until_complete(jp_serverapp._post_start())
    return app


@pytest.fixture
def tokens(collab: Any) -> dict[str, str]:
    """API tokens of alice and bob (users) and carol (an administrator)."""
    return {
        "alice": collab.users.add("alice", "Alice Liddell"),
        "bob": collab.users.add("bob"),
        "carol": collab.users.add("carol", admin=True),
    }


@pytest.fixture
def api(jp_fetch: Any, tokens: dict[str, str]) -> Callable[..., Awaitable[Reply]]:
    """``await api("alice", "POST", "documents", {...})`` -> Reply; never raises on errors.
    ``user=None`` sends no credentials; ``user="server"`` uses the server's own token."""

    async def call(
        user: str | None,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        headers = {"Authorization": f"token {tokens[user]}"} if user in tokens else {}
        if user is None:
            headers = {"Authorization": ""}
        kwargs: dict[str, Any] = {"method": method, "raise_error": False, "headers": headers}
        if raw is not None:
            kwargs["body"] = raw
        elif body is not None:
            kwargs["body"] = json.dumps(body)
        elif method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = b""
        response = await jp_fetch("api", "collab-docs", *path.split("/"), params=params, **kwargs)
        text = response.body.decode() if response.body else ""
        return Reply(response.code, json.loads(text) if text else None, response.headers)

    return call


@pytest.fixture
def ws_url(jp_http_port: int, jp_base_url: str, tokens: dict[str, str]) -> Callable[..., str]:
    """The room URL of a document for a user (None: no credentials)."""

    def url(doc_id: str, user: str | None = "alice") -> str:
        query = f"?token={tokens[user]}" if user else ""
        base = jp_base_url.rstrip("/")
        return f"ws://127.0.0.1:{jp_http_port}{base}/api/collab-docs/rooms/{doc_id}{query}"

    return url


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[StandaloneServer]:
    """A ``jupyter collab-docs`` process on a free port (not started: call .start())."""
    server = StandaloneServer(
        port=free_port(),
        data_dir=tmp_path / "standalone",
        token="test-server-token",
        log_path=tmp_path / "server.log",
    )
    yield server
    server.stop()
