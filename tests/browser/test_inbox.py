"""The inbox of mentions in a real browser against a real ``jupyter collab-docs``
(docs/comments.md, "Mentions and notifications"): a mention by someone with a hostile
display name and comment shows on alice's web page with the unread count, as text only;
the entry opens the document at the thread and marks it read. In JupyterLab, the inbox
button's panel opens the document and hands over the thread id."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.test_jupyterlab import LAB_TIMEOUT, create, open_lab, share
from tests.browser.test_webapp import sign_in

# One worker runs the whole module: its browser and server are per module (xdist_group).
pytestmark = pytest.mark.xdist_group("browser-inbox")

HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">Mallory'
HOSTILE_BODY = "@alice see <script>window.__pwned=2</script><b>bold</b>"


def add_mallory(collab_server: Any) -> None:
    if "mallory" not in collab_server.tokens:
        out = collab_server.server.cli("users", "add", "mallory", "--display-name", HOSTILE_NAME)
        collab_server.tokens["mallory"] = out.splitlines()[-1].strip()


def mention(collab_server: Any, name: str) -> tuple[str, str]:
    """A document of alice's, commented by mallory mentioning alice: (doc id, thread id)."""
    add_mallory(collab_server)
    doc = create(collab_server, "alice", name, "file", "the plans")
    share(collab_server, doc["id"], "user:mallory", "commenter")
    anchor = {"kind": "text", "index": 0, "length": 3}
    thread = collab_server.as_user("mallory")(
        "POST", f"documents/{doc['id']}/threads", {"anchor": anchor, "body": HOSTILE_BODY}
    )
    assert thread["notifications"]["notified"] == ["alice"]
    return doc["id"], thread["id"]


def note_of(collab_server: Any, thread_id: str) -> dict[str, Any]:
    inbox = collab_server.as_user("alice")("GET", "inbox")
    return next(n for n in inbox["notifications"] if n["thread_id"] == thread_id)


