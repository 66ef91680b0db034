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
from typing import NamedTuple

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


class UpdateShape(NamedTuple):
    """What an accepted update holds (a named tuple: one is made for every edit, and a
    frozen dataclass costs a microsecond to build)."""

    structs: int
    delete_ranges: int
    # Whether it may set a ``trusted`` key (a map key, or a key of a JSON value).
    touches_trust: bool


def _var_rest(data: bytes, pos: int, first: int) -> tuple[int, int]:
    """The rest of a varuint whose first byte (``first``, at ``pos - 1``) has its
    continuation bit set: (value, position after it). At most 10 bytes in all."""
    # Two to four bytes (clocks, lengths) unrolled; past that (client ids), the loop.
    byte = data[pos]  # IndexError past the end: the caller's "truncated update"
    if byte < 0x80:
        return (first & 0x7F) | byte << 7, pos + 1
    result = (first & 0x7F) | (byte & 0x7F) << 7
    byte = data[pos + 1]
    if byte < 0x80:
        return result | byte << 14, pos + 2
    result |= (byte & 0x7F) << 14
    byte = data[pos + 2]
    if byte < 0x80:
        return result | byte << 21, pos + 3
    result |= (byte & 0x7F) << 21
    pos += 3
    shift = 28
    while True:
        byte = data[pos]  # IndexError past the end: the caller's "truncated update"
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise UpdateRefused("varuint longer than 64 bits")


def _refuse_client() -> UpdateRefused:
    return UpdateRefused("client id of 2^53 or more (JavaScript clients cannot hold it)")


def _refuse_clock() -> UpdateRefused:
    return UpdateRefused("clock or length of 2^32 or more")


def inspect_update(update: bytes, limits: UpdateLimits) -> UpdateShape:
    """Parse a Yjs v1 update; raise :class:`UpdateRefused` (malformed, client ids past
    2^53) or :class:`UpdateTooLarge` (past ``limits``) before anything is applied.

    Hot on every edit and on every stored record a room loads, so the reads are inlined
    (a one-byte varuint costs an index and a compare; longer ones go to
    :func:`_var_rest`) and a read past the end is the ``IndexError`` of ``bytes``,
    turned into a refusal once, here. The id reads repeat on purpose (a call per read
    made the guard about twice as slow); ``tests/test_update_guard_fast.py`` checks that
    this parser decides like the plain one in ``tests/update_guard_reference.py``."""
    try:
        return _inspect(bytes(update), limits)
    except IndexError:
        raise UpdateRefused("truncated update") from None


