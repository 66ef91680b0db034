"""JupyterLab as its users judge it (issue #15): Download saves the document itself,
each user has their own workspace, a viewer sees only what a viewer can do, History
beside a narrow notebook hides nothing of the document's toolbar, a rename reaches the
other users' open tabs, and the share dialog refuses unknown people and completes known
ones.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.test_jupyterlab import (
    LAB_TIMEOUT,
    create,
    current,
    dismiss_news,
    notebook,
    open_from_panel,
    open_lab,
    share,
    status,
)


def lab_without_reset(page: Page, collab_server, user: str) -> None:
    """Sign in and load JupyterLab keeping whatever workspace the server gives."""
    page.goto(f"{collab_server.url}/lab?token={collab_server.tokens[user]}")
    page.locator('.jp-SideBar [data-id="jp-CollabDocs-panel"]').wait_for(timeout=LAB_TIMEOUT)


def main_tabs(page: Page):
    return page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab")


def run_menu(page: Page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-item", has_text=menu).first.click()
    page.locator(".lm-Menu-item:not(.lm-mod-hidden)").filter(
        has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$"))
    ).first.click()


def test_download_saves_the_notebook_and_the_text_themselves(
    collab_server, user_page, screenshot, tmp_path: Path
) -> None:
    nb = create(collab_server, "alice", "Team plan", "notebook", notebook("x = 41 + 1"))
    text = create(collab_server, "alice", "notes.md", "file", "# Notes\nsecond line\n")
    alice = user_page("alice")
    open_lab(alice, collab_server, "alice")

    open_from_panel(alice, nb)
    with alice.expect_download() as downloading:
        run_menu(alice, "File", "Download")
    download = downloading.value
    assert download.suggested_filename == "Team plan.ipynb"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    content = json.loads(saved.read_text())
    assert content["nbformat"] == 4 and "type" not in content
    assert [cell["source"] for cell in content["cells"]] == ["x = 41 + 1"]

    open_from_panel(alice, text)
    with alice.expect_download() as downloading:
        run_menu(alice, "File", "Download")
    download = downloading.value
    assert download.suggested_filename == "notes.md"
    download.save_as(tmp_path / "notes.md")
    assert (tmp_path / "notes.md").read_text() == "# Notes\nsecond line\n"
    screenshot(alice, "jupyterlab-download")


def workspace_request(collab_server, user: str, name: str) -> int:
    """GET /lab/api/workspaces/<name> with the user's token: the status."""
    request = urllib.request.Request(
        f"{collab_server.url}/lab/api/workspaces/{name}",
        headers={"Authorization": f"token {collab_server.tokens[user]}"},
    )
    try:
        with urllib.request.urlopen(request) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def test_each_user_has_their_own_workspace(collab_server, user_page, screenshot) -> None:
    doc = create(collab_server, "alice", "Alice private tab", "notebook", notebook("a = 1"))
    alice = user_page("alice")
    open_lab(alice, collab_server, "alice")

    def saves_the_tab(response) -> bool:
        request = response.request
        return (
            request.method == "PUT"
            and "/lab/api/workspaces/" in request.url
            and doc["id"] in (request.post_data or "")
        )

    # JupyterLab saves the layout a moment after it changes.
    with alice.expect_response(saves_the_tab, timeout=30_000) as saved:
        open_from_panel(alice, doc)
    assert saved.value.status == 204
    workspace = alice.evaluate(
        "() => JSON.parse(document.getElementById('jupyter-config-data').textContent).workspace"
    )
    assert workspace not in ("", "default")
    assert saved.value.url.split("?")[0].endswith(f"/lab/api/workspaces/{workspace}")

    lab_without_reset(alice, collab_server, "alice")
    expect(main_tabs(alice).filter(has_text="Alice private tab")).to_have_count(1, timeout=30_000)
    screenshot(alice, "jupyterlab-own-workspace-alice")

    # bob's first load is his own, empty layout.
    bob = user_page("bob")
    lab_without_reset(bob, collab_server, "bob")
    bobs = bob.evaluate(
        "() => JSON.parse(document.getElementById('jupyter-config-data').textContent).workspace"
    )
    assert bobs not in ("", "default", workspace)
    expect(bob.locator("#jp-CollabDocs-panel")).to_be_attached()
    expect(main_tabs(bob).filter(has_text="Alice private tab")).to_have_count(0)

    # Each reaches their own workspace over the API, never another's or the server's.
    assert workspace_request(collab_server, "alice", workspace) == 200
    assert workspace_request(collab_server, "bob", workspace) == 403
    assert workspace_request(collab_server, "alice", bobs) == 403
    assert workspace_request(collab_server, "bob", "default") == 403


