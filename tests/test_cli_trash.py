"""``jupyter collab-docs documents trash|restore``: the trash from the command line, next
to a running server (issue #15)."""

from __future__ import annotations

import json

from tests.conftest import StandaloneServer
from tests.test_cli_documents import run


def test_list_and_restore_the_trash(standalone: StandaloneServer) -> None:
    token = standalone.cli("users", "add", "alice")
    standalone.start()
    doc = standalone.request("POST", "documents", {"name": "Oops", "type": "file"}, token)
    standalone.request("DELETE", f"documents/{doc['id']}", token=token)

    listed = standalone.cli("documents", "trash")
    assert doc["id"] in listed and "alice" in listed and "Oops" in listed
    assert doc["id"] not in standalone.cli("documents", "list")

    restored = json.loads(standalone.cli("documents", "restore", doc["id"]))
    assert (restored["id"], restored["name"]) == (doc["id"], "Oops")
    assert standalone.request("GET", f"documents/{doc['id']}", token=token)["name"] == "Oops"
    assert standalone.cli("documents", "trash") == ""
    audit = (standalone.data_dir / "audit.jsonl").read_text().splitlines()
    [event] = [json.loads(line) for line in audit if '"document.restored"' in line]
    assert (event["document_id"], event["actor"]) == (doc["id"], None)

    again = run(standalone, "documents", "restore", doc["id"])
    assert again.returncode == 1 and "not in the trash" in again.stderr, again.stderr
