"""The update guard: what a Yjs update holds, read before yrs ever sees it.

yrs decodes and integrates updates with native recursion and without bounds, so a small,
well-formed update can take the whole process down (issue #12, item 3):

* a JSON value nested 40,000 levels deep (78 KB) overflows the native stack: SIGSEGV,
  not an exception; 20,000 levels are stored and then crash every later read;
* a run of items each chained to the one before it (origin = the previous item's last
  id), which yrs squashes one by one, costs quadratic memory and time: 20,000
  one-character items (120 KB) hold 262 MB and stall the loop; with ``Any`` content
  20,000 items take 9.6 GB and 26 s;
* client ids of 2^53 and more cannot be represented by JavaScript clients (and yrs
  truncates them), so the document splits between the server and its browsers.

:func:`inspect_update` parses the Yjs update v1 format (lib0 encoding) without recursion
(nested ``Any`` values and JSON texts are walked with an explicit stack) and raises
:class:`UpdateRefused` for anything the server must not apply. It also reports what a
room needs to know about the update: its struct count, and whether it may write a
``trusted`` key (see :mod:`jupyter_collab_docs.doctypes`).

The format, as written by Yjs (``UpdateEncoderV1``) and yrs::

    update      = varuint groups, group*, delete_set
    group       = varuint structs, varuint client, varuint clock, struct*
    struct      = u8 info, then by ``info & 0x1F``:
                  0 GC: varuint length | 10 Skip: varuint length | otherwise an item:
    item        = [origin id if info & 0x80] [right origin id if info & 0x40]
                  [if neither: varuint parent kind (1: root name varstring, else id)
                   and, if info & 0x20, the parent's key (varstring)] content
    id          = varuint client, varuint clock
    content     = 1 Deleted: varuint length | 2 JSON (legacy: refused)
                | 3 Binary: varbytes | 4 String: varstring | 5 Embed: varstring JSON
                | 6 Format: varstring key, varstring JSON | 7 Type: varuint type ref
                  (3 XmlElement and 5 XmlHook: + varstring name) | 8 Any: varuint n, n x any
                | 9 Doc: varstring guid, any options
    delete_set  = varuint clients, (varuint client, varuint ranges, (varuint clock,
                  varuint length)*)*
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass

from .close_codes import CLOSE_PROTOCOL_ERROR, CLOSE_TOO_LARGE
from .protocol import MAX_SAFE_INTEGER, ProtocolError

# JavaScript numbers hold integers exactly only below 2^53: Yjs reads client ids as
# numbers, and a larger id means another client to it than to yrs.
MAX_CLIENT_ID = MAX_SAFE_INTEGER
# yrs keeps clocks and lengths as 32-bit integers.
MAX_CLOCK = 2**32 - 1

_HAS_ORIGIN = 0x80
_HAS_RIGHT_ORIGIN = 0x40
_HAS_PARENT_SUB = 0x20
_CONTENT_MASK = 0x1F

_GC = 0
_DELETED = 1
_JSON = 2
_BINARY = 3
_STRING = 4
_EMBED = 5
_FORMAT = 6
_TYPE = 7
_ANY = 8
_DOC = 9
_SKIP = 10
# Contents yrs squashes into the item before them (the quadratic case of chains).
_SQUASHABLE = frozenset((_DELETED, _STRING, _ANY))

# Type refs of Yjs (yrs knows a few more that no JavaScript client can read).
_TYPE_XML_ELEMENT = 3
_TYPE_XML_HOOK = 5
_TYPE_REFS = range(7)

# lib0 ``Any`` tags.
_ANY_INT = 125
_ANY_FLOAT32 = 124
_ANY_FLOAT64 = 123
_ANY_BIGINT = 122
_ANY_STRING = 119
_ANY_OBJECT = 118
_ANY_ARRAY = 117
_ANY_BUFFER = 116
_ANY_CONSTANTS = frozenset((127, 126, 121, 120))  # undefined, null, false, true

_TRUSTED = b"trusted"
# A JSON text: strings (skipped whole, escapes included) and the brackets outside them.
_JSON_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class UpdateRefused(ProtocolError):
    """An update the server does not apply; ``close_code`` closes its socket."""

    close_code = CLOSE_PROTOCOL_ERROR


class UpdateTooLarge(UpdateRefused):
    """A well-formed update past one of the server's bounds."""

    close_code = CLOSE_TOO_LARGE


@dataclass(frozen=True)
class UpdateLimits:
    """Bounds an update must stay within; None: unbounded."""

    # Nesting of JSON values (objects and arrays) in one item's content.
    max_depth: int = 100
    # Structs (items, GC and skip ranges) in one update.
    max_structs: int | None = None
    # Consecutive squashable items of one client, each chained to the one before.
    max_chain: int | None = 1000


@dataclass(frozen=True)
class UpdateShape:
    """What an accepted update holds."""

    structs: int
    delete_ranges: int
    # Whether it may set a ``trusted`` key (a map key, or a key of a JSON value).
    touches_trust: bool


