"""The trash and downloads in a real browser against a real ``jupyter collab-docs``
(issue #15): on the web page, delete into the trash, restore, delete forever, download a
document, and download one deleted while the page had it open (from the page's Y.Doc);
in JupyterLab's Shared documents panel, the same trash, and a document deleted while
open saved from JupyterLab's own model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_jupyterlab import create, current, open_from_panel, open_lab, share, status
from tests.browser.test_jupyterlab import editor as lab_editor
from tests.browser.test_webapp import editor, open_document, sign_in, type_at_end

# One worker runs the whole module: its browser and server are per module (xdist_group).
pytestmark = pytest.mark.xdist_group("browser-trash")

#: The panel re-reads after each action; on a busy machine that may take a while.
SLOW = 15_000


def trash_ids(collab_server: Any, user: str) -> list[str]:
    answer = collab_server.as_user(user)("GET", "trash")
    return [d["id"] for d in answer["documents"]]


def downloaded(page: Page, button: Any, tmp_path: Path) -> tuple[str, str]:
    """Click a download button; the saved file's name and text."""
    with page.expect_download() as info:
        button.click()
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return download.suggested_filename, path.read_text()


def test_web_page_trash_restore_and_delete_forever(user_page, collab_server, screenshot):
    doc = create(collab_server, "alice", "Trash me", "file", "kept")
    share(collab_server, doc["id"], "user:bob", "editor")
    alice = user_page("alice")
    sign_in(alice, collab_server, "alice")
    row = alice.locator(f".doc-rows[aria-label=Documents] li[data-id='{doc['id']}']")
    row.locator("button", has_text="Delete").click()
    expect(alice.locator("dialog")).to_contain_text("trash")
    alice.locator("dialog button.danger").click()
    expect(row).to_have_count(0)
    assert trash_ids(collab_server, "alice") == [doc["id"]]

    alice.locator(".tabs button", has_text="Trash").click()
    trashed = alice.locator(f".doc-rows[aria-label=Trash] li[data-id='{doc['id']}']")
    expect(trashed).to_contain_text("Trash me")
    expect(trashed).to_contain_text("purged on")
    screenshot(alice, "webapp-trash")
    trashed.locator("button", has_text="Restore").click()
    expect(trashed).to_have_count(0)
    assert trash_ids(collab_server, "alice") == []
    # Back, shares intact: bob reads it again.
    assert collab_server.as_user("bob")("GET", f"documents/{doc['id']}")["role"] == "editor"
    alice.locator(".tabs button", has_text="All").click()
    expect(row).to_be_visible()

    # Delete forever: asked first; cancelling keeps it.
    collab_server.as_user("alice")("DELETE", f"documents/{doc['id']}")
    alice.reload()
    alice.locator(".tabs button", has_text="Trash").click()
    trashed.locator("button", has_text="Delete forever").click()
    alice.locator("dialog button", has_text="Cancel").click()
    expect(trashed).to_be_visible()
    trashed.locator("button", has_text="Delete forever").click()
    expect(alice.locator("dialog")).to_contain_text("cannot be undone")
    alice.locator("dialog button.danger").click()
    expect(trashed).to_have_count(0)
    expect(alice.locator(".doc-list")).to_contain_text("The trash is empty.")
    assert trash_ids(collab_server, "alice") == []


def test_web_page_downloads_a_notebook_and_a_text(user_page, collab_server, tmp_path):
    content = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "code", "id": "c1", "source": "x = 1", "metadata": {}, "outputs": []},
        ],
    }
    content["cells"][0]["execution_count"] = None
    nb = create(collab_server, "alice", "Analysis", "notebook", content)
    text = create(collab_server, "alice", "notes.md", "file", "# Notes\n")
    alice = user_page("alice")
    sign_in(alice, collab_server, "alice")

    open_document(alice, collab_server, nb["id"])
    name, saved = downloaded(alice, alice.locator(".download-button"), tmp_path)
    assert name == "Analysis.ipynb"
    notebook = json.loads(saved)
    assert [c["source"] for c in notebook["cells"]] == ["x = 1"]
    assert notebook["nbformat"] == 4

    open_document(alice, collab_server, text["id"])
    assert downloaded(alice, alice.locator(".download-button"), tmp_path) == (
        "notes.md",
        "# Notes\n",
    )


