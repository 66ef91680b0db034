"""Comments on the web page (``/collab-docs/``), in a real browser against a real server:
a commenter comments on a text range and on notebook cells, an editor sees it live,
replies and resolves; a commenter cannot edit; anchors follow an editor's insert before
the range and detach when the range is deleted; a viewer reads without controls; comment
bodies and display names stay text."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.hostile import watch_pwned
from tests.browser.test_webapp import notebook_content, open_document, sign_in

# One worker runs the whole module: its browser and server are per module (xdist_group).
pytestmark = pytest.mark.xdist_group("browser-webapp-comments")

HOSTILE = "<img src=x onerror=\"window.__pwned=1; fetch('/collab-docs-pwned?comment')\">"


def panel(page: Page) -> Any:
    return page.locator(".comments-panel")


def open_panel(page: Page) -> None:
    if not panel(page).is_visible():
        page.locator(".comments-button").click()
    expect(panel(page)).to_be_visible()


def select_line(page: Page, line: Any) -> None:
    """Selects one editor line with the keyboard (as a reader would: read-only editors
    still select)."""
    page.bring_to_front()
    line.click()
    page.keyboard.press("Home")
    page.keyboard.press("Shift+End")


def thread_in(page: Page, quote: str) -> Any:
    return panel(page).locator("li.thread", has_text=quote)


def test_comment_on_a_text_range_live_anchored_and_detached(user_page, collab_server):
    hostile_name = f"{HOSTILE}Mallory"
    token = collab_server.server.cli("users", "add", "mallory", "--display-name", hostile_name)
    collab_server.tokens["mallory"] = token.splitlines()[-1].strip()
    alice_api = collab_server.as_user("alice")
    text = "Intro line.\nThe budget is final.\nEnd."
    doc = alice_api("POST", "documents", {"name": "Budget.txt", "type": "file", "content": text})
    alice_api("PUT", f"documents/{doc['id']}/shares/user:mallory", {"role": "commenter"})

    alice, mallory = user_page("alice"), user_page("mallory")
    pwned = watch_pwned(alice) + watch_pwned(mallory)
    for page, user in ((alice, "alice"), (mallory, "mallory")):
        sign_in(page, collab_server, user)
        open_document(page, collab_server, doc["id"])

    # The commenter's document stays read-only: typing changes nothing.
    mallory_text = mallory.locator(".text-editor .cm-content")
    expect(mallory_text).to_have_attribute("aria-readonly", "true")
    mallory_text.click()
    mallory.keyboard.type("sneaky")
    expect(mallory_text).to_have_text("Intro line.The budget is final.End.")

    # She selects a line and comments on it (a hostile body).
    select_line(mallory, mallory.locator(".text-editor .cm-line", has_text="The budget"))
    mallory.locator(".comment-selection").click()
    expect(panel(mallory).locator("textarea[aria-label='New comment']")).to_be_focused()
    expect(panel(mallory).locator(".comments-target")).to_have_text("On “The budget is final.”")
    panel(mallory).locator("textarea[aria-label='New comment']").fill(f"Is this agreed? {HOSTILE}")
    panel(mallory).locator(".comments-new button[type=submit]").click()
    expect(thread_in(mallory, "The budget is final.")).to_be_visible()
    # Her own display name, hostile, is text.
    expect(thread_in(mallory, "The budget").locator(".comment-author")).to_have_text(hostile_name)

    # Alice sees the marker and the count at once, without reloading.
    alice_mark = alice.locator(".text-editor .cm-comment-mark")
    expect(alice_mark).to_have_text("The budget is final.")
    expect(alice.locator(".comments-button")).to_have_text("Comments (1)")
    alice_mark.click()
    thread = thread_in(alice, "The budget is final.")
    expect(thread).to_have_class("thread active")
    expect(thread.locator(".comment-body")).to_have_text(f"Is this agreed? {HOSTILE}")
    expect(thread.locator(".comment-author")).to_have_text(hostile_name)
    assert panel(alice).locator("img").count() == 0

    # Alice types before the range: both pages keep the marker on the same words.
    alice.bring_to_front()
    alice.locator(".text-editor .cm-content").click()
    alice.keyboard.press("Control+Home")
    alice.keyboard.type("Draft: ")
    # (Alice's cursor label sits in Mallory's first line.)
    expect(mallory.locator(".text-editor .cm-line").first).to_contain_text("Draft: ")
    expect(alice_mark).to_have_text("The budget is final.")
    expect(mallory.locator(".text-editor .cm-comment-mark")).to_have_text("The budget is final.")
    threads = alice_api("GET", f"documents/{doc['id']}/threads")["threads"]
    assert threads[0]["position"] == {
        "attached": True,
        "start": 19,
        "end": 39,
        "cell_index": None,
    }

    # Alice deletes the line's text: the thread stays, detached, with its quote.
    select_line(alice, alice.locator(".text-editor .cm-line", has_text="The budget"))
    alice.keyboard.press("Delete")
    expect(alice.locator(".text-editor .cm-comment-mark")).to_have_count(0)
    for page in (alice, mallory):
        detached = thread_in(page, "The budget is final.")
        expect(detached.locator(".thread-detached")).to_have_text("Detached")
    assert (
        alice_api("GET", f"documents/{doc['id']}/threads")["threads"][0]["position"]["attached"]
        is False
    )
    # Mallory deletes her thread (its first comment, after a confirmation): gone live.
    expect(thread_in(alice, "The budget").locator("button", has_text="Edit")).to_have_count(0)
    mallory.bring_to_front()
    thread_in(mallory, "The budget").locator("li.comment button", has_text="Delete").click()
    mallory.locator("dialog button.danger", has_text="Delete").click()
    expect(panel(alice).locator("li.thread")).to_have_count(0)
    expect(alice.locator(".comments-button")).to_have_text("Comments")
    assert alice_api("GET", f"documents/{doc['id']}/threads")["threads"] == []
    assert alice.evaluate("window.__pwned") is None
    assert mallory.evaluate("window.__pwned") is None
    assert pwned == []


def test_comments_on_notebook_cells_reply_resolve_and_a_viewer(user_page, collab_server):
    alice_api = collab_server.as_user("alice")
    doc = alice_api(
        "POST", "documents", {"name": "Analysis", "type": "notebook", "content": notebook_content()}
    )
    alice_api("PUT", f"documents/{doc['id']}/shares/user:bob", {"role": "commenter"})
    alice_api("PUT", f"documents/{doc['id']}/shares/user:carol", {"role": "viewer"})

    alice, bob = user_page("alice"), user_page("bob")
    for page, user in ((alice, "alice"), (bob, "bob")):
        sign_in(page, collab_server, user)
        open_document(page, collab_server, doc["id"])
    bob_first = bob.locator(".notebook .cell").nth(0)
    bob_second = bob.locator(".notebook .cell").nth(1)

    # The commenter cannot edit a cell, and gets no cell toolbar.
    bob_editor = bob_first.locator(".cm-content")
    expect(bob_editor).to_have_attribute("aria-readonly", "true")
    bob_editor.click()
    bob.keyboard.type("sneaky")
    expect(bob_editor).to_contain_text("print('hello')")
    expect(bob_editor).not_to_contain_text("sneaky")
    expect(bob_first.locator(".cell-toolbar button")).to_have_count(0)

    # A range of the first cell's source.
    select_line(bob, bob_first.locator(".cm-line", has_text="1 + 1"))
    open_panel(bob)
    expect(panel(bob).locator(".comments-target")).to_have_text("On “1 + 1”")
    panel(bob).locator("textarea[aria-label='New comment']").fill("Why not 2? @alice")
    panel(bob).locator(".comments-new button[type=submit]").click()
    expect(thread_in(bob, "1 + 1")).to_be_visible()
    # The whole second cell, from its Comment button.
    bob_second.hover()
    bob_second.locator(".cell-comment-add").click()
    expect(panel(bob).locator(".comments-target")).to_have_text("On the whole cell")
    expect(panel(bob).locator("textarea[aria-label='New comment']")).to_be_focused()
    bob.keyboard.type("Label the axes.")
    panel(bob).locator(".comments-new button[type=submit]").click()
    expect(thread_in(bob, "Whole cell")).to_be_visible()

    # Alice sees both live: a marker in the first cell, badges on both cells.
    alice_first = alice.locator(".notebook .cell").nth(0)
    alice_second = alice.locator(".notebook .cell").nth(1)
    expect(alice_first.locator(".cm-comment-mark")).to_have_text("1 + 1")
    expect(alice_first.locator(".cell-comment-count")).to_have_text("1 comment")
    expect(alice_second.locator(".cell-comment-count")).to_have_text("1 comment")
    expect(alice.locator(".comments-button")).to_have_text("Comments (2)")

    # She opens the range's thread from its badge, replies, and Bob sees the reply live.
    alice_first.locator(".cell-comment-count").click()
    thread = thread_in(alice, "1 + 1")
    expect(thread).to_have_class("thread active")
    expect(thread.locator(".comment-body")).to_have_text("Why not 2? @alice")
    thread.locator("textarea[aria-label=Reply]").fill("It shows the sum.")
    thread.locator(".thread-reply button[type=submit]").click()
    expect(thread_in(bob, "1 + 1").locator(".comment-body")).to_have_text(
        ["Why not 2? @alice", "It shows the sum."]
    )
    # "Mentioning me" shows the thread that mentions Alice.
    panel(alice).locator("input[aria-label='Mentioning me']").check()
    expect(panel(alice).locator("li.thread")).to_have_count(1)
    panel(alice).locator("input[aria-label='Mentioning me']").uncheck()
    expect(panel(alice).locator("li.thread")).to_have_count(2)
    alice.bring_to_front()
    alice.screenshot(path=str(ARTIFACTS / "webapp-comments.png"))

    # Bob edits his own comment; Alice's reply has no Edit for him.
    bob_thread = thread_in(bob, "1 + 1")
    own, others = bob_thread.locator("li.comment").nth(0), bob_thread.locator("li.comment").nth(1)
    expect(others.locator("button", has_text="Edit")).to_have_count(0)
    own.locator("button", has_text="Edit").click()
    own.locator("textarea[aria-label='Edit comment']").fill("Why not just 2?")
    own.locator("button", has_text="Save").click()
    expect(thread.locator(".comment-body").first).to_have_text("Why not just 2?")
    expect(thread.locator(".comment-edited")).to_have_text("edited")

    # Alice resolves it: it leaves Bob's open list live, and shows under Resolved.
    thread.locator("button", has_text="Resolve").click()
    expect(thread_in(bob, "1 + 1")).to_have_count(0)
    expect(alice_first.locator(".cm-comment-mark")).to_have_count(0)
    panel(bob).locator("select[aria-label='Show threads']").select_option("resolved")
    resolved = thread_in(bob, "1 + 1")
    expect(resolved.locator(".thread-resolved")).to_have_text("Resolved")
    # He started it, so he may reopen it (a commenter's own thread).
    resolved.locator("button", has_text="Reopen").click()
    # Reopened: back in Alice's open list, its marker back, live.
    expect(thread_in(alice, "1 + 1").locator(".thread-resolved")).to_have_count(0)
    expect(alice_first.locator(".cm-comment-mark")).to_have_text("1 + 1")
    thread_in(alice, "1 + 1").locator("button", has_text="Resolve").click()
    expect(alice_first.locator(".cm-comment-mark")).to_have_count(0)

    # A viewer reads the threads but gets no comment controls.
    carol = user_page("carol")
    sign_in(carol, collab_server, "carol")
    open_document(carol, collab_server, doc["id"])
    expect(carol.locator(".comments-button")).to_have_text("Comments (1)")
    open_panel(carol)
    expect(thread_in(carol, "Whole cell").locator(".comment-body")).to_have_text("Label the axes.")
    expect(panel(carol).locator(".comments-note")).to_be_visible()
    expect(panel(carol).locator(".comments-new")).to_be_hidden()
    expect(panel(carol).locator("textarea:visible")).to_have_count(0)
    expect(panel(carol).locator("li.thread button", has_text="Resolve")).to_have_count(0)
    expect(carol.locator(".cell-comment-add")).to_have_count(0)
    select_line(carol, carol.locator(".notebook .cell").nth(0).locator(".cm-line").first)
    expect(carol.locator(".comment-selection")).to_be_hidden()
    expect(carol.locator(".notebook .cell").nth(1).locator(".cell-comment-count")).to_have_text(
        "1 comment"
    )
