"""What changed between two contents: line hunks for text, cells for notebooks (matched by
id or, without ids, by their sources), outputs summarised and never copied."""

from __future__ import annotations

from jupyter_collab_docs.diffs import (
    MAX_DIFF_LINES,
    cell_authors,
    content_diff,
    line_hunks,
    match_cells,
    notebook_diff,
    text_diff,
)
from tests.notebooks import cell, notebook


def lines_of(diff):
    return [(line["kind"], line["text"]) for hunk in diff["hunks"] for line in hunk["lines"]]


def test_text_diff_hunks_with_context_and_counts():
    old = "\n".join(f"line {n}" for n in range(1, 21))
    new = old.replace("line 3\n", "line three\n").replace("line 18\n", "") + "\nline 21"
    diff = text_diff(old, new)
    assert diff["type"] == "file" and not diff["truncated"]
    assert (diff["added"], diff["removed"]) == (2, 2)
    first, second = diff["hunks"]
    assert (first["old_start"], first["new_start"]) == (1, 1)
    assert [(line["kind"], line["text"]) for line in first["lines"]] == [
        ("context", "line 1"),
        ("context", "line 2"),
        ("removed", "line 3"),
        ("added", "line three"),
        ("context", "line 4"),
        ("context", "line 5"),
        ("context", "line 6"),
    ]
    assert ("removed", "line 18") in [(line["kind"], line["text"]) for line in second["lines"]]
    assert ("added", "line 21") in [(line["kind"], line["text"]) for line in second["lines"]]
    assert second["old_start"] == 15  # three lines of context before line 18


def test_same_text_has_no_hunks():
    assert text_diff("a\nb", "a\nb") == {
        "type": "file",
        "hunks": [],
        "added": 0,
        "removed": 0,
        "truncated": False,
    }


def test_a_huge_replacement_is_cut_short_but_counted():
    diff = line_hunks("", "\n".join(str(n) for n in range(MAX_DIFF_LINES * 2)))
    assert diff["truncated"] and diff["added"] == MAX_DIFF_LINES * 2
    assert sum(len(h["lines"]) for h in diff["hunks"]) == MAX_DIFF_LINES


def test_notebook_added_removed_changed_and_moved_cells():
    old = notebook(
        cell("a", "import os"),
        cell("b", "x = 1\ny = 2"),
        cell("c", "# Title", "markdown"),
        cell("d", "print(x)"),
        cell("e", "gone()"),
    )
    new = notebook(
        cell("d", "print(x)"),  # moved to the top
        cell("a", "import os"),
        cell("b", "x = 1\ny = 3"),  # changed
        cell("c", "# Title", "markdown"),
        cell("f", "new_cell()"),  # added; e removed
    )
    diff = notebook_diff(old, new)
    assert diff["summary"] == {"added": 1, "removed": 1, "changed": 1, "moved": 1, "unchanged": 2}
    by_id = {entry["id"]: entry for entry in diff["cells"]}
    assert set(by_id) == {"b", "d", "e", "f"}
    assert by_id["d"]["status"] == "moved" and by_id["d"]["moved"]
    assert (by_id["d"]["old_index"], by_id["d"]["new_index"]) == (3, 0)
    changed = by_id["b"]
    assert changed["status"] == "changed" and not changed["moved"]
    assert ("removed", "y = 2") in lines_of(changed["source"])
    assert ("added", "y = 3") in lines_of(changed["source"])
    assert by_id["f"]["status"] == "added" and lines_of(by_id["f"]["source"]) == [
        ("added", "new_cell()")
    ]
    assert by_id["e"]["status"] == "removed" and by_id["e"]["new_index"] is None
    assert lines_of(by_id["e"]["source"]) == [("removed", "gone()")]
    # in the new notebook's order, the removed cell after the one it followed (c)
    assert [entry["id"] for entry in diff["cells"]] == ["d", "b", "e", "f"]


def test_cells_without_ids_are_matched_by_their_sources():
    old = notebook(cell(None, "one"), cell(None, "two"), cell(None, "three"))
    new = notebook(cell(None, "zero"), cell(None, "one"), cell(None, "two!"), cell(None, "three"))
    assert match_cells(old["cells"], new["cells"]) == [(0, 1), (1, 2), (2, 3)]
    diff = notebook_diff(old, new)
    statuses = [
        (entry["status"], entry["old_index"], entry["new_index"]) for entry in diff["cells"]
    ]
    assert statuses == [("added", None, 0), ("changed", 1, 2)]


def test_repeated_ids_fall_back_to_order():
    old = notebook(cell("x", "a"), cell("x", "b"))
    new = notebook(cell("x", "a"), cell("x", "b"))
    assert notebook_diff(old, new)["cells"] == []


def test_outputs_summarised_by_mime_type_never_copied():
    hostile = "<img src=x onerror=window.__pwned=1>"
    old = notebook(
        cell("a", "show()", outputs=[{"output_type": "stream", "name": "stdout", "text": "hi"}])
    )
    new = notebook(
        cell(
            "a",
            "show()",
            outputs=[
                {"output_type": "stream", "name": "stdout", "text": "hello"},
                {
                    "output_type": "display_data",
                    "data": {"text/html": hostile, "text/plain": "img"},
                    "metadata": {},
                },
            ],
        )
    )
    diff = notebook_diff(old, new)
    (entry,) = diff["cells"]
    assert entry["status"] == "changed" and entry["source"]["hunks"] == []
    assert entry["outputs"] == [
        {
            "change": "changed",
            "index": 0,
            "output_type": "stream",
            "name": "stdout",
            "mime_types": ["text/plain"],
        },
        {
            "change": "added",
            "index": 1,
            "output_type": "display_data",
            "mime_types": ["text/html", "text/plain"],
        },
    ]
    assert hostile not in repr(diff) and "hello" not in repr(diff)
    cleared = notebook_diff(new, notebook(cell("a", "show()")))["cells"][0]["outputs"]
    assert [(o["change"], o["output_type"]) for o in cleared] == [
        ("removed", "stream"),
        ("removed", "display_data"),
    ]


def test_cell_type_and_metadata_changes():
    old = notebook(cell("a", "text", "markdown"), metadata={"kernelspec": {"name": "python3"}})
    changed = cell("a", "text", "raw", metadata={"tags": ["slow"]})
    new = notebook(changed, metadata={"kernelspec": {"name": "julia"}, "authors": []})
    diff = notebook_diff(old, new)
    (entry,) = diff["cells"]
    assert entry["cell_type_change"] == {"from": "markdown", "to": "raw"}
    assert entry["metadata"] == {"added": ["tags"], "removed": [], "changed": []}
    assert diff["metadata"] == {"added": ["authors"], "removed": [], "changed": ["kernelspec"]}


def test_content_diff_by_type_and_odd_input():
    assert content_diff("file", "a", "b")["added"] == 1
    assert content_diff("notebook", {}, notebook(cell("a", "x")))["summary"]["added"] == 1
    assert content_diff("notebook", {"cells": "nope"}, {"cells": [1, None]})["cells"] == []


def test_cell_authors_follow_each_step():
    start = notebook(cell("a", "1"), cell("b", "2"))
    middle = notebook(cell("a", "1!"), cell("b", "2"))
    end = notebook(cell("a", "1!"), cell("b", "2!"), cell("c", "new"))
    touched = cell_authors([start, middle, end], [["alice"], ["bob", "carol"]])
    assert touched == {"a": {"alice"}, "b": {"bob", "carol"}, "c": {"bob", "carol"}}
    assert cell_authors([start, end], [[]]) == {}
