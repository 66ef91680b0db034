"""The room socket's own WebSocket framing (handlers/room_socket.py), over real TCP with a
raw client: frames split or batched any way across reads, fragmentation, control frames,
the close handshake, malformed frames, size caps, slow readers and dead peers."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Text

from jupyter_collab_docs import protocol
from jupyter_collab_docs.identity import CollabDocsIdentityProvider
from jupyter_collab_docs.testing import EXTENSION, eventually

BACKLOG = 256 * 1024


@pytest.fixture
def tornado_settings() -> dict[str, Any]:
    return {}


@pytest.fixture
def jp_server_config(
    tmp_path: Path, collab_config: dict[str, Any], tornado_settings: dict[str, Any]
) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {EXTENSION: True},
            "identity_provider_class": CollabDocsIdentityProvider,
            "tornado_settings": tornado_settings,
        },
        "CollabDocsApp": {"data_dir": str(tmp_path / "collab"), **collab_config},
    }


def frame(
    opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True, rsv: int = 0
) -> bytes:
    """One client frame (masked unless told otherwise)."""
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    bit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head += bytes([bit | n])
    elif n <= 0xFFFF:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class Raw:
    """A WebSocket client on a plain TCP socket: it writes exactly the bytes it is given."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.pings: list[bytes] = []
        self.pongs: list[bytes] = []
        self.answer_pings = True

    @classmethod
    async def connect(cls, url: str, rcvbuf: int | None = None) -> Raw:
        rest = url.removeprefix("ws://")
        hostport, _, path = rest.partition("/")
        host, port = hostport.split(":")
        sock = socket.socket()
        if rcvbuf is not None:  # before connect, so the window is small from the start
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader, writer = await asyncio.open_connection(sock=sock)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, message: bytes) -> None:
        await self.write(frame(0x2, message))

    async def frame(self, timeout: float = 10.0) -> tuple[int, bytes] | None:
        """The next frame from the server (opcode, payload), None at EOF."""

        async def read() -> tuple[int, bytes] | None:
            try:
                b0, b1 = await self.reader.readexactly(2)
            except asyncio.IncompleteReadError:
                return None
            assert not b1 & 0x80, "server frames are never masked"
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
            assert b0 & 0x80, "the server does not fragment"
            return b0 & 0x0F, await self.reader.readexactly(n)

        return await asyncio.wait_for(read(), timeout)

    async def message(self, timeout: float = 10.0) -> bytes:
        """The next binary message (answering pings on the way)."""
        while True:
            got = await self.frame(timeout)
            assert got is not None, "the server closed the connection"
            opcode, payload = got
            if opcode == 0x9:
                self.pings.append(payload)
                if self.answer_pings:
                    await self.write(frame(0xA, payload))
                continue
            if opcode == 0xA:
                self.pongs.append(payload)
                continue
            assert opcode == 0x2, (opcode, payload)
            return payload

    async def close_code(self, timeout: float = 10.0) -> int | None:
        """Read until the server's close frame; its code (None: closed without one)."""
        while True:
            got = await self.frame(timeout)
            if got is None:
                return None
            opcode, payload = got
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0] if payload else 1005

    async def eof(self, timeout: float = 10.0) -> None:
        """The server closes the TCP connection (after its close frame)."""
        assert await asyncio.wait_for(self.reader.read(), timeout) == b""

    def abort(self) -> None:
        self.writer.transport.abort()


async def new_doc(api: Any, content: str = "hello") -> str:
    reply = await api(
        "alice", "POST", "documents", {"name": "doc", "type": "file", "content": content}
    )
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


def step2_text(message: bytes) -> str:
    """The text of a sync step 2 (the server's full state)."""
    parsed = protocol.parse_frame(message)
    doc = Doc()
    doc.apply_update(parsed.payload)
    return str(doc.get("source", type=Text))


async def handshake(client: Raw) -> None:
    """Reads the server's opening step 1 (and awareness, if any)."""
    first = protocol.parse_frame(await client.message())
    assert (first.kind, first.step) == (protocol.MESSAGE_SYNC, protocol.SYNC_STEP1)


def edit(text: str, base: bytes = b"") -> bytes:
    """An update appending ``text`` to a fresh client's copy of the doc."""
    doc = Doc()
    if base:
        doc.apply_update(base)
    source = doc.get("source", type=Text)
    before = doc.get_state()
    source += text
    return doc.get_update(before)


STEP1 = protocol.sync_step1(Doc().get_state())


async def test_a_message_sent_byte_by_byte_is_read(api, ws_url):
    doc_id = await new_doc(api)
    client = await Raw.connect(ws_url(doc_id))
    await handshake(client)
    for byte in frame(0x2, STEP1):
        await client.write(bytes([byte]))
        await asyncio.sleep(0.002)  # separate TCP segments, so separate reads
    assert step2_text(await client.message()) == "hello"


