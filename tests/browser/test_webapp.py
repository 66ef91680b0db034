"""The standalone web page (``/collab-docs/``) in a real browser against a real server:
sign-in, the list, sharing, live text editing with remote cursors, read-only viewers,
notebooks, and the plain y-websocket example page."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.hostile import (
    append_trusted_hostile_cell,
    edit_room,
    watch_pwned,
)

# One worker runs the whole module: its browser and server are per module (xdist_group).
pytestmark = pytest.mark.xdist_group("browser-webapp")

# A 1x1 red PNG.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
        "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
    )
).decode()


def sign_in(page: Page, server: Any, user: str) -> None:
    page.goto(f"{server.url}/collab-docs/")
    page.fill("#token", server.tokens[user])
    page.click("form.signin-form button[type=submit]")
    expect(page.locator(".topbar .user-name")).to_be_visible()


def open_document(page: Page, server: Any, doc_id: str) -> None:
    page.goto(f"{server.url}/collab-docs/#/d/{doc_id}")
    expect(page.locator(".status")).to_have_attribute("data-state", "connected")


def editor(page: Page) -> Any:
    return page.locator(".text-editor .cm-content")


def type_at_end(page: Page, content: Any, text: str) -> None:
    page.bring_to_front()
    content.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def test_share_and_edit_a_text_document_live(user_page, collab_server, screenshot):
    alice = user_page("alice")
    sign_in(alice, collab_server, "alice")
    expect(alice.locator(".topbar .user-name")).to_have_text("Alice Liddell")
    # The token is kept for this tab only, and never in the address.
    assert (
        alice.evaluate("sessionStorage.getItem('collab-docs:token')")
        == (collab_server.tokens["alice"])
    )

    alice.click("text=New text document")
    alice.fill("dialog input", "Meeting notes")
    alice.click("dialog button[type=submit]")
    expect(alice.locator(".doc-heading")).to_have_text("Meeting notes")
    expect(alice.locator(".status")).to_have_attribute("data-state", "connected")
    doc_id = re.search(r"#/d/([^/?]+)", alice.url).group(1)  # type: ignore[union-attr]
    assert collab_server.tokens["alice"] not in alice.url
    type_at_end(alice, editor(alice), "Agenda from Alice.\n")

    # Share with bob as an editor in the share dialog.
    alice.click(".doc-header-end button:has-text('Share')")
    dialog = alice.locator("dialog")
    dialog.locator("input[aria-label=Name]").fill("bob")
    dialog.locator("select[aria-label=Role]").select_option("editor")
    dialog.locator("form.add-share button[type=submit]").click()
    bob_row = dialog.locator("li[data-principal='user:bob']")
    expect(bob_row).to_be_visible()
    expect(bob_row.locator("select")).to_have_value("editor")
    screenshot(alice, "webapp-share-dialog")
    dialog.locator("button[aria-label=Close]").click()

    bob = user_page("bob")
    sign_in(bob, collab_server, "bob")
    bob.click("button.tab:has-text('Shared with me')")
    row = bob.locator(f"li.doc-row[data-id='{doc_id}']")
    expect(row).to_contain_text("Meeting notes")
    expect(row.locator(".role")).to_have_text("Editor")
    row.locator("a.doc-name").click()
    expect(bob.locator(".status")).to_have_attribute("data-state", "connected")
    expect(editor(bob)).to_contain_text("Agenda from Alice.")

    type_at_end(bob, editor(bob), "Bob was here.")
    expect(editor(alice)).to_contain_text("Bob was here.")
    type_at_end(alice, editor(alice), " And Alice too.")
    expect(editor(bob)).to_contain_text("And Alice too.")

    # Each sees the other's cursor, labelled with the display name, and avatar.
    expect(alice.locator(".cm-ySelectionInfo")).to_have_text("Bob Builder")
    expect(bob.locator(".cm-ySelectionInfo")).to_have_text("Alice Liddell")
    expect(alice.locator(".avatars .avatar[title='Bob Builder']")).to_have_text("BB")
    screenshot(alice, "webapp-text-alice")
    screenshot(bob, "webapp-text-bob")

    # What they typed is stored.
    content = collab_server.request("GET", f"documents/{doc_id}/content")["content"]
    assert "Bob was here." in content and "And Alice too." in content


def shared_document(
    collab_server, name: str, doc_type: str, content: Any, user: str = "bob", role: str = "editor"
) -> dict[str, Any]:
    """alice's document, shared with ``user`` as ``role``."""
    alice = collab_server.as_user("alice")
    doc = alice("POST", "documents", {"name": name, "type": doc_type, "content": content})
    alice("PUT", f"documents/{doc['id']}/shares/user:{user}", {"role": role})
    return doc  # type: ignore[no-any-return]


