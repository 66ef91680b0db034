"""The activity feed in both faces (issue #15): JupyterLab's Activity panel and the web
page's Activity dialog show each event as a sentence with people's display names, stamped
in the reader's locale, filter it by person, kind and time, and keep a hostile display
name and document name inert (text, never markup). Only owners get to it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.hostile import PWNED, watch_pwned
from tests.browser.test_jupyterlab import create, open_from_panel, open_lab, share
from tests.browser.test_webapp_faces import sign_in

pytestmark = pytest.mark.xdist_group("browser-activity-feed")

HOSTILE = f"<img src=x onerror=\"window.__pwned=1;fetch('{PWNED}?activity')\">"
MALLORY = f"{HOSTILE}Mallory"
DOC_NAME = f"{HOSTILE}Plan"


@pytest.fixture(scope="module")
def story(collab_server) -> dict[str, Any]:
    """alice's document: shared with a group, bob and mallory (whose display name is
    markup); mallory renames it to markup; alice names a version and restores it."""
    server = collab_server.server
    server.cli("groups", "add", "data-team")
    out = server.cli("users", "add", "mallory", "--display-name", MALLORY)
    collab_server.tokens["mallory"] = out.splitlines()[-1].strip()
    doc = create(collab_server, "alice", "Q3 draft", "file", "one\n")
    share(collab_server, doc["id"], "group:data-team", "editor")
    share(collab_server, doc["id"], "user:bob", "editor")
    share(collab_server, doc["id"], "user:mallory", "editor")
    collab_server.as_user("mallory")("PATCH", f"documents/{doc['id']}", {"name": DOC_NAME})
    alice = collab_server.as_user("alice")
    version = alice("POST", f"documents/{doc['id']}/versions", {"label": "before cleanup"})
    alice("PUT", f"documents/{doc['id']}/content", {"content": "two\n"})
    alice("POST", f"documents/{doc['id']}/versions/{version['id']}/restore")
    return doc


def expect_sentences(events: Locator, summary: str) -> None:
    """The feed's sentences, as text; the hostile ones inert."""
    expect(
        events.locator(summary).filter(has_text="Alice Liddell restored “before cleanup”")
    ).to_have_count(1)
    expect(
        events.locator(summary).filter(
            has_text="Alice Liddell shared this with the group data-team as editor"
        )
    ).to_have_count(1)
    renamed = f"{MALLORY} renamed it from “Q3 draft” to “{DOC_NAME}”"
    expect(events.locator(summary).filter(has_text=renamed)).to_have_count(1)


def expect_inert(page: Page, root: Locator, pwned: list[str]) -> None:
    expect(root.locator("img")).to_have_count(0)
    assert page.evaluate("() => window.__pwned") is None
    assert pwned == []


def expect_local_time(page: Page, times: Locator) -> None:
    first = times.first
    stamp = first.get_attribute("datetime")
    assert stamp and stamp.endswith("Z")
    shown = page.evaluate("(iso) => new Date(iso).toLocaleString()", stamp)
    expect(first).to_have_text(shown)


def expect_filters(
    page: Page, events: Locator, person: Locator, kind: Locator, since: Locator
) -> None:
    kind.select_option("sharing")
    expect(events).to_have_count(3)
    for n in range(3):
        expect(events.nth(n)).to_have_attribute("data-category", "sharing")
    kind.select_option("")
    person.select_option("mallory")
    # every event left is mallory's (waits for the filtered answer), and there are some
    expect(events.filter(has_not_text=MALLORY)).to_have_count(0)
    expect(events.filter(has_text=MALLORY)).to_have_count(1)
    person.select_option("")
    kind.select_option("versions")
    expect(events.filter(has_text="shared this")).to_have_count(0)  # the filtered answer
    restored = events.filter(has_text="Alice Liddell restored “before cleanup”")
    expect(restored).to_have_count(1)
    # one render replaces the whole list: once the restore shows, every row is a version's
    assert set(events.evaluate_all("rows => rows.map(r => r.dataset.category)")) == {"versions"}
    with page.expect_response(lambda r: "/activity?" in r.url and "since=" in r.url) as asked:
        since.select_option("hour")
    assert asked.value.status == 200
    expect(restored).to_have_count(1)
    since.select_option("")
    kind.select_option("")


def test_the_web_page_shows_the_feed_in_sentences(story, collab_server, user_page, screenshot):
    alice = user_page("alice")
    pwned = watch_pwned(alice)
    sign_in(alice, collab_server, "alice")
    alice.goto(f"{collab_server.url}/collab-docs/#/d/{story['id']}")
    expect(alice.locator(".doc-heading")).to_have_text(DOC_NAME)
    alice.click(".doc-header button:has-text('Activity')")
    feed = alice.locator("dialog .activity-feed")
    events = feed.locator("li.activity-event")
    expect_sentences(events, ".activity-summary")
    expect_local_time(alice, feed.locator("time.activity-time"))
    expect_filters(
        alice,
        events,
        feed.locator("select.activity-person"),
        feed.locator("select.activity-kind"),
        feed.locator("select.activity-since"),
    )
    expect(events.filter(has_text="created the file “Q3 draft”")).to_have_count(1)  # everything
    screenshot(alice, "webapp-activity-feed")
    expect_inert(alice, alice.locator("body"), pwned)

    # An editor is offered no feed.
    bob = user_page("bob")
    sign_in(bob, collab_server, "bob")
    bob.goto(f"{collab_server.url}/collab-docs/#/d/{story['id']}")
    expect(bob.locator(".doc-heading")).to_have_text(DOC_NAME)
    expect(bob.locator(".doc-header .button:has-text('Share')")).to_be_visible()
    expect(bob.locator(".doc-header button:has-text('Activity')")).to_be_hidden()


def test_jupyterlab_shows_the_feed_in_sentences(story, collab_server, user_page, screenshot):
    alice = user_page("alice")
    pwned = watch_pwned(alice)
    open_lab(alice, collab_server, "alice")
    open_from_panel(alice, story)
    alice.locator(".jp-CollabDocs-activityButton:visible").click()
    panel = alice.locator(".jp-CollabDocs-activity")
    events = panel.locator("li.jp-CollabDocs-event")
    expect_sentences(events, ".jp-CollabDocs-eventSummary")
    expect_local_time(alice, panel.locator("time.jp-CollabDocs-eventTime"))
    expect_filters(
        alice,
        events,
        panel.locator("select.jp-CollabDocs-activityPerson"),
        panel.locator("select.jp-CollabDocs-activityKind"),
        panel.locator("select.jp-CollabDocs-activitySince"),
    )
    expect(events.filter(has_text="created the file “Q3 draft”")).to_have_count(1)  # everything
    screenshot(alice, "jupyterlab-activity-feed")
    expect_inert(alice, panel, pwned)