async def test_several_frames_in_one_write_are_all_answered(api, ws_url, collab):
    doc_id = await new_doc(api)
    client = await Raw.connect(ws_url(doc_id))
    await handshake(client)
    await client.write(frame(0x2, STEP1) + frame(0x9, b"hi") + frame(0x2, STEP1))
    replies = []
    while len(replies) < 2:
        replies.append(step2_text(await client.message()))
    assert replies == ["hello", "hello"]
    assert client.pongs == [b"hi"]
    room = collab.rooms.open_rooms[doc_id]
    assert len(room.clients) == 1


async def test_frames_sent_with_the_upgrade_request_are_read(api, ws_url):
    """Bytes the HTTP parser read past the upgrade request are the first frames."""
    doc_id = await new_doc(api)
    url = ws_url(doc_id)
    hostport, _, path = url.removeprefix("ws://").partition("/")
    reader, writer = await asyncio.open_connection(*hostport.split(":"))
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        + frame(0x2, STEP1)
    )
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    client = Raw(reader, writer)
    await handshake(client)
    assert step2_text(await client.message()) == "hello"


async def test_a_fragmented_update_with_a_ping_between_its_fragments(api, ws_url):
    doc_id = await new_doc(api, content="")
    client = await Raw.connect(ws_url(doc_id))
    await handshake(client)
    message = protocol.update_message(edit("fragmented"))
    a, b, c = message[:3], message[3:9], message[9:]
    await client.write(frame(0x2, a, fin=False) + frame(0x0, b, fin=False))
    await client.write(frame(0x9, b"between") + frame(0x0, c))
    got = await client.frame()
    assert got == (0xA, b"between")
    await client.send(STEP1)
    assert step2_text(await client.message()) == "fragmented"


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(frame(0x2, STEP1, mask=False), id="unmasked"),
        pytest.param(frame(0x2, STEP1, rsv=0x40), id="reserved-bit"),
        pytest.param(frame(0x3, STEP1), id="unknown-opcode"),
        pytest.param(frame(0x0, STEP1), id="continuation-of-nothing"),
        pytest.param(frame(0x9, b"x", fin=False), id="fragmented-control"),
        pytest.param(frame(0x9, b"x" * 126), id="long-control"),
        pytest.param(frame(0x2, b"\x00", fin=False) + frame(0x2, b"\x00"), id="interleaved-data"),
        pytest.param(frame(0x8, b"\x03"), id="one-byte-close"),
    ],
)
async def test_a_malformed_frame_closes_that_socket_with_1002(api, ws_url, collab, bad):
    doc_id = await new_doc(api)
    bystander = await Raw.connect(ws_url(doc_id, "carol"))
    await handshake(bystander)
    client = await Raw.connect(ws_url(doc_id))
    await handshake(client)
    await client.write(bad)
    assert await client.close_code() == 1002
    await client.eof()
    room = collab.rooms.open_rooms[doc_id]
    await eventually(lambda: len(room.clients) == 1, what="the bad socket leaves the room")
    await bystander.send(STEP1)
    assert step2_text(await bystander.message()) == "hello"


async def test_invalid_utf8_in_a_text_frame_closes_with_1007(api, ws_url):
    doc_id = await new_doc(api)
    client = await Raw.connect(ws_url(doc_id))
    await handshake(client)
    await client.write(frame(0x1, b"\xff\xfe"))
    assert await client.close_code() == 1007


@pytest.mark.parametrize("collab_config", [{"max_message_size": 1000}])
@pytest.mark.parametrize("declared", [1001, 10**9])
async def test_an_oversized_frame_closes_with_4413_at_its_header(
    api, ws_url, collab_config, declared
):
    """Refused from the length in its header: the payload is never buffered (this one
    never even arrives)."""
    doc_id = await new_doc(api)
    client = await Raw.connect(ws_url(doc_id))
    await handshake(client)
    head = bytes([0x82, 0x80 | 127]) + struct.pack("!Q", declared) + os.urandom(4)
    await client.write(head + b"\x00" * 10)
    assert await client.close_code() == 4413
    await client.eof()


@pytest.mark.parametrize("collab_config", [{"max_message_size": 1000}])
async def test_fragments_adding_up_past_the_cap_close_with_4413(api, ws_url, collab_config):
    doc_id = await new_doc(api)
    client = await Raw.connect(ws_url(doc_id))
    await handshake(client)
    await client.write(frame(0x2, b"\x00" * 600, fin=False) + frame(0x0, b"\x00" * 600, fin=False))
    assert await client.close_code() == 4413


async def test_a_client_close_is_echoed_and_the_socket_leaves(api, ws_url, collab):
    doc_id = await new_doc(api)
    client = await Raw.connect(ws_url(doc_id))
    await handshake(client)
    room = collab.rooms.open_rooms[doc_id]
    assert len(room.clients) == 1
    await client.write(frame(0x8, struct.pack("!H", 1000) + b"bye"))
    assert await client.close_code() == 1000
    await client.eof()
    await eventually(lambda: not room.clients, what="the socket leaves the room")


