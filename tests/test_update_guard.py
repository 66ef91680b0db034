"""The update guard's parser: honest updates pass and are read to their end; hostile ones
(deep nesting, long chains, client ids JavaScript cannot hold, malformed bytes) are
refused before yrs sees them."""

from __future__ import annotations

import random

import nbformat
import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Array, Doc, Map, Text

from jupyter_collab_docs import protocol
from jupyter_collab_docs.update_guard import (
    UNBOUNDED,
    UpdateLimits,
    UpdateRefused,
    UpdateTooLarge,
    count_structs,
    inspect_update,
)

from . import yjs_forge as forge

LIMITS = UpdateLimits()


def recorded_updates(edit) -> list[bytes]:
    doc: Doc = Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    edit(doc)
    return updates


def test_honest_updates_of_every_content_type_pass():
    def edit(doc: Doc) -> None:
        text = doc.get("source", type=Text)
        text.insert(0, "héllo wörld 🎉 and more")
        text.format(0, 5, {"bold": True, "style": {"size": [1, 2, {"x": None}]}})
        text.insert_embed(3, {"image": "x.png"})
        del text[2:6]
        meta = doc.get("meta", type=Map)
        meta["values"] = {"a": [1, 2.5, -3, 2**40, "s", True, None, {"b": b"bytes"}]}
        meta["nested"] = Map({"inner": Array([1, Text("t"), Map({"k": "v"})])})
        meta["big"] = -(2**52)
        del meta["values"]
        cells = doc.get("cells", type=Array)
        for i in range(50):
            cells.append(Map({"source": Text(f"x = {i}"), "metadata": Map({"tags": ["a"]})}))
        del cells[10:20]

    updates = recorded_updates(edit)
    doc: Doc = Doc()
    for update in updates:
        inspect_update(update, LIMITS)
        doc.apply_update(update)
    state = doc.get_update()
    shape = inspect_update(state, LIMITS)
    assert shape.structs > 50 and shape.delete_ranges > 0 and not shape.touches_trust


def test_a_ten_thousand_cell_notebook_passes_the_default_limits():
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(f"x = {i}", id=f"c{i}") for i in range(10_000)]
    )
    doc: Doc = Doc()
    YNotebook(doc).set(notebook)
    assert inspect_update(doc.get_update(), LIMITS).structs > 10_000


@pytest.mark.parametrize("seed", range(20))
def test_random_text_edits_are_read_to_the_end(seed):
    rng = random.Random(seed)

    def edit(doc: Doc) -> None:
        text = doc.get("source", type=Text)
        for _ in range(200):
            if len(text) and rng.random() < 0.3:
                start = rng.randrange(len(text))
                del text[start : min(len(text), start + rng.randrange(1, 4))]
            else:
                text.insert(rng.randrange(len(text) + 1), rng.choice(["a", "xyz", "q"]))

    updates = recorded_updates(edit)
    merged: Doc = Doc()
    for update in updates:
        inspect_update(update, LIMITS)
        merged.apply_update(update)
    # Every byte is accounted for: a struct count that is off would misread the rest.
    assert count_structs(merged.get_update()) >= 1


@pytest.mark.parametrize("depth", [101, 10_000, 40_000])
def test_deeply_nested_values_are_refused_without_recursion(depth):
    update = forge.cell_with_metadata(7, "deep", forge.nested_arrays(depth))
    with pytest.raises(UpdateTooLarge, match="nested more than 100 levels"):
        inspect_update(update, LIMITS)


def test_nesting_up_to_the_bound_passes():
    update = forge.cell_with_metadata(7, "deep", forge.nested_arrays(100))
    assert inspect_update(update, LIMITS).structs == 8
    doc: Doc = Doc()
    doc.apply_update(update)  # and yrs takes it


def test_deep_json_texts_are_refused():
    with pytest.raises(UpdateTooLarge):
        inspect_update(forge.formatted_text(3, forge.nested_json(101)), LIMITS)
    # brackets inside strings do not count
    text = b'{"a": "' + b"[" * 500 + b'"}'
    inspect_update(forge.formatted_text(3, text), LIMITS)


