"""The JupyterLab extension in a real browser against a real ``jupyter collab-docs``.

Two users edit one shared notebook live (text and cursors), a viewer is read-only until
upgraded (4403 then reconnect), a restored version reaches everyone, a deleted document
says so, a notebook on the ``CollabDocs`` drive opens without a kernel for a user who may
run no code and runs cells on a normal kernel for an administrator, and outputs another
editor writes over the room socket never run in the reader's JupyterLab.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from typing import Any

import pytest
from jupyter_ydoc import YNotebook
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.hostile import (
    HOSTILE_OUTPUT,
    append_trusted_hostile_cell,
    edit_room,
    watch_pwned,
)

# One worker runs the whole module: its browser and server are per module (xdist_group).
pytestmark = pytest.mark.xdist_group("browser-jupyterlab")

NOTEBOOK_META = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}

# JupyterLab's first load compiles nothing but fetches a lot: allow it some time.
LAB_TIMEOUT = 60_000


def notebook(*sources: str) -> dict[str, Any]:
    cells = [
        {
            "cell_type": "code",
            "id": uuid.uuid4().hex[:8],
            "source": source,
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
        for source in sources
    ]
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": NOTEBOOK_META, "cells": cells}


def create(collab_server, owner: str, name: str, doc_type: str, content: Any) -> dict[str, Any]:
    body = {"name": name, "type": doc_type, "content": content}
    return collab_server.request("POST", "documents", body, collab_server.tokens[owner])


def share(collab_server, doc_id: str, principal: str, role: str, by: str = "alice") -> None:
    collab_server.request(
        "PUT", f"documents/{doc_id}/shares/{principal}", {"role": role}, collab_server.tokens[by]
    )


def save_version(collab_server, doc_id: str, label: str, by: str = "alice") -> dict[str, Any]:
    body = {"label": label}
    return collab_server.request(
        "POST", f"documents/{doc_id}/versions", body, collab_server.tokens[by]
    )


def replace_content(collab_server, doc_id: str, content: Any, by: str = "alice") -> None:
    body = {"content": content}
    collab_server.request("PUT", f"documents/{doc_id}/content", body, collab_server.tokens[by])


def open_lab(page: Page, collab_server, user: str) -> None:
    """Sign in with the user's token and wait for JupyterLab and the sidebar panel."""
    # ?reset: start from an empty workspace (the server's workspace is shared by users).
    page.goto(f"{collab_server.url}/lab?reset&token={collab_server.tokens[user]}")
    tab = page.locator('.jp-SideBar [data-id="jp-CollabDocs-panel"]')
    tab.wait_for(timeout=LAB_TIMEOUT)
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click()
    expect(page.locator("#jp-CollabDocs-panel")).to_be_visible()


def open_from_panel(page: Page, doc: dict[str, Any]) -> None:
    """Open a document from the Shared documents panel; wait until it is live."""
    item = page.locator(f'#jp-CollabDocs-panel .jp-CollabDocs-doc[data-id="{doc["id"]}"]')
    item.wait_for(timeout=15_000)  # the panel polls every few seconds
    item.locator(".jp-CollabDocs-docName").click()
    expect(status(page)).to_have_attribute(
        "data-state", re.compile("connected|read-only"), timeout=30_000
    )


def status(page: Page):
    return current(page).locator(".jp-CollabDocs-status").first


def current(page: Page):
    """The document widget shown in the main area."""
    return page.locator(".jp-MainAreaWidget.jp-CollabDocs-document:not(.lm-mod-hidden)")


def editor(page: Page, index: int = 0):
    """The CodeMirror content of a cell (notebook) or of the text editor."""
    return current(page).locator(".cm-content").nth(index)


