"""SnapshotContent: the per-record test every fold of the log passes before deleting."""

from __future__ import annotations

from pycrdt import Doc, Text

from jupyter_collab_docs.stores.containment import SnapshotContent


def recorded() -> tuple[Doc, Text, list[bytes]]:
    doc = Doc()
    text = doc.get("source", type=Text)
    updates: list[bytes] = []
    doc.observe(lambda e: updates.append(e.update))
    return doc, text, updates


def test_inserts_and_deletes_are_contained_only_once_the_snapshot_has_them() -> None:
    doc, text, updates = recorded()
    text.insert(0, "hello")
    before_delete = doc.get_update()
    del text[1:3]
    insert, delete = updates
    old = SnapshotContent.of(before_delete)
    assert old.contains(insert)
    assert not old.contains(delete)  # the structs are there, the deletion is not
    new = SnapshotContent.of(doc.get_update())
    assert new.contains(insert) and new.contains(delete)


def test_another_clients_update_is_not_contained() -> None:
    mine, text, _ = recorded()
    text.insert(0, "mine")
    _, other, updates = recorded()
    other.insert(0, "theirs")
    assert not SnapshotContent.of(mine.get_update()).contains(updates[0])


def test_a_pending_deletion_is_not_contained() -> None:
    """A snapshot that applied a deletion of items it never received holds the deletion
    only as pending: the record must stay."""
    _, text, updates = recorded()
    text.insert(0, "abc")
    del text[0:1]
    delete = updates[1]
    partial = Doc()
    partial.apply_update(delete)  # its items never arrived
    assert not SnapshotContent.of(partial.get_update()).contains(delete)


def test_garbage_is_never_contained() -> None:
    doc, text, _ = recorded()
    text.insert(0, "x")
    assert not SnapshotContent.of(doc.get_update()).contains(b"\xffjunk")
    assert SnapshotContent.of(doc.get_update()).contains(Doc().get_update())  # nothing at all
