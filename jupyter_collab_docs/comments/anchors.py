"""Where a thread sits in its document, and where that is now.

An anchor is one of (docs/comments.md):

* ``{"kind": "text", "start": P, "end": P}``: a range of a text document's ``source``;
* ``{"kind": "cell", "cell_id": ID}``: a notebook cell;
* ``{"kind": "cell_range", "cell_id": ID, "start": P, "end": P}``: a range of a cell's
  source.

``P`` is a Yjs relative position, ``Y.encodeRelativePosition`` in base64, so a range
follows the edits made around it, whoever makes them. A client may instead give
``"index"`` and ``"length"`` (in its document as the server has it): the server then
makes the positions itself.

Positions come from clients: they are parsed here (the lib0 encoding) before yrs sees
them, and resolved only when every item they name is in the document, because pycrdt's
``StickyIndex`` panics on what it cannot find (a panic that is caught all the same).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from pycrdt import Array, Assoc, Doc, Map, StickyIndex, Text

from ..errors import BadRequest
from ..protocol import ProtocolError, Reader
from ..stores.containment import DeleteSet, covers, delete_set, is_fatal

KINDS = ("text", "cell", "cell_range")
MAX_POSITION_BYTES = 64  # an item id is two varuints; a root name is "source"
MAX_CELL_ID = 255
MAX_QUOTE = 1000  # characters of the anchored text kept with the thread

# Relative position kinds of the lib0 encoding (yjs RelativePosition).
_ITEM, _ROOT, _TYPE = 0, 1, 2


@dataclass(frozen=True)
class Position:
    """A decoded relative position: before/after one item, or the start/end of a type."""

    item: tuple[int, int] | None = None  # (client, clock)
    tname: str | None = None  # a root type, by name
    type_id: tuple[int, int] | None = None  # a nested type, by its item's id
    assoc: int = 0  # >= 0: sticks to the item after; < 0: to the one before

    def to_json(self) -> dict[str, Any]:
        """The JSON form pycrdt's ``StickyIndex.from_json`` reads."""
        out: dict[str, Any] = {"assoc": 0 if self.assoc >= 0 else -1}
        if self.item is not None:
            out["item"] = {"client": self.item[0], "clock": self.item[1]}
        elif self.type_id is not None:
            out["type"] = {"client": self.type_id[0], "clock": self.type_id[1]}
        else:
            out["tname"] = self.tname
        return out


def _var_int(reader: Reader) -> int:
    """lib0's signed varint (the position's ``assoc``)."""
    data = reader.data
    if reader.pos >= len(data):
        raise ProtocolError("truncated varint")
    byte = data[reader.pos]
    reader.pos += 1
    value, negative, shift = byte & 0x3F, bool(byte & 0x40), 6
    while byte & 0x80:
        if reader.pos >= len(data) or shift > 63:
            raise ProtocolError("bad varint")
        byte = data[reader.pos]
        reader.pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
    return -value if negative else value


def decode_position(encoded: Any, what: str) -> Position:
    """A base64 ``Y.encodeRelativePosition``, or 400."""
    if not isinstance(encoded, str) or not encoded:
        raise BadRequest(f"'{what}' must be a base64 Yjs relative position")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(f"'{what}' is not base64") from exc
    if len(data) > MAX_POSITION_BYTES:
        raise BadRequest(f"'{what}' is longer than a relative position")
    reader = Reader(data)
    try:
        kind = reader.var_uint()
        if kind == _ITEM:
            position = Position(item=(reader.var_uint(), reader.var_uint()))
        elif kind == _ROOT:
            position = Position(tname=reader.var_string())
        elif kind == _TYPE:
            position = Position(type_id=(reader.var_uint(), reader.var_uint()))
        else:
            raise ProtocolError(f"unknown position kind {kind}")
        assoc = _var_int(reader) if reader.pos < len(data) else 0
    except ProtocolError as exc:
        raise BadRequest(f"'{what}' is not a Yjs relative position: {exc}") from exc
    if reader.pos != len(data):
        raise BadRequest(f"'{what}' has bytes after the relative position")
    ids = [pair for pair in (position.item, position.type_id) if pair is not None]
    if any(n >= 2**53 for pair in ids for n in pair):
        raise BadRequest(f"'{what}' names a client id or clock JavaScript cannot hold")
    return Position(position.item, position.tname, position.type_id, 0 if assoc >= 0 else -1)


