"""Whether a snapshot holds what a log record holds: the one test a fold of the log
passes before it deletes a record, and before a snapshot replaces another.

A record is contained when every struct it carries is within the snapshot's state
vector and every range it deletes is deleted in the snapshot. Sequence numbers play no
part: they may repeat or run backwards on a store whose counter is not atomic (FerretDB),
so "everything up to N" proves nothing about a record's content.
"""

from __future__ import annotations

import asyncio
import bisect

from pycrdt import Doc, get_update

from ..protocol import ProtocolError, Reader

NO_STRUCTS = b"\x00"  # a Yjs v1 update whose first varuint (structs' client count) is 0

DeleteSet = dict[int, list[tuple[int, int]]]


def delete_set(update: bytes) -> DeleteSet | None:
    """The delete set of an update without structs, as sorted, merged ``(start,
    length)`` ranges per client; None if the update carries structs or is malformed."""
    try:
        reader = Reader(update)
        if reader.var_uint() != 0:
            return None
        found: DeleteSet = {}
        for _ in range(reader.var_uint()):
            client = reader.var_uint()
            ranges = [(reader.var_uint(), reader.var_uint()) for _ in range(reader.var_uint())]
            found.setdefault(client, []).extend(r for r in ranges if r[1] > 0)
    except ProtocolError:
        return None
    merged_sets: DeleteSet = {}
    for client, ranges in found.items():
        merged: list[tuple[int, int]] = []
        for start, length in sorted(ranges):
            if merged and start <= merged[-1][0] + merged[-1][1]:
                last_start, last_length = merged[-1]
                merged[-1] = (last_start, max(last_length, start + length - last_start))
            else:
                merged.append((start, length))
        if merged:
            merged_sets[client] = merged
    return merged_sets


def covers(ours: DeleteSet, theirs: DeleteSet) -> bool:
    """Whether every range of ``theirs`` lies within a range of ``ours``."""
    for client, ranges in theirs.items():
        mine = ours.get(client, [])
        for start, length in ranges:
            i = bisect.bisect_right(mine, (start, float("inf"))) - 1
            if i < 0 or start + length > mine[i][0] + mine[i][1]:
                return False
    return True


def is_fatal(exc: BaseException) -> bool:
    """Exceptions that must propagate. Everything else yrs raises on odd bytes, including
    its ``PanicException`` (a BaseException), is the fault of those bytes only."""
    return isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError, GeneratorExit))


class SnapshotContent:
    """A snapshot's state vector and delete set, decoded once to test many records."""

    def __init__(self, state: bytes, deleted: DeleteSet) -> None:
        self.state = state
        self._deleted = deleted

    @classmethod
    def of_doc(cls, doc: Doc) -> SnapshotContent:
        """What ``doc.get_update()`` would hold."""
        state = doc.get_state()
        # A diff against its own state vector: no structs, the whole delete set.
        deleted = delete_set(doc.get_update(state))
        if deleted is None:
            raise ValueError("the snapshot's delete set does not parse")
        return cls(state, deleted)

    @classmethod
    def of(cls, snapshot: bytes) -> SnapshotContent:
        """What the update ``snapshot`` holds; raises what yrs raises if it does not
        decode."""
        doc: Doc = Doc()
        doc.apply_update(snapshot)
        return cls.of_doc(doc)

    def contains(self, update: bytes) -> bool:
        """Whether the snapshot holds everything ``update`` holds. An update that does
        not decode is never contained (so it is never deleted as folded)."""
        try:
            rest = get_update(update, self.state)
        except BaseException as exc:  # yrs raises PanicException, a BaseException
            if is_fatal(exc):
                raise
            return False
        if rest[:1] != NO_STRUCTS:
            return False  # structs the snapshot lacks (or that yrs keeps pending)
        theirs = delete_set(rest)
        return theirs is not None and covers(self._deleted, theirs)
