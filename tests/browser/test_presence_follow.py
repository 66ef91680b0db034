"""Who is here, where, and following them, in both faces against a real
``jupyter collab-docs`` (docs/protocol.md, "Presence").

Alice in JupyterLab and Bob on the web page share a long notebook: each one's people list
names the other and the cell they are in, live; following someone scrolls the follower's
view to the cell they move to (far out of view: the web page draws only the cells near
its viewport) and stops when the follower acts. Two web pages do the same on a text
document (the leader's line). A display name is data: a hostile one shows as text.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.presence import open_on_both_faces
from tests.browser.test_jupyterlab import create, current, notebook, share
from tests.browser.test_webapp import open_document, sign_in

# One worker runs the whole module: its browser and server are per module (xdist_group).
pytestmark = pytest.mark.xdist_group("browser-presence-follow")

HOSTILE_NAME = 'Mal <img class="hostile-name" src=x onerror="window.__pwned=\'name\'">'
CELLS = 60


@pytest.fixture(scope="module", autouse=True)
def mallory(collab_server) -> None:
    """A user whose display name is markup (names are data)."""
    out = collab_server.server.cli("users", "add", "mallory", "--display-name", HOSTILE_NAME)
    collab_server.tokens["mallory"] = out.splitlines()[-1].strip()


# Web page: the people list and the follow indicator.
def web_people(page: Page) -> Any:
    """The web page's people list, opened if it is not."""
    people = page.locator(".people-list")
    if not people.is_visible():
        page.locator(".people-button").click()
    expect(people).to_be_visible()
    return people


def web_person(page: Page, user: str) -> Any:
    return web_people(page).locator(f'.person[data-user="{user}"]')


# JupyterLab: the same from the avatars in the document toolbar.
def lab_people(page: Page) -> Any:
    people = page.locator(".jp-CollabDocs-people")
    if not people.is_visible():
        current(page).locator(".jp-CollabDocs-avatarList").click()
    expect(people).to_be_visible()
    return people


def lab_person(page: Page, user: str) -> Any:
    return lab_people(page).locator(f'.jp-CollabDocs-person[data-user="{user}"]')


def click_cell(page: Page, cell: Any) -> None:
    page.bring_to_front()
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").click()


