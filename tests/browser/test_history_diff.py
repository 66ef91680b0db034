"""Version history you can read, in both faces: what changed between two versions, or a
version and now (cells added, removed, moved and changed, source lines, outputs; lines of
a text), who changed it, and a document's hostile content shown as inert text."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.hostile import HOSTILE_OUTPUT, PWNED, watch_pwned
from tests.browser.test_jupyterlab import (
    create,
    current,
    open_from_panel,
    open_lab,
    replace_content,
    save_version,
    share,
)
from tests.browser.test_webapp import open_document, sign_in

# One worker runs the whole module: its browser and server are per module (xdist_group).
pytestmark = pytest.mark.xdist_group("browser-history-diff")

HOSTILE_SOURCE = "<img src=x onerror=window.__pwned=1>"


def cell(cid: str, source: str, cell_type: str = "code", outputs: Any = ()) -> dict[str, Any]:
    found: dict[str, Any] = {"id": cid, "cell_type": cell_type, "source": source, "metadata": {}}
    if cell_type == "code":
        found |= {"outputs": list(outputs), "execution_count": None}
    return found


def notebook(*cells: dict[str, Any]) -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}


def notebook_edited_by_bob(collab_server, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A notebook alice kept a version of, then bob edited: a changed, b moved to the
    top, c removed, a hostile markdown cell and a hostile output added."""
    doc = create(
        collab_server,
        "alice",
        name,
        "notebook",
        notebook(
            cell("a", "x = 1\nprint(x)"), cell("b", "# Notes", "markdown"), cell("c", "gone()")
        ),
    )
    share(collab_server, doc["id"], "user:bob", "editor")
    version = save_version(collab_server, doc["id"], "before")
    edited = notebook(
        cell("b", "# Notes", "markdown"),
        cell("a", "x = 2\nprint(x)", outputs=[HOSTILE_OUTPUT]),
        cell("h", HOSTILE_SOURCE, "markdown"),
    )
    replace_content(collab_server, doc["id"], edited, by="bob")
    return doc, version


