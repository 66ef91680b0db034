"""Suggestions and @-mentions in JupyterLab, in a real browser against ``jupyter collab-docs``.

A commenter (who cannot edit) suggests new text for a range of a text document; the
editor sees the suggestion live (old text struck through, new text), accepts it, and the
text lands in both editors and on the server. A second suggestion, whose text is an HTML
payload, is rejected: the document is unchanged and nothing user-written runs. In the
comment boxes, ``@`` completes from the document's readers; mentioning someone who cannot
read the document says so, with *Share…* for the editor (who may share).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser import lab
from tests.browser.conftest import HOSTILE
from tests.browser.test_jupyterlab import current, editor, expect_eventually

# One worker runs the whole module: its browser and server are per module (xdist_group).
pytestmark = pytest.mark.xdist_group("browser-lab-suggestions")


def suggest_on_selection(page: Page, index: int = 0) -> None:
    """Right-click in an editor (the text's, or cell ``index``'s) and choose Suggest a
    Change."""
    lab.choose_from_menu(page, editor(page, index), "Suggest a Change", {"x": 5, "y": 5})


def suggestion_thread(panel, original: str):
    return panel.locator(".jp-CollabDocs-thread").filter(
        has=panel.page.locator(".jp-CollabDocs-suggestionOld", has_text=original)
    )


def show_all(panel) -> None:
    """Decided suggestions are resolved threads: show every thread."""
    panel.locator(".jp-CollabDocs-commentsStatus").select_option("all")


def test_a_commenter_suggests_the_editor_accepts_one_and_rejects_another(
    collab_server, user_page, mallory
) -> None:
    text = lab.PANGRAM
    doc, bob, mal, bob_panel, mal_panel = lab.open_text_as_editor_and_commenter(
        collab_server, user_page, "Suggest.md", text, mallory
    )

    # The commenter selects "brown fox": the suggestion editor starts with it.
    lab.select_chars(mal, editor(mal), 10, 9)
    suggest_on_selection(mal)
    draft = mal_panel.locator(".jp-CollabDocs-commentDraft")
    expect(draft.locator(".jp-CollabDocs-commentDraftTitle")).to_have_text("Suggest a change")
    proposal = draft.locator(".jp-CollabDocs-suggestionText")
    expect(proposal).to_have_value("brown fox")
    proposal.fill("red fox")
    draft.locator(".jp-CollabDocs-commentBody").fill("Redder?")
    draft.locator(".jp-CollabDocs-commentPost").click()

    # Both see it (the editor live): the old text struck through, the new, its status.
    for panel in (mal_panel, bob_panel):
        thread = suggestion_thread(panel, "brown fox")
        expect(thread.locator(".jp-CollabDocs-suggestionNew")).to_have_text("red fox")
        expect(thread.locator(".jp-CollabDocs-suggestionStatus")).to_have_text(
            "Suggestion: pending"
        )
    mine = suggestion_thread(mal_panel, "brown fox")
    expect(mine.locator(".jp-CollabDocs-acceptSuggestion")).to_have_count(0)
    expect(mine.locator(".jp-CollabDocs-withdrawSuggestion")).to_be_visible()
    # The document did not change: a suggestion is not an edit.
    assert lab.stored_text(collab_server, doc["id"]) == text

    # The editor accepts: the text lands in both editors and on the server.
    suggestion_thread(bob_panel, "brown fox").locator(".jp-CollabDocs-acceptSuggestion").click()
    for page in (bob, mal):
        expect(editor(page)).to_contain_text("The quick red fox jumps")
    expect_eventually(
        lambda: lab.stored_text(collab_server, doc["id"]).startswith("The quick red fox jumps")
    )
    # Accepted, it is resolved: gone from the open threads, shown with all of them.
    expect(suggestion_thread(mal_panel, "brown fox")).to_have_count(0)
    show_all(mal_panel)
    expect(
        suggestion_thread(mal_panel, "brown fox").locator(".jp-CollabDocs-suggestionStatus")
    ).to_have_text("Suggestion: accepted by Bob Builder")
    [accepted] = lab.threads(collab_server, doc["id"])
    assert accepted["suggestion"]["status"] == "accepted"
    assert accepted["suggestion"]["decided_by"] == "bob"

    # A second suggestion, a hostile one, on "lazy dog"; its reason @-completes "bob".
    after = lab.stored_text(collab_server, doc["id"])
    lab.select_chars(mal, editor(mal), after.index("lazy dog"), len("lazy dog"))
    suggest_on_selection(mal)
    expect(proposal).to_have_value("lazy dog")
    proposal.fill(HOSTILE)
    body = draft.locator(".jp-CollabDocs-commentBody")
    body.click()
    mal.keyboard.type("Ask @bo")
    option = draft.locator('.jp-CollabDocs-mentionOption[data-username="bob"]')
    expect(option).to_have_text("Bob Builder (@bob)")
    mal.keyboard.press("Enter")
    expect(body).to_have_value("Ask @bob ")
    mal.keyboard.type("and @carol")
    draft.locator(".jp-CollabDocs-commentPost").click()
    # carol cannot read it: the commenter is told, with nothing to share (may not).
    notice = mal_panel.locator(".jp-CollabDocs-mentionNotice")
    expect(notice.locator(".jp-CollabDocs-mentionNoticeText")).to_have_text(
        "@carol cannot read this document."
    )
    expect(notice.locator(".jp-CollabDocs-mentionShare")).to_have_count(0)

    thread = suggestion_thread(bob_panel, "lazy dog")
    expect(thread.locator(".jp-CollabDocs-suggestionNew")).to_have_text(HOSTILE)
    expect(thread.locator(".jp-CollabDocs-commentText")).to_have_text("Ask @bob and @carol")

    # The editor replies mentioning carol: he may share, so Share… opens the dialog.
    thread.locator(".jp-CollabDocs-replyBody").fill("@carol what do you think?")
    thread.locator(".jp-CollabDocs-replyButton").click()
    bob_notice = bob_panel.locator(".jp-CollabDocs-mentionNotice")
    expect(bob_notice.locator(".jp-CollabDocs-mentionNoticeText")).to_have_text(
        "@carol cannot read this document."
    )
    bob_notice.locator(".jp-CollabDocs-mentionShare").click()
    expect(bob.locator(".jp-Dialog .jp-CollabDocs-share")).to_be_visible()
    bob.locator(".jp-Dialog .jp-mod-accept").last.click()
    expect(bob.locator(".jp-Dialog")).to_have_count(0)

    # The editor rejects it: nothing changes in the document.
    thread.locator(".jp-CollabDocs-rejectSuggestion").click()
    show_all(bob_panel)
    expect(
        suggestion_thread(bob_panel, "lazy dog").locator(".jp-CollabDocs-suggestionStatus")
    ).to_have_text("Suggestion: rejected by Bob Builder")
    expect(
        suggestion_thread(mal_panel, "lazy dog").locator(".jp-CollabDocs-suggestionStatus")
    ).to_have_text("Suggestion: rejected by Bob Builder")
    assert lab.stored_text(collab_server, doc["id"]) == after
    for page in (bob, mal):
        expect(editor(page)).to_contain_text("over the lazy dog.")
    lab.expect_not_pwned(bob, mal)
    expect(current(bob).locator("img")).to_have_count(0)


def test_a_stale_suggestion_says_why_and_a_decision_made_meanwhile_shows_409(
    collab_server, user_page, mallory
) -> None:
    doc, bob, mal, bob_panel, mal_panel = lab.open_text_as_editor_and_commenter(
        collab_server, user_page, "Stale.md", "Plain words here.\n", mallory
    )

    # Two suggestions: on "Plain" and on "words".
    for start, word, proposed in ((0, "Plain", "Simple"), (6, "words", "terms")):
        lab.select_chars(mal, editor(mal), start, len(word))
        suggest_on_selection(mal)
        draft = mal_panel.locator(".jp-CollabDocs-commentDraft")
        expect(draft.locator(".jp-CollabDocs-suggestionText")).to_have_value(word)
        draft.locator(".jp-CollabDocs-suggestionText").fill(proposed)
        draft.locator(".jp-CollabDocs-commentPost").click()
        expect(suggestion_thread(bob_panel, word)).to_have_count(1)

    # The editor types inside "Plain": it no longer applies, for both, at once.
    lab.select_chars(bob, editor(bob), 2, 0)
    bob.keyboard.type("X")
    stale = (
        "Suggestion: pending: does not apply"
        " (the text it replaces changed since the suggestion was made)"
    )
    for panel in (bob_panel, mal_panel):
        expect(
            suggestion_thread(panel, "Plain").locator(".jp-CollabDocs-suggestionStatus")
        ).to_have_text(stale)
    expect(
        suggestion_thread(bob_panel, "Plain").locator(".jp-CollabDocs-acceptSuggestion")
    ).to_be_disabled()

    # "words": the owner rejects it while the editor's Accept is on its way: 409, shown.
    [words] = [t for t in lab.threads(collab_server, doc["id"]) if t["quote"] == "words"]

    rejected: list[Any] = []

    def reject_first(route) -> None:
        try:
            rejected.append(
                collab_server.request(
                    "POST",
                    f"documents/{doc['id']}/threads/{words['id']}/reject",
                    {},
                    collab_server.tokens["alice"],
                )
            )
        except Exception as error:  # shown by the assertion below
            rejected.append(error)
        route.continue_()

    accept_url = f"/threads/{words['id']}/accept"
    bob.route(lambda url: url.split("?")[0].endswith(accept_url), reject_first)
    suggestion_thread(bob_panel, "words").locator(".jp-CollabDocs-acceptSuggestion").click()
    expect(bob_panel.locator(".jp-CollabDocs-decisionNoticeText")).to_contain_text(
        "Accept: not done."
    )
    assert rejected[0]["suggestion"]["status"] == "rejected", rejected
    expect(bob_panel.locator(".jp-CollabDocs-decisionNoticeText")).to_contain_text("already")
    show_all(bob_panel)
    expect(
        suggestion_thread(bob_panel, "words").locator(".jp-CollabDocs-suggestionStatus")
    ).to_have_text("Suggestion: rejected by Alice Liddell")  # named as the thread data names her
    assert lab.stored_text(collab_server, doc["id"]) == "PlXain words here.\n"


def test_suggestions_on_a_whole_cell_and_a_range_of_a_cell_land_when_accepted(
    collab_server, user_page, mallory, screenshot
) -> None:
    doc = lab.create_price_notebook(collab_server, "Suggested analysis")
    bob, mal, bob_panel, mal_panel = lab.open_as_editor_and_commenter(
        collab_server, user_page, doc, mallory
    )
    draft = mal_panel.locator(".jp-CollabDocs-commentDraft")

    # The whole second cell, from the cell's context menu: its source is prefilled.
    editor(mal, 1).click()
    lab.choose_from_menu(mal, editor(mal, 1), "Suggest a Change to Cell")
    expect(draft.locator(".jp-CollabDocs-commentDraftTitle")).to_have_text(
        "Suggest a change to a cell"
    )
    expect(draft.locator(".jp-CollabDocs-suggestionText")).to_have_value("print(total)")
    draft.locator(".jp-CollabDocs-suggestionText").fill("print('total', total)")
    draft.locator(".jp-CollabDocs-commentPost").click()

    # "price" in the first cell's source, from the cell's context menu.
    lab.select_chars(mal, editor(mal, 0), 8, 5)
    suggest_on_selection(mal, 0)
    expect(draft.locator(".jp-CollabDocs-suggestionText")).to_have_value("price")
    draft.locator(".jp-CollabDocs-suggestionText").fill("unit_price")
    draft.locator(".jp-CollabDocs-commentPost").click()

    for original in ("print(total)", "price"):
        expect(
            suggestion_thread(bob_panel, original).locator(".jp-CollabDocs-acceptSuggestion")
        ).to_be_enabled()
    # Nothing to tell: the notices take no room.
    for notice in ("mentionNotice", "decisionNotice"):
        expect(bob_panel.locator(f".jp-CollabDocs-{notice}")).to_be_hidden()
    expect(
        suggestion_thread(bob_panel, "price").locator(".jp-CollabDocs-suggestionNew")
    ).to_have_css("display", "block")
    screenshot(bob, "jupyterlab-suggestions")
    for original in ("print(total)", "price"):
        suggestion_thread(bob_panel, original).locator(".jp-CollabDocs-acceptSuggestion").click()
        expect(suggestion_thread(bob_panel, original)).to_have_count(0)
    for page in (bob, mal):
        expect(editor(page, 0)).to_have_text("total = unit_price * quantity")
        expect(editor(page, 1)).to_have_text("print('total', total)")
    expect_eventually(
        lambda: (
            [cell["source"] for cell in lab.stored_text(collab_server, doc["id"])["cells"]]
            == ["total = unit_price * quantity", "print('total', total)"]
        )
    )