EDITING_TOOLBAR_ITEMS = ["insert", "cut", "paste", "run", "restart", "cellType"]


def test_a_viewer_sees_what_a_viewer_can_do(collab_server, user_page, screenshot) -> None:
    doc = create(collab_server, "alice", "Look only", "notebook", notebook("x = 1", "y = 2"))
    share(collab_server, doc["id"], "user:carol", "viewer")
    carol = user_page("carol")
    open_lab(carol, collab_server, "carol")
    open_from_panel(carol, doc)
    dismiss_news(carol)
    widget = current(carol)
    expect(status(carol)).to_have_attribute("data-state", "read-only")
    widget.locator(".jp-Cell").first.click()

    # No editing buttons: not in the notebook's toolbar, not on the cell.
    for name in EDITING_TOOLBAR_ITEMS:
        item = widget.locator(f'.jp-Toolbar-item[data-jp-item-name="{name}"]:visible')
        expect(item).to_have_count(0)
    expect(widget.locator(".jp-cell-toolbar:visible")).to_have_count(0)

    # ... nor enabled in the menus: Edit > Cut Cell / Delete / Merge, clear outputs, move.
    carol.locator(".lm-MenuBar-item", has_text="Edit").first.click()
    menu = carol.locator(".lm-Menu").last
    for label in ("Cut Cell", "Delete Cell", "Merge Selected Cells", "Clear Cell Output"):
        entry = menu.locator(".lm-Menu-item").filter(
            has=carol.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{label}"))
        )
        if entry.count():
            expect(entry.first).to_have_class(re.compile("lm-mod-disabled"))
    carol.keyboard.press("Escape")
    carol.locator(".lm-MenuBar-item", has_text="Run").first.click()
    run = carol.locator(".lm-Menu").last.locator(".lm-Menu-item:not(.lm-mod-disabled)")
    expect(run.filter(has_text=re.compile("Run Selected|Run All"))).to_have_count(0)
    carol.keyboard.press("Escape")

    # One read-only indicator, fully visible.
    indicators = widget.locator(".jp-Toolbar *:visible, .jp-CollabDocs-banner:visible").filter(
        has_text=re.compile("read-only|read only|view only|can view|not allowed", re.I)
    )
    texts = [t.strip() for t in indicators.all_inner_texts() if t.strip()]
    # each indicator once, however many elements wrap its text
    leaves = {t for t in texts if not any(t != o and t in o for o in texts)}
    assert len(leaves) == 1, f"read-only indicators: {texts}"
    screenshot(carol, "jupyterlab-viewer-notebook")

    # The banner (here: the document deleted) is not clipped.
    collab_server.request("DELETE", f"documents/{doc['id']}", token=collab_server.tokens["alice"])
    banner = widget.locator(".jp-CollabDocs-banner")
    expect(banner).to_contain_text("deleted", timeout=20_000)
    box = banner.bounding_box()
    toolbar = widget.locator(".jp-Toolbar").first.bounding_box()
    assert box and toolbar
    assert box["y"] >= toolbar["y"] + toolbar["height"] - 1, (box, toolbar)
    clipped = banner.evaluate(
        "el => el.scrollHeight > el.clientHeight + 1 "
        "|| el.getBoundingClientRect().height > el.parentElement.getBoundingClientRect().height"
    )
    assert not clipped
    screenshot(carol, "jupyterlab-viewer-deleted-banner")