def text_edited_by_bob(collab_server, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    doc = create(collab_server, "alice", name, "file", "line one\nline two\nline three\n")
    share(collab_server, doc["id"], "user:bob", "editor")
    version = save_version(collab_server, doc["id"], "start")
    edited = f"line one\nline 2\nline three\n{HOSTILE_SOURCE}\n"
    replace_content(collab_server, doc["id"], edited, by="bob")
    return doc, version


def stored_until(collab_server, doc_id: str, text: str) -> None:
    """Wait (polling the server's copy) until the document holds ``text``."""
    deadline = time.monotonic() + 15
    while text not in str(collab_server.request("GET", f"documents/{doc_id}/content")):
        assert time.monotonic() < deadline, f"{text!r} never reached the server"
        time.sleep(0.1)


def check_notebook_diff(page: Page, diff: Any, cells: str, outputs: str, lines: str) -> None:
    """The diff shows bob's edits, by him, and nothing of the document runs or renders."""
    expect(diff).to_contain_text("Bob Builder (bob)")
    expect(diff).to_contain_text("1 added, 1 removed, 1 changed, 1 moved")
    expect(diff.locator(f'{cells}[data-status="removed"]')).to_contain_text("- gone()")
    added = diff.locator(f'{cells}[data-status="added"]')
    expect(added).to_contain_text(f"+ {HOSTILE_SOURCE}")
    changed = diff.locator(f'{cells}[data-status="changed"]')
    expect(changed).to_contain_text("changed: cell 2, code · by Bob Builder")
    expect(changed.locator(f'{lines}[data-kind="removed"]')).to_have_text("- x = 1")
    expect(changed.locator(f'{lines}[data-kind="added"]')).to_have_text("+ x = 2")
    expect(changed.locator(outputs)).to_have_text("output 1 added: display_data (text/html)")
    expect(diff.locator(f'{cells}[data-status="moved"]')).to_contain_text("was cell 2")
    # hostile content is text: no element made of it, no handler run, no request sent
    expect(diff.locator("img, script, b.hostile")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None


# -- the web page -------------------------------------------------------------------------


def open_web_history(page: Page, collab_server, doc: dict[str, Any]) -> Any:
    open_document(page, collab_server, doc["id"])
    page.locator(".history-button").click()
    dialog = page.locator("dialog .history")
    expect(dialog.locator(".version").first).to_be_visible()
    return dialog


def test_web_page_history_compares_saves_and_restores(user_page, collab_server, screenshot):
    doc, before = notebook_edited_by_bob(collab_server, "Analysis")
    alice = user_page("alice")
    requests = watch_pwned(alice)
    sign_in(alice, collab_server, "alice")
    history = open_web_history(alice, collab_server, doc)

    # an editor names the current state, then compares the two versions
    history.locator(".version-label").fill("after bob")
    history.locator(".version-save button").click()
    expect(history.locator(".version-name", has_text="after bob")).to_have_count(1)
    history.locator(".compare-from").select_option(before["id"])
    after = history.locator(".version", has_text="after bob").get_attribute("data-version")
    history.locator(".compare-to").select_option(after)
    history.locator(".compare").click()
    diff = history.locator(".diff")
    expect(history.locator(".version-view h3")).to_have_text("Changes from “before” to “after bob”")
    check_notebook_diff(alice, diff, ".cell-diff", ".output-diff", ".diff-line")
    screenshot(alice, "webapp-history-diff")
    assert not [url for url in requests if PWNED in url]

    # restore, after confirming: the old content is back
    history.locator(f'.version[data-version="{before["id"]}"] .restore').click()
    alice.locator("dialog .button.danger", has_text="Restore").click()
    stored_until(collab_server, doc["id"], "gone()")


def test_web_page_text_changes_since_a_version_include_live_edits(user_page, collab_server):
    doc, start = text_edited_by_bob(collab_server, "notes.txt")
    alice = user_page("alice")
    sign_in(alice, collab_server, "alice")
    open_document(alice, collab_server, doc["id"])
    content = alice.locator(".text-editor .cm-content")
    content.click()
    alice.keyboard.press("Control+End")
    alice.keyboard.type("typed by alice")
    stored_until(collab_server, doc["id"], "typed by alice")

    alice.locator(".history-button").click()
    history = alice.locator("dialog .history")
    history.locator(f'.version[data-version="{start["id"]}"] .compare-now').click()
    diff = history.locator(".diff")
    expect(diff.locator('.diff-line[data-kind="removed"]')).to_have_text(["- line two"])
    expect(diff.locator('.diff-line[data-kind="added"]')).to_have_text(
        ["+ line 2", f"+ {HOSTILE_SOURCE}", "+ typed by alice"]
    )
    # bob's REST edit is in a version's count; alice's, not yet kept, is live
    expect(diff.locator('.diff-author[data-username="bob"]')).to_contain_text("Bob Builder")
    expect(diff.locator('.diff-author[data-username="alice"]')).to_contain_text("Alice Liddell")
    expect(diff.locator("img")).to_have_count(0)
    assert alice.evaluate("window.__pwned") is None


def test_web_page_viewer_compares_but_cannot_save_or_restore(user_page, collab_server):
    doc, start = text_edited_by_bob(collab_server, "read-only.txt")
    share(collab_server, doc["id"], "user:carol", "viewer")
    carol = user_page("carol")
    sign_in(carol, collab_server, "carol")
    history = open_web_history(carol, collab_server, doc)
    expect(history.locator(".version-save")).to_have_count(0)
    expect(history.locator(".restore")).to_have_count(0)
    history.locator(f'.version[data-version="{start["id"]}"] .compare-now').click()
    expect(history.locator(".diff-summary")).to_have_text("2 lines added, 1 removed")


# -- JupyterLab ---------------------------------------------------------------------------


def open_lab_history(page: Page, collab_server, doc: dict[str, Any]) -> Any:
    open_lab(page, collab_server, "alice")
    open_from_panel(page, doc)
    current(page).locator(".jp-CollabDocs-historyButton").click()
    panel = page.locator(".jp-CollabDocs-history")
    expect(panel.locator(".jp-CollabDocs-version").first).to_be_visible()
    return panel


def test_jupyterlab_history_shows_what_changed_in_a_notebook(user_page, collab_server, screenshot):
    doc, before = notebook_edited_by_bob(collab_server, "Lab analysis")
    alice = user_page("alice")
    requests = watch_pwned(alice)
    panel = open_lab_history(alice, collab_server, doc)
    panel.locator(
        f'.jp-CollabDocs-version[data-version="{before["id"]}"] .jp-CollabDocs-compareNow'
    ).click()
    expect(panel.locator(".jp-CollabDocs-versionView h4")).to_have_text(
        "Changes from “before” to “now”"
    )
    diff = panel.locator(".jp-CollabDocs-compare")
    check_notebook_diff(
        alice,
        diff,
        ".jp-CollabDocs-cellDiff",
        ".jp-CollabDocs-outputDiff",
        ".jp-CollabDocs-diffLine",
    )
    screenshot(alice, "jupyterlab-history-diff")
    assert not [url for url in requests if PWNED in url]


def test_jupyterlab_history_compares_two_versions_of_a_text(user_page, collab_server):
    doc, start = text_edited_by_bob(collab_server, "lab-notes.txt")
    end = collab_server.request(
        "POST", f"documents/{doc['id']}/versions", {"label": "end"}, collab_server.tokens["bob"]
    )
    alice = user_page("alice")
    panel = open_lab_history(alice, collab_server, doc)
    expect(panel.locator(".jp-CollabDocs-compareFrom option")).to_have_count(2)
    panel.locator(".jp-CollabDocs-compareFrom").select_option(start["id"])
    panel.locator(".jp-CollabDocs-compareTo").select_option(end["id"])
    panel.locator(".jp-CollabDocs-compareButton").click()
    diff = panel.locator(".jp-CollabDocs-compare")
    expect(diff.locator('.jp-CollabDocs-diffLine[data-kind="removed"]')).to_have_text(
        ["- line two"]
    )
    expect(diff.locator('.jp-CollabDocs-diffLine[data-kind="added"]')).to_have_text(
        ["+ line 2", f"+ {HOSTILE_SOURCE}"]
    )
    expect(diff.locator(".jp-CollabDocs-compareAuthor")).to_have_text(
        ["Bob Builder (bob): 1 change"]
    )
    expect(diff.locator("img")).to_have_count(0)
    assert alice.evaluate("window.__pwned") is None
