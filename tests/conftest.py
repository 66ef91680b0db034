"""Shared fixtures: an in-process Jupyter server with the extension (pytest-jupyter),
standalone users with tokens, real y-websocket clients, and a standalone server process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from httpx_ws import aconnect_ws
from pycrdt import Doc, Provider, Text
from pycrdt.websocket.websocket import HttpxWebsocket

from jupyter_collab_docs.identity import CollabDocsIdentityProvider

pytest_plugins = [
    "pytest_jupyter.jupyter_server",
    "tests.servers.ferretdb",
    "tests.servers.mariadb",
    "tests.servers.redis",
    "tests.servers.kafka",
]

EXTENSION = "jupyter_collab_docs"


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


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any


@pytest.fixture
def api(jp_fetch: Any, tokens: dict[str, str]) -> Callable[..., Any]:
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


class YClient:
    """A real y-websocket client: a pycrdt Doc synced by pycrdt.Provider."""

    def __init__(self, doc: Doc, ws: Any) -> None:
        self.doc = doc
        self.ws = ws

    @property
    def text(self) -> Text:
        return self.doc.get("source", type=Text)


@asynccontextmanager
async def yclient(url: str, doc: Doc | None = None) -> AsyncIterator[YClient]:
    doc = doc if doc is not None else Doc()
    async with (
        aconnect_ws(url, keepalive_ping_interval_seconds=None) as ws,
        Provider(doc, HttpxWebsocket(ws, url)),
    ):
        yield YClient(doc, ws)


async def eventually(check: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Wait until ``check()`` is true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await anyio.sleep(0.02)


# -- a standalone server in its own process ------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class StandaloneServer:
    port: int
    data_dir: Path
    token: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "jupyter_collab_docs", *args]

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            self.command(*args, f"--CollabDocsApp.data_dir={self.data_dir}"),
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def start(self) -> None:
        assert self.log_path is not None
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(
                "--no-browser",
                "--allow-root",
                f"--port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--CollabDocsApp.data_dir={self.data_dir}",
                "--CollabDocsApp.room_idle_timeout=1",
                *self.extra_args,
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log_path}")
            try:
                urllib.request.urlopen(f"{self.url}/api/collab-docs/me", timeout=1)
            except urllib.error.HTTPError:
                return  # 401: up and refusing anonymous requests
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server did not start; see {self.log_path}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.url}/api/collab-docs/{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {token or self.token}"},
        )
        with urllib.request.urlopen(req, timeout=20) as response:
            text = response.read().decode()
        return json.loads(text) if text else None


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


# -- a raw protocol client, to send exactly the frames a test wants ---------------------


class RawClient:
    """A WebSocket speaking raw y-websocket frames (tornado's client)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    @classmethod
    async def connect(cls, url: str) -> RawClient:
        import tornado.websocket

        return cls(await tornado.websocket.websocket_connect(url, max_message_size=1 << 30))

    async def send(self, frame: bytes) -> None:
        await self.conn.write_message(frame, binary=True)

    async def recv(self, timeout: float = 5.0) -> bytes | None:
        """The next frame, or None once the server closed the socket."""
        with anyio.fail_after(timeout):
            return await self.conn.read_message()

    async def closed(self, timeout: float = 5.0) -> int | None:
        """Read until the server closes; returns its close code."""
        with anyio.fail_after(timeout):
            while await self.conn.read_message() is not None:
                pass
        return self.conn.close_code

    def close(self) -> None:
        self.conn.close()