def test_lab_and_web_users_see_and_follow_each_other_in_a_notebook(
    collab_server, user_page, screenshot
) -> None:
    sources = [f"x{n} = {n}" for n in range(1, CELLS + 1)]
    doc = create(collab_server, "alice", "Presence tour", "notebook", notebook(*sources))
    share(collab_server, doc["id"], "user:mallory", "editor")
    alice, bob, _ = open_on_both_faces(collab_server, user_page, doc)
    alice_cells = current(alice).locator(".jp-Notebook .jp-Cell")
    bob_cells = bob.locator(".cell")
    expect(bob_cells).to_have_count(CELLS)

    click_cell(alice, alice_cells.nth(0))
    click_cell(bob, bob_cells.nth(1))

    # Each sees the other by name and cell; their own entry is marked.
    alice_on_bob = web_person(bob, "alice")
    expect(alice_on_bob.locator(".person-name")).to_have_text("Alice Liddell")
    expect(alice_on_bob.locator(".person-where")).to_have_text("cell 1 · code")
    expect(web_person(bob, "bob")).to_contain_text("Bob Builder")
    expect(web_person(bob, "bob")).to_contain_text("(you)")
    bob_on_alice = lab_person(alice, "bob")
    expect(bob_on_alice.locator(".jp-CollabDocs-personName")).to_have_text("Bob Builder")
    expect(bob_on_alice.locator(".jp-CollabDocs-personWhere")).to_have_text("cell 2 · code")
    expect(lab_person(alice, "alice")).to_contain_text("(you)")

    # Bob follows Alice; she goes to a far cell: his page scrolls there and marks it.
    far = CELLS - 5
    expect(bob_cells.nth(far)).not_to_be_in_viewport()
    alice_on_bob.locator(".person-follow").click()
    expect(bob.locator(".following-text")).to_have_text("Following Alice Liddell")
    click_cell(alice, alice_cells.nth(far))
    expect(alice_on_bob.locator(".person-where")).to_have_text(f"cell {far + 1} · code")
    expect(bob_cells.nth(far)).to_be_in_viewport()
    expect(bob_cells.nth(far)).to_have_class(re.compile(r"\bfollowed\b"))

    # Alice follows Bob from JupyterLab; Bob scrolls up himself (his following stops) and
    # clicks a cell near the top: Alice's notebook scrolls to it.
    near = 2
    expect(alice_cells.nth(near)).not_to_be_in_viewport()
    # (Her click in the notebook closed her list: open it again.)
    alice.bring_to_front()
    bob_on_alice = lab_person(alice, "bob")
    bob_on_alice.locator(".jp-CollabDocs-follow").click()
    expect(current(alice).locator(".jp-CollabDocs-followingText")).to_have_text(
        "Following Bob Builder"
    )
    bob.bring_to_front()
    bob_cells.nth(far).hover()
    bob.mouse.wheel(0, -300)
    expect(bob.locator(".following")).to_be_hidden()
    click_cell(bob, bob_cells.nth(near))
    expect(bob_on_alice.locator(".jp-CollabDocs-personWhere")).to_have_text(
        f"cell {near + 1} · code"
    )
    expect(alice_cells.nth(near)).to_be_in_viewport()
    expect(alice_cells.nth(near)).to_contain_class("jp-CollabDocs-followed")
    # Following moved her view, not her own place (nor her editor's focus).
    expect(lab_person(alice, "alice").locator(".jp-CollabDocs-personWhere")).to_have_text(
        f"cell {far + 1} · code"
    )
    screenshot(alice, "presence-follow-jupyterlab")

    # Alice scrolls herself: she stops following.
    alice.bring_to_front()
    alice_cells.nth(near).hover()
    alice.mouse.wheel(0, 400)
    expect(current(alice).locator(".jp-CollabDocs-following")).to_be_hidden()

    # A display name is data: markup in it shows as text, in both faces.
    mal = user_page("mallory")
    sign_in(mal, collab_server, "mallory")
    open_document(mal, collab_server, doc["id"])
    click_cell(mal, mal.locator(".cell").nth(0))
    expect(lab_person(alice, "mallory").locator(".jp-CollabDocs-personName")).to_have_text(
        HOSTILE_NAME
    )
    expect(web_person(bob, "mallory").locator(".person-name")).to_have_text(HOSTILE_NAME)
    for page in (alice, bob):
        expect(page.locator("img.hostile-name")).to_have_count(0)
        assert page.evaluate("window.__pwned") is None


def test_a_web_user_follows_another_in_a_text_document(collab_server, user_page) -> None:
    text = "\n".join(f"line {n}" for n in range(1, 301))
    doc = create(collab_server, "alice", "Long notes.txt", "file", text)
    share(collab_server, doc["id"], "user:bob", "editor")
    alice, bob = user_page("alice"), user_page("bob")
    for page, user in ((alice, "alice"), (bob, "bob")):
        sign_in(page, collab_server, user)
        open_document(page, collab_server, doc["id"])
    alice.bring_to_front()
    alice.locator(".text-editor .cm-content").click()
    alice.keyboard.press("Control+Home")

    alice_on_bob = web_person(bob, "alice")
    expect(alice_on_bob.locator(".person-where")).to_have_text("line 1")
    alice_on_bob.locator(".person-follow").click()
    expect(bob.locator(".following-text")).to_have_text("Following Alice Liddell")

    # Alice jumps to the end: Bob's page scrolls her cursor (and its label) into view.
    alice.bring_to_front()
    alice.keyboard.press("Control+End")
    expect(alice_on_bob.locator(".person-where")).to_have_text("line 300")
    last = bob.locator(".text-editor .cm-line", has_text="line 300")
    expect(last).to_be_in_viewport()
    expect(bob.locator(".text-editor .cm-ySelectionInfo")).to_be_in_viewport()
    # The window, not the full page (a screenshot for docs/images/).
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    bob.screenshot(path=str(ARTIFACTS / "presence-follow-webapp.png"))

    # Bob types: he stops following.
    bob.bring_to_front()
    bob.locator(".text-editor .cm-content").press("ArrowDown")
    expect(bob.locator(".following")).to_be_hidden()