def encode_position(position: Position) -> str:
    """The base64 ``Y.encodeRelativePosition`` of a position."""
    out = bytearray()

    def uint(n: int) -> None:
        while n > 0x7F:
            out.append(0x80 | (n & 0x7F))
            n >>= 7
        out.append(n)

    if position.item is not None:
        uint(_ITEM)
        uint(position.item[0])
        uint(position.item[1])
    elif position.type_id is not None:
        uint(_TYPE)
        uint(position.type_id[0])
        uint(position.type_id[1])
    else:
        name = (position.tname or "").encode()
        uint(_ROOT)
        uint(len(name))
        out += name
    out.append(0x41 if position.assoc < 0 else 0x00)  # lib0 varint -1 / 0
    return base64.b64encode(bytes(out)).decode()


def state_vector(doc: Doc[Any]) -> dict[int, int]:
    """client -> how many structs of it the doc holds (decoded once per request)."""
    reader = Reader(doc.get_state())
    return {reader.var_uint(): reader.var_uint() for _ in range(reader.var_uint())}


@dataclass
class Resolved:
    """Where an anchor is in the document now."""

    attached: bool
    start: int | None = None  # characters, in the text or the cell's source
    end: int | None = None
    cell_index: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "attached": self.attached,
            "start": self.start,
            "end": self.end,
            "cell_index": self.cell_index,
        }


class DocumentView:
    """The document an anchor is made in or resolved against (the room's live doc;
    a read, never a write: every call runs synchronously on the event loop)."""

    def __init__(self, doc: Doc[Any], doc_type: str) -> None:
        self.doc = doc
        self.doc_type = doc_type
        self._known = state_vector(doc)
        self._cells: dict[str, tuple[int, Map]] | None = None  # by id, made on first use
        self._deleted: DeleteSet | None = None  # made on first use

    def text(self) -> Text:
        return self.doc.get("source", type=Text)

    def cell(self, cell_id: str) -> tuple[int, Map] | None:
        """The cell with that id and its index (the first, should ids repeat)."""
        if self._cells is None:
            self._cells = {}
            for index, cell in enumerate(self.doc.get("cells", type=Array)):
                if isinstance(cell, Map):
                    cell_key = cell.get("id")
                    if isinstance(cell_key, str):
                        self._cells.setdefault(cell_key, (index, cell))
        return self._cells.get(cell_id)

    def cell_source(self, cell: Map) -> Text | None:
        source = cell.get("source")
        return source if isinstance(source, Text) else None

    def _knows(self, position: Position) -> bool:
        pair = position.item
        return pair is None or pair[1] < self._known.get(pair[0], 0)

    def is_deleted(self, position: Position) -> bool:
        """Whether the position's item is deleted (so is everything of a deleted cell)."""
        if position.item is None:
            return False
        if self._deleted is None:
            # A diff against the doc's own state vector holds no structs: the delete set.
            self._deleted = delete_set(self.doc.get_update(self.doc.get_state())) or {}
        client, clock = position.item
        return covers(self._deleted, {client: [(clock, 1)]})

    def resolve(
        self, position: Position, text: Text, root: bool, *, parent_alive: bool = False
    ) -> int | None:
        """The position's index in ``text``, or None when it names something the doc
        does not hold, a type (only root names and items are taken), a root type in a
        cell, or, in a cell, a deleted item whose cell may be gone (``parent_alive``: the
        caller knows it is not). yrs resolves an item in whatever type holds it: the
        caller checks that this is ``text`` (``_in_this_text``)."""
        if position.type_id is not None:
            return None
        if position.tname is not None and (not root or position.tname != "source"):
            return None
        if not self._knows(position):
            return None
        if not root and not parent_alive and self.is_deleted(position):
            return None  # pycrdt panics on an item of a collected type
        try:
            return StickyIndex.from_json(position.to_json(), text).get_index()
        except BaseException as exc:  # a panic of pycrdt's, should a case be missed
            if is_fatal(exc):
                raise
            return None

    @staticmethod
    def sticky(text: Text, index: int, assoc: Assoc) -> Position | None:
        """A relative position at ``index`` made by the server (None where pycrdt
        cannot make one: the end of a text, an empty text)."""
        # An item after (before) the index must exist: pycrdt panics where there is none.
        # len(text) counts UTF-8 bytes, never fewer than the UTF-16 units of ``index``: a
        # cheap first bound; callers taking indices from clients check units_of first.
        if not (0 <= index < len(text) if assoc == Assoc.AFTER else 0 < index <= len(text)):
            return None
        try:
            made = StickyIndex.new(text, index, assoc).to_json()
        except BaseException as exc:
            if is_fatal(exc):
                raise
            return None
        item = made.get("item")
        if not isinstance(item, dict):
            return None
        return Position(item=(item["client"], item["clock"]), assoc=made.get("assoc", 0))