class _Reader:
    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.end = len(data)

    def u8(self) -> int:
        if self.pos >= self.end:
            raise UpdateRefused("truncated update")
        byte = self.data[self.pos]
        self.pos += 1
        return byte

    def var_uint(self) -> int:
        data, pos = self.data, self.pos
        if pos >= self.end:
            raise UpdateRefused("truncated varuint")
        byte = data[pos]
        if byte < 0x80:  # the common one-byte case
            self.pos = pos + 1
            return byte
        result = byte & 0x7F
        shift = 7
        while True:
            pos += 1
            if pos >= self.end:
                raise UpdateRefused("truncated varuint")
            byte = data[pos]
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                self.pos = pos + 1
                return result
            shift += 7
            if shift > 63:
                raise UpdateRefused("varuint longer than 64 bits")

    def skip_var_int(self) -> None:
        data, start = self.data, self.pos
        for pos in range(start, min(self.end, start + 10)):
            if data[pos] < 0x80:
                self.pos = pos + 1
                return
        raise UpdateRefused("truncated or overlong varint")

    def var_bytes(self) -> bytes:
        length = self.var_uint()
        start = self.pos
        end = start + length
        if end > self.end:
            raise UpdateRefused("length prefix runs past the end of the update")
        self.pos = end
        return self.data[start:end]

    def skip(self, count: int) -> None:
        if self.pos + count > self.end:
            raise UpdateRefused("truncated update")
        self.pos += count

    def count(self, what: str) -> int:
        """A count of things that take at least one byte each."""
        n = self.var_uint()
        if n > self.end - self.pos:
            raise UpdateRefused(f"{what} count larger than the update")
        return n

    def client(self) -> int:
        client = self.var_uint()
        if client > MAX_CLIENT_ID:
            raise UpdateRefused("client id of 2^53 or more (JavaScript clients cannot hold it)")
        return client

    def clock(self) -> int:
        clock = self.var_uint()
        if clock > MAX_CLOCK:
            raise UpdateRefused("clock or length of 2^32 or more")
        return clock


def inspect_update(update: bytes, limits: UpdateLimits) -> UpdateShape:
    """Parse a Yjs v1 update; raise :class:`UpdateRefused` (malformed, client ids past
    2^53) or :class:`UpdateTooLarge` (past ``limits``) before anything is applied."""
    reader = _Reader(update)
    structs = 0
    trust = False
    max_structs = limits.max_structs
    max_chain = limits.max_chain
    for _ in range(reader.count("struct group")):
        count = reader.count("struct")
        structs += count
        if max_structs is not None and structs > max_structs:
            raise UpdateTooLarge(f"more than {max_structs} structs in one update")
        client = reader.client()
        clock = reader.clock()
        chain = 0
        chain_kind = -1
        for _ in range(count):
            info = reader.u8()
            kind = info & _CONTENT_MASK
            if kind in (_GC, _SKIP):
                clock += reader.clock()
                chain = 0
                continue
            chained = False
            if info & _HAS_ORIGIN:
                origin_client = reader.client()
                origin_clock = reader.clock()
                chained = origin_client == client and origin_clock == clock - 1
            if info & _HAS_RIGHT_ORIGIN:
                reader.client()
                reader.clock()
            if not info & (_HAS_ORIGIN | _HAS_RIGHT_ORIGIN):
                if reader.var_uint() == 1:
                    reader.var_bytes()  # the root type's name
                else:
                    reader.client()
                    reader.clock()
                if info & _HAS_PARENT_SUB and reader.var_bytes() == _TRUSTED:
                    trust = True
            length, touches = _content(reader, kind, limits.max_depth)
            trust = trust or touches
            # yrs squashes an item into the one before only if their contents are of one
            # kind (a run alternating text and deletions costs nothing special)
            if chained and kind == chain_kind:
                chain += 1
                if max_chain is not None and chain > max_chain:
                    raise UpdateTooLarge(
                        f"more than {max_chain} chained items in one update "
                        "(encode them as one item)"
                    )
            else:
                chain = 0
                chain_kind = kind if kind in _SQUASHABLE else -1
            clock += length
            if clock > MAX_CLOCK:
                raise UpdateRefused("clock of 2^32 or more")
    delete_ranges = 0
    for _ in range(reader.count("delete set client")):
        reader.client()
        ranges = reader.count("delete range")
        delete_ranges += ranges
        for _ in range(ranges):
            reader.clock()
            reader.clock()
    # Yjs and yrs ignore what follows the delete set; so does the guard.
    return UpdateShape(structs, delete_ranges, trust)


