"""``jupyter collab-docs documents import|list|export`` on the configured store, next to a
running server."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import nbformat

from tests.conftest import StandaloneServer


def notebook_file(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Welcome"),
        nbformat.v4.new_code_cell("print('hi')"),
    ]
    nbformat.write(nb, path)
    return path


def run(server: StandaloneServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        server.command(*args, f"--CollabDocsApp.data_dir={server.data_dir}"),
        capture_output=True,
        text=True,
    )


def test_import_is_served_at_once_and_exports_back(
    standalone: StandaloneServer, tmp_path: Path
) -> None:
    token = standalone.cli("users", "add", "alice")
    standalone.start()

    imported = json.loads(
        standalone.cli(
            "documents", "import", str(notebook_file(tmp_path / "Intro.ipynb")), "--owner", "alice"
        )
    )
    assert (imported["name"], imported["type"], imported["owner"]) == ("Intro", "notebook", "alice")
    text_path = tmp_path / "notes.md"
    text_path.write_text("line one\nline two\n")
    text = json.loads(
        standalone.cli("documents", "import", str(text_path), "--owner", "alice", "--name", "Notes")
    )

    listed = standalone.request("GET", "documents", token=token)["documents"]
    assert {d["id"]: d["role"] for d in listed} == {imported["id"]: "owner", text["id"]: "owner"}
    served = standalone.request("GET", f"documents/{imported['id']}/content", token=token)
    assert [c["source"] for c in served["content"]["cells"]] == ["# Welcome", "print('hi')"]

    # An edit through the server, then an export of what is stored.
    standalone.request("PUT", f"documents/{text['id']}/content", {"content": "edited\n"}, token)
    out = tmp_path / "out.md"
    for _ in range(50):  # the room writes to the store within write_delay
        standalone.cli("documents", "export", text["id"], "--output", str(out))
        if out.read_text() == "edited\n":
            break
        time.sleep(0.1)
    assert out.read_text() == "edited\n"
    exported = json.loads(standalone.cli("documents", "export", imported["id"]))
    assert exported["cells"][1]["source"] == "print('hi')"
    assert f"{imported['id']}  notebook  alice" in standalone.cli("documents", "list")

    audit = (standalone.data_dir / "audit.jsonl").read_text().splitlines()
    created = [json.loads(line) for line in audit if '"document.created"' in line]
    assert {e["document_id"] for e in created} == {imported["id"], text["id"]}


def test_bad_imports_fail_clearly_and_create_nothing(
    standalone: StandaloneServer, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [], "nbformat": 3}')
    cases = [
        ((str(broken), "--owner", "alice"), "nbformat 4"),
        ((str(tmp_path / "missing.txt"), "--owner", "alice"), "No such file"),
        ((str(notebook_file(tmp_path / "ok.ipynb")),), "--owner is required"),
    ]
    for args, message in cases:
        result = run(standalone, "documents", "import", *args)
        assert result.returncode == 1 and message in result.stderr, result.stderr
    assert standalone.cli("documents", "list") == ""
    missing = run(standalone, "documents", "export", "nope")
    assert missing.returncode == 1 and "no document 'nope'" in missing.stderr


def test_import_for_an_unknown_owner_fails_and_creates_nothing(
    standalone: StandaloneServer, tmp_path: Path
) -> None:
    standalone.cli("users", "add", "alice")
    notebook = str(notebook_file(tmp_path / "Intro.ipynb"))
    for owner in ("nobody", "Alice", "alic"):
        result = run(standalone, "documents", "import", notebook, "--owner", owner)
        assert result.returncode == 1, result.stdout
        assert f"no user {owner!r}" in result.stderr, result.stderr
        assert result.stdout == ""
    assert standalone.cli("documents", "list") == ""
    audit = standalone.data_dir / "audit.jsonl"
    assert not audit.exists() or "document.created" not in audit.read_text()

    # Where users are not ours to know (JupyterHub, a personal server), say so.
    imported = run(
        standalone, "documents", "import", notebook, "--owner", "hubuser", "--external-owner"
    )
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["owner"] == "hubuser"
    malformed = run(
        standalone, "documents", "import", notebook, "--owner", "a b", "--external-owner"
    )
    assert malformed.returncode == 1 and "invalid owner" in malformed.stderr, malformed.stderr
