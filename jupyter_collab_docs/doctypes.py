"""The two document types and how their content maps onto a Yjs doc (jupyter_ydoc).

* ``notebook``: jupyter_ydoc ``YNotebook``; content is nbformat 4 JSON.
* ``file``: jupyter_ydoc ``YUnicode``; content is plain text in the ``Y.Text`` "source".

Notebooks never hold trust. JupyterLab renders a cell's HTML and JavaScript outputs when
the cell's metadata says ``trusted: true``, and it writes that key itself for cells its
user creates or runs. In a shared document that key would be one writer's word, run in
every reader's browser: the server strips it from content it is given (REST), from what
it hands out (REST), and from every update that sets it (:class:`TrustWatch`, used by the
rooms).
"""

from __future__ import annotations

import json
from typing import Any

import nbformat
from jupyter_ydoc import YNotebook, YUnicode
from pycrdt import Array, ArrayEvent, Doc, Map, MapEvent, Subscription

DOC_TYPES = ("notebook", "file")
TRUSTED = "trusted"


class ContentError(ValueError):
    """Content that does not fit the document's type."""


def empty_content(doc_type: str) -> Any:
    if doc_type == "notebook":
        return nbformat.v4.new_notebook()
    return ""


def validate_content(doc_type: str, content: Any) -> Any:
    """Check content against its type; returns it normalised, or raises ContentError."""
    if doc_type == "file":
        if not isinstance(content, str):
            raise ContentError("content of a 'file' document must be a string")
        return content
    if doc_type == "notebook":
        if not isinstance(content, dict):
            raise ContentError("content of a 'notebook' document must be an nbformat 4 object")
        if content.get("nbformat") != 4:
            raise ContentError("content must be an nbformat 4 notebook ('nbformat': 4)")
        try:
            notebook = nbformat.reads(json.dumps(content), as_version=4)
            nbformat.validate(notebook)
        except Exception as exc:  # nbformat raises several unrelated types
            raise ContentError(f"invalid notebook: {str(exc).splitlines()[0]}") from exc
        return without_trust(json.loads(json.dumps(notebook)))
    raise ContentError(f"unknown document type {doc_type!r}; expected one of {DOC_TYPES}")


def _wrap(doc: Doc, doc_type: str) -> YNotebook | YUnicode:
    return YNotebook(doc) if doc_type == "notebook" else YUnicode(doc)


def _copy(doc: Doc) -> Doc:
    # jupyter_ydoc's wrappers attach an undo manager to the doc they wrap: never wrap a
    # live room's doc (it would grow forever), work on a copy instead.
    copy: Doc[Any] = Doc()
    copy.apply_update(doc.get_update())
    return copy


def _set(doc: Doc, doc_type: str, content: Any) -> None:
    if doc_type != "notebook":
        _wrap(doc, doc_type).set(content)
        return
    # jupyter_ydoc marks the empty cell it adds to a notebook without cells as trusted.
    with TrustWatch(doc) as watch:
        _wrap(doc, doc_type).set(content)
    watch.strip()


def replacement_update(doc: Doc, doc_type: str, content: Any) -> bytes:
    """The Yjs update that makes ``doc`` hold ``content`` (granular where jupyter_ydoc
    can be: unchanged notebook cells are kept)."""
    work = _copy(doc)
    _set(work, doc_type, content)
    return work.get_update(doc.get_state())


def read_content(doc: Doc, doc_type: str) -> dict[str, Any]:
    """The content model of docs/openapi.yaml: ``{"type", "format", "content"}``."""
    content = _wrap(_copy(doc), doc_type).get()
    if doc_type == "notebook":
        content = without_trust(content)
    return {
        "type": doc_type,
        "format": "json" if doc_type == "notebook" else "text",
        "content": content,
    }


def initial_state(doc_type: str, content: Any) -> bytes:
    """The Yjs state of a new document holding ``content``."""
    doc: Doc[Any] = Doc()
    _set(doc, doc_type, content)
    return doc.get_update()


# -- trust -----------------------------------------------------------------------------


def without_trust(notebook: Any) -> Any:
    """An nbformat notebook (as JSON) without ``trusted`` in its or its cells' metadata
    (changed in place, and returned)."""
    if isinstance(notebook, dict):
        for holder in [notebook, *(notebook.get("cells") or [])]:
            metadata = holder.get("metadata") if isinstance(holder, dict) else None
            if isinstance(metadata, dict):
                metadata.pop(TRUSTED, None)
    return notebook


class TrustWatch:
    """Notes, while updates are applied to a notebook doc, every cell whose metadata they
    may have given a ``trusted`` key; :meth:`strip` then removes the key.

    A deep observer on ``cells``, for the span of a ``with`` block only: it sees cells
    inserted whole, metadata replaced whole (a map, or a plain value some client wrote),
    and the key set in a metadata map. Scanning every cell instead would cost a walk of
    the array per cell (pycrdt looks items up by index).
    """

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self._cells: list[Map] = []  # maps inserted, or whose metadata was replaced
        self._metadata: list[Map] = []  # maps that got the key
        self._subscription: tuple[Array, Subscription] | None = None

    def __enter__(self) -> TrustWatch:
        cells = self.doc.get("cells", type=Array)
        self._subscription = (cells, cells.observe_deep(self._note))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._subscription is not None:
            cells, subscription = self._subscription
            cells.unobserve(subscription)
            self._subscription = None

    def _note(self, events: list[Any]) -> None:
        # Paths are not looked at (each costs a walk of the array): a ``trusted`` key is
        # removed from any map under ``cells``, and no output or cell needs one.
        for event in events:
            # pycrdt's events declare their attributes only at run time
            change_of: Any = event
            if isinstance(event, MapEvent):
                keys = change_of.keys
                if TRUSTED in keys and keys[TRUSTED].get("action") != "delete":
                    self._metadata.append(change_of.target)
                if "metadata" in keys:
                    self._cells.append(change_of.target)
            elif isinstance(event, ArrayEvent):
                for change in change_of.delta:
                    self._cells.extend(v for v in change.get("insert", ()) if isinstance(v, Map))

    def strip(self) -> bytes | None:
        """Remove ``trusted`` from the metadata noted, in one transaction: the update
        that did it, or None if there was nothing to remove."""
        metadata = list(self._metadata)
        replace: list[tuple[Map, dict[str, Any]]] = []
        for cell in self._cells:
            value = cell.get("metadata")
            if isinstance(value, Map):
                metadata.append(value)
            elif isinstance(value, dict) and TRUSTED in value:
                replace.append((cell, {k: v for k, v in value.items() if k != TRUSTED}))
        self._cells.clear()
        self._metadata.clear()
        metadata = [m for m in metadata if TRUSTED in m]
        if not metadata and not replace:
            return None
        updates: list[bytes] = []
        subscription = self.doc.observe(lambda event: updates.append(event.update))
        try:
            with self.doc.transaction():
                for value in metadata:
                    if TRUSTED in value:
                        del value[TRUSTED]
                for cell, plain in replace:
                    cell["metadata"] = plain
        finally:
            self.doc.unobserve(subscription)
        return b"".join(updates[:1]) or None