def wait_read(collab_server: Any, thread_id: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not note_of(collab_server, thread_id)["read"]:
        assert time.monotonic() < deadline, "the notification was not marked read"
        time.sleep(0.1)


def assert_not_pwned(page: Page) -> None:
    assert page.evaluate("window.__pwned") is None


def assert_label_and_badge(button: Locator, label: Locator, count: Locator) -> None:
    """The button shows its label and the unread count as a separate badge beside it,
    with room between them (not "Inbox3"), centred on the label's line."""
    expect(label).to_have_text("Inbox")
    expect(count).to_be_visible()
    label_box, count_box, outer = label.bounding_box(), count.bounding_box(), button.bounding_box()
    assert label_box and count_box and outer
    gap = count_box["x"] - (label_box["x"] + label_box["width"])
    assert gap >= 4, f"label and count {gap:.1f} px apart"
    label_middle = label_box["y"] + label_box["height"] / 2
    count_middle = count_box["y"] + count_box["height"] / 2
    assert abs(count_middle - label_middle) <= 2, (label_box, count_box)
    # the badge fits inside the button
    assert count_box["x"] + count_box["width"] <= outer["x"] + outer["width"]


def middle(box: dict[str, float]) -> float:
    return box["y"] + box["height"] / 2


def assert_inbox_layout(
    items: Locator,
    heading: Locator,
    mark_all: Locator,
    what: Locator,
    when: Locator,
    excerpt: Locator,
    when_beside: bool,
) -> None:
    """The panel's layout: a list without bullets, "Mark all read" on the heading's line
    (right of it, not squeezed under it), and a mention's excerpt under its who/where;
    its time beside them (``when_beside``, the page) or under the excerpt (the narrow
    JupyterLab sidebar)."""
    styles = items.evaluate(
        """list => [list, ...list.children].map(node => getComputedStyle(node).listStyleType)"""
    )
    assert set(styles) == {"none"}, styles
    heading_box, button_box = heading.bounding_box(), mark_all.bounding_box()
    assert heading_box and button_box
    assert button_box["x"] >= heading_box["x"] + heading_box["width"], (heading_box, button_box)
    assert abs(middle(button_box) - middle(heading_box)) <= 4, (heading_box, button_box)
    what_box, when_box = what.bounding_box(), when.bounding_box()
    excerpt_box = excerpt.bounding_box()
    assert what_box and when_box and excerpt_box
    assert excerpt_box["y"] >= what_box["y"] + what_box["height"] - 1, (what_box, excerpt_box)
    if when_beside:
        assert when_box["x"] >= what_box["x"] + what_box["width"] - 1, (what_box, when_box)
        assert when_box["y"] < what_box["y"] + what_box["height"], (what_box, when_box)
    else:
        assert when_box["y"] >= excerpt_box["y"] + excerpt_box["height"] - 1, (
            excerpt_box,
            when_box,
        )


def test_web_page_inbox(user_page, collab_server, screenshot):
    doc_id, thread_id = mention(collab_server, "Inbox plans")
    alice = user_page("alice")
    sign_in(alice, collab_server, "alice")
    button = alice.locator(".inbox-button")
    expect(button).to_have_attribute("aria-label", re.compile(r"Inbox, [1-9]\d* unread"))
    unread = collab_server.as_user("alice")("GET", "inbox")["unread"]
    expect(button.locator(".inbox-count")).to_have_text(str(unread))
    assert_label_and_badge(button, button.locator(".inbox-label"), button.locator(".inbox-count"))
    button.click()
    note = note_of(collab_server, thread_id)
    item = alice.locator(f".inbox-item[data-id='{note['id']}']")
    # text only: the display name and the comment show as written, nothing runs
    expect(item.locator(".inbox-who")).to_have_text(HOSTILE_NAME)
    expect(item.locator(".inbox-excerpt")).to_have_text(HOSTILE_BODY)
    expect(item).to_have_class(re.compile(r"\bunread\b"))
    assert alice.locator(".inbox-panel img, .inbox-panel script, .inbox-panel b").count() == 0
    assert_not_pwned(alice)
    expect(item.locator(".inbox-time")).not_to_be_empty()
    assert_inbox_layout(
        alice.locator(".inbox-items"),
        alice.locator(".inbox-header h2"),
        alice.locator(".inbox-header button", has_text="Mark all read"),
        item.locator(".inbox-link"),
        item.locator(".inbox-time"),
        item.locator(".inbox-excerpt"),
        when_beside=True,
    )
    screenshot(alice, "webapp-inbox")

    item.locator("a.inbox-link").click()
    expect(alice).to_have_url(re.compile(rf"#/d/{doc_id}\?thread={thread_id}$"))
    expect(alice.locator(".status")).to_have_attribute("data-state", "connected")
    wait_read(collab_server, thread_id)
    assert_not_pwned(alice)


def test_jupyterlab_inbox(user_page, collab_server, screenshot):
    doc_id, thread_id = mention(collab_server, "Lab inbox plans")
    alice = user_page("alice")
    open_lab(alice, collab_server, "alice")
    button = alice.locator(".jp-CollabDocs-inboxButton")
    expect(button).to_have_attribute(
        "aria-label", re.compile(r"Inbox, [1-9]\d* unread"), timeout=LAB_TIMEOUT
    )
    unread = collab_server.as_user("alice")("GET", "inbox")["unread"]
    count = button.locator(".jp-CollabDocs-inboxCount")
    expect(count).to_have_text(str(unread))
    assert_label_and_badge(button, button.locator(".jp-CollabDocs-inboxLabel"), count)
    button.click()
    note = note_of(collab_server, thread_id)
    item = alice.locator(f".jp-CollabDocs-inboxItem[data-id='{note['id']}']")
    expect(item.locator(".jp-CollabDocs-inboxWho")).to_have_text(HOSTILE_NAME)
    expect(item.locator(".jp-CollabDocs-inboxExcerpt")).to_have_text(HOSTILE_BODY)
    assert alice.locator(".jp-CollabDocs-inbox img, .jp-CollabDocs-inbox script").count() == 0
    assert_not_pwned(alice)
    expect(item).to_have_class(re.compile(r"\bjp-mod-unread\b"))
    expect(item.locator(".jp-CollabDocs-inboxWhen")).not_to_be_empty()
    assert_inbox_layout(
        alice.locator(".jp-CollabDocs-inboxItems"),
        alice.locator(".jp-CollabDocs-inboxHeader h3"),
        alice.locator(".jp-CollabDocs-inboxHeader button", has_text="Mark all read"),
        item.locator(".jp-CollabDocs-inboxWhat"),
        item.locator(".jp-CollabDocs-inboxWhen"),
        item.locator(".jp-CollabDocs-inboxExcerpt"),
        when_beside=False,
    )
    screenshot(alice, "lab-inbox")

    item.locator("button.jp-CollabDocs-inboxOpen").click()
    # the document opens, and the thread id is handed over for the comments panel
    expect(alice.locator(".jp-MainAreaWidget .cm-content").first).to_contain_text(
        "the plans", timeout=LAB_TIMEOUT
    )
    handed = alice.evaluate("document.body.dataset.collabDocsThread")
    assert handed == f"{doc_id}:{thread_id}"
    wait_read(collab_server, thread_id)
    assert_not_pwned(alice)
