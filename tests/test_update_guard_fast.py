"""The update guard's inlined parser (issue #16) decides exactly as the method-per-varint
parser it replaced (kept in update_guard_reference.py): the same shape for what passes,
the same kind of refusal for the rest, on honest updates, on every truncation of them,
on random byte changes, and on varints at and past their bounds."""

from __future__ import annotations

import random

import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Array, Doc, Map, Text

from jupyter_collab_docs.protocol import write_var_uint as var_uint
from jupyter_collab_docs.update_guard import (
    MAX_CLIENT_ID,
    MAX_CLOCK,
    UNBOUNDED,
    UpdateLimits,
    UpdateRefused,
    UpdateTooLarge,
    inspect_update,
)

from . import yjs_forge as forge
from .update_guard_reference import reference_inspect

LIMITS = UpdateLimits()
TIGHT = UpdateLimits(max_depth=3, max_structs=40, max_chain=4)


def outcome(parse, update: bytes, limits: UpdateLimits) -> object:
    """What a parser decides: the shape, or the class of its refusal."""
    try:
        return parse(update, limits)
    except UpdateTooLarge:
        return UpdateTooLarge
    except UpdateRefused:
        return UpdateRefused


def assert_same(update: bytes, limits: UpdateLimits = LIMITS) -> object:
    fast = outcome(inspect_update, update, limits)
    assert fast == outcome(reference_inspect, update, limits), update.hex()
    return fast


def sample_updates() -> list[bytes]:
    """Honest updates of every content type, a notebook, and forged ones."""
    doc: Doc = Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    text = doc.get("source", type=Text)
    text.insert(0, "héllo wörld 🎉 and more")
    text.format(0, 5, {"bold": True, "style": {"size": [1, 2, {"trusted": None}]}})
    text.insert_embed(3, {"image": "x.png"})
    del text[2:6]
    meta = doc.get("meta", type=Map)
    meta["values"] = {"a": [1, 2.5, -3, 2**40, "s", True, None, {"b": b"bytes"}]}
    meta["trusted"] = True
    meta["nested"] = Map({"inner": Array([1, Text("t"), Map({"k": "v"})])})
    meta["big"] = -(2**52)
    del meta["values"]
    cells = doc.get("cells", type=Array)
    for i in range(12):
        cells.append(Map({"source": Text(f"x = {i}"), "metadata": Map({"tags": ["a"]})}))
    del cells[3:5]
    for i in range(30):
        text.insert(i, "ab"[i % 2])
    notebook = YNotebook()
    notebook.set(
        {
            "cells": [{"cell_type": "code", "source": "1", "metadata": {"trusted": True}}],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )
    return [
        *updates,
        doc.get_update(),
        notebook.ydoc.get_update(),
        forge.chained_text(7, 8),
        forge.formatted_text(5, forge.nested_json(5)),
        forge.cell_with_metadata(9, "trusted", b"\x78"),
        forge.update(3, [b"\x08" + forge._root("m") + b"\x01" + forge.nested_arrays(5)]),
        forge.deletion(4, 2**20, 300),
    ]


@pytest.fixture(scope="module")
def samples() -> list[bytes]:
    return sample_updates()


def test_honest_updates_get_the_same_shape(samples):
    for update in samples:
        for limits in (LIMITS, TIGHT, UNBOUNDED):
            assert_same(update, limits)
    assert assert_same(samples[0], TIGHT).structs == 1  # not everything refused
    assert assert_same(samples[-2], TIGHT) is UpdateTooLarge  # nested past max_depth 3
    assert assert_same(samples[-5], TIGHT) is UpdateTooLarge  # a chain past 4
    assert assert_same(samples[-4], TIGHT) is UpdateTooLarge  # a JSON text past depth 3


def test_every_truncation_is_decided_alike(samples):
    refused = 0
    for update in samples:
        for cut in range(len(update)):
            if assert_same(update[:cut]) is UpdateRefused:
                refused += 1
    assert refused > 0


@pytest.mark.parametrize("seed", range(4))
def test_random_byte_changes_are_decided_alike(samples, seed):
    rng = random.Random(seed)
    decisions = set()
    for _ in range(3000):
        update = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 3)):
            update[rng.randrange(len(update))] = rng.choice(
                (0, 0x7F, 0x80, 0xFF, rng.randrange(256))
            )
        decided = assert_same(bytes(update), rng.choice((LIMITS, TIGHT)))
        decisions.add(decided if isinstance(decided, type) else "shape")
    assert decisions == {"shape", UpdateRefused, UpdateTooLarge}


@pytest.mark.parametrize(
    ("client", "refused"), [(0, False), (127, False), (128, False), (MAX_CLIENT_ID, False),
                            (MAX_CLIENT_ID + 1, True), (2**63, True)],
)  # fmt: skip
def test_client_ids_at_the_bound(client, refused):
    updates = [
        forge.text_insert(client),  # a struct group's client
        forge.deletion(client),  # a delete set's client
        forge.update(3, [b"\x84" + var_uint(client) + b"\x00" + forge.var_string("x")]),  # origin
        forge.update(3, [b"\x44" + var_uint(client) + b"\x00" + forge.var_string("x")]),  # right
    ]
    for update in updates:
        assert (assert_same(update) is UpdateRefused) == refused


@pytest.mark.parametrize(
    ("clock", "refused"), [(0, False), (MAX_CLOCK, False), (MAX_CLOCK + 1, True)]
)
def test_clocks_and_lengths_at_the_bound(clock, refused):
    updates = [
        forge.deletion(3, clock=clock),
        forge.deletion(3, length=clock),
        forge.update(3, [b"\x01" + forge._root("m") + var_uint(clock)]),  # a deleted length
        forge.update(3, [b"\x00" + var_uint(clock)]),  # a GC range
    ]
    for update in updates:
        assert (assert_same(update) is UpdateRefused) == refused


def test_varints_of_ten_bytes_pass_and_of_eleven_are_refused():
    ten = b"\x80" * 9 + b"\x00"  # zero, padded to the longest varint read
    eleven = b"\x80" * 10 + b"\x00"
    assert assert_same(b"\x00" + ten) == inspect_update(b"\x00\x00", LIMITS)
    assert assert_same(b"\x00" + eleven) is UpdateRefused
    # a varint that ends with the update, and one cut inside its continuation bytes
    assert assert_same(forge.deletion(3, clock=2**30)[:-2]) is UpdateRefused
    assert assert_same(b"\x01\x01" + b"\xff" * 4) is UpdateRefused


def test_counts_past_the_update_and_lengths_past_its_end_are_refused():
    assert assert_same(b"\x7f") is UpdateRefused  # 127 groups in a 1-byte update
    assert assert_same(forge.update(3, [b"\x04" + forge._root("m") + b"\x05ab"])) is UpdateRefused
    assert assert_same(forge.update(3, [b"\x08" + forge._root("m") + b"\x01\x7b\x00"])) is (
        UpdateRefused  # a float64 cut short
    )


def test_what_follows_the_delete_set_is_ignored_and_non_bytes_are_read(samples):
    update = samples[-6]
    assert inspect_update(update + b"\xff\xff", LIMITS) == inspect_update(update, LIMITS)
    assert inspect_update(bytearray(update), LIMITS) == inspect_update(update, LIMITS)
    assert inspect_update(memoryview(update), LIMITS) == inspect_update(update, LIMITS)
