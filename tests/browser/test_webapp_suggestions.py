"""Suggestions on the web page (``/collab-docs/``), in a real browser against a real
server: a commenter suggests a change to a text range and a new source for a notebook
cell; the editor sees each live, as a diff in the panel and in the editor; accepting one
changes the text for both, rejecting the other changes nothing; a suggestion whose text
was edited meanwhile says it no longer applies and cannot be accepted; the suggester may
withdraw; hostile suggested text stays text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.hostile import watch_pwned
from tests.browser.test_webapp import notebook_content, open_document, sign_in
from tests.browser.test_webapp_comments import open_panel, panel, select_line, thread_in

# One worker runs the whole module: its browser and server are per module (xdist_group).
pytestmark = pytest.mark.xdist_group("browser-webapp-suggestions")

HOSTILE = "<img src=x onerror=window.__pwned=1>"


def editor_text(page: Page) -> Any:
    return page.locator(".text-editor .cm-content")


def suggest_on_line(page: Page, line: Any, text: str, why: str = "") -> None:
    """Selects a line, asks to suggest a change, replaces the prefilled text, submits."""
    select_line(page, line)
    page.locator(".suggest-selection").click()
    field = panel(page).locator("textarea[aria-label='Suggested text']")
    expect(field).to_be_focused()
    field.fill(text)
    if why:
        panel(page).locator("textarea[aria-label='New comment']").fill(why)
    panel(page).locator(".comments-new button[type=submit]", has_text="Suggest").click()


class HeldSocket:
    """Alice's room socket through Playwright: what the server sends is held while
    `holding` (a slow network), so her page decides on a thread it has not seen change."""

    def __init__(self, page: Page) -> None:
        self.holding = False
        self.held: list[str | bytes] = []
        page.route_web_socket(re.compile(r"comments=1"), self.route)

    def route(self, socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        socket.on_message(server.send)
        self.page_side = socket
        server.on_message(self.from_server)

    def from_server(self, message: str | bytes) -> None:
        if self.holding:
            self.held.append(message)
        else:
            self.page_side.send(message)

    def release(self) -> None:
        self.holding = False
        for message in self.held:
            self.page_side.send(message)
        self.held.clear()


def test_suggestions_on_a_text_document(user_page, collab_server):
    alice_api = collab_server.as_user("alice")
    text = "Intro.\nThe budget is final.\nEnd of plan."
    doc = alice_api("POST", "documents", {"name": "Plan.txt", "type": "file", "content": text})
    alice_api("PUT", f"documents/{doc['id']}/shares/user:bob", {"role": "commenter"})

    alice, bob = user_page("alice"), user_page("bob")
    for page, user in ((alice, "alice"), (bob, "bob")):
        sign_in(page, collab_server, user)
        open_document(page, collab_server, doc["id"])

    # Bob, a commenter, always suggests: no mode switch, "Suggest a change" on a selection,
    # a small editor prefilled with the selected text.
    expect(bob.locator(".suggest-mode")).to_be_hidden()
    select_line(bob, bob.locator(".text-editor .cm-line", has_text="The budget"))
    bob.locator(".suggest-selection").click()
    field = panel(bob).locator("textarea[aria-label='Suggested text']")
    expect(field).to_have_value("The budget is final.")
    expect(panel(bob).locator(".comments-target")).to_have_text(
        "Suggest a change to “The budget is final.”"
    )
    field.fill("The budget is a draft.")
    panel(bob).locator("textarea[aria-label='New comment']").fill("Not signed yet.")
    panel(bob).locator(".comments-new button[type=submit]", has_text="Suggest").click()
    expect(thread_in(bob, "The budget is final.").locator(".suggestion-status")).to_have_text(
        "Pending"
    )
    # He may withdraw his own, not accept it.
    expect(thread_in(bob, "The budget").locator(".suggestion-accept")).to_have_count(0)
    expect(thread_in(bob, "The budget").locator(".suggestion-withdraw")).to_be_visible()

    # Alice sees it live: struck out in her editor, the new text after it, and a diff.
    expect(alice.locator(".text-editor .cm-suggestion-mark")).to_have_text("The budget is final.")
    expect(alice.locator(".text-editor .cm-suggestion-insert")).to_have_text(
        "The budget is a draft."
    )
    open_panel(alice)
    budget = thread_in(alice, "The budget is final.")
    expect(budget.locator(".suggestion-removed")).to_have_text("final")
    expect(budget.locator(".suggestion-added")).to_have_text("a draft")
    expect(budget.locator(".suggestion-status")).to_have_text("Pending")

    # A second suggestion, on the last line; Alice then edits inside its text.
    suggest_on_line(bob, bob.locator(".text-editor .cm-line", has_text="End of plan"), "The end.")
    end = thread_in(alice, "End of plan.")
    expect(end.locator(".suggestion-accept")).to_be_enabled()
    alice.locator(".text-editor .cm-line", has_text="End of plan").click()
    alice.keyboard.press("End")
    alice.keyboard.press("ArrowLeft")
    alice.keyboard.type("s")
    # (Alice's cursor label sits in Bob's line, after the "s".)
    expect(bob.locator(".text-editor .cm-line", has_text="End of plans")).to_have_count(1)
    # Both pages say it no longer applies; Alice's Accept is disabled.
    for page in (alice, bob):
        expect(thread_in(page, "End of plan.").locator(".suggestion-why")).to_have_text(
            "No longer applies: the text it replaces changed since the suggestion was made"
        )
    expect(end.locator(".suggestion-accept")).to_be_disabled()
    alice.bring_to_front()
    alice.screenshot(path=str(ARTIFACTS / "webapp-suggestions.png"))
    # The server refuses it too (409), and says the same.
    threads = alice_api("GET", f"documents/{doc['id']}/threads")["threads"]
    stale = next(t for t in threads if t["quote"] == "End of plan.")
    assert stale["suggestion"]["applies"] is False

    # Alice accepts the first: the text lands for both, the thread says who accepted.
    budget.locator(".suggestion-accept").click()
    for page in (alice, bob):
        expect(editor_text(page)).to_contain_text("The budget is a draft.")
        expect(editor_text(page)).not_to_contain_text("final")
    panel(bob).locator("select[aria-label='Show threads']").select_option("all")
    expect(thread_in(bob, "The budget is final.").locator(".suggestion-status")).to_contain_text(
        "Accepted by"
    )
    # Only the pending one is still proposed in the editor.
    expect(alice.locator(".text-editor .cm-suggestion-insert")).to_have_text(["The end."])

    # She rejects the stale one: nothing changes, Bob sees "Rejected by" live.
    end.locator(".suggestion-reject").click()
    expect(thread_in(bob, "End of plan.").locator(".suggestion-status")).to_contain_text(
        "Rejected by"
    )
    for page in (alice, bob):
        expect(editor_text(page)).to_contain_text("End of plans")
        expect(editor_text(page)).not_to_contain_text("The end.")

    # An editor may switch to suggesting: then a selection offers "Suggest a change".
    select_line(alice, alice.locator(".text-editor .cm-line", has_text="Intro"))
    expect(alice.locator(".suggest-selection")).to_be_hidden()
    alice.locator(".suggest-mode").click()
    expect(alice.locator(".suggest-mode")).to_have_attribute("aria-pressed", "true")
    expect(alice.locator(".suggest-selection")).to_be_visible()
    # Suggesting, her typing no longer changes the document (as for a commenter).
    alice.locator(".text-editor .cm-line", has_text="Intro").click()
    alice.keyboard.press("End")
    alice.keyboard.type("typed")
    alice.keyboard.press("Backspace")
    expect(editor_text(alice)).not_to_contain_text("type")
    expect(editor_text(alice)).to_contain_text("Intro.The budget")
    expect(alice.locator(".text-editor .cm-line", has_text="Intro.")).to_have_count(1)
    alice.locator(".suggest-mode").click()
    alice.locator(".text-editor .cm-line", has_text="Intro").click()
    alice.keyboard.press("End")
    alice.keyboard.type("!")
    expect(bob.locator(".text-editor .cm-line", has_text="Intro.!")).to_have_count(1)


def test_suggestions_on_notebook_cells(user_page, collab_server):
    alice_api = collab_server.as_user("alice")
    doc = alice_api(
        "POST", "documents", {"name": "Analysis", "type": "notebook", "content": notebook_content()}
    )
    alice_api("PUT", f"documents/{doc['id']}/shares/user:bob", {"role": "commenter"})
    alice, bob = user_page("alice"), user_page("bob")
    pwned = watch_pwned(alice) + watch_pwned(bob)
    alice_socket = HeldSocket(alice)
    for page, user in ((alice, "alice"), (bob, "bob")):
        sign_in(page, collab_server, user)
        open_document(page, collab_server, doc["id"])
    bob_first = bob.locator(".notebook .cell").nth(0)
    bob_second = bob.locator(".notebook .cell").nth(1)

    # A whole-cell suggestion from the cell's Suggest button, prefilled with its source.
    bob_second.hover()
    bob_second.locator(".cell-suggest").click()
    expect(panel(bob).locator(".comments-target")).to_have_text(
        "Suggest a new source for the whole cell"
    )
    field = panel(bob).locator("textarea[aria-label='Suggested text']")
    expect(field).to_have_value("plot()")
    field.fill("plot(title='Sales')")
    panel(bob).locator(".comments-new button[type=submit]", has_text="Suggest").click()
    # And a range of the first cell's source, with hostile text: it stays text.
    suggested = f"2  # {HOSTILE}"
    suggest_on_line(bob, bob_first.locator(".cm-line", has_text="1 + 1"), suggested, "Simpler")

    # Alice sees both live, rejects the whole-cell one (unchanged) and accepts the range
    # (the cell's source changes for both).
    alice_first = alice.locator(".notebook .cell").nth(0)
    alice_second = alice.locator(".notebook .cell").nth(1)
    expect(alice_second.locator(".cell-comment-count")).to_have_text("1 comment")
    expect(alice_first.locator(".cm-suggestion-insert")).to_have_text(suggested)
    open_panel(alice)
    expect(thread_in(alice, "1 + 1").locator(".suggestion-added")).to_have_text(suggested)
    # (CodeMirror puts its own img.cm-widgetBuffer beside a widget.)
    hostile_img = ".comments-panel img, .notebook .cm-content img:not(.cm-widgetBuffer)"
    assert alice.locator(hostile_img).count() == 0
    whole = thread_in(alice, "Whole cell")
    expect(whole.locator(".suggestion-added")).to_have_text("title='Sales'")
    whole.locator(".suggestion-reject").click()
    expect(whole).to_have_count(0)  # resolved: it leaves the open list
    thread_in(alice, "1 + 1").locator(".suggestion-accept").click()
    for page in (alice, bob):
        cells = page.locator(".notebook .cell")
        # (Bob's cursor label may sit in the line, after the "2".)
        expect(cells.nth(0).locator(".cm-content")).to_contain_text(f"print('hello'){suggested}")
        expect(cells.nth(0).locator(".cm-content")).not_to_contain_text("1 + 1")
        expect(cells.nth(0).locator(".cm-suggestion-insert")).to_have_count(0)
        expect(cells.nth(1).locator(".cm-content")).to_have_text("plot()")
    panel(bob).locator("select[aria-label='Show threads']").select_option("all")
    expect(thread_in(bob, "Whole cell").locator(".suggestion-status")).to_contain_text(
        "Rejected by"
    )
    expect(thread_in(bob, "1 + 1").locator(".suggestion-status")).to_contain_text("Accepted by")

    # Bob suggests again and withdraws it himself.
    bob_second.hover()
    bob_second.locator(".cell-suggest").click()
    panel(bob).locator("textarea[aria-label='Suggested text']").fill("show()")
    panel(bob).locator(".comments-new button[type=submit]", has_text="Suggest").click()
    panel(bob).locator("li.thread", has_text="show()").locator(".suggestion-withdraw").click()
    expect(
        panel(bob).locator("li.thread", has_text="show()").locator(".suggestion-status")
    ).to_have_text("Withdrawn")
    expect(alice_second.locator(".cm-content")).to_have_text("plot()")
    for page in (alice, bob):
        assert page.locator(hostile_img).count() == 0
        assert page.evaluate("window.__pwned") is None
    assert pwned == []

    # A suggestion withdrawn while Alice's page has not heard of it yet: her Accept is
    # refused (409), the thread says so and, read again, shows it withdrawn.
    bob_api = collab_server.as_user("bob")
    late = bob_api(
        "POST",
        f"documents/{doc['id']}/threads",
        {
            "anchor": {"kind": "cell", "cell_id": "cell-two"},
            "body": "Late",
            "suggestion": {"text": "draw()"},
        },
    )
    late_thread = panel(alice).locator("li.thread", has_text="draw()")
    expect(late_thread.locator(".suggestion-accept")).to_be_enabled()
    alice_socket.holding = True
    bob_api("POST", f"documents/{doc['id']}/threads/{late['id']}/reject")
    panel(alice).locator("select[aria-label='Show threads']").select_option("all")
    late_thread.locator(".suggestion-accept").click()
    expect(late_thread.locator(".suggestion-refused")).to_contain_text("Refused by the server:")
    expect(late_thread.locator(".suggestion-status")).to_have_text("Withdrawn")
    expect(late_thread.locator(".suggestion-accept")).to_have_count(0)
    alice_socket.release()
    expect(alice_second.locator(".cm-content")).to_have_text("plot()")
