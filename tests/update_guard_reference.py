"""The update guard's parser as it was before issue #16 made it fast (one method call per
varint): the oracle that tests/test_update_guard_fast.py compares the fast parser with.
Not used by the package."""

from __future__ import annotations

from jupyter_collab_docs.update_guard import (
    _ANY,
    _ANY_ARRAY,
    _ANY_BIGINT,
    _ANY_BUFFER,
    _ANY_CONSTANTS,
    _ANY_FLOAT32,
    _ANY_FLOAT64,
    _ANY_INT,
    _ANY_OBJECT,
    _ANY_STRING,
    _BINARY,
    _CONTENT_MASK,
    _DELETED,
    _DOC,
    _EMBED,
    _FORMAT,
    _GC,
    _HAS_ORIGIN,
    _HAS_PARENT_SUB,
    _HAS_RIGHT_ORIGIN,
    _JSON,
    _JSON_TOKENS,
    _SKIP,
    _SQUASHABLE,
    _STRING,
    _TRUSTED,
    _TYPE,
    _TYPE_REFS,
    _TYPE_XML_ELEMENT,
    _TYPE_XML_HOOK,
    MAX_CLIENT_ID,
    MAX_CLOCK,
    UpdateLimits,
    UpdateRefused,
    UpdateShape,
    UpdateTooLarge,
)


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


def reference_inspect(update: bytes, limits: UpdateLimits) -> UpdateShape:
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