def units_of(text: Text) -> int:
    """The text's length in UTF-16 code units: the unit of Yjs indices, of pycrdt's
    sticky indices and of the API's ``index``/``length`` (``len(text)`` counts UTF-8
    bytes, ``len(str(text))`` code points)."""
    return len(str(text).encode("utf-16-le")) // 2


def _quote(text: Text, start: int, end: int) -> str:
    # Positions count UTF-16 units (as in Yjs), Python strings code points.
    units = str(text).encode("utf-16-le")[2 * start : 2 * end]
    return units.decode("utf-16-le", errors="replace")[:MAX_QUOTE]


def _check_cell_id(anchor: dict[str, Any]) -> str:
    cell_id = anchor.get("cell_id")
    if not isinstance(cell_id, str) or not cell_id or len(cell_id) > MAX_CELL_ID:
        raise BadRequest("'anchor.cell_id' must be a cell id")
    return cell_id


def _range_positions(
    anchor: dict[str, Any], view: DocumentView, text: Text, root: bool
) -> tuple[Position, Position, int, int]:
    """The range's two positions and where they are now (UTF-16 units); 400 outside
    the text."""
    length = units_of(text)
    if "index" in anchor:
        index, size = anchor.get("index"), anchor.get("length")
        if type(index) is not int or type(size) is not int or index < 0 or size <= 0:
            raise BadRequest("'anchor.index' and 'anchor.length' must be integers, length > 0")
        if index + size > length:
            raise BadRequest(f"the anchor is outside the text ({length} UTF-16 code units)")
        start = DocumentView.sticky(text, index, Assoc.AFTER)
        end = DocumentView.sticky(text, index + size, Assoc.BEFORE)
        if start is None or end is None:  # not reached for a non-empty range of the text
            raise BadRequest("the anchor cannot be placed in this text")
        return start, end, index, index + size
    start, end = (
        decode_position(anchor.get("start"), "anchor.start"),
        decode_position(anchor.get("end"), "anchor.end"),
    )
    if start.type_id is not None or end.type_id is not None:
        # Yjs makes these only at the end of a nested text with assoc >= 0: ask for the
        # item-based position (assoc -1) instead of trusting a type id we cannot check.
        raise BadRequest(
            "the anchor's positions must name characters: make the end with assoc -1 "
            "(Y.createRelativePositionFromTypeIndex(text, to, -1))"
        )
    at, to = view.resolve(start, text, root), view.resolve(end, text, root)
    if at is None or to is None:
        raise BadRequest("the anchor names positions that are not in the document, or deleted text")
    if not 0 <= at < to <= length:
        raise BadRequest("the anchor is an empty range, or outside the text")
    if not root and not _in_this_text(view, text, [(start, at), (end, to)], every=True):
        raise BadRequest("the anchor's positions are not in that cell's source")
    return start, end, at, to


