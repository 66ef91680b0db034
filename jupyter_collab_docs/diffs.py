"""What changed between two contents of a document: a line diff for text, a cell diff for
notebooks. Pure functions over the content models of ``doctypes.read_content``.

A notebook's cells are matched by id; cells without one (older notebooks) are matched by
their sources' order, as a line diff matches lines. A matched cell out of the order the
others keep is *moved*. Outputs are summarised (kind and MIME types), never copied: a
front end shows what changed without rendering anything a document holds.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

#: Unchanged lines shown around each change.
CONTEXT_LINES = 3
#: Lines of one diff past which it is cut short (``truncated``): a whole-document
#: replacement should not answer with the document twice over.
MAX_DIFF_LINES = 2000


# -- text --------------------------------------------------------------------------------


def line_hunks(old: str, new: str, budget: list[int] | None = None) -> dict[str, Any]:
    """``{"hunks", "added", "removed", "truncated"}``: the lines of ``new`` not in ``old``
    and back, in unified-diff hunks (1-based starts) with ``CONTEXT_LINES`` around.
    ``budget`` (one shared counter) caps the lines of several diffs together."""
    remaining = budget if budget is not None else [MAX_DIFF_LINES]
    a, b = old.splitlines(), new.splitlines()
    hunks: list[dict[str, Any]] = []
    added = removed = 0
    truncated = False
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(CONTEXT_LINES):
        first, last = group[0], group[-1]
        lines: list[dict[str, str]] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [{"kind": "context", "text": line} for line in a[i1:i2]]
                continue
            removed += i2 - i1
            added += j2 - j1
            lines += [{"kind": "removed", "text": line} for line in a[i1:i2]]
            lines += [{"kind": "added", "text": line} for line in b[j1:j2]]
        if truncated:
            continue  # still counting what was added and removed
        if len(lines) > remaining[0]:
            lines = lines[: remaining[0]]
            truncated = True
        remaining[0] -= len(lines)
        if not lines:
            continue
        hunks.append(
            {
                "old_start": first[1] + 1,
                "old_lines": last[2] - first[1],
                "new_start": first[3] + 1,
                "new_lines": last[4] - first[3],
                "lines": lines,
            }
        )
    return {"hunks": hunks, "added": added, "removed": removed, "truncated": truncated}


def text_diff(old: str, new: str) -> dict[str, Any]:
    """The changes of a text document."""
    return {"type": "file", **line_hunks(old, new)}


# -- notebooks ---------------------------------------------------------------------------


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source or "")


def _output_summary(output: Any) -> dict[str, Any]:
    """What an output is, without its content: kind, MIME types, stream or error name."""
    if not isinstance(output, dict):
        return {"output_type": "unknown", "mime_types": []}
    kind = str(output.get("output_type", "unknown"))
    summary: dict[str, Any] = {"output_type": kind, "mime_types": []}
    if kind == "stream":
        summary["name"] = str(output.get("name", ""))
        summary["mime_types"] = ["text/plain"]
    elif kind == "error":
        summary["name"] = str(output.get("ename", ""))
    data = output.get("data")
    if isinstance(data, dict):
        summary["mime_types"] = sorted(str(key) for key in data)
    return summary


def output_changes(old: list[Any], new: list[Any]) -> list[dict[str, Any]]:
    """Outputs added, removed or changed, by position: ``{"change", "index",
    "output_type", "mime_types"[, "name"]}`` (the new output's, or the removed one's)."""
    changes: list[dict[str, Any]] = []
    for index in range(max(len(old), len(new))):
        if index >= len(old):
            changes.append({"change": "added", "index": index, **_output_summary(new[index])})
        elif index >= len(new):
            changes.append({"change": "removed", "index": index, **_output_summary(old[index])})
        elif old[index] != new[index]:
            changes.append({"change": "changed", "index": index, **_output_summary(new[index])})
    return changes


def key_changes(old: Any, new: Any) -> dict[str, list[str]] | None:
    """Top-level metadata keys added, removed or changed; None when none changed."""
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    found = {
        "added": sorted(k for k in new if k not in old),
        "removed": sorted(k for k in old if k not in new),
        "changed": sorted(k for k in new if k in old and old[k] != new[k]),
    }
    return found if any(found.values()) else None


def _cells(notebook: Any) -> list[dict[str, Any]]:
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def _cell_id(cell: dict[str, Any]) -> str | None:
    value = cell.get("id")
    return value if isinstance(value, str) and value else None


def match_cells(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Pairs ``(old index, new index)`` of the same cell: by id, and for cells without
    a usable id (none, or repeated) by the order of their sources."""
    old_ids = [_cell_id(c) for c in old]
    new_ids = [_cell_id(c) for c in new]
    usable_old = {i for i in old_ids if i and old_ids.count(i) == 1}
    usable_new = {i for i in new_ids if i and new_ids.count(i) == 1}
    where_new = {cid: j for j, cid in enumerate(new_ids) if cid in usable_new}
    pairs = [(i, where_new[cid]) for i, cid in enumerate(old_ids) if cid in where_new]
    # A cell with its own id not found on the other side was added or removed; only
    # cells without a usable id are left to be matched by their sources.
    rest_old = [i for i, cid in enumerate(old_ids) if cid not in usable_old]
    rest_new = [j for j, cid in enumerate(new_ids) if cid not in usable_new]
    matcher = SequenceMatcher(
        None,
        [_source(old[i]) for i in rest_old],
        [_source(new[j]) for j in rest_new],
        autojunk=False,
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("equal", "replace"):  # a replaced run: the same cells, edited, in order
            pairs += [
                (rest_old[i], rest_new[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=False)
            ]
    return sorted(pairs)


def _moved(pairs: list[tuple[int, int]]) -> set[int]:
    """Old indexes of matched cells out of the longest run the others keep in order."""
    new_order = [j for _, j in pairs]  # pairs are in old order
    kept = SequenceMatcher(None, new_order, sorted(new_order), autojunk=False)
    in_place = {
        new_order[block.a + k] for block in kept.get_matching_blocks() for k in range(block.size)
    }
    return {i for i, j in pairs if j not in in_place}


def notebook_diff(old_notebook: Any, new_notebook: Any) -> dict[str, Any]:
    """The changes of a notebook: ``cells`` (only those added, removed, moved or changed,
    in the new notebook's order, removed ones after the cell they followed), ``summary``
    counts, and the notebook's own ``metadata`` key changes."""
    old, new = _cells(old_notebook), _cells(new_notebook)
    pairs = match_cells(old, new)
    moved = _moved(pairs)
    budget = [MAX_DIFF_LINES]
    entries: list[tuple[float, dict[str, Any]]] = []
    summary = {"added": 0, "removed": 0, "changed": 0, "moved": 0, "unchanged": 0}

    def base(cell: dict[str, Any], status: str, old_index: Any, new_index: Any) -> dict[str, Any]:
        return {
            "status": status,
            "id": _cell_id(cell),
            "cell_type": str(cell.get("cell_type", "")),
            "old_index": old_index,
            "new_index": new_index,
            "moved": status == "moved",
        }

    matched_old = {i for i, _ in pairs}
    matched_new = {j for _, j in pairs}
    for i, j in pairs:
        before, after = old[i], new[j]
        source = line_hunks(_source(before), _source(after), budget)
        outputs = output_changes(before.get("outputs") or [], after.get("outputs") or [])
        metadata = key_changes(before.get("metadata"), after.get("metadata"))
        type_change = None
        if before.get("cell_type") != after.get("cell_type"):
            type_change = {"from": str(before.get("cell_type")), "to": str(after.get("cell_type"))}
        edited = bool(source["hunks"] or source["truncated"] or outputs or metadata or type_change)
        if not edited and i not in moved:
            summary["unchanged"] += 1
            continue
        entry = base(after, "changed" if edited else "moved", i, j)
        entry["moved"] = i in moved
        entry.update(
            source=source, outputs=outputs, metadata=metadata, cell_type_change=type_change
        )
        summary["changed" if edited else "moved"] += 1
        if edited and i in moved:
            summary["moved"] += 1
        entries.append((j, entry))
    for j, cell in enumerate(new):
        if j not in matched_new:
            entry = base(cell, "added", None, j)
            entry.update(
                source=line_hunks("", _source(cell), budget),
                outputs=output_changes([], cell.get("outputs") or []),
                metadata=None,
                cell_type_change=None,
            )
            summary["added"] += 1
            entries.append((j, entry))
    # A removed cell shows after the new place of the nearest cell before it that kept
    # its place (a moved one would take it along).
    new_of_old = {i: j for i, j in pairs if i not in moved}
    for i, cell in enumerate(old):
        if i not in matched_old:
            anchors = [new_of_old[k] for k in range(i) if k in new_of_old]
            entry = base(cell, "removed", i, None)
            entry.update(
                source=line_hunks(_source(cell), "", budget),
                outputs=output_changes(cell.get("outputs") or [], []),
                metadata=None,
                cell_type_change=None,
            )
            summary["removed"] += 1
            entries.append(((anchors[-1] if anchors else -1) + 0.5, entry))
    entries.sort(key=lambda item: item[0])
    return {
        "type": "notebook",
        "cells": [entry for _, entry in entries],
        "summary": summary,
        "metadata": key_changes(
            old_notebook.get("metadata") if isinstance(old_notebook, dict) else None,
            new_notebook.get("metadata") if isinstance(new_notebook, dict) else None,
        ),
        "truncated": any(entry["source"]["truncated"] for _, entry in entries),
    }


def cell_authors(contents: list[Any], authors: list[list[str]]) -> dict[str, set[str]]:
    """Who touched each cell, by id: ``authors[k]`` made the notebook ``contents[k]``
    into ``contents[k + 1]``; a cell added, removed, moved or changed in that step counts
    for each of them."""
    touched: dict[str, set[str]] = {}
    for k, people in enumerate(authors):
        if not people:
            continue
        for entry in notebook_diff(contents[k], contents[k + 1])["cells"]:
            if entry["id"] is not None:
                touched.setdefault(entry["id"], set()).update(people)
    return touched


def content_diff(doc_type: str, old: Any, new: Any) -> dict[str, Any]:
    """The changes between two contents of a document of ``doc_type``."""
    if doc_type == "notebook":
        return notebook_diff(old, new)
    return text_diff(old if isinstance(old, str) else "", new if isinstance(new, str) else "")
