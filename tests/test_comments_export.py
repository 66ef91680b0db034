"""``jupyter collab-docs documents export --with-comments``: the stored content and its
comment threads in one JSON object, next to a running server."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.conftest import StandaloneServer


def test_export_with_comments(standalone: StandaloneServer, tmp_path: Path) -> None:
    token = standalone.cli("users", "add", "alice")
    standalone.start()
    doc = standalone.request(
        "POST", "documents", {"name": "Notes", "type": "file", "content": "hello world"}, token
    )
    anchor = {"kind": "text", "index": 6, "length": 5}
    thread = standalone.request(
        "POST", f"documents/{doc['id']}/threads", {"anchor": anchor, "body": "@bob look"}, token
    )
    standalone.request(
        "PUT", f"documents/{doc['id']}/content", {"content": ">> hello world"}, token
    )

    out = tmp_path / "notes.json"
    for _ in range(50):  # the room writes to the store within write_delay
        standalone.cli("documents", "export", doc["id"], "--with-comments", "--output", str(out))
        exported = json.loads(out.read_text())
        if exported["content"] == ">> hello world":
            break
        time.sleep(0.1)
    assert {k: exported[k] for k in ("id", "name", "type", "format", "content")} == {
        "id": doc["id"],
        "name": "Notes",
        "type": "file",
        "format": "text",
        "content": ">> hello world",
    }
    [kept] = exported["threads"]
    assert kept["comments"] == thread["comments"]
    assert (kept["quote"], kept["anchor"], kept["resolved"]) == ("world", thread["anchor"], False)
    # resolved against the exported content
    assert kept["position"] == {"attached": True, "start": 9, "end": 14, "cell_index": None}
    # without the flag, the content alone, as before
    assert standalone.cli("documents", "export", doc["id"]) == ">> hello world"
