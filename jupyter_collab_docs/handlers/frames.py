"""WebSocket frames of the room socket (RFC 6455): the server's frames, built once per
message, and the client frames' headers, checked before their payload is read.

Only what the room socket needs: no extensions (no compression), so any reserved bit is
an error; client frames must be masked, server frames never are.
"""

from __future__ import annotations

import functools
import struct

from ..close_codes import CLOSE_PROTOCOL_ERROR

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
KNOWN_OPCODES = frozenset((OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG))

FIN = 0x80
RESERVED_BITS = 0x70
OPCODE_BITS = 0x0F
MASKED = 0x80
LENGTH_BITS = 0x7F
MAX_CONTROL_PAYLOAD = 125

# Messages up to this size are framed once for all sockets (cached); larger ones are
# written as header and payload, so no copy of them outlives its write.
CACHED_FRAME_LIMIT = 64 * 1024


class FrameError(Exception):
    """A client frame the protocol forbids: close the socket with ``code``."""

    def __init__(self, reason: str, code: int = CLOSE_PROTOCOL_ERROR) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def frame_header(length: int, opcode: int = OP_BINARY) -> bytes:
    """The header of one unmasked, final server frame carrying ``length`` bytes."""
    first = FIN | opcode
    if length < 126:
        return struct.pack("!BB", first, length)
    if length <= 0xFFFF:
        return struct.pack("!BBH", first, 126, length)
    return struct.pack("!BBQ", first, 127, length)


@functools.lru_cache(maxsize=16)
def binary_frame(message: bytes) -> bytes:
    """One binary frame holding ``message``, for messages up to ``CACHED_FRAME_LIMIT``.

    A broadcast is framed once and the same bytes go to every socket. The cache hits on
    the very same bytes object, whose hash Python keeps. It holds at most 16 small
    frames: a large message kept here would stay in memory long after it was sent.
    """
    return frame_header(len(message)) + message


def control_frame(opcode: int, payload: bytes = b"") -> bytes:
    """A ping, pong or close frame (payloads past 125 bytes are cut)."""
    payload = payload[:MAX_CONTROL_PAYLOAD]
    return frame_header(len(payload), opcode) + payload


def close_payload(code: int | None, reason: str | None) -> bytes:
    """A close frame's payload: the code, then the reason cut to what fits (whole
    UTF-8 characters only)."""
    if code is None:
        return b""
    reason_bytes = (reason or "").encode()[: MAX_CONTROL_PAYLOAD - 2]
    return struct.pack("!H", code) + reason_bytes.decode(errors="ignore").encode()


def is_valid_close_code(code: int) -> bool:
    """Codes a peer may send in a close frame (RFC 6455 7.4, and the IANA registry)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def read_header(data: bytes, pos: int) -> tuple[int, int, int, bytes] | None:
    """The client frame starting at ``data[pos]``: ``(first byte, payload start, payload
    length, mask)``, or None while ``data`` does not hold the whole header yet.

    Raises FrameError for what no payload can make right: reserved bits, unknown
    opcodes, an unmasked frame, a fragmented or long control frame.
    """
    end = len(data)
    if end - pos < 2:
        return None
    first = data[pos]
    second = data[pos + 1]
    opcode = first & OPCODE_BITS
    if first & RESERVED_BITS:
        raise FrameError("reserved bits set")
    if opcode not in KNOWN_OPCODES:
        raise FrameError(f"unknown opcode {opcode}")
    if not second & MASKED:
        raise FrameError("client frames must be masked")
    length = second & LENGTH_BITS
    start = pos + 2
    if opcode >= OP_CLOSE and (length > MAX_CONTROL_PAYLOAD or not first & FIN):
        raise FrameError("control frames must be short and whole")
    if length == 126:
        if end - start < 2:
            return None
        length = int.from_bytes(data[start : start + 2], "big")
        start += 2
    elif length == 127:
        if end - start < 8:
            return None
        length = int.from_bytes(data[start : start + 8], "big")
        if length >> 63:
            raise FrameError("frame length out of range")
        start += 8
    if end - start < 4:
        return None
    return first, start + 4, length, data[start : start + 4]