def open_signed_in(page: Page, collab_server, user: str, doc_id: str) -> None:
    sign_in(page, collab_server, user)
    open_document(page, collab_server, doc_id)


def test_a_viewer_gets_a_read_only_editor(user_page, collab_server, screenshot):
    doc = shared_document(collab_server, "Policy", "file", "Fixed.", "carol", "viewer")

    carol = user_page("carol")
    open_signed_in(carol, collab_server, "carol", doc["id"])
    expect(carol.locator(".status")).to_have_text("Read-only")
    expect(carol.locator(".doc-title-row .role")).to_contain_text("read-only")
    expect(editor(carol)).to_have_attribute("aria-readonly", "true")
    expect(editor(carol)).to_have_text("Fixed.")
    editor(carol).click()
    carol.keyboard.type("sneaky edit")
    carol.wait_for_timeout(300)
    expect(editor(carol)).to_have_text("Fixed.")
    expect(carol.locator(".doc-title-row button:has-text('Rename')")).to_be_hidden()
    screenshot(carol, "webapp-viewer-read-only")
    assert collab_server.request("GET", f"documents/{doc['id']}/content")["content"] == "Fixed."


def notebook_content() -> dict[str, Any]:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "id": "cell-one",
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "source": "print('hello')\n1 + 1",
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": "hello\n"},
                    {
                        "output_type": "execute_result",
                        "execution_count": 1,
                        "metadata": {},
                        "data": {
                            "text/plain": "2",
                            "text/html": "<b>two</b><script>window.pwned = 1</script>"
                            '<img src="x" onerror="window.pwned = 2">',
                        },
                    },
                ],
            },
            {
                "id": "cell-two",
                "cell_type": "code",
                "metadata": {},
                "execution_count": 2,
                "source": "plot()",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"image/png": PNG, "text/plain": "<Figure>"},
                    },
                    {
                        "output_type": "error",
                        "ename": "ValueError",
                        "evalue": "bad",
                        "traceback": ["\x1b[0;31mValueError\x1b[0m: bad"],
                    },
                ],
            },
        ],
    }


def test_a_notebook_shows_its_cells_and_edits_live(user_page, collab_server, screenshot):
    doc = shared_document(collab_server, "Analysis", "notebook", notebook_content())

    alice = user_page("alice")
    open_signed_in(alice, collab_server, "alice", doc["id"])
    cells = alice.locator(".notebook .cell")
    expect(cells).to_have_count(2)
    first, second = cells.nth(0), cells.nth(1)
    expect(first.locator(".cm-content")).to_contain_text("print('hello')")
    expect(first.locator(".cell-prompt")).to_have_text("[1]:")
    expect(first.locator(".output-stream")).to_have_text("hello\n")
    # HTML outputs are rebuilt from an allow-list: markup stays, scripts and handlers go.
    expect(first.locator(".output-html b")).to_have_text("two")
    assert first.locator(".output-html script, .output-html img").count() == 0
    assert alice.evaluate("window.pwned") is None
    expect(second.locator(".output-image img")).to_have_attribute(
        "src", f"data:image/png;base64,{PNG}"
    )
    expect(second.locator(".output-error")).to_have_text("ValueError: bad")  # no ANSI codes
    # Outputs are not editable.
    assert alice.locator(".cell-outputs [contenteditable=true]").count() == 0

    bob = user_page("bob")
    open_signed_in(bob, collab_server, "bob", doc["id"])
    bob_first = bob.locator(".notebook .cell").nth(0).locator(".cm-content")
    type_at_end(bob, bob_first, "\n# checked by bob")
    expect(first.locator(".cm-content")).to_contain_text("# checked by bob")
    expect(first.locator(".cm-ySelectionInfo")).to_have_text("Bob Builder")
    screenshot(alice, "webapp-notebook-alice")

    def stored_source() -> str:
        content = collab_server.request("GET", f"documents/{doc['id']}/content")["content"]
        return content["cells"][0]["source"]

    deadline = 50
    while "# checked by bob" not in stored_source() and deadline:
        alice.wait_for_timeout(100)
        deadline -= 1
    assert stored_source() == "print('hello')\n1 + 1\n# checked by bob"