async def test_a_client_gone_in_the_middle_of_a_frame(api, ws_url, collab):
    doc_id = await new_doc(api)
    client = await Raw.connect(ws_url(doc_id))
    await handshake(client)
    room = collab.rooms.open_rooms[doc_id]
    whole = frame(0x2, protocol.update_message(edit("never")))
    await client.write(whole[: len(whole) // 2])
    client.abort()
    await eventually(lambda: not room.clients, what="the socket leaves the room")
    fresh = await Raw.connect(ws_url(doc_id))
    await handshake(fresh)
    await fresh.send(STEP1)
    assert step2_text(await fresh.message()) == "hello"


def backlog_of(handler: Any) -> int:
    """Bytes queued for the socket in the server (Tornado's IOStream buffer before the
    room socket had its own)."""
    conn = handler.ws_connection
    if conn is None:
        return 0
    if hasattr(conn, "backlog_bytes"):
        return int(conn.backlog_bytes)
    return len(conn.stream._write_buffer)


@pytest.mark.parametrize("collab_config", [{"max_socket_backlog": BACKLOG}])
async def test_a_client_that_stops_reading_is_closed_with_4408(api, ws_url, collab):
    """Its outgoing buffer never grows past the cap plus one message; then it is closed
    with 4408, which it reads once it reads again. The writer and the room carry on."""
    doc_id = await new_doc(api, content="")
    stalled = await Raw.connect(ws_url(doc_id, "carol"), rcvbuf=4096)
    await handshake(stalled)
    writer = await Raw.connect(ws_url(doc_id))
    await handshake(writer)
    room = collab.rooms.open_rooms[doc_id]
    handler = next(c for c in room.clients if c.actor.username == "carol")
    chunk = 64 * 1024
    doc = Doc()
    source = doc.get("source", type=Text)
    largest = 0
    highest = 0
    sent = 0
    for i in range(120):  # 7.5 MiB: far more than the cap and the kernel's buffers
        before = doc.get_state()
        source += chr(ord("a") + i % 26) * chunk
        message = protocol.update_message(doc.get_update(before))
        largest = max(largest, len(message) + 10)
        await writer.send(message)
        sent += len(message)
        await asyncio.sleep(0.005)
        highest = max(highest, backlog_of(handler))
        if handler not in room.clients:
            break
    await eventually(lambda: handler not in room.clients, what="the stalled socket is dropped")
    assert highest <= BACKLOG + largest, (highest, BACKLOG)
    assert sent > 4 * BACKLOG
    assert await stalled.close_code(timeout=20) == 4408
    # The writer was never slowed down, and still has the room.
    await writer.send(STEP1)
    while True:
        parsed = protocol.parse_frame(await writer.message())
        if parsed.step == 1:
            break
    assert room.clients.keys() == {next(iter(room.clients))}


@pytest.mark.parametrize("tornado_settings", [{"ws_ping_interval": 100, "ws_ping_timeout": 300}])
async def test_a_peer_that_never_answers_pings_is_closed(api, ws_url, collab, tornado_settings):
    doc_id = await new_doc(api)
    alive = await Raw.connect(ws_url(doc_id, "carol"))
    await handshake(alive)
    dead = await Raw.connect(ws_url(doc_id))
    await handshake(dead)
    dead.answer_pings = False
    room = collab.rooms.open_rooms[doc_id]
    assert len(room.clients) == 2
    # The live one reads (and answers pings) all along; the dead peer's kernel still
    # acknowledges TCP, so only its missing pongs tell.
    pump = asyncio.create_task(alive.message(timeout=30))
    try:
        await eventually(lambda: len(room.clients) == 1, timeout=10, what="dead peer dropped")
        # Well past the timeout, the live one is still pinged and still in the room.
        seen = len(alive.pings)
        await eventually(lambda: len(alive.pings) >= seen + 5, what="pings keep coming")
        assert [c.actor.username for c in room.clients] == ["carol"]
    finally:
        pump.cancel()
    assert await dead.close_code() is not None


@pytest.mark.parametrize("collab_config", [{"max_socket_backlog": BACKLOG}])
async def test_the_cap_holds_while_the_join_is_still_being_flushed(
    api, ws_url, collab, monkeypatch
):
    """A join whose first messages the client does not read (a big awareness, say) keeps
    the socket on Tornado's IOStream until they are written: the cap applies there too,
    to what the kernel did not take."""
    from jupyter_collab_docs.rooms import DocumentRoom

    doc_id = await new_doc(api)
    filler = protocol.awareness_message([]) + b"\x00" * (512 * 1024)
    original_join = DocumentRoom.join
    joined = []
    highest = []

    def join_with_a_lot_to_say(self, conn):  # type: ignore[no-untyped-def]
        original_join(self, conn)
        joined.append(conn)
        for _ in range(24):  # 12 MiB the client does not read: more than the kernel holds
            conn.send(filler)
            highest.append(backlog_of(conn))

    monkeypatch.setattr(DocumentRoom, "join", join_with_a_lot_to_say)
    stalled = await Raw.connect(ws_url(doc_id), rcvbuf=4096)
    await eventually(lambda: bool(joined), what="the join")
    handler = joined[0]
    assert max(highest) <= BACKLOG + len(filler) + 16, highest
    room = collab.rooms.open_rooms[doc_id]
    await eventually(lambda: handler not in room.clients, what="the socket is dropped")
    assert await stalled.close_code(timeout=20) == 4408