def test_a_page_keeps_what_it_has_of_a_document_deleted_under_it(
    user_page, collab_server, tmp_path, screenshot
):
    doc = create(collab_server, "alice", "Gone soon", "file", "first line\n")
    share(collab_server, doc["id"], "user:bob", "editor")
    bob = user_page("bob")
    sign_in(bob, collab_server, "bob")
    open_document(bob, collab_server, doc["id"])
    type_at_end(bob, editor(bob), "bob's line")
    expect(editor(bob)).to_contain_text("bob's line")

    collab_server.as_user("alice")("DELETE", f"documents/{doc['id']}")
    expect(bob.locator(".status")).to_have_attribute("data-state", "deleted")
    button = bob.locator(".download-button")
    expect(button).to_be_visible()
    screenshot(bob, "webapp-deleted-download")
    name, saved = downloaded(bob, button, tmp_path)
    assert name == "Gone soon.txt"
    assert saved == "first line\nbob's line"
    collab_server.as_user("alice")("DELETE", f"trash/{doc['id']}")  # the next test counts


def test_jupyterlab_panel_trash_restore_and_delete_forever(user_page, collab_server, screenshot):
    doc = create(collab_server, "alice", "Lab trash", "notebook", None)
    alice = user_page("alice")
    open_lab(alice, collab_server, "alice")
    panel = alice.locator("#jp-CollabDocs-panel")
    item = panel.locator(f'.jp-CollabDocs-doc[data-id="{doc["id"]}"]')
    item.wait_for(timeout=15_000)
    item.locator(".jp-CollabDocs-deleteDoc").click()
    expect(alice.locator(".jp-Dialog")).to_contain_text("Trash", timeout=SLOW)
    alice.locator(".jp-Dialog .jp-mod-warn").click()
    expect(item).to_have_count(0, timeout=SLOW)

    panel.locator(".jp-CollabDocs-trashTitle").click()
    expect(panel.locator(".jp-CollabDocs-trashTitle")).to_have_text("Trash (1)", timeout=SLOW)
    trashed = panel.locator(f'.jp-CollabDocs-trashed[data-id="{doc["id"]}"]')
    expect(trashed).to_contain_text("Lab trash", timeout=SLOW)
    screenshot(alice, "jupyterlab-trash")
    trashed.locator(".jp-CollabDocs-restoreDoc").click()
    expect(item).to_be_visible(timeout=SLOW)
    expect(trashed).to_have_count(0, timeout=SLOW)
    assert trash_ids(collab_server, "alice") == []

    item.locator(".jp-CollabDocs-deleteDoc").click()
    alice.locator(".jp-Dialog .jp-mod-warn").click()
    trashed.locator(".jp-CollabDocs-purgeDoc").click()
    expect(alice.locator(".jp-Dialog")).to_contain_text("cannot be undone", timeout=SLOW)
    alice.locator(".jp-Dialog .jp-mod-warn").click()
    expect(trashed).to_have_count(0, timeout=SLOW)
    expect(panel.locator(".jp-CollabDocs-trashTitle")).to_have_text("Trash (0)", timeout=SLOW)
    assert trash_ids(collab_server, "alice") == []


def test_jupyterlab_saves_a_document_deleted_while_open(user_page, collab_server, tmp_path):
    doc = create(collab_server, "alice", "Lab notes.md", "file", "# Kept\n")
    share(collab_server, doc["id"], "user:bob", "editor")
    bob = user_page("bob")
    open_lab(bob, collab_server, "bob")
    open_from_panel(bob, doc)
    expect(lab_editor(bob)).to_contain_text("# Kept", timeout=SLOW)
    download = current(bob).locator(".jp-CollabDocs-downloadButton")
    expect(download).to_be_hidden()  # File > Download serves a live document

    collab_server.as_user("alice")("DELETE", f"documents/{doc['id']}")
    expect(status(bob)).to_have_attribute("data-state", "deleted", timeout=SLOW)
    expect(download).to_be_visible(timeout=SLOW)
    assert downloaded(bob, download, tmp_path) == ("Lab notes.md", "# Kept\n")
    collab_server.as_user("alice")("DELETE", f"trash/{doc['id']}")
