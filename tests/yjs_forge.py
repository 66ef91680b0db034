"""Hand-built Yjs v1 updates for the hostile-update tests.

They are encoded here byte by byte, without pycrdt: building a value nested 40,000
levels deep through pycrdt would overflow the test process's own native stack.
"""

from __future__ import annotations

from jupyter_collab_docs.protocol import write_var_bytes as var_bytes
from jupyter_collab_docs.protocol import write_var_uint as var_uint


def var_string(text: str) -> bytes:
    return var_bytes(text.encode())


def nested_arrays(depth: int) -> bytes:
    """A lib0 ``Any`` of ``depth`` arrays, each holding the next: ``[[[...[]...]]]``."""
    return b"\x75\x01" * (depth - 1) + b"\x75\x00"


def nested_json(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def _root(name: str) -> bytes:
    return var_uint(1) + var_string(name)


def _parent(client: int, clock: int) -> bytes:
    return var_uint(0) + var_uint(client) + var_uint(clock)


def update(client: int, structs: list[bytes], delete_set: bytes = b"\x00") -> bytes:
    """One struct group of ``client`` starting at clock 0, then a delete set."""
    return (
        var_uint(1)
        + var_uint(len(structs))
        + var_uint(client)
        + var_uint(0)
        + (b"".join(structs) + delete_set)
    )


def cell_with_metadata(client: int, key: str, value: bytes) -> bytes:
    """A new code cell at the start of a notebook's ``cells``, whose metadata map holds
    ``key`` = ``value`` (an encoded ``Any``)."""
    any_entry = bytes([0x28])  # Any content, with a parent key
    structs = [
        bytes([0x07]) + _root("cells") + b"\x01",  # the cell: a Map in "cells"
        bytes([0x27]) + _parent(client, 0) + var_string("metadata") + b"\x01",  # a Map
        any_entry + _parent(client, 1) + var_string(key) + var_uint(1) + value,
        any_entry + _parent(client, 0) + var_string("cell_type") + b"\x01\x77" + var_string("code"),
        any_entry + _parent(client, 0) + var_string("id") + b"\x01\x77" + var_string("forged"),
        bytes([0x27]) + _parent(client, 0) + var_string("source") + b"\x02",  # a Text
        bytes([0x27]) + _parent(client, 0) + var_string("outputs") + b"\x00",  # an Array
        any_entry + _parent(client, 0) + var_string("execution_count") + b"\x01\x7e",
    ]
    return update(client, structs)


def formatted_text(client: int, attribute: bytes, root: str = "source") -> bytes:
    """A format item (rich-text attribute ``bold`` = the JSON text ``attribute``)."""
    return update(client, [bytes([0x06]) + _root(root) + var_string("bold") + var_bytes(attribute)])


def chained_text(client: int, count: int, root: str = "source") -> bytes:
    """``count`` one-character items of a text, each its own item whose origin is the
    one before (what yrs squashes one by one, at quadratic cost)."""
    structs = [bytes([0x04]) + _root(root) + var_string("x")]
    for clock in range(1, count):
        structs.append(bytes([0x84]) + var_uint(client) + var_uint(clock - 1) + var_string("x"))
    return update(client, structs)


def text_insert(client: int, text: str = "x", root: str = "source") -> bytes:
    """One item of ``client`` inserting ``text`` at the start of a root text."""
    return update(client, [bytes([0x04]) + _root(root) + var_string(text)])


def deletion(client: int, clock: int = 0, length: int = 1) -> bytes:
    """An update without structs deleting ``client``'s range."""
    return (
        b"\x00"
        + var_uint(1)
        + var_uint(client)
        + var_uint(1)
        + var_uint(clock)
        + (var_uint(length))
    )