def test_history_beside_a_narrow_notebook_keeps_the_document_toolbar(
    collab_server, user_page, screenshot
) -> None:
    doc = create(collab_server, "alice", "Narrow one", "notebook", notebook("n = 1"))
    share(collab_server, doc["id"], "user:bob", "editor")
    alice = user_page("alice")
    alice.set_viewport_size({"width": 1100, "height": 800})
    open_lab(alice, collab_server, "alice")
    open_from_panel(alice, doc)
    widget = current(alice)
    # An editor keeps the editing buttons (only readers lose them).
    insert = widget.locator('.jp-Toolbar-item[data-jp-item-name="insert"] :is(button, jp-button)')
    expect(insert.first).to_be_enabled()
    widget.locator(".jp-CollabDocs-historyButton").click()
    expect(alice.locator(".jp-CollabDocs-history")).to_be_visible()
    expect(alice.locator(".jp-CollabDocs-history .jp-CollabDocs-versionList")).to_be_attached()
    for part in (".jp-CollabDocs-status", ".jp-CollabDocs-avatars", ".jp-CollabDocs-shareButton"):
        expect(widget.locator(f".jp-Toolbar {part}").first).to_be_visible()
    screenshot(alice, "jupyterlab-history-beside-notebook")

    # The owner's Activity too, History's panel making room for it.
    widget.locator(".jp-CollabDocs-activityButton").click()
    expect(alice.locator(".jp-CollabDocs-activity")).to_be_visible()
    for part in (".jp-CollabDocs-status", ".jp-CollabDocs-avatars", ".jp-CollabDocs-shareButton"):
        expect(widget.locator(f".jp-Toolbar {part}").first).to_be_visible()


def test_a_rename_reaches_the_other_users_open_tab(collab_server, user_page, screenshot) -> None:
    doc = create(collab_server, "alice", "Old title", "notebook", notebook("r = 1"))
    share(collab_server, doc["id"], "user:bob", "editor")
    bob = user_page("bob")
    open_lab(bob, collab_server, "bob")
    open_from_panel(bob, doc)
    # bob closes the sidebar: he is working in the notebook.
    bob.locator('.jp-SideBar [data-id="jp-CollabDocs-panel"]').click()
    expect(bob.locator("#jp-CollabDocs-panel")).to_be_hidden()
    expect(main_tabs(bob).filter(has_text="Old title.ipynb")).to_have_count(1)

    collab_server.request(
        "PATCH",
        f"documents/{doc['id']}",
        {"name": "New title"},
        token=collab_server.tokens["alice"],
    )
    expect(main_tabs(bob).filter(has_text="New title.ipynb")).to_have_count(1, timeout=15_000)
    expect(status(bob)).to_have_attribute("data-state", "connected")
    screenshot(bob, "jupyterlab-renamed-by-alice")


def test_the_share_dialog_refuses_unknown_people_and_completes_known_ones(
    collab_server, user_page, screenshot
) -> None:
    collab_server.server.cli("groups", "add", "chemistry")
    doc = create(collab_server, "alice", "Sharing test", "file", "share me\n")
    alice = user_page("alice")
    open_lab(alice, collab_server, "alice")
    open_from_panel(alice, doc)
    current(alice).locator(".jp-CollabDocs-shareButton").click()
    dialog = alice.locator(".jp-Dialog .jp-CollabDocs-share")
    principal = dialog.locator(".jp-CollabDocs-principal")

    principal.fill("dave")
    dialog.locator(".jp-CollabDocs-add").click()
    expect(dialog.locator(".jp-CollabDocs-message.jp-mod-error")).to_contain_text("no user 'dave'")
    expect(dialog.locator('.jp-CollabDocs-shareRow[data-principal="user:dave"]')).to_have_count(0)

    # Completion: existing users and groups, by name or display name.
    principal.fill("")
    principal.press_sequentially("car")
    options = dialog.locator(".jp-CollabDocs-suggestion")
    expect(options.filter(has_text="user:carol")).to_have_count(1)
    expect(options.filter(has_text="Carol Danvers")).to_have_count(1)
    principal.fill("")
    principal.press_sequentially("chem")
    expect(options.filter(has_text="group:chemistry")).to_have_count(1)
    principal.fill("")
    principal.press_sequentially("car")
    screenshot(alice, "jupyterlab-share-completion")
    options.filter(has_text="user:carol").first.click()
    expect(principal).to_have_value("user:carol")
    dialog.locator(".jp-CollabDocs-add").click()
    expect(dialog.locator('.jp-CollabDocs-shareRow[data-principal="user:carol"]')).to_have_count(1)
    shares = collab_server.request("GET", f"documents/{doc['id']}/shares")
    assert "user:carol" in json.dumps(shares)
