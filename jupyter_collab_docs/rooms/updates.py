"""Yjs v1 update bytes, read without a ``Doc``: state vectors, delete sets, containment.

The delete-set reading and the snapshot test live in :mod:`..stores.containment` (the
stores fold their logs with them); this module adds what only the rooms need.
"""

from __future__ import annotations

from pycrdt import get_update

from .. import protocol
from ..stores.containment import NO_STRUCTS, DeleteSet, covers, delete_set, is_fatal

__all__ = ["NO_STRUCTS", "DeleteSet", "clocks", "contained", "covers", "delete_set", "is_fatal"]


def clocks(state_vector: bytes) -> dict[int, int]:
    """A state vector as ``{client: clock}``: its encoding's order is not canonical (yrs
    writes a hash map), so two equal vectors can differ byte for byte."""
    reader = protocol.Reader(state_vector)
    return {reader.var_uint(): reader.var_uint() for _ in range(reader.var_uint())}


def contained(update: bytes, state_vector: bytes) -> bool:
    """Whether every struct of ``update`` is within ``state_vector`` (its delete set is
    not considered)."""
    try:
        return get_update(update, state_vector)[:1] == NO_STRUCTS
    except BaseException as exc:
        if is_fatal(exc):
            raise
        return False
