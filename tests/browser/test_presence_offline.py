"""Presence across the two faces, and edits made offline, in a real browser against a
real ``jupyter collab-docs``.

Alice in JupyterLab and Bob on the web page see each other's named cursors in a text
document and in a notebook cell, in both directions, with the name label fully visible on
the first line (docs/protocol.md, "Presence"). Edits typed while the server is away survive
closing the tab: they are kept in the browser (per user and document), restored on
reopen and sent to the server; closing the tab while they are unsent asks first. In
JupyterLab a server restart shows our "Reconnecting…" state and, within seconds, a
notice that the server cannot be reached, not a blocking modal.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.presence import open_in_lab, open_on_both_faces
from tests.browser.test_jupyterlab import create, current, notebook, share, status
from tests.browser.test_webapp import open_document, sign_in

# One worker runs the whole module: its browser and server are per module (xdist_group).
pytestmark = pytest.mark.xdist_group("browser-presence-offline")

CRASH = "CodeMirror plugin crashed"

# JupyterLab's notice while the server is away (labextension/src/connectionlost.ts), and
# how soon after the room socket drops it must show (the probe asks at once).
NOTICE = "The server cannot be reached"
NOTICE_WITHIN_S = 20

# The part of an element's box its clipping ancestors (overflow other than visible) show,
# as a fraction of its area: 1.0 when nothing of it is cut off.
VISIBLE_FRACTION = """(element) => {
  const box = element.getBoundingClientRect();
  let left = box.left, top = box.top, right = box.right, bottom = box.bottom;
  const clippers = [`label ${Math.round(box.top)}..${Math.round(box.bottom)}`];
  // <body> and <html> pass their overflow to the viewport: not clippers themselves.
  for (let node = element.parentElement; node !== document.body; node = node.parentElement) {
    const style = getComputedStyle(node);
    if (style.overflowX === "visible" && style.overflowY === "visible") continue;
    const clip = node.getBoundingClientRect();
    clippers.push(`${node.tagName}.${node.className} ${style.overflowX}/${style.overflowY} `
      + `${Math.round(clip.top)}..${Math.round(clip.bottom)}`);
    left = Math.max(left, clip.left); top = Math.max(top, clip.top);
    right = Math.min(right, clip.right); bottom = Math.min(bottom, clip.bottom);
  }
  const area = box.width * box.height;
  const fraction = area === 0 ? 0 : Math.max(0, right - left) * Math.max(0, bottom - top) / area;
  return [fraction, clippers.join("; ")];
}"""


def assert_label_visible(label: Any) -> None:
    expect(label).to_be_visible()
    fraction, clippers = label.evaluate(VISIBLE_FRACTION)
    assert fraction > 0.99, f"the name label is clipped ({fraction:.0%} visible): {clippers}"


def lab_caret(page: Page, user: str, scope: Any = None) -> Any:
    return (scope or current(page)).locator(f'.jp-CollabDocs-caret[data-user="{user}"]')


# An editor's text without the collaborators' name labels drawn inside it.
TEXT_WITHOUT_LABELS = """(content) => {
  const copy = content.cloneNode(true);
  copy.querySelectorAll(".cm-ySelectionInfo, .jp-CollabDocs-caretName").forEach((l) => l.remove());
  return copy.textContent.replace(/\u2060/g, "");  // y-codemirror.next's word joiners
}"""


def expect_text(content: Any, expected: str, timeout: float = 20) -> None:
    """Until the editor's text (name labels aside) contains ``expected``."""
    deadline = time.monotonic() + timeout
    while expected not in (text := content.evaluate(TEXT_WITHOUT_LABELS)):
        assert time.monotonic() < deadline, f"{expected!r} not in the editor's {text!r}"
        content.page.wait_for_timeout(100)


def click_line_start(page: Page, content: Any, text: str) -> None:
    """Put the caret at the start of the first line, then type."""
    page.bring_to_front()
    content.click()
    page.keyboard.press("Control+Home")
    page.keyboard.type(text)


