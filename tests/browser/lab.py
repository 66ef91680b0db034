"""Helpers shared by the JupyterLab comment and suggestion browser tests: the Comments
panel, selections, context menus, and the setup in which an editor (bob) and a commenter
open one document side by side."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.browser import test_jupyterlab as jupyterlab

PANGRAM = "The quick brown fox jumps over the lazy dog.\n"


def comments_panel(page: Page) -> Locator:
    """Open the Comments sidebar (if it is not already) and return it."""
    tab = page.locator('.jp-SideBar [data-id="jp-CollabDocs-comments"]')
    panel = page.locator("#jp-CollabDocs-comments")
    if not panel.is_visible():
        tab.click()
    expect(panel).to_be_visible()
    return panel


def select_chars(page: Page, target: Locator, start: int, length: int) -> None:
    """Select ``length`` characters from ``start`` of an editor's first line."""
    target.click()
    page.keyboard.press("Control+Home")
    for _ in range(start):
        page.keyboard.press("ArrowRight")
    for _ in range(length):
        page.keyboard.press("Shift+ArrowRight")


def choose_from_menu(
    page: Page, target: Locator, label: str, position: dict[str, float] | None = None
) -> None:
    """Right-click ``target`` and choose the context menu item labelled exactly ``label``."""
    target.click(button="right", position=position)
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")).click()


def expect_not_pwned(*pages: Page) -> None:
    for page in pages:
        assert page.evaluate("window.__pwned") is None


def stored_text(collab_server, doc_id: str) -> Any:
    """A document's content as the server has it (bob's caret label is in his editor)."""
    return collab_server.request("GET", f"documents/{doc_id}/content")["content"]


def threads(collab_server, doc_id: str) -> list[dict[str, Any]]:
    return collab_server.request("GET", f"documents/{doc_id}/threads")["threads"]


def create_price_notebook(collab_server, name: str) -> dict[str, Any]:
    """alice's two-cell notebook: ``total = price * quantity`` and ``print(total)``."""
    return jupyterlab.create(
        collab_server,
        "alice",
        name,
        "notebook",
        jupyterlab.notebook("total = price * quantity", "print(total)"),
    )


def open_as_editor_and_commenter(
    collab_server, user_page, doc: dict[str, Any], commenter: str
) -> tuple[Page, Page, Locator, Locator]:
    """Share ``doc`` with bob (editor) and ``commenter``; open it in JupyterLab for both.
    Returns bob's page, the commenter's page, and their Comments panels."""
    jupyterlab.share(collab_server, doc["id"], "user:bob", "editor")
    jupyterlab.share(collab_server, doc["id"], f"user:{commenter}", "commenter")
    bob, other = user_page("bob"), user_page(commenter)
    for page, user in ((bob, "bob"), (other, commenter)):
        jupyterlab.open_lab(page, collab_server, user)
        jupyterlab.open_from_panel(page, doc)
        jupyterlab.dismiss_news(page)
    return bob, other, comments_panel(bob), comments_panel(other)


def open_text_as_editor_and_commenter(
    collab_server, user_page, name: str, text: str, commenter: str
) -> tuple[dict[str, Any], Page, Page, Locator, Locator]:
    """alice's text document ``name``, opened by bob (editor) and ``commenter``, whose
    editor is read-only. Returns the document, both pages and their Comments panels."""
    doc = jupyterlab.create(collab_server, "alice", name, "file", text)
    bob, other, bob_panel, other_panel = open_as_editor_and_commenter(
        collab_server, user_page, doc, commenter
    )
    expect(jupyterlab.status(other)).to_have_attribute("data-state", "read-only")
    return doc, bob, other, bob_panel, other_panel
