"""The y-websocket wire protocol (``y-protocols``): framing, parsing and awareness.

Frames are ``varuint message type`` followed by the payload:

* ``0`` sync: ``varuint step`` (0 step 1, 1 step 2, 2 update) + ``varbytes payload``
* ``1`` awareness: ``varbytes`` of ``varuint n`` x (``varuint client``, ``varuint clock``,
  ``varstring JSON state``)
* ``3`` query-awareness: no payload

Parsing is strict and bounded: anything malformed raises :class:`ProtocolError`, which
closes the sending socket only. Strings are measured in UTF-8 bytes, as lib0 does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MESSAGE_SYNC = 0
MESSAGE_AWARENESS = 1
MESSAGE_AUTH = 2
MESSAGE_QUERY_AWARENESS = 3

SYNC_STEP1 = 0
SYNC_STEP2 = 1
SYNC_UPDATE = 2

# An empty Yjs update (no structs, empty delete set); clients send it as a no-op step 2.
EMPTY_UPDATE = b"\x00\x00"

# The largest integer a JavaScript number holds exactly: y-protocols reads client ids and
# clocks as numbers, so larger ones mean something else to browsers (npm clients throw).
MAX_SAFE_INTEGER = 2**53 - 1


class ProtocolError(ValueError):
    """A frame that does not follow the y-websocket protocol."""


def write_var_uint(num: int) -> bytes:
    out = bytearray()
    while num > 0x7F:
        out.append(0x80 | (num & 0x7F))
        num >>= 7
    out.append(num)
    return bytes(out)


def write_var_bytes(data: bytes) -> bytes:
    return write_var_uint(len(data)) + data


class Reader:
    """A cursor over one frame; every read checks the bounds."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def var_uint(self) -> int:
        result = 0
        shift = 0
        data = self.data
        while True:
            if self.pos >= len(data):
                raise ProtocolError("truncated varuint")
            byte = data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ProtocolError("varuint longer than 64 bits")

    def var_bytes(self) -> bytes:
        length = self.var_uint()
        end = self.pos + length
        if end > len(self.data):
            raise ProtocolError("length prefix runs past the end of the frame")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def var_string(self) -> str:
        try:
            return self.var_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("string is not UTF-8") from exc


# -- sync messages ---------------------------------------------------------------------


def sync_message(step: int, payload: bytes) -> bytes:
    return bytes((MESSAGE_SYNC, step)) + write_var_bytes(payload)


def sync_step1(state_vector: bytes) -> bytes:
    return sync_message(SYNC_STEP1, state_vector)


def sync_step2(update: bytes) -> bytes:
    return sync_message(SYNC_STEP2, update)


def update_message(update: bytes) -> bytes:
    return sync_message(SYNC_UPDATE, update)


@dataclass(frozen=True)
class Frame:
    """One parsed frame: its type, the sync step where there is one, and its payload."""

    kind: int
    step: int | None
    payload: bytes


def parse_frame(message: bytes) -> Frame:
    """Split a frame into kind, step and payload; raise ProtocolError if malformed."""
    if not message:
        raise ProtocolError("empty frame")
    reader = Reader(message)
    kind = reader.var_uint()
    if kind == MESSAGE_SYNC:
        step = reader.var_uint()
        if step not in (SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE):
            raise ProtocolError(f"unknown sync step {step}")
        return Frame(kind, step, reader.var_bytes())
    if kind == MESSAGE_AWARENESS:
        return Frame(kind, None, reader.var_bytes())
    if kind == MESSAGE_QUERY_AWARENESS:
        return Frame(kind, None, b"")
    if kind == MESSAGE_AUTH:
        # Servers send auth messages, clients do not; ignore rather than fail.
        return Frame(kind, None, b"")
    raise ProtocolError(f"unknown message type {kind}")


# -- awareness -------------------------------------------------------------------------


@dataclass
class AwarenessEntry:
    client_id: int
    clock: int
    state: Any  # the decoded JSON state; None means "this client left"


def decode_awareness(payload: bytes) -> list[AwarenessEntry]:
    reader = Reader(payload)
    count = reader.var_uint()
    # Each entry takes at least three bytes: refuse counts the payload cannot hold.
    if count * 3 > len(payload):
        raise ProtocolError("awareness entry count larger than the payload")
    entries = []
    for _ in range(count):
        client_id = reader.var_uint()
        clock = reader.var_uint()
        if client_id > MAX_SAFE_INTEGER or clock > MAX_SAFE_INTEGER:
            raise ProtocolError("awareness client id or clock of 2^53 or more")
        text = reader.var_string()
        try:
            state = json.loads(text) if text else None
        except ValueError as exc:
            raise ProtocolError("awareness state is not JSON") from exc
        except RecursionError:
            raise ProtocolError("awareness state nested too deeply") from None
        entries.append(AwarenessEntry(client_id, clock, state))
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    parts = [write_var_uint(len(entries))]
    for entry in entries:
        state = json.dumps(entry.state, separators=(",", ":")).encode("utf-8")
        parts += [write_var_uint(entry.client_id), write_var_uint(entry.clock)]
        parts.append(write_var_bytes(state))
    return b"".join(parts)


def awareness_message(entries: list[AwarenessEntry]) -> bytes:
    return bytes((MESSAGE_AWARENESS,)) + write_var_bytes(encode_awareness(entries))