def type_into(page: Page, text: str, index: int = 0) -> None:
    target = editor(page, index)
    target.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def test_two_users_edit_a_notebook_live_and_see_each_others_cursors(
    collab_server, user_page, screenshot
) -> None:
    doc = create(collab_server, "alice", "Team notes", "notebook", notebook("x = 1", "# second"))
    share(collab_server, doc["id"], "user:bob", "editor")

    alice, bob = user_page("alice"), user_page("bob")
    open_lab(alice, collab_server, "alice")
    open_lab(bob, collab_server, "bob")
    open_from_panel(alice, doc)
    open_from_panel(bob, doc)
    expect(alice.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")).to_contain_text(
        "Team notes.ipynb"
    )
    expect(status(alice)).to_have_attribute("data-state", "connected")

    type_into(alice, "  # from alice")
    expect(editor(bob)).to_contain_text("x = 1  # from alice")
    type_into(bob, "\nprint('bob was here')", index=1)
    expect(editor(alice, 1)).to_contain_text("print('bob was here')")

    # Each sees the other's cursor with a name, and the other's avatar.
    expect(bob.locator('.jp-CollabDocs-caret[data-user="alice"]')).to_have_count(1)
    expect(alice.locator('.jp-CollabDocs-caret[data-user="bob"]')).to_have_count(1)
    expect(alice.locator('.jp-CollabDocs-caret[data-user="bob"]')).to_contain_text("Bob Builder")
    expect(alice.locator('.jp-CollabDocs-avatar[data-user="bob"]')).to_have_count(1)
    expect(bob.locator('.jp-CollabDocs-avatar[data-user="alice"]')).to_have_count(1)
    # Both put their cursors back for the picture (closing the news toast blurs them).
    for page in (alice, bob):
        dismiss_news(page)
    type_into(alice, "")
    type_into(bob, "  # !", index=1)
    expect(alice.locator('.jp-CollabDocs-caret[data-user="bob"]')).to_have_count(1)
    expect(bob.locator('.jp-CollabDocs-caret[data-user="alice"]')).to_have_count(1)
    screenshot(alice, "jupyterlab-two-users-alice")
    screenshot(bob, "jupyterlab-two-users-bob")

    # Stored on the server, as typed.
    content = collab_server.request("GET", f"documents/{doc['id']}/content")
    sources = [cell["source"] for cell in content["content"]["cells"]]
    assert sources[0] == "x = 1  # from alice"
    assert "print('bob was here')" in sources[1]

    # Saving is a no-op and nothing is left "dirty" to nag about on close.
    alice.keyboard.press("Control+s")
    tab = alice.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    expect(tab).not_to_have_class(re.compile("jp-mod-dirty"), timeout=5_000)


def test_viewer_is_read_only_until_upgraded(collab_server, user_page, screenshot) -> None:
    collab_server.server.cli("groups", "add", "physics")  # shares name groups that exist
    doc = create(collab_server, "alice", "Read me", "file", "hello viewers\n")
    share(collab_server, doc["id"], "user:carol", "viewer")

    carol = user_page("carol")
    open_lab(carol, collab_server, "carol")
    open_from_panel(carol, doc)
    expect(status(carol)).to_have_attribute("data-state", "read-only")
    expect(editor(carol)).to_have_attribute("aria-readonly", "true")
    editor(carol).click()
    carol.keyboard.type("sneaky edit")
    expect(editor(carol)).not_to_contain_text("sneaky")
    screenshot(carol, "jupyterlab-viewer-read-only")

    # The owner makes carol an editor in the share dialog: carol's socket closes with
    # 4403, reconnects, and her editor becomes editable.
    alice = user_page("alice")
    open_lab(alice, collab_server, "alice")
    open_from_panel(alice, doc)
    current(alice).locator(".jp-CollabDocs-shareButton").click()
    dialog = alice.locator(".jp-Dialog .jp-CollabDocs-share")
    row = dialog.locator('.jp-CollabDocs-shareRow[data-principal="user:carol"]')
    expect(row.locator(".jp-CollabDocs-shareRole")).to_have_value("viewer")
    dialog.locator(".jp-CollabDocs-principal").fill("group:physics")
    dialog.locator(".jp-CollabDocs-add").click()
    expect(dialog.locator('.jp-CollabDocs-shareRow[data-principal="group:physics"]')).to_have_count(
        1
    )
    row.locator(".jp-CollabDocs-shareRole").select_option("editor")
    expect(dialog.locator(".jp-CollabDocs-message")).to_contain_text("user:carol is now editor")
    screenshot(alice, "jupyterlab-share-dialog")
    alice.locator(".jp-Dialog .jp-mod-accept").last.click()
    expect(status(carol)).to_have_attribute("data-state", "connected", timeout=20_000)
    expect(editor(carol)).not_to_have_attribute("aria-readonly", "true")
    type_into(carol, "carol can write")
    expect(editor(carol)).to_contain_text("carol can write")

    def stored() -> str:
        return collab_server.request("GET", f"documents/{doc['id']}/content")["content"]

    expect_eventually(lambda: "carol can write" in stored())
    screenshot(carol, "jupyterlab-viewer-upgraded")