def _inspect(data: bytes, limits: UpdateLimits) -> UpdateShape:
    end = len(data)
    pos = 0
    structs = 0
    trust = False
    max_structs = limits.max_structs
    max_chain = limits.max_chain
    max_depth = limits.max_depth
    var_rest = _var_rest

    groups = data[pos]
    pos += 1
    if groups >= 0x80:
        groups, pos = var_rest(data, pos, groups)
    if groups > end - pos:
        raise UpdateRefused("struct group count larger than the update")
    for _ in range(groups):
        count = data[pos]
        pos += 1
        if count >= 0x80:
            count, pos = var_rest(data, pos, count)
        if count > end - pos:
            raise UpdateRefused("struct count larger than the update")
        structs += count
        if max_structs is not None and structs > max_structs:
            raise UpdateTooLarge(f"more than {max_structs} structs in one update")
        start = pos
        client = data[pos]
        pos += 1
        if client >= 0x80:
            client, pos = var_rest(data, pos, client)
            if client > MAX_CLIENT_ID:
                raise _refuse_client()
        # The group's client as encoded: most origins name it again (a run of typing),
        # and the same bytes are the same checked varint (it ends at its last byte).
        own = data[start:pos]
        own_size = pos - start
        clock = data[pos]
        pos += 1
        if clock >= 0x80:
            clock, pos = var_rest(data, pos, clock)
            if clock > MAX_CLOCK:
                raise _refuse_clock()
        chain = 0
        chain_kind = -1
        for _ in range(count):
            info = data[pos]
            pos += 1
            kind = info & _CONTENT_MASK
            if kind in (_GC, _SKIP):
                length = data[pos]
                pos += 1
                if length >= 0x80:
                    length, pos = var_rest(data, pos, length)
                    if length > MAX_CLOCK:
                        raise _refuse_clock()
                clock += length
                chain = 0
                continue
            chained = False
            if info & _HAS_ORIGIN:
                if data.startswith(own, pos):
                    origin_client = client
                    pos += own_size
                else:
                    origin_client = data[pos]
                    pos += 1
                    if origin_client >= 0x80:
                        origin_client, pos = var_rest(data, pos, origin_client)
                        if origin_client > MAX_CLIENT_ID:
                            raise _refuse_client()
                origin_clock = data[pos]
                pos += 1
                if origin_clock >= 0x80:
                    origin_clock, pos = var_rest(data, pos, origin_clock)
                    if origin_clock > MAX_CLOCK:
                        raise _refuse_clock()
                chained = origin_client == client and origin_clock == clock - 1
            if info & _HAS_RIGHT_ORIGIN:
                if data.startswith(own, pos):
                    pos += own_size
                else:
                    value = data[pos]
                    pos += 1
                    if value >= 0x80:
                        value, pos = var_rest(data, pos, value)
                        if value > MAX_CLIENT_ID:
                            raise _refuse_client()
                value = data[pos]
                pos += 1
                if value >= 0x80:
                    value, pos = var_rest(data, pos, value)
                    if value > MAX_CLOCK:
                        raise _refuse_clock()
            if not info & (_HAS_ORIGIN | _HAS_RIGHT_ORIGIN):
                parent = data[pos]
                pos += 1
                if parent >= 0x80:
                    parent, pos = var_rest(data, pos, parent)
                if parent == 1:  # the root type's name
                    pos = _skip_bytes(data, pos)
                else:
                    if data.startswith(own, pos):
                        pos += own_size
                    else:
                        value = data[pos]
                        pos += 1
                        if value >= 0x80:
                            value, pos = var_rest(data, pos, value)
                            if value > MAX_CLIENT_ID:
                                raise _refuse_client()
                    value = data[pos]
                    pos += 1
                    if value >= 0x80:
                        value, pos = var_rest(data, pos, value)
                        if value > MAX_CLOCK:
                            raise _refuse_clock()
                if info & _HAS_PARENT_SUB:
                    key, pos = _var_bytes(data, pos)
                    if key == _TRUSTED:
                        trust = True
            if kind == _STRING:  # the common case, inline
                size = data[pos]
                pos += 1
                if size >= 0x80:
                    size, pos = var_rest(data, pos, size)
                start = pos
                pos += size
                if pos > end:
                    raise UpdateRefused("length prefix runs past the end of the update")
                text = data[start:pos]
                if text.isascii():
                    length = size
                else:
                    try:
                        # Clock ticks are UTF-16 code units, as in JavaScript.
                        length = len(text.decode("utf-8").encode("utf-16-le")) // 2
                    except UnicodeDecodeError:
                        raise UpdateRefused("string is not UTF-8") from None
            elif kind == _DELETED:  # deleted text: half the structs of an edited text
                length = data[pos]
                pos += 1
                if length >= 0x80:
                    length, pos = var_rest(data, pos, length)
                    if length > MAX_CLOCK:
                        raise _refuse_clock()
            elif kind == _ANY:  # map entries: mostly one string, number or constant
                length = data[pos]
                pos += 1
                if length >= 0x80:
                    length, pos = var_rest(data, pos, length)
                if length > end - pos:
                    raise UpdateRefused("value count larger than the update")
                for _ in range(length):
                    tag = data[pos]
                    if tag in _ANY_CONSTANTS:
                        pos += 1
                    elif tag == _ANY_STRING:
                        pos = _skip_bytes(data, pos + 1)
                    else:
                        pos, touches = _skip_any(data, pos, max_depth)
                        trust = trust or touches
            else:
                length, pos, touches = _content(data, pos, kind, max_depth)
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
    clients = data[pos]
    pos += 1
    if clients >= 0x80:
        clients, pos = var_rest(data, pos, clients)
    if clients > end - pos:
        raise UpdateRefused("delete set client count larger than the update")
    for _ in range(clients):
        value = data[pos]
        pos += 1
        if value >= 0x80:
            value, pos = var_rest(data, pos, value)
            if value > MAX_CLIENT_ID:
                raise _refuse_client()
        ranges = data[pos]
        pos += 1
        if ranges >= 0x80:
            ranges, pos = var_rest(data, pos, ranges)
        if ranges > end - pos:
            raise UpdateRefused("delete range count larger than the update")
        delete_ranges += ranges
        for _ in range(2 * ranges):  # clock, length
            value = data[pos]
            pos += 1
            if value >= 0x80:
                value, pos = var_rest(data, pos, value)
                if value > MAX_CLOCK:
                    raise _refuse_clock()
    # Yjs and yrs ignore what follows the delete set; so does the guard.
    return UpdateShape(structs, delete_ranges, trust)


