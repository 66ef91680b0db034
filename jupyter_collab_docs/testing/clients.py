"""Clients of a collab-docs server: a real y-websocket client (pycrdt), a raw one that
sends exactly the frames a test wants, and the reply of the ``api`` fixture's REST calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from pycrdt import Doc, Text


@dataclass
class Reply:
    """What ``await api(user, method, path, ...)`` returns (never raises on an error)."""

    status: int
    body: Any  # the decoded JSON, or None
    headers: Any


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
    """``async with yclient(ws_url(doc_id)) as client``: connected and syncing."""
    # httpx-ws is a test dependency (the ``test`` extra), not one of the server's.
    from httpx_ws import aconnect_ws
    from pycrdt import Provider
    from pycrdt.websocket.websocket import HttpxWebsocket

    doc = doc if doc is not None else Doc()
    connecting: Any = aconnect_ws(url, keepalive_ping_interval_seconds=None)
    async with connecting as ws, Provider(doc, HttpxWebsocket(ws, url)):
        yield YClient(doc, ws)


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
            return await self.conn.read_message()  # type: ignore[no-any-return]

    async def closed(self, timeout: float = 5.0) -> int | None:
        """Read until the server closes; returns its close code."""
        with anyio.fail_after(timeout):
            while await self.conn.read_message() is not None:
                pass
        return self.conn.close_code  # type: ignore[no-any-return]

    def close(self) -> None:
        self.conn.close()