def _in_this_text(
    view: DocumentView, text: Text, ends: list[tuple[Position, int]], every: bool = False
) -> bool:
    """Whether positions resolved at these indices belong to ``text`` (yrs resolves an
    item in whatever type holds it): one of them (``every``: each), made again here,
    names the same item."""
    test = all if every else any
    return test(
        position.item is not None and view.sticky(text, index, _assoc(position)) == position
        for position, index in ends
    )


def _assoc(position: Position) -> Assoc:
    return Assoc.AFTER if position.assoc >= 0 else Assoc.BEFORE


def make_anchor(raw: Any, view: DocumentView) -> tuple[dict[str, Any], str]:
    """The stored anchor and its quote, from what a client sent; 400 when it does not
    fit the document (outside it, an unknown cell, the wrong kind for its type)."""
    if not isinstance(raw, dict):
        raise BadRequest("'anchor' must be an object")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise BadRequest(f"'anchor.kind' must be one of {', '.join(KINDS)}")
    if (kind == "text") != (view.doc_type == "file"):
        raise BadRequest(f"a '{kind}' anchor does not fit a {view.doc_type} document")
    if kind == "text":
        text = view.text()
        start, end, at, to = _range_positions(raw, view, text, root=True)
        anchor = {"kind": kind, "start": encode_position(start), "end": encode_position(end)}
        return anchor, _quote(text, at, to)
    cell_id = _check_cell_id(raw)
    found = view.cell(cell_id)
    if found is None:
        raise BadRequest(f"the notebook has no cell {cell_id!r}")
    source = view.cell_source(found[1])
    if kind == "cell":
        return {"kind": kind, "cell_id": cell_id}, str(source or "")[:MAX_QUOTE]
    if source is None:
        raise BadRequest(f"cell {cell_id!r} has no source text")
    start, end, at, to = _range_positions(raw, view, source, root=False)
    anchor = {
        "kind": kind,
        "cell_id": cell_id,
        "start": encode_position(start),
        "end": encode_position(end),
    }
    return anchor, _quote(source, at, to)


def resolve_anchor(anchor: dict[str, Any], view: DocumentView) -> Resolved:
    """Where a stored anchor is now: detached once its text (or cell) is gone."""
    try:
        if anchor["kind"] == "text":
            start, end = (
                decode_position(anchor["start"], "start"),
                decode_position(anchor["end"], "end"),
            )
            text = view.text()
            at, to = view.resolve(start, text, True), view.resolve(end, text, True)
            if at is None or to is None or at >= to:
                return Resolved(False)
            return Resolved(True, at, to)
        found = view.cell(anchor["cell_id"])
        if found is None:
            return Resolved(False)
        index, cell = found
        if anchor["kind"] == "cell":
            return Resolved(True, cell_index=index)
        source = view.cell_source(cell)
        if source is None:
            return Resolved(False)
        start, end = (
            decode_position(anchor["start"], "start"),
            decode_position(anchor["end"], "end"),
        )
        # Only the live ends are resolved first: a deleted one may lie in a cell that is
        # gone (replaced under the same id, moved). Once a live end proves the text is
        # this cell's source, the deleted one (in the same text) resolves safely.
        live = [p for p in (start, end) if not view.is_deleted(p)]
        found_at = {p: view.resolve(p, source, False) for p in live}
        ends = [(p, i) for p, i in found_at.items() if i is not None]
        if not ends or not _in_this_text(view, source, ends):
            return Resolved(False)  # all its text is gone, or went with its cell
        at, to = (
            found_at[p] if p in found_at else view.resolve(p, source, False, parent_alive=True)
            for p in (start, end)
        )
        if at is None or to is None or at >= to:
            return Resolved(False)
        return Resolved(True, at, to, index)
    except (BadRequest, KeyError, TypeError):
        return Resolved(False)  # not reached for what make_anchor stored
