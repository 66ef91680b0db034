"""Comments in JupyterLab, in a real browser against a real ``jupyter collab-docs``.

A commenter (whose display name is an HTML payload) comments on a range of a text
document with a hostile body, another on a notebook cell and a range of its source (then
the hostile one there too, over REST); the editor sees the threads live,
with the highlight and the cell badge, replies and resolves; the commenter's editor stays
read-only; a highlight follows the editor's concurrent insert before it; deleting the
commented text shows the thread detached, with its quote. Nothing user-written runs.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, HOSTILE
from tests.browser.lab import (
    PANGRAM,
    choose_from_menu,
    comments_panel,
    create_price_notebook,
    expect_not_pwned,
    open_as_editor_and_commenter,
    open_text_as_editor_and_commenter,
    select_chars,
    stored_text,
    threads,
)
from tests.browser.test_jupyterlab import (
    create,
    current,
    dismiss_news,
    editor,
    expect_eventually,
    open_from_panel,
    open_lab,
    share,
)

# One worker runs the whole module: its browser and server are per module (xdist_group).
pytestmark = pytest.mark.xdist_group("browser-lab-comments")


def thread_of(panel, quote: str):
    return panel.locator(".jp-CollabDocs-thread").filter(
        has=panel.page.locator(".jp-CollabDocs-threadQuote", has_text=quote)
    )


def test_a_commenter_comments_on_text_the_editor_replies_and_resolves_live(
    collab_server, user_page, mallory
) -> None:
    doc, bob, mal, bob_panel, mal_panel = open_text_as_editor_and_commenter(
        collab_server, user_page, "Review notes.md", PANGRAM, mallory
    )
    expect(bob_panel.locator(".jp-CollabDocs-commentsNotice")).to_have_text("No comments yet.")

    # The commenter selects "brown fox" and comments from the editor's context menu.
    select_chars(mal, editor(mal), 10, 9)
    choose_from_menu(mal, editor(mal), "Add Comment", {"x": 5, "y": 5})
    draft = mal_panel.locator(".jp-CollabDocs-commentDraft")
    expect(draft.locator(".jp-CollabDocs-threadQuote")).to_have_text("brown fox")
    draft.locator("textarea").fill(f"Too cliché? {HOSTILE}")
    draft.locator(".jp-CollabDocs-commentPost").click()
    expect(thread_of(mal_panel, "brown fox")).to_have_count(1)

    # The editor sees it at once: the thread (names and bodies as text) and a highlight.
    thread = thread_of(bob_panel, "brown fox")
    expect(thread.locator(".jp-CollabDocs-commentText")).to_have_text(f"Too cliché? {HOSTILE}")
    expect(thread.locator(".jp-CollabDocs-commentAuthor")).to_have_text(HOSTILE)
    expect(current(bob).locator(".jp-CollabDocs-commentMark")).to_have_text("brown fox")
    # The commenter may not resolve another's thread nor edit others' comments; bob
    # (editor) may resolve but not edit mallory's comment.
    expect(thread.locator(".jp-CollabDocs-resolveButton")).to_have_text("Resolve")
    expect(thread.locator(".jp-CollabDocs-commentEdit")).to_have_count(0)

    # The commenter cannot edit the document (typing does nothing, the server has none).
    editor(mal).click()
    mal.keyboard.type("sneaky")
    expect(editor(mal)).not_to_contain_text("sneaky")

    # The editor inserts before the range: both highlights follow it.
    editor(bob).click()
    bob.keyboard.press("Control+Home")
    bob.keyboard.type("Look: ")
    expect_eventually(lambda: stored_text(collab_server, doc["id"]).startswith("Look: The"))
    expect(current(mal).locator(".jp-CollabDocs-commentMark")).to_have_text("brown fox")
    expect(current(bob).locator(".jp-CollabDocs-commentMark")).to_have_text("brown fox")
    expect_eventually(
        lambda: threads(collab_server, doc["id"])[0]["position"]["start"] == len("Look: ") + 10
    )

    # Bob replies; mallory sees the reply live.
    # Typed key by key (no JupyterLab shortcut takes them), sent with Ctrl+Enter.
    thread.locator(".jp-CollabDocs-replyBody").press_sequentially("Keep it, it is a pangram.")
    thread.locator(".jp-CollabDocs-replyBody").press("Control+Enter")
    mal_thread = thread_of(mal_panel, "brown fox")
    expect(mal_thread.locator(".jp-CollabDocs-commentText")).to_have_count(2)
    expect(mal_thread.locator(".jp-CollabDocs-commentText").nth(1)).to_have_text(
        "Keep it, it is a pangram."
    )
    # Mallory edits her own comment (and only hers).
    mal_comments = mal_thread.locator(".jp-CollabDocs-comment")
    expect(mal_comments.nth(1).locator(".jp-CollabDocs-commentEdit")).to_have_count(0)
    mal_comments.nth(0).locator(".jp-CollabDocs-commentEdit").click()
    mal_thread.locator(".jp-CollabDocs-commentEditBody").fill("Too cliché, maybe.")
    mal_thread.locator(".jp-CollabDocs-commentSave").click()
    expect(thread.locator(".jp-CollabDocs-commentText").first).to_have_text("Too cliché, maybe.")

    # Bob deletes his reply (his own, so he may); mallory's panel follows.
    thread.locator(".jp-CollabDocs-comment").nth(1).locator(".jp-CollabDocs-commentDelete").click()
    expect(mal_thread.locator(".jp-CollabDocs-commentText")).to_have_count(1)

    # Bob deletes the commented text: the thread stays, detached, with its quote.
    select_chars(bob, editor(bob), len("Look: ") + 10, 9)
    bob.keyboard.press("Backspace")
    expect_eventually(lambda: "The quick  jumps" in stored_text(collab_server, doc["id"]))
    for panel in (bob_panel, mal_panel):
        detached = thread_of(panel, "brown fox")
        expect(detached).to_have_class(re.compile("jp-mod-detached"))
        expect(detached.locator(".jp-CollabDocs-detached")).to_have_text("detached")
    expect(current(mal).locator(".jp-CollabDocs-commentMark")).to_have_count(0)

    # Bob resolves: it leaves mallory's list of open threads, and shows under "resolved".
    thread.locator(".jp-CollabDocs-resolveButton").click()
    expect(thread_of(mal_panel, "brown fox")).to_have_count(0)
    mal_panel.locator(".jp-CollabDocs-commentsStatus").select_option("resolved")
    resolved = thread_of(mal_panel, "brown fox")
    expect(resolved.locator(".jp-CollabDocs-resolvedTag")).to_have_text("resolved by Bob Builder")
    # Reopening is for editors and the thread's author: mallory started it.
    expect(resolved.locator(".jp-CollabDocs-resolveButton")).to_have_text("Reopen")

    stored = stored_text(collab_server, doc["id"])
    assert "sneaky" not in stored
    assert stored.startswith("Look: The quick  jumps")
    expect_not_pwned(bob, mal)


def test_comments_on_a_notebook_cell_and_a_range_of_its_source(
    collab_server, user_page, mallory
) -> None:
    # carol (a benign name) comments here: bob's view of her threads is the README's
    # picture. mallory's hostile name and body come over REST after the picture.
    doc = create_price_notebook(collab_server, "Analysis")
    bob, carol, bob_panel, carol_panel = open_as_editor_and_commenter(
        collab_server, user_page, doc, "carol"
    )

    # A whole cell, from the cell's context menu.
    editor(carol, 1).click()
    choose_from_menu(carol, editor(carol, 1), "Comment on Cell")
    draft = carol_panel.locator(".jp-CollabDocs-commentDraft")
    expect(draft.locator(".jp-CollabDocs-threadQuote")).to_have_text("print(total)")
    draft.locator("textarea").fill("Print it with a label?")
    draft.locator(".jp-CollabDocs-commentPost").click()

    # A range of the first cell's source, with the panel's button.
    select_chars(carol, editor(carol, 0), 8, 5)
    carol_panel.locator(".jp-CollabDocs-addComment").click()
    expect(draft.locator(".jp-CollabDocs-threadQuote")).to_have_text("price")
    draft.locator("textarea").fill("Before or after tax?")
    draft.locator(".jp-CollabDocs-commentPost").click()
    expect(carol_panel.locator(".jp-CollabDocs-thread")).to_have_count(2)

    # Bob sees a badge on each commented cell and the highlight, live.
    cells = current(bob).locator(".jp-Cell")
    expect(cells.nth(1).locator(".jp-CollabDocs-commentBadge")).to_have_text("1")
    expect(cells.nth(0).locator(".jp-CollabDocs-commentBadge")).to_have_text("1")
    expect(editor(bob, 0).locator(".jp-CollabDocs-commentMark")).to_have_text("price")

    # The badge opens the cell's thread in the panel; bob replies, carol sees it.
    cells.nth(1).locator(".jp-CollabDocs-commentBadge").click()
    active = bob_panel.locator(".jp-CollabDocs-thread.jp-mod-active")
    expect(active.locator(".jp-CollabDocs-threadQuote")).to_have_text("print(total)")
    active.locator(".jp-CollabDocs-replyBody").fill("Yes: print('total', total)")
    active.locator(".jp-CollabDocs-replyButton").click()
    expect(
        thread_of(carol_panel, "print(total)").locator(".jp-CollabDocs-commentText")
    ).to_have_count(2)

    # Bob types before the commented range: the highlights follow.
    editor(bob, 0).click()
    bob.keyboard.press("Control+Home")
    bob.keyboard.type("grand_")
    expect_eventually(
        lambda: stored_text(collab_server, doc["id"])["cells"][0]["source"].startswith("grand_")
    )
    expect(editor(carol, 0).locator(".jp-CollabDocs-commentMark")).to_have_text("price")
    expect(editor(bob, 0).locator(".jp-CollabDocs-commentMark")).to_have_text("price")

    # The commenter cannot edit the cell.
    editor(carol, 1).click()
    carol.keyboard.type("# sneaky")
    expect(editor(carol, 1)).not_to_contain_text("sneaky")

    # The range's thread, shown active, for the README's picture.
    editor(bob, 0).locator(".jp-CollabDocs-commentMark").click()
    expect(
        bob_panel.locator(".jp-CollabDocs-thread.jp-mod-active .jp-CollabDocs-threadQuote")
    ).to_have_text("price")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    bob.screenshot(path=str(ARTIFACTS / "jupyterlab-comments.png"))

    # mallory (hostile name) comments on "quantity" with a hostile body: bob sees both
    # as text, live, with a second badge on the cell.
    share(collab_server, doc["id"], f"user:{mallory}", "commenter")
    first = stored_text(collab_server, doc["id"])["cells"][0]
    anchor = {
        "kind": "cell_range",
        "cell_id": first["id"],
        "index": first["source"].index("quantity"),
        "length": len("quantity"),
    }
    collab_server.as_user(mallory)(
        "POST", f"documents/{doc['id']}/threads", {"anchor": anchor, "body": HOSTILE}
    )
    hostile = thread_of(bob_panel, "quantity")
    expect(hostile.locator(".jp-CollabDocs-commentAuthor")).to_have_text(HOSTILE)
    expect(hostile.locator(".jp-CollabDocs-commentText")).to_have_text(HOSTILE)
    expect(cells.nth(0).locator(".jp-CollabDocs-commentBadge")).to_have_text("2")

    content = stored_text(collab_server, doc["id"])
    assert [cell["source"] for cell in content["cells"]] == [
        "grand_total = price * quantity",
        "print(total)",
    ]
    expect_not_pwned(bob, carol)


def test_open_thread_from_the_inbox_opens_the_document_at_the_thread(
    collab_server, user_page, mallory
) -> None:
    doc = create(collab_server, "alice", "Plan.txt", "file", "Step one.\nStep two.\n")
    share(collab_server, doc["id"], "user:bob", "editor")
    share(collab_server, doc["id"], f"user:{mallory}", "commenter")
    as_mallory = collab_server.as_user(mallory)
    as_mallory(
        "POST",
        f"documents/{doc['id']}/threads",
        {"anchor": {"kind": "text", "index": 10, "length": 9}, "body": "Earlier thread"},
    )
    thread = as_mallory(
        "POST",
        f"documents/{doc['id']}/threads",
        {"anchor": {"kind": "text", "index": 0, "length": 8}, "body": "@bob which step?"},
    )

    # Bob has not opened the document: the inbox's Open runs collab-docs:open-thread.
    bob = user_page("bob")
    open_lab(bob, collab_server, "bob")
    dismiss_news(bob)
    bob.locator(".jp-CollabDocs-inboxButton").click()
    bob.locator(".jp-CollabDocs-inboxOpen").first.click()
    expect(bob.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")).to_contain_text(
        "Plan.txt"
    )
    panel = bob.locator("#jp-CollabDocs-comments")
    expect(panel).to_be_visible()
    active = panel.locator(".jp-CollabDocs-thread.jp-mod-active")
    expect(active).to_have_attribute("data-thread-id", thread["id"])
    expect(active.locator(".jp-CollabDocs-threadQuote")).to_have_text("Step one")
    expect(current(bob).locator(".jp-CollabDocs-commentMark.jp-mod-active")).to_have_text(
        "Step one"
    )

    # "Mentioning me" keeps the thread that mentions bob.
    panel.locator(".jp-CollabDocs-commentsFilter-mentioningMe").check()
    expect(panel.locator(".jp-CollabDocs-thread")).to_have_count(1)
    expect(panel.locator(".jp-CollabDocs-thread")).to_have_attribute("data-thread-id", thread["id"])
    panel.locator(".jp-CollabDocs-commentsFilter-mentioningMe").uncheck()
    panel.locator(".jp-CollabDocs-commentsFilter-mine").check()
    expect(panel.locator(".jp-CollabDocs-commentsNotice")).to_have_text(
        "No comments match these filters."
    )

    # A viewer reads the threads and is offered nothing to write.
    share(collab_server, doc["id"], "user:carol", "viewer")
    carol = user_page("carol")
    open_lab(carol, collab_server, "carol")
    open_from_panel(carol, doc)
    carol_panel = comments_panel(carol)
    expect(carol_panel.locator(".jp-CollabDocs-thread")).to_have_count(2)
    expect(carol_panel.locator(".jp-CollabDocs-commentText").last).to_have_text("@bob which step?")
    expect(carol_panel.locator(".jp-CollabDocs-addComment")).to_be_hidden()
    for control in ("replyBody", "resolveButton", "commentEdit", "commentDelete"):
        expect(carol_panel.locator(f".jp-CollabDocs-{control}")).to_have_count(0)