def test_text_document_cursors_across_faces(collab_server, user_page, screenshot) -> None:
    doc = create(collab_server, "alice", "Presence.txt", "file", "first line\nsecond line\n")
    alice, bob, bob_errors = open_on_both_faces(collab_server, user_page, doc)

    # Alice types on the first line in JupyterLab: Bob sees her named cursor there.
    click_line_start(alice, current(alice).locator(".cm-content").first, "A:")
    expect_text(bob.locator(".text-editor .cm-content"), "A:first line")
    bob_label = bob.locator(".text-editor .cm-ySelectionInfo")
    expect(bob_label).to_have_text("Alice Liddell")
    assert_label_visible(bob_label)

    # Bob types on the first line on the web page: Alice sees his named cursor there.
    click_line_start(bob, bob.locator(".text-editor .cm-content"), "B:")
    expect_text(current(alice).locator(".cm-content").first, "B:A:first line")
    alice_caret = lab_caret(alice, "bob")
    expect(alice_caret).to_have_count(1)
    expect(alice_caret).to_contain_text("Bob Builder")
    assert_label_visible(alice_caret.locator(".jp-CollabDocs-caretName"))
    # Alice's cursor is still shown on Bob's page after his own edits.
    click_line_start(alice, current(alice).locator(".cm-content").first, "")
    expect(bob_label).to_have_text("Alice Liddell")
    screenshot(alice, "presence-text-jupyterlab")
    screenshot(bob, "presence-text-webapp")
    assert not [e for e in bob_errors if CRASH in e], bob_errors


def test_notebook_cell_cursors_across_faces(collab_server, user_page, screenshot) -> None:
    doc = create(collab_server, "alice", "Presence", "notebook", notebook("a = 1", "b = 2"))
    alice, bob, bob_errors = open_on_both_faces(collab_server, user_page, doc)
    bob_cells = bob.locator(".cell")
    expect(bob_cells).to_have_count(2)
    alice_cells = current(alice).locator(".jp-Cell")

    # Alice types in the second cell: Bob sees her cursor in that cell, not the first.
    click_line_start(alice, alice_cells.nth(1).locator(".cm-content"), "# A\n")
    expect_text(bob_cells.nth(1).locator(".cm-content"), "# A")
    expect(bob_cells.nth(1).locator(".cm-ySelectionInfo")).to_have_text("Alice Liddell")
    expect(bob_cells.nth(0).locator(".cm-ySelectionInfo")).to_have_count(0)

    # Bob types in the first cell: Alice sees his cursor there, labelled, not clipped.
    click_line_start(bob, bob_cells.nth(0).locator(".cm-content"), "B = 0; ")
    expect_text(alice_cells.nth(0).locator(".cm-content"), "B = 0; a = 1")
    caret = lab_caret(alice, "bob", alice_cells.nth(0))
    expect(caret).to_have_count(1)
    expect(caret).to_contain_text("Bob Builder")
    expect(lab_caret(alice, "bob", alice_cells.nth(1))).to_have_count(0)
    assert_label_visible(caret.locator(".jp-CollabDocs-caretName"))
    screenshot(alice, "presence-notebook-jupyterlab")
    screenshot(bob, "presence-notebook-webapp")
    assert not [e for e in bob_errors if CRASH in e], bob_errors


