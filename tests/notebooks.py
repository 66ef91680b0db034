"""nbformat 4.5 notebooks written out in tests: a cell, and a notebook of cells."""

from __future__ import annotations

from typing import Any


def cell(
    cid: str | None,
    source: str,
    cell_type: str = "code",
    outputs: list[Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A cell (with ``id`` unless ``cid`` is None; a code cell with no execution count)."""
    found: dict[str, Any] = {"cell_type": cell_type, "source": source, "metadata": metadata or {}}
    if cid is not None:
        found["id"] = cid
    if cell_type == "code":
        found["outputs"] = outputs or []
        found["execution_count"] = None
    return found


def notebook(*cells: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"cells": list(cells), "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}
