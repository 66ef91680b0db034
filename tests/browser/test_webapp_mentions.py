"""@-mentions on the web page (``/collab-docs/``), in a real browser against a real
server: typing ``@`` and letters in the comment and reply boxes lists the readers of the
document (a hostile display name stays text), the keyboard or a click inserts the
username; mentioning someone who cannot read, and a name nobody has, shows the notice,
with Share… for the owner opening the share dialog."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.hostile import watch_pwned
from tests.browser.test_webapp import open_document, sign_in
from tests.browser.test_webapp_comments import HOSTILE, open_panel, panel, select_line, thread_in

# One worker runs the whole module: its browser and server are per module (xdist_group).
pytestmark = pytest.mark.xdist_group("browser-webapp-mentions")


def test_completion_inserts_the_username_and_the_cannot_read_notice_offers_share(
    user_page, collab_server
):
    hostile_name = f"{HOSTILE}Hal"
    collab_server.server.cli("users", "add", "hal", "--display-name", hostile_name)
    alice_api = collab_server.as_user("alice")
    text = "Intro line.\nThe budget is final.\nEnd."
    doc = alice_api("POST", "documents", {"name": "Plan.txt", "type": "file", "content": text})
    alice_api("PUT", f"documents/{doc['id']}/shares/user:hal", {"role": "commenter"})
    alice_api("PUT", f"documents/{doc['id']}/shares/user:bob", {"role": "commenter"})

    alice = user_page("alice")
    pwned = watch_pwned(alice)
    sign_in(alice, collab_server, "alice")
    open_document(alice, collab_server, doc["id"])
    select_line(alice, alice.locator(".text-editor .cm-line", has_text="The budget"))
    alice.locator(".comment-selection").click()
    box = panel(alice).locator("textarea[aria-label='New comment']")
    expect(box).to_be_focused()

    # "@ha" lists Hal: his hostile display name as text, his username beside it.
    box.press_sequentially("Ask @ha")
    options = panel(alice).locator(".comments-new .mention-option")
    expect(options).to_have_count(1)
    expect(options.first.locator(".mention-name")).to_have_text(hostile_name)
    expect(options.first.locator(".mention-username")).to_have_text("@hal")
    assert panel(alice).locator("img").count() == 0
    # Enter inserts "@hal " (and does not start a new line).
    box.press("Enter")
    expect(box).to_have_value("Ask @hal ")
    expect(options).to_have_count(0)

    # Carol cannot read the document: never listed; "nobdy" is nobody.
    box.press_sequentially("and @car")
    box.press_sequentially("ol, @nobdy")
    expect(options).to_have_count(0)
    panel(alice).locator(".comments-new button[type=submit]").click()
    thread = thread_in(alice, "The budget is final.")
    notice = thread.locator(".mention-notice")
    expect(notice.locator(".mention-cannot-read")).to_have_text("carol cannot read this document")
    expect(notice.locator(".mention-unknown")).to_have_text("nobdy: no such user")

    # Share… (Alice owns the document) opens the share dialog for it.
    notice.locator(".mention-share").click()
    dialog = alice.locator("dialog", has_text="Share “Plan.txt”")
    expect(dialog).to_be_visible()
    dialog.locator("button[aria-label=Close]").click()
    expect(dialog).to_have_count(0)

    # The reply box completes too (↓ and a click); a reply telling everyone clears the notice.
    open_panel(alice)
    reply = thread.locator("textarea[aria-label=Reply]")
    reply.click()
    reply.press_sequentially("Thanks @b")
    reply_options = thread.locator(".mention-option")
    expect(reply_options).to_have_count(1)
    reply_options.first.click()
    expect(reply).to_have_value("Thanks @bob ")
    thread.locator(".thread-reply button[type=submit]").click()
    expect(thread.locator(".comment-body").nth(1)).to_have_text("Thanks @bob")
    expect(thread.locator(".mention-notice")).to_have_count(0)

    stored = alice_api("GET", f"documents/{doc['id']}/threads")["threads"][0]["comments"]
    assert [c["mentions"] for c in stored] == [["hal", "carol", "nobdy"], ["bob"]]
    assert alice.evaluate("window.__pwned") is None
    assert pwned == []
