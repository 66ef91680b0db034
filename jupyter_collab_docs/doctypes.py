"""The two document types and how their content maps onto a Yjs doc (jupyter_ydoc).

* ``notebook``: jupyter_ydoc ``YNotebook``; content is nbformat 4 JSON.
* ``file``: jupyter_ydoc ``YUnicode``; content is plain text in the ``Y.Text`` "source".
"""

from __future__ import annotations

import json
from typing import Any

import nbformat
from jupyter_ydoc import YNotebook, YUnicode
from pycrdt import Doc

DOC_TYPES = ("notebook", "file")


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
        return json.loads(json.dumps(notebook))
    raise ContentError(f"unknown document type {doc_type!r}; expected one of {DOC_TYPES}")


def _wrap(doc: Doc, doc_type: str) -> YNotebook | YUnicode:
    return YNotebook(doc) if doc_type == "notebook" else YUnicode(doc)


def _copy(doc: Doc) -> Doc:
    # jupyter_ydoc's wrappers attach an undo manager to the doc they wrap: never wrap a
    # live room's doc (it would grow forever), work on a copy instead.
    copy: Doc[Any] = Doc()
    copy.apply_update(doc.get_update())
    return copy


def replacement_update(doc: Doc, doc_type: str, content: Any) -> bytes:
    """The Yjs update that makes ``doc`` hold ``content`` (granular where jupyter_ydoc
    can be: unchanged notebook cells are kept)."""
    work = _copy(doc)
    _wrap(work, doc_type).set(content)
    return work.get_update(doc.get_state())


def read_content(doc: Doc, doc_type: str) -> dict[str, Any]:
    """The content model of API.md: ``{"type", "format", "content"}``."""
    content = _wrap(_copy(doc), doc_type).get()
    return {
        "type": doc_type,
        "format": "json" if doc_type == "notebook" else "text",
        "content": content,
    }


def initial_state(doc_type: str, content: Any) -> bytes:
    """The Yjs state of a new document holding ``content``."""
    doc: Doc[Any] = Doc()
    _wrap(doc, doc_type).set(content)
    return doc.get_update()
