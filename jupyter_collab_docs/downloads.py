"""A document as a file to save: its name, its bytes and the headers that make a
browser save it (``GET documents/{id}/content?format=file``, JupyterLab's File >
Download).

The file name follows the JupyterLab drive's (``labextension/src/paths.ts``): a
notebook ends in ``.ipynb``, a text document keeps its own extension or gets ``.txt``.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

#: What JupyterLab's drive puts in place of ``/`` in a document's name.
SLASH_STANDIN = "\u2215"
_EXTENSION = re.compile(r"\.[A-Za-z0-9_+-]{1,10}$")
#: Characters kept as they are in the ASCII fallback ``filename=``.
_PLAIN = re.compile(r"[^A-Za-z0-9 ._()+,=@-]")

MEDIA_TYPES = {"notebook": "application/x-ipynb+json", "file": "text/plain; charset=utf-8"}


def download_name(name: str, doc_type: str) -> str:
    """The file name a document is saved as."""
    safe = name.replace("/", SLASH_STANDIN)
    if doc_type == "notebook":
        return safe if safe.lower().endswith(".ipynb") else f"{safe}.ipynb"
    has_extension = bool(_EXTENSION.search(safe)) and not safe.startswith(".")
    return safe if has_extension else f"{safe}.txt"


def content_disposition(file_name: str) -> str:
    """``attachment`` with the name twice (RFC 6266): an ASCII fallback, then UTF-8."""
    fallback = _PLAIN.sub("_", file_name).strip() or "document"
    encoded = urllib.parse.quote(file_name, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def file_bytes(doc_type: str, content: Any) -> bytes:
    """The bytes of the file: nbformat JSON (as Jupyter writes it) or the text."""
    if doc_type == "notebook":
        return (json.dumps(content, indent=1, ensure_ascii=False) + "\n").encode()
    return str(content).encode()