def _skip_bytes(data: bytes, pos: int) -> int:
    """Skip a varuint length and that many bytes; the position after them."""
    size = data[pos]
    pos += 1
    if size >= 0x80:
        size, pos = _var_rest(data, pos, size)
    pos += size
    if pos > len(data):
        raise UpdateRefused("length prefix runs past the end of the update")
    return pos


def _var_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    """A varuint length and that many bytes: (the bytes, the position after them)."""
    size = data[pos]
    pos += 1
    if size >= 0x80:
        size, pos = _var_rest(data, pos, size)
    end = pos + size
    if end > len(data):
        raise UpdateRefused("length prefix runs past the end of the update")
    return data[pos:end], end


def _content(data: bytes, pos: int, kind: int, max_depth: int) -> tuple[int, int, bool]:
    """Skip one item's content (not a string, a deletion or ``Any``: :func:`_inspect`
    reads those); returns its length in clock ticks, the position after it and whether
    it holds a ``trusted`` key."""
    if kind == _TYPE:
        ref = data[pos]
        pos += 1
        if ref >= 0x80:
            ref, pos = _var_rest(data, pos, ref)
        if ref not in _TYPE_REFS:
            raise UpdateRefused(f"unsupported shared type {ref}")
        if ref in (_TYPE_XML_ELEMENT, _TYPE_XML_HOOK):
            pos = _skip_bytes(data, pos)
        return 1, pos, False
    if kind == _JSON:
        # Legacy content no current client writes, and yrs reads one string more than
        # Yjs writes: the two would decode the same update differently.
        raise UpdateRefused("legacy JSON content is not supported")
    if kind == _BINARY:
        return 1, _skip_bytes(data, pos), False
    if kind == _EMBED:
        text, pos = _var_bytes(data, pos)
        return 1, pos, _check_json(text, max_depth)
    if kind == _FORMAT:
        pos = _skip_bytes(data, pos)
        text, pos = _var_bytes(data, pos)
        return 1, pos, _check_json(text, max_depth)
    if kind == _DOC:
        pos = _skip_bytes(data, pos)  # the subdocument's guid
        pos, trust = _skip_any(data, pos, max_depth)
        return 1, pos, trust
    raise UpdateRefused(f"unknown content type {kind}")


def _skip_any(data: bytes, pos: int, max_depth: int) -> tuple[int, bool]:
    """Skip one lib0 ``Any`` value from ``pos``, with an explicit stack of the entries
    left in each open container (and whether it is an object). Returns the position
    after it, and True if an object in it has a ``trusted`` key."""
    end = len(data)
    trust = False
    left = [1]  # entries left per open container
    objects = [False]  # whether each open container is an object
    while left:
        if left[-1] == 0:
            left.pop()
            objects.pop()
            continue
        left[-1] -= 1
        if objects[-1]:  # an object entry's key
            key, pos = _var_bytes(data, pos)
            if key == _TRUSTED:
                trust = True
        tag = data[pos]
        pos += 1
        if tag in _ANY_CONSTANTS:
            continue
        if tag in (_ANY_STRING, _ANY_BUFFER):
            pos = _skip_bytes(data, pos)
        elif tag == _ANY_INT:
            for stop in range(pos, min(end, pos + 10)):
                if data[stop] < 0x80:
                    pos = stop + 1
                    break
            else:
                raise UpdateRefused("truncated or overlong varint")
        elif tag in (_ANY_FLOAT64, _ANY_BIGINT):
            pos += 8
            if pos > end:
                raise UpdateRefused("truncated update")
        elif tag == _ANY_FLOAT32:
            pos += 4
            if pos > end:
                raise UpdateRefused("truncated update")
        elif tag in (_ANY_OBJECT, _ANY_ARRAY):
            if len(left) > max_depth:
                raise UpdateTooLarge(f"a value nested more than {max_depth} levels deep")
            n = data[pos]
            pos += 1
            if n >= 0x80:
                n, pos = _var_rest(data, pos, n)
            if n > end - pos:
                raise UpdateRefused("entry count larger than the update")
            left.append(n)
            objects.append(tag == _ANY_OBJECT)
        else:
            raise UpdateRefused(f"unknown value tag {tag}")
    return pos, trust


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