def test_long_chains_are_refused_and_short_ones_pass():
    with pytest.raises(UpdateTooLarge, match="chained items"):
        inspect_update(forge.chained_text(9, 20_000), LIMITS)
    assert inspect_update(forge.chained_text(9, 500), LIMITS).structs == 500
    # a run alternating text and deletions is not joined by yrs (and honest edits leave
    # such runs: text typed in one go, then partly deleted)
    alternating = [bytes([0x04]) + forge._root("source") + forge.var_string("x")]
    for clock in range(1, 2_000):
        origin = bytes([0x81 if clock % 2 else 0x84]) + protocol.write_var_uint(9)
        origin += protocol.write_var_uint(clock - 1)
        alternating.append(origin + (b"\x01" if clock % 2 else forge.var_string("x")))
    assert inspect_update(forge.update(9, alternating), LIMITS).structs == 2_000
    bounded = UpdateLimits(max_chain=None, max_structs=1_000)
    with pytest.raises(UpdateTooLarge, match="more than 1000 structs"):
        inspect_update(forge.chained_text(9, 1_001), bounded)


@pytest.mark.parametrize(
    "update",
    [
        forge.text_insert(2**53),
        forge.deletion(2**53),
        forge.update(5, [bytes([0x84]) + protocol.write_var_uint(2**53) + b"\x00\x01x"]),
    ],
    ids=["struct client", "delete set client", "origin client"],
)
def test_client_ids_javascript_cannot_hold_are_refused(update):
    with pytest.raises(UpdateRefused, match="2\\^53") as refused:
        inspect_update(update, LIMITS)
    assert refused.value.close_code == 1002
    inspect_update(forge.text_insert(2**53 - 1), LIMITS)


@pytest.mark.parametrize(
    "update",
    [
        b"",
        b"\x01",
        b"\x05\x01\x02",  # five groups announced, none there
        forge.text_insert(3)[:-3],
        forge.update(3, [b"\x1f"]),  # an unknown content type
        forge.update(3, [b"\x08" + forge._root("m") + b"\x01\x50"]),  # an unknown Any tag
        forge.update(3, [b"\x07" + forge._root("m") + b"\x07"]),  # an unknown type ref
        forge.update(3, [b"\x02" + forge._root("m") + b"\x00\x02[]"]),  # legacy JSON
        forge.update(3, [b"\x04" + forge._root("m") + b"\x02\xff\xfe"]),  # not UTF-8
    ],
)
def test_malformed_updates_are_refused(update):
    with pytest.raises(UpdateRefused) as refused:
        inspect_update(update, UNBOUNDED)
    assert refused.value.close_code == 1002


def test_trust_is_flagged_as_a_map_key_and_as_a_value_key():
    plain = recorded_updates(lambda d: d.get("cells", type=Array).append(Map({"x": 1})))
    assert not inspect_update(plain[0], LIMITS).touches_trust
    as_key = recorded_updates(
        lambda d: d.get("cells", type=Array).append(Map({"metadata": Map({"trusted": True})}))
    )
    assert inspect_update(as_key[0], LIMITS).touches_trust
    as_value = recorded_updates(
        lambda d: d.get("cells", type=Array).append(Map({"metadata": {"trusted": True}}))
    )
    assert inspect_update(as_value[0], LIMITS).touches_trust


def test_write_budget_admits_a_burst_refuses_a_flood_and_refills(monkeypatch):
    from jupyter_collab_docs import write_budget

    clock = [1000.0]
    monkeypatch.setattr(write_budget.time, "monotonic", lambda: clock[0])
    budget = write_budget.WriteBudget(max_bytes=1000, max_structs=100, window=10.0)
    assert budget.admit("alice", 900, 10)  # a burst up to the budget
    assert not budget.admit("alice", 200, 1)  # 100 bytes left
    assert budget.admit("bob", 1000, 100)  # per user
    assert not budget.admit("bob", 1, 1)
    clock[0] += 1.0  # a tenth of the window: 100 bytes and 10 structs back
    assert budget.admit("alice", 200, 10)
    assert not budget.admit("bob", 1, 11)
    clock[0] += 100.0
    assert budget.admit("bob", 1000, 100)  # full again, never more than full
    assert not budget.admit("bob", 1, 1)