def test_a_hostile_output_written_over_the_socket_stays_inert(user_page, collab_server):
    """An editor's trusted cell with a script and an onerror handler, arriving live: the
    page ignores trust and rebuilds the HTML from its allow-list."""
    content = notebook_content()
    content["cells"] = content["cells"][:1]
    doc = shared_document(collab_server, "Live outputs", "notebook", content)
    alice = user_page("alice")
    pwned = watch_pwned(alice)
    open_signed_in(alice, collab_server, "alice", doc["id"])
    expect(alice.locator(".notebook .cell")).to_have_count(1)

    edit_room(collab_server, "bob", doc["id"], append_trusted_hostile_cell, cells=1)
    output = alice.locator(".notebook .cell").nth(1).locator(".output-html")
    expect(output.locator("b")).to_have_text("output from bob")
    # No script, no handler; the image is dropped (only data: images are kept).
    expect(output.locator("script, img, [onerror]")).to_have_count(0)
    assert alice.evaluate("() => window.__pwned") is None
    assert pwned == []


def test_the_example_page_syncs_with_the_main_page(user_page, collab_server, screenshot):
    doc = shared_document(collab_server, "Shared pad", "file", "Hi")

    alice = user_page("alice")
    open_signed_in(alice, collab_server, "alice", doc["id"])

    example = user_page("bob")
    example.goto(f"{collab_server.url}/collab-docs/example.html")
    expect(example.locator("pre.source")).to_contain_text("new WebsocketProvider(")
    example.fill("#token", collab_server.tokens["bob"])
    example.fill("#doc", doc["id"])
    example.click("#connect button[type=submit]")
    expect(example.locator("#status")).to_have_text("connected and synced")
    textarea = example.locator("#text")
    expect(textarea).to_have_value("Hi")

    textarea.click()
    example.keyboard.press("End")
    example.keyboard.type(" from the example")
    expect(editor(alice)).to_have_text("Hi from the example")

    type_at_end(alice, editor(alice), "!")
    expect(textarea).to_have_value("Hi from the example!")
    screenshot(example, "webapp-example-page")
    screenshot(alice, "webapp-example-main-page")


def test_access_changes_and_deletion_show_live(user_page, collab_server, screenshot):
    alice_api = collab_server.as_user("alice")
    doc = shared_document(collab_server, "Draft", "file", "v1")

    bob = user_page("bob")
    open_signed_in(bob, collab_server, "bob", doc["id"])
    expect(editor(bob)).to_have_attribute("aria-readonly", "false")

    # Lowered to viewer: the socket closes with 4403, the page re-reads the role.
    alice_api("PUT", f"documents/{doc['id']}/shares/user:bob", {"role": "viewer"})
    expect(bob.locator(".status")).to_have_text("Read-only")
    expect(editor(bob)).to_have_attribute("aria-readonly", "true")
    expect(editor(bob)).to_have_text("v1")

    # Deleted: 4410, said so, no reconnecting.
    alice_api("DELETE", f"documents/{doc['id']}")
    expect(bob.locator(".status")).to_have_attribute("data-state", "deleted")
    expect(bob.locator(".banner")).to_have_text("This document was deleted.")
    screenshot(bob, "webapp-deleted")