# The keys of the unsent edits the page keeps in IndexedDB (webapp/src/pending.ts).
PENDING_KEYS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("collab-docs-pending", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("updates");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const request = open.result.transaction("updates").objectStore("updates").getAllKeys();
    request.onsuccess = () => {
      open.result.close();
      resolve(request.result.map((key) => JSON.parse(key)));
    };
    request.onerror = () => reject(request.error);
  };
})"""


def wait_for_no_pending(page: Page, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while keys := page.evaluate(PENDING_KEYS):
        assert time.monotonic() < deadline, f"unsent edits still kept: {keys}"
        page.wait_for_timeout(200)


def server_text(collab_server, doc_id: str) -> str:
    return collab_server.request("GET", f"documents/{doc_id}/content")["content"]


def wait_for_server_text(collab_server, doc_id: str, expected: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while (text := server_text(collab_server, doc_id)) != expected:
        assert time.monotonic() < deadline, f"the server has {text!r}, not {expected!r}"
        time.sleep(0.2)


def test_web_page_keeps_offline_edits_across_closing_the_tab(collab_server, user_page) -> None:
    doc = create(collab_server, "alice", "Offline notes", "file", "kept\n")
    share(collab_server, doc["id"], "user:bob", "editor")
    share(collab_server, doc["id"], "user:carol", "viewer")
    bob = user_page("bob")
    sign_in(bob, collab_server, "bob")
    open_document(bob, collab_server, doc["id"])
    content = bob.locator(".text-editor .cm-content")
    expect(content).to_contain_text("kept")

    # Nothing unsent: leaving asks nothing.
    dialogs: list[str] = []
    bob.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))

    # Playwright's sync API delivers events (the dialog) only while a call runs: a
    # second tab of the same browser context gives it something to wait on.
    context = bob.context
    spare = context.new_page()
    collab_server.server.stop()
    try:
        expect(bob.locator(".status")).to_have_attribute("data-state", "reconnecting")
        content.click()
        bob.keyboard.press("Control+End")
        bob.keyboard.type("typed offline")
        # Closing now asks first: the edit has not reached the server.
        bob.close(run_before_unload=True)
        deadline = time.monotonic() + 30  # the warning is the property, not how fast
        while "beforeunload" not in dialogs:
            assert time.monotonic() < deadline, "no beforeunload warning with unsent edits"
            spare.wait_for_timeout(100)
        # Dismissed: the tab stays open; close it for good without asking.
        assert not bob.is_closed()
        bob.close()
    finally:
        collab_server.server.start()

    assert server_text(collab_server, doc["id"]) == "kept\n"
    # What the browser keeps: Bob's unsent edit to this document, under his name.
    spare.goto(f"{collab_server.url}/collab-docs/")
    assert [key[1:] for key in spare.evaluate(PENDING_KEYS)] == [["bob", doc["id"]]]
    # Carol signs in on the same browser (Bob signed out: no login cookie left): Bob's
    # pending edit is not hers to see.
    context.clear_cookies()
    carol = spare
    sign_in(carol, collab_server, "carol")
    open_document(carol, collab_server, doc["id"])
    expect(carol.locator(".text-editor .cm-content")).to_contain_text("kept")
    expect(carol.locator(".text-editor .cm-content")).not_to_contain_text("typed offline")
    carol.close()
    assert server_text(collab_server, doc["id"]) == "kept\n"

    # Bob reopens the document: his edit is back and reaches the server.
    context.clear_cookies()
    bob = context.new_page()
    sign_in(bob, collab_server, "bob")
    open_document(bob, collab_server, doc["id"])
    expect(bob.locator(".text-editor .cm-content")).to_contain_text("kepttyped offline")
    wait_for_server_text(collab_server, doc["id"], "kept\ntyped offline")
    # Sent: the browser forgets it, and leaving no longer asks.
    wait_for_no_pending(bob)
    dialogs.clear()
    bob.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    bob.close(run_before_unload=True)
    spare = context.new_page()
    spare.wait_for_timeout(500)  # time for a dialog to be reported, were there one
    assert dialogs == []


def test_jupyterlab_shows_reconnecting_not_a_modal_and_keeps_offline_edits(
    collab_server, user_page
) -> None:
    doc = create(collab_server, "alice", "Lab offline.txt", "file", "lab\n")
    alice = user_page("alice")
    context = alice.context
    spare = context.new_page()  # gives Playwright something to wait on (see above)
    dialogs: list[str] = []
    alice.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    open_in_lab(alice, collab_server, "alice", doc)
    content = current(alice).locator(".cm-content").first
    expect(content).to_contain_text("lab")

    collab_server.server.stop()
    try:
        expect(status(alice)).to_have_attribute("data-state", "reconnecting")
        # The server is gone, so what the page says is a notice, not a modal. It comes
        # from the extension's probe when the room socket drops (connectionlost.ts), not
        # from JupyterLab's own polls: those back off for minutes (they meet 403s from
        # the start for a confined user). It opens in the notification centre (a toast
        # needs code from the server). The bound leaves room for a loaded machine.
        notice = alice.locator(".jp-Notification-Center").filter(has_text=NOTICE)
        expect(notice).to_be_visible(timeout=NOTICE_WITHIN_S * 1000)
        expect(alice.locator(".jp-Dialog")).to_have_count(0)
        # Out of the way: a click into the editor closes it, and typing goes on there.
        content.click()
        expect(notice).to_be_hidden()
        alice.keyboard.press("Control+End")
        alice.keyboard.type("lab offline")
        expect_text(content, "lab offline")
        # Closing the tab now asks first; then it closes for good.
        alice.close(run_before_unload=True)
        deadline = time.monotonic() + 30  # the warning is the property, not how fast
        while "beforeunload" not in dialogs:
            assert time.monotonic() < deadline, "no beforeunload warning with unsent edits"
            spare.wait_for_timeout(100)
        alice.close()
    finally:
        collab_server.server.start()
    assert server_text(collab_server, doc["id"]) == "lab\n"

    # Reopened: the edit is back and reaches the server, and nothing blocks the page.
    alice = context.new_page()
    open_in_lab(alice, collab_server, "alice", doc)
    expect_text(current(alice).locator(".cm-content").first, "lab offline")
    wait_for_server_text(collab_server, doc["id"], "lab\nlab offline")
    expect(alice.locator(".jp-Dialog")).to_have_count(0)