def test_restoring_a_version_changes_the_open_document_for_everyone(
    collab_server, user_page, screenshot
) -> None:
    doc = create(collab_server, "alice", "Drafts", "file", "first draft\n")
    share(collab_server, doc["id"], "user:bob", "editor")
    version = save_version(collab_server, doc["id"], "v1")
    replace_content(collab_server, doc["id"], "second draft, much worse\n")

    alice, bob = user_page("alice"), user_page("bob")
    open_lab(alice, collab_server, "alice")
    open_lab(bob, collab_server, "bob")
    open_from_panel(alice, doc)
    open_from_panel(bob, doc)
    expect(editor(bob)).to_contain_text("second draft")

    current(alice).locator(".jp-CollabDocs-historyButton").click()
    row = alice.locator(f'.jp-CollabDocs-version[data-version="{version["id"]}"]')
    row.locator(".jp-CollabDocs-viewVersion").click()
    expect(alice.locator(".jp-CollabDocs-versionView")).to_contain_text("first draft")
    row.locator(".jp-CollabDocs-restoreVersion").click()
    alice.locator(".jp-Dialog .jp-mod-warn").click()

    expect(editor(bob)).to_contain_text("first draft")
    expect(editor(bob)).not_to_contain_text("second draft")
    expect(editor(alice)).to_contain_text("first draft")
    screenshot(alice, "jupyterlab-version-history")

    # The owner's activity feed has the restore.
    current(alice).locator(".jp-CollabDocs-activityButton").click()
    expect(alice.locator('.jp-CollabDocs-event[data-kind="version.restored"]')).to_have_count(1)
    expect(bob.locator(".jp-CollabDocs-activityButton:visible")).to_have_count(0)


def test_deleting_a_document_shows_deleted_to_the_other_user(
    collab_server, user_page, screenshot
) -> None:
    doc = create(collab_server, "alice", "Short lived", "notebook", notebook("print(1)"))
    share(collab_server, doc["id"], "user:bob", "editor")

    alice, bob = user_page("alice"), user_page("bob")
    open_lab(alice, collab_server, "alice")
    open_lab(bob, collab_server, "bob")
    open_from_panel(bob, doc)

    item = alice.locator(f'#jp-CollabDocs-panel .jp-CollabDocs-doc[data-id="{doc["id"]}"]')
    item.locator(".jp-CollabDocs-deleteDoc").click()
    alice.locator(".jp-Dialog .jp-mod-warn").click()
    expect(item).to_have_count(0)

    expect(status(bob)).to_have_attribute("data-state", "deleted", timeout=15_000)
    expect(bob.locator(".jp-CollabDocs-banner[data-kind='deleted']")).to_be_visible()
    expect(editor(bob)).to_have_attribute("aria-readonly", "true")
    screenshot(bob, "jupyterlab-deleted")