def _content(reader: _Reader, kind: int, max_depth: int) -> tuple[int, bool]:
    """Skip one item's content; returns its length in clock ticks and whether it holds a
    ``trusted`` key."""
    if kind == _STRING:
        text = reader.var_bytes()
        if text.isascii():
            return len(text), False
        try:
            # Clock ticks are UTF-16 code units, as in JavaScript.
            return len(text.decode("utf-8").encode("utf-16-le")) // 2, False
        except UnicodeDecodeError:
            raise UpdateRefused("string is not UTF-8") from None
    if kind == _ANY:
        n = reader.count("value")
        trust = False
        for _ in range(n):
            trust = _skip_any(reader, max_depth) or trust
        return n, trust
    if kind == _DELETED:
        return reader.clock(), False
    if kind == _TYPE:
        ref = reader.var_uint()
        if ref not in _TYPE_REFS:
            raise UpdateRefused(f"unsupported shared type {ref}")
        if ref in (_TYPE_XML_ELEMENT, _TYPE_XML_HOOK):
            reader.var_bytes()
        return 1, False
    if kind == _JSON:
        # Legacy content no current client writes, and yrs reads one string more than
        # Yjs writes: the two would decode the same update differently.
        raise UpdateRefused("legacy JSON content is not supported")
    if kind == _BINARY:
        reader.var_bytes()
        return 1, False
    if kind == _EMBED:
        return 1, _check_json(reader.var_bytes(), max_depth)
    if kind == _FORMAT:
        reader.var_bytes()
        return 1, _check_json(reader.var_bytes(), max_depth)
    if kind == _DOC:
        reader.var_bytes()  # the subdocument's guid
        return 1, _skip_any(reader, max_depth)
    raise UpdateRefused(f"unknown content type {kind}")


def _skip_any(reader: _Reader, max_depth: int) -> bool:
    """Skip one lib0 ``Any`` value, with an explicit stack: ``[entries left, is an
    object]`` per open container. True if an object in it has a ``trusted`` key."""
    trust = False
    stack: list[list[int]] = [[1, 0]]
    while stack:
        top = stack[-1]
        if top[0] == 0:
            stack.pop()
            continue
        top[0] -= 1
        if top[1] and reader.var_bytes() == _TRUSTED:  # an object entry's key
            trust = True
        tag = reader.u8()
        if tag in _ANY_CONSTANTS:
            continue
        if tag in (_ANY_STRING, _ANY_BUFFER):
            reader.var_bytes()
        elif tag == _ANY_INT:
            reader.skip_var_int()
        elif tag in (_ANY_FLOAT64, _ANY_BIGINT):
            reader.skip(8)
        elif tag == _ANY_FLOAT32:
            reader.skip(4)
        elif tag in (_ANY_OBJECT, _ANY_ARRAY):
            if len(stack) > max_depth:
                raise UpdateTooLarge(f"a value nested more than {max_depth} levels deep")
            stack.append([reader.count("entry"), tag == _ANY_OBJECT])
        else:
            raise UpdateRefused(f"unknown value tag {tag}")
    return trust


def _check_json(text: bytes, max_depth: int) -> bool:
    """Refuse a JSON text nested deeper than ``max_depth`` (yrs parses it recursively);
    True if it may hold a ``trusted`` key. Not a validator: yrs still parses it."""
    if text.count(b"[") + text.count(b"{") > max_depth:
        depth = 0
        for match in _JSON_TOKENS.finditer(text):
            token = match.group()
            if token in (b"[", b"{"):
                depth += 1
                if depth > max_depth:
                    raise UpdateTooLarge(f"a value nested more than {max_depth} levels deep")
            elif token in (b"]", b"}"):
                depth -= 1
    return b'"trusted"' in text


def count_structs(update: bytes) -> int:
    """The number of structs in an update (for a document's encoded state: its size),
    without any bound."""
    return inspect_update(update, UNBOUNDED).structs


UNBOUNDED = UpdateLimits(max_depth=2**62, max_structs=None, max_chain=None)


class VerifiedUpdates:
    """The large updates that passed :func:`inspect_update` in this process, by digest.

    A stored record is read by the guard every time a room loads it; the snapshot of a
    large document (5 MB: ~50 ms of parsing) is the same bytes from one load to the next
    until a compaction replaces it. Its SHA-256, with the limits it passed, is kept here
    (with its shape), so a room that reopens it does not parse it again. Only exact
    bytes that passed the same limits skip the parse: a poisoned record has other bytes
    (a collision of SHA-256 aside), and a refusal is never remembered. Small updates are
    parsed as before (hashing them would cost about as much).
    """

    MIN_SIZE = 64 * 1024  # bytes; below this the parse is cheap
    CAPACITY = 256  # digests kept, least recently used dropped first

    def __init__(self) -> None:
        self._shapes: OrderedDict[bytes, UpdateShape] = OrderedDict()

    def inspect(self, update: bytes, limits: UpdateLimits) -> UpdateShape:
        """:func:`inspect_update`, or the shape it gave for the same bytes and limits."""
        if len(update) < self.MIN_SIZE:
            return inspect_update(update, limits)
        digest = hashlib.sha256(repr(limits).encode())
        digest.update(b"\0")
        digest.update(update)
        key = digest.digest()
        shape = self._shapes.get(key)
        if shape is not None:
            self._shapes.move_to_end(key)
            return shape
        shape = inspect_update(update, limits)  # raises: nothing is remembered
        self._shapes[key] = shape
        if len(self._shapes) > self.CAPACITY:
            self._shapes.popitem(last=False)
        return shape
