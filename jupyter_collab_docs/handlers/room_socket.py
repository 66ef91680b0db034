"""The room socket's connection once the upgrade is done: WebSocket frames read and written
on the socket itself, in one callback per read and one system call per write.

Tornado's ``WebSocketProtocol13`` does the upgrade and runs the handler's ``open`` (where
the caller is authenticated, its role looked up and the room joined). Then, instead of
Tornado's read loop, which awaits a future per frame header, mask and payload, and its
writes, which make a future per frame, this takes the socket from Tornado's IOStream:

- **reads**: one ``recv`` per readable event, every whole frame in it parsed and handed
  to the handler at once (``frames.read_header``: masking, fragmentation, ping / pong /
  close, RFC 6455 errors close with 1002 / 1007; a message past ``max_message_size``
  closes with 4413 from its header, before its payload is read);
- **writes**: ``send`` straight to the socket when nothing is queued (a broadcast is
  framed once for every socket, see ``frames.binary_frame``); what the kernel does not
  take is queued and written when the socket is writable;
- **back-pressure**: a client that does not read lets its queue grow; past
  ``max_backlog`` bytes its unsent messages are dropped and it is closed with 4408
  (close_codes.CLOSE_SLOW_READER), so one slow reader costs at most the cap plus one
  message;
- **closing**: the close frame, then a half-close (FIN) once it is written; the
  connection ends at the client's FIN or after ``CLOSE_WAIT`` seconds.

Keep-alive pings and the pong timeout stay the handler's (Jupyter's WebSocketMixin):
they go through ``write_ping`` and ``handler.on_pong``.

A little over 500 lines on purpose: taking over the socket, reading, writing with
back-pressure and closing share one connection state (the fd, the queue, the close
handshake), and splitting them would spread that state over modules; the frame format
itself is in :mod:`.frames`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import struct
from collections import deque
from collections.abc import Sequence
from typing import Any

from tornado.concurrent import Future, future_set_result_unless_cancelled
from tornado.iostream import StreamClosedError
from tornado.util import _websocket_mask
from tornado.websocket import WebSocketHandler, WebSocketProtocol13, _WebSocketParams

from ..close_codes import CLOSE_INVALID_DATA, CLOSE_SLOW_READER, CLOSE_TOO_LARGE
from .frames import (
    CACHED_FRAME_LIMIT,
    FIN,
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    OPCODE_BITS,
    FrameError,
    binary_frame,
    close_payload,
    control_frame,
    frame_header,
    is_valid_close_code,
    read_header,
)

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024
# How long a closing connection waits for the client's close frame and FIN.
CLOSE_WAIT = 5.0
# Buffers handed to one sendmsg (IOV_MAX is 1024 on Linux).
WRITE_BATCH = 64


# The send queue of every socket that has nothing queued: a deque costs 760 bytes even
# empty, and an idle socket never queues. Only ``_queue`` appends, and it replaces this
# with a socket's own deque first (maxlen=0: an append here would be lost, never shared).
NO_QUEUE: deque[tuple[bytes | memoryview, bool]] = deque(maxlen=0)


class RoomSocket(WebSocketProtocol13):
    """One room socket's WebSocket connection (server side, no extensions)."""

    # Our attributes in slots: Tornado's stay in the instance dict, which stays small
    # (thousands of idle sockets each carry one).
    __slots__ = (
        "_close_sent",
        "_close_timer",
        "_discarding",
        "_finished",
        "_fragments",
        "_fragments_opcode",
        "_head_mid_frame",
        "_inbox",
        "_loop",
        "_need",
        "_out",
        "_out_offset",
        "_overflowed",
        "_sock",
        "_writer_armed",
        "backlog_bytes",
        "max_backlog",
        "max_message_size",
        "owner",
    )

    def __init__(self, handler: WebSocketHandler, max_message_size: int, max_backlog: int) -> None:
        # No Tornado pings (the handler's WebSocketMixin pings), no compression: frames
        # are built once and written as they are to every socket.
        params = _WebSocketParams(max_message_size=max_message_size)
        super().__init__(handler, False, params)
        self.owner = handler  # Tornado types ``handler`` as its narrower delegate
        self.max_message_size = max_message_size
        self.max_backlog = max_backlog
        #: Bytes queued for this socket and not yet taken by the kernel.
        self.backlog_bytes = 0
        self._sock: socket.socket | None = None  # set once the socket is ours
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finished = False
        # Reading: the bytes of an unfinished frame, and how many it needs.
        self._inbox = bytearray()
        self._need = 0
        self._fragments: bytearray | None = None
        self._fragments_opcode = OP_BINARY
        self._discarding = False  # after a fatal frame error: input is read and dropped
        # Writing: queued buffers, each with "ends a frame"; the head's sent part.
        self._out = NO_QUEUE
        self._out_offset = 0
        self._head_mid_frame = False  # an earlier part of the head's frame was sent
        self._writer_armed = False
        self._close_sent = False
        self._overflowed = False
        self._close_timer: asyncio.TimerHandle | None = None

    # -- taking the socket over ------------------------------------------------------

    async def _receive_frame_loop(self) -> None:
        """Called by Tornado once ``open`` has returned: from here the socket is ours."""
        stream = self.stream
        assert stream is not None
        try:
            # The 101 response and what open() sent are in the IOStream's buffer: they go
            # first, in order, before anything written directly.
            while stream.writing():
                await stream.write(b"")
            # Bytes the HTTP parser read past the upgrade request (frames a client sent
            # without waiting) are the start of the frame stream.
            buffered = stream._read_buffer_size
            early = await stream.read_bytes(buffered) if buffered else b""
        except StreamClosedError:
            self._abort()
            self.handler.on_ws_connection_close(self.close_code, self.close_reason)
            return
        if self.is_closing() or stream.closed():
            # Closed during open() (a refusal): Tornado's loop reads the client's answer.
            await super()._receive_frame_loop()
            return
        sock = stream.socket
        assert sock is not None
        stream.io_loop.remove_handler(sock)  # the IOStream no longer watches it
        self._loop = loop = asyncio.get_running_loop()
        self._sock = sock
        self.backlog_bytes = 0  # the IOStream has written everything
        loop.add_reader(sock.fileno(), self._on_readable)
        # Returning ends the upgrade's coroutines (this one, Tornado's accept, the
        # handler's get and _execute, and their task): ~4 KB an idle socket would keep
        # for its whole life. ``_finish`` tells the handler the socket closed.
        if early:
            try:
                self._received(early)
            except Exception:
                log.exception("room socket: reading failed")
                self._abort()

    # -- reading ---------------------------------------------------------------------

    def _on_readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            data = sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._abort()
            return
        if not data:  # the client's FIN
            self.client_terminated = True
            self._finish()
            return
        if self._discarding:
            return
        try:
            self._received(data)
        except Exception:
            # A bug here must not leave a socket nobody reads.
            log.exception("room socket: reading failed")
            self._abort()

    def _received(self, data: bytes) -> None:
        if self._inbox:
            self._inbox += data
            if len(self._inbox) < self._need:
                return
            data = bytes(self._inbox)
            self._inbox = bytearray()
        pos = 0
        end = len(data)
        while pos < end:
            try:
                header = read_header(data, pos)
            except FrameError as exc:
                self._fail(exc.code, exc.reason)
                return
            if header is None:
                self._need = end - pos + 1
                break
            first, start, length, mask = header
            if first & OPCODE_BITS < OP_CLOSE:
                held = len(self._fragments) if self._fragments is not None else 0
                if held + length > self.max_message_size:
                    self._fail(CLOSE_TOO_LARGE, "message too large")
                    return
            if end - start < length:
                self._need = start + length - pos
                break
            pos = start + length
            payload = _websocket_mask(mask, data[start:pos])
            if (
                first == FIN | OP_BINARY
                and self._fragments is None
                and not (self.server_terminated or self.client_terminated)
            ):
                # The frame of almost every message (a whole binary one, the socket
                # open): straight to the handler; the rest through _frame's checks.
                self.handler.on_message(payload)
            else:
                self._frame(first, payload)
            if self._discarding or self._finished:
                return
        if pos < end:
            self._inbox = bytearray(data[pos:])

    def _frame(self, first: int, payload: bytes) -> None:
        opcode = first & OPCODE_BITS
        if opcode >= OP_CLOSE:
            if opcode == OP_PING:
                if not self.server_terminated:
                    self._write((control_frame(OP_PONG, payload),))
                self.handler.on_ping(payload)
            elif opcode == OP_PONG:
                self.handler.on_pong(payload)
            else:
                self._on_close_frame(payload)
            return
        if opcode == OP_CONTINUATION:
            if self._fragments is None:
                self._fail(1002, "continuation of no message")
                return
            self._fragments += payload
            if not first & FIN:
                return
            opcode = self._fragments_opcode
            payload = bytes(self._fragments)
            self._fragments = None
        elif self._fragments is not None:
            self._fail(1002, "a new message inside a fragmented one")
            return
        elif not first & FIN:
            self._fragments = bytearray(payload)
            self._fragments_opcode = opcode
            return
        if self.server_terminated or self.client_terminated:
            return  # closing: data frames are ignored
        if opcode == OP_TEXT:
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                self._fail(CLOSE_INVALID_DATA, "text frame is not UTF-8")
                return
            self.handler.on_message(text)
        else:
            self.handler.on_message(payload)

    def _on_close_frame(self, payload: bytes) -> None:
        code: int | None = None
        reason: str | None = None
        if len(payload) == 1:
            self._fail(1002, "close frame with a one-byte payload")
            return
        if payload:
            (code,) = struct.unpack("!H", payload[:2])
            if not is_valid_close_code(code):
                self._fail(1002, f"invalid close code {code}")
                return
            try:
                reason = payload[2:].decode()
            except UnicodeDecodeError:
                self._fail(CLOSE_INVALID_DATA, "close reason is not UTF-8")
                return
        self.client_terminated = True
        self.close_code, self.close_reason = code, reason
        if self.server_terminated:
            if not self._out:
                self._finish()
        else:
            self.close(code)  # echo the client's code (RFC 6455 5.5.1)

    def _fail(self, code: int, reason: str) -> None:
        """A frame the socket cannot carry on after: close with ``code``, drop the rest
        of the input (its framing cannot be trusted)."""
        self._discarding = True
        self._inbox = bytearray()
        self._fragments = None
        log.warning("room socket %s: %s; closing (%d)", self.owner.request.path, reason, code)
        self.owner.close(code, reason)
        if not self.server_terminated:  # the handler had already let go of this socket
            self.close(code, reason)

    # -- writing ---------------------------------------------------------------------

    def send_message(self, message: bytes) -> None:
        """Queue one binary message; never blocks, never raises for a closed socket."""
        sock = self._sock
        if sock is None:
            self._write_to_stream(message)
        elif self._overflowed or self.server_terminated or self.client_terminated:
            return
        elif len(message) > CACHED_FRAME_LIMIT:
            # No copy of a large message: its header and it go out together.
            self._write((frame_header(len(message)), message))
        elif self._out:
            self._write((binary_frame(message),))
        else:  # the hot path: one frame, straight to the kernel
            frame = binary_frame(message)
            try:
                sent = sock.send(frame)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._abort()
                return
            if sent < len(frame):
                self._queue((frame,), sent)

    def _write_to_stream(self, message: bytes) -> None:
        """Before the socket is ours (during open(), and while the IOStream flushes what
        open() wrote): through Tornado's IOStream, under the same cap."""
        stream = self.stream
        if stream is None or self._overflowed or self.is_closing():
            return
        if self.backlog_bytes > self.max_backlog:
            self._overflow()
            return
        size = len(message)
        self.backlog_bytes += size
        try:
            if size <= CACHED_FRAME_LIMIT:
                written = stream.write(binary_frame(message))
            else:
                stream.write(frame_header(size))
                written = stream.write(message)
        except StreamClosedError:
            return
        # What the kernel took at once is done now; the rest when the IOStream writes it.
        # (The future consumes its own error if the peer has gone.)
        if written.done():
            self.backlog_bytes -= size
        else:
            written.add_done_callback(lambda _: self._stream_wrote(size))

    def _stream_wrote(self, size: int) -> None:
        if self._sock is None:  # after the takeover the count starts over
            self.backlog_bytes -= size

    def _write(self, buffers: Sequence[bytes], *, capped: bool = True) -> None:
        """Send one frame (its buffers): at once if nothing is queued, else queue it."""
        if self._out:
            if capped and self.backlog_bytes > self.max_backlog:
                self._overflow()
                return
            self._queue(buffers, 0)
            return
        sock = self._sock
        if sock is None or self._finished:
            return
        try:
            sent = sock.send(buffers[0]) if len(buffers) == 1 else sock.sendmsg(buffers)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._abort()
            return
        if sent < sum(len(b) for b in buffers):
            self._queue(buffers, sent)

    def _queue(self, buffers: Sequence[bytes], skip: int) -> None:
        if self._out is NO_QUEUE:
            self._out = deque()
        last = len(buffers) - 1
        for i, buffer in enumerate(buffers):
            if skip >= len(buffer):
                skip -= len(buffer)
                self._head_mid_frame = True
                continue
            view = memoryview(buffer)[skip:] if skip else buffer
            skip = 0
            self._out.append((view, i == last))
            self.backlog_bytes += len(view)
        if not self._writer_armed and self._loop is not None and self._sock is not None:
            self._loop.add_writer(self._sock.fileno(), self._on_writable)
            self._writer_armed = True

    def _on_writable(self) -> None:
        sock = self._sock
        out = self._out
        while out and sock is not None:
            batch: list[bytes | memoryview] = [b for b, _ in itertools.islice(out, WRITE_BATCH)]
            if self._out_offset:
                batch[0] = memoryview(batch[0])[self._out_offset :]
            try:
                sent = sock.sendmsg(batch)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._abort()
                return
            kernel_full = sent < sum(len(b) for b in batch)
            self.backlog_bytes -= sent
            while sent:
                buffer, ends_frame = out[0]
                left = len(buffer) - self._out_offset
                if sent < left:
                    self._out_offset += sent
                    break
                sent -= left
                out.popleft()
                self._out_offset = 0
                self._head_mid_frame = not ends_frame
            if kernel_full:
                return
        if not out:
            self._out = NO_QUEUE  # a socket that caught up gives its queue back
            self._disarm_writer()
            if self._close_sent:
                self._close_flushed()

    def _disarm_writer(self) -> None:
        if self._writer_armed and self._loop is not None and self._sock is not None:
            self._loop.remove_writer(self._sock.fileno())
        self._writer_armed = False

    def _overflow(self) -> None:
        """The client stopped reading: free what it did not take, close it with 4408."""
        self._overflowed = True
        self._drop_unstarted()
        log.warning(
            "room socket %s: the client does not read (more than %d bytes queued); closing",
            self.owner.request.path,
            self.max_backlog,
        )
        # Not now: this runs inside a broadcast, which iterates the room's sockets.
        asyncio.get_running_loop().call_soon(self._close_slow_reader)

    def _close_slow_reader(self) -> None:
        self.owner.close(CLOSE_SLOW_READER, "too slow to read; reconnect")
        if not self.server_terminated:
            self.close(CLOSE_SLOW_READER, "too slow to read; reconnect")

    def _drop_unstarted(self) -> None:
        """Drop queued frames none of which was sent yet (a frame begun must end)."""
        out = self._out
        keep: deque[tuple[bytes | memoryview, bool]] = deque()
        if out and (self._out_offset or self._head_mid_frame):
            while out:
                entry = out.popleft()
                keep.append(entry)
                if entry[1]:
                    break
        self._out = keep or NO_QUEUE
        self.backlog_bytes = sum(len(b) for b, _ in keep) - self._out_offset

    # -- Tornado's WebSocketProtocol interface ---------------------------------------

    def write_message(
        self, message: str | bytes | dict[str, Any], binary: bool = False
    ) -> Future[None]:
        if self._sock is None:
            return super().write_message(message, binary)
        if isinstance(message, dict):
            raise TypeError("room sockets send bytes")
        data = message.encode() if isinstance(message, str) else message
        if binary or isinstance(message, bytes):
            self.send_message(data)
        elif not self.is_closing():
            self._write((frame_header(len(data), OP_TEXT), data))
        done: Future[None] = Future()
        future_set_result_unless_cancelled(done, None)
        return done

    def write_ping(self, data: bytes) -> None:
        if self._sock is None:
            super().write_ping(data)
        elif not self.is_closing():
            self._write((control_frame(OP_PING, data),))

    def is_closing(self) -> bool:
        if self._sock is None:
            return super().is_closing()
        return self.server_terminated or self.client_terminated

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        if self._sock is None:
            super().close(code, reason)
            return
        if self._finished:
            return
        if not self.server_terminated:
            self.server_terminated = True
            if code is None and reason is not None:
                code = 1000
            self._close_sent = True
            self._write((control_frame(OP_CLOSE, close_payload(code, reason)),), capped=False)
            assert self._loop is not None
            self._close_timer = self._loop.call_later(CLOSE_WAIT, self._abort)
            if not self._out:
                self._close_flushed()

    def _close_flushed(self) -> None:
        """Our close frame is written: end the connection if the client closed too, else
        half-close (FIN) and wait for its answer."""
        if self.client_terminated:
            self._finish()
        elif self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_WR)

    def _abort(self) -> None:
        if self._sock is None:
            super()._abort()
            return
        self.client_terminated = self.server_terminated = True
        self._finish()

    def _finish(self) -> None:
        """Close the socket and release everything; the handler hears of it next turn."""
        if self._finished or self._sock is None:
            return
        self._finished = True
        self.client_terminated = self.server_terminated = True
        loop = self._loop
        assert loop is not None
        with contextlib.suppress(OSError, ValueError):
            loop.remove_reader(self._sock.fileno())
        self._disarm_writer()
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        self._out = NO_QUEUE
        self.backlog_bytes = 0
        self._inbox = bytearray()
        self._fragments = None
        if self.stream is not None:
            self.stream.close()  # closes the socket
        # On a later loop turn, as when a read loop ends: _finish runs inside reads and
        # broadcasts, and the handler's on_close leaves the room (its socket list).
        loop.call_soon(self._tell_handler)

    def _tell_handler(self) -> None:
        self.handler.on_ws_connection_close(self.close_code, self.close_reason)