def test_a_drive_notebook_runs_on_a_kernel_only_for_users_who_may_run_code(
    collab_server, user_page, screenshot
) -> None:
    doc = create(collab_server, "alice", "Compute", "notebook", notebook("6 * 7"))
    share(collab_server, doc["id"], "user:ada", "editor")

    # alice is no administrator: the server lets her run no code, so the notebook opens
    # without a kernel, asks for none, and running a cell does nothing.
    me = collab_server.as_user("alice")("GET", "me")
    assert me.get("can_run_code") is False, me
    alice = user_page("alice")
    kernel_requests = watch_kernel_requests(alice)
    open_lab(alice, collab_server, "alice")
    open_from_panel(alice, doc)
    area = current(alice)
    expect(area).to_have_class(re.compile(r"\bjp-CollabDocs-noKernel\b"))
    expect(area.locator('.jp-Toolbar-item[data-jp-item-name="run"]')).to_be_hidden()
    expect(area.locator('.jp-Toolbar-item[data-jp-item-name="kernelName"]')).to_be_hidden()
    editor(alice).click()
    alice.keyboard.press("Shift+Enter")
    # A later key binding took effect: the run (and any dialog it would open) is past.
    alice.keyboard.press("Escape")
    alice.keyboard.press("b")
    expect(area.locator(".jp-Cell")).to_have_count(2)
    expect(alice.locator(".jp-Dialog")).to_have_count(0)
    expect(area.locator(".jp-OutputArea-output")).to_have_count(0)
    assert kernel_requests == []
    sessions = jupyter_api(collab_server, "admin", "sessions")
    assert not any(doc["id"] in s["path"] for s in sessions), sessions
    screenshot(alice, "jupyterlab-no-kernel")
    # The launcher's Terminal and Text File (the server refuses both to her) do nothing,
    # rather than end in an error dialog.
    alice.locator(".lm-DockPanel-tabBar .lm-TabBar-addButton").first.click()  # a launcher
    server_requests = watch_server_requests(alice)
    for card in ("Terminal", "Text File"):
        alice.locator(".jp-LauncherCard:visible").filter(
            has=alice.locator(".jp-LauncherCard-label", has_text=re.compile(f"^{card}$"))
        ).first.click()
    # The panel's refresh answers after the clicks were handled.
    with alice.expect_response(re.compile(r"/api/collab-docs/documents")):
        alice.locator("#jp-CollabDocs-panel .jp-CollabDocs-refresh").click()
    expect(alice.locator(".jp-Dialog")).to_have_count(0)
    assert server_requests == []

    # ada, an administrator, runs it on a kernel (session keyed by the drive path).
    ada = user_page("ada")
    open_lab(ada, collab_server, "ada")
    open_from_panel(ada, doc)
    area = current(ada)
    expect(area).not_to_have_class(re.compile(r"\bjp-CollabDocs-noKernel\b"))
    expect(area.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_be_attached(
        timeout=60_000
    )
    output = area.locator(".jp-OutputArea-output").first
    for attempt in range(3):
        # Under load the first request right after the kernel came up was sometimes
        # not sent (the cell stays "[ ]"): run again, a bounded number of times.
        editor(ada).click()
        ada.keyboard.press("Shift+Enter")
        try:
            expect(output).to_contain_text("42", timeout=20_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    sessions = jupyter_api(collab_server, "ada", "sessions")
    paths = [s["path"] for s in sessions]
    assert any(doc["id"] in path and path.endswith("Compute.ipynb") for path in paths), paths
    # alice, who shares the document, sees the output through the room.
    alice.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="Compute.ipynb").click()
    expect(current(alice).locator(".jp-OutputArea-output").first).to_contain_text("42")


def watch_server_requests(page: Page) -> list[str]:
    """Requests that create a terminal or a file in the server's own file system."""
    seen: list[str] = []

    def on_request(request) -> None:
        if request.method in ("POST", "PUT") and re.search(
            r"/api/(terminals|contents)\b", request.url
        ):
            seen.append(f"{request.method} {request.url}")

    page.on("request", on_request)
    return seen


def watch_kernel_requests(page: Page) -> list[str]:
    """Requests that would start a kernel or a session."""
    seen: list[str] = []

    def on_request(request) -> None:
        if request.method == "POST" and re.search(r"/api/(sessions|kernels)\b", request.url):
            seen.append(f"{request.method} {request.url}")

    page.on("request", on_request)
    return seen


def open_watched(
    collab_server, page: Page, user: str, doc: dict[str, Any]
) -> tuple[Page, list[str]]:
    """Open ``doc`` in ``user``'s JupyterLab, watched for hostile effects (``watch_pwned``)."""
    pwned = watch_pwned(page)
    open_lab(page, collab_server, user)
    open_from_panel(page, doc)
    return page, pwned


def expect_hostile_output_inert(page: Page, pwned: list[str]) -> None:
    """The hostile output is shown, sanitized, and none of its handlers ran."""
    output = current(page).locator(".jp-OutputArea-output").filter(has=page.locator(".hostile"))
    expect(output).to_have_count(1, timeout=20_000)
    expect(output.locator(".hostile")).to_contain_text("output from bob")
    # The image was tried and failed (its error event is past): an onerror handler
    # left in the DOM would have run by now.
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-OutputArea-output img.hostile-img')]
                 .some(img => img.complete)""",
        timeout=20_000,
    )
    assert page.evaluate("() => window.__pwned") is None
    assert pwned == []
    # Rendered untrusted: sanitized, no script element, no event handler attribute.
    expect(output).not_to_have_class(re.compile(r"\bjp-mod-trusted\b"))
    expect(output.locator("script")).to_have_count(0)
    expect(output.locator("img[onerror]")).to_have_count(0)
    trusted = page.evaluate(
        """() => [...document.querySelectorAll('.jp-OutputArea-output.jp-mod-trusted')].length"""
    )
    assert trusted == 0


def test_a_trusted_cell_written_over_the_socket_does_not_run_in_a_readers_jupyterlab(
    collab_server, user_page, screenshot
) -> None:
    doc = create(collab_server, "alice", "Hostile outputs", "notebook", notebook("x = 1"))
    share(collab_server, doc["id"], "user:bob", "editor")
    alice, pwned = open_watched(collab_server, user_page("alice"), "alice", doc)

    edit_room(collab_server, "bob", doc["id"], append_trusted_hostile_cell, cells=1)
    expect_hostile_output_inert(alice, pwned)
    screenshot(alice, "jupyterlab-hostile-output-untrusted")

    # "Trust Notebook" is never offered enabled for a shared notebook: the palette lists
    # it disabled, or not at all (JupyterLab leaves out notebook commands while another
    # panel has the focus).
    trust = palette_items(alice, "Trust Notebook")
    if trust.count():
        expect(trust).to_have_class(re.compile(r"lm-mod-disabled"))
    alice.keyboard.press("Escape")

    # Reopened (a fresh page loads the cell with its trusted metadata): still inert.
    alice_again, pwned_again = open_watched(collab_server, user_page("alice"), "alice", doc)
    expect_hostile_output_inert(alice_again, pwned_again)


def test_an_output_added_to_a_cell_the_reader_just_created_does_not_run(
    collab_server, user_page
) -> None:
    doc = create(collab_server, "alice", "Fresh cell", "notebook", notebook("x = 1"))
    share(collab_server, doc["id"], "user:bob", "editor")
    alice, pwned = open_watched(collab_server, user_page("alice"), "alice", doc)
    # alice adds a cell below the first one (JupyterLab trusts the cells it creates).
    editor(alice).click()
    alice.keyboard.press("Escape")
    alice.keyboard.press("b")
    expect(current(alice).locator(".jp-Cell")).to_have_count(2)

    def add_output_to_new_cell(ynotebook: YNotebook) -> None:
        from pycrdt import Map

        ynotebook.ycells[1]["outputs"].append(Map(HOSTILE_OUTPUT))

    edit_room(collab_server, "bob", doc["id"], add_output_to_new_cell, cells=2)
    expect_hostile_output_inert(alice, pwned)


def palette_items(page: Page, label: str):
    """Open the command palette and search for ``label``: the items so labelled."""
    search = page.locator(".lm-CommandPalette-input")
    for _attempt in range(3):  # a busy page can drop the menu click: open it again
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^View$")).click()
        page.locator(".lm-Menu-itemLabel", has_text="Activate Command Palette").click()
        try:
            search.wait_for(state="visible", timeout=10_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    search.fill(label)
    expect(search).to_have_value(label)
    return page.locator(".lm-CommandPalette-item").filter(
        has=page.locator(".lm-CommandPalette-itemLabel", has_text=re.compile(f"^{label}$"))
    )


def dismiss_news(page: Page) -> None:
    """Close JupyterLab's "get notified about Jupyter news?" toast, if it is up."""
    no = page.locator(".Toastify").get_by_role("button", name="No", exact=True)
    if no.count():
        no.first.click()
        expect(no).to_have_count(0)


def jupyter_api(collab_server, user: str, path: str) -> Any:
    """GET on Jupyter Server's own REST API (``/api/...``) as a user (``admin``: the
    server's own token)."""
    token = collab_server.server.token if user == "admin" else collab_server.tokens[user]
    request = urllib.request.Request(
        f"{collab_server.url}/api/{path}", headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def expect_eventually(check, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail("condition not met in time")
