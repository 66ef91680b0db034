"""Setup shared by the presence browser tests: one document open in JupyterLab (alice)
and on the web page (bob) at once."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from tests.browser.test_jupyterlab import open_from_panel, open_lab, share
from tests.browser.test_webapp import open_document, sign_in


def watch_console(page: Page) -> list[str]:
    """The page's console errors, as they come."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def open_in_lab(page: Page, collab_server: Any, user: str, doc: dict[str, Any]) -> None:
    """``user`` opens JupyterLab and ``doc`` in it from the Shared documents panel."""
    open_lab(page, collab_server, user)
    open_from_panel(page, doc)


def open_on_both_faces(
    collab_server: Any, user_page: Any, doc: dict[str, Any]
) -> tuple[Page, Page, list[str]]:
    """Alice (the owner) opens ``doc`` in JupyterLab and Bob, made an editor, on the web
    page; with the console errors of Bob's page from the start."""
    share(collab_server, doc["id"], "user:bob", "editor")
    alice, bob = user_page("alice"), user_page("bob")
    bob_errors = watch_console(bob)
    open_in_lab(alice, collab_server, "alice", doc)
    sign_in(bob, collab_server, "bob")
    open_document(bob, collab_server, doc["id"])
    return alice, bob, bob_errors
