"""The web page as users judge it (issue #15): renames and new documents reach pages that
are already open, the server's errors are shown (a name too long, a share to nobody),
the share dialog completes existing users and groups (as text), and a large notebook
becomes editable quickly and scrolls smoothly (figures in test-artifacts/)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

import pytest
from playwright.sync_api import Page, expect

from tests.browser.hostile import PWNED, watch_pwned

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
# The page re-reads the list and the open document every few seconds while visible.
POLL_WAIT_MS = 25_000


def sign_in(page: Page, server: Any, user: str) -> None:
    page.goto(f"{server.url}/collab-docs/")
    page.fill("#token", server.tokens[user])
    page.click("form.signin-form button[type=submit]")
    expect(page.locator(".topbar .user-name")).to_be_visible()


def test_renames_and_new_documents_reach_open_pages(user_page, collab_server):
    alice_api = collab_server.as_user("alice")
    doc = alice_api("POST", "documents", {"name": "Before", "type": "file", "content": "x"})
    alice_api("PUT", f"documents/{doc['id']}/shares/user:bob", {"role": "editor"})

    bob_list = user_page("bob")
    sign_in(bob_list, collab_server, "bob")
    expect(bob_list.locator(f".doc-row[data-id='{doc['id']}'] .doc-title")).to_have_text("Before")
    bob_doc = user_page("bob")
    sign_in(bob_doc, collab_server, "bob")
    bob_doc.goto(f"{collab_server.url}/collab-docs/#/d/{doc['id']}")
    expect(bob_doc.locator(".doc-heading")).to_have_text("Before")

    # Alice renames it and shares a new one, elsewhere: bob's open pages follow.
    alice_api("PATCH", f"documents/{doc['id']}", {"name": "After"})
    fresh = alice_api("POST", "documents", {"name": "Fresh", "type": "file", "content": ""})
    alice_api("PUT", f"documents/{fresh['id']}/shares/user:bob", {"role": "viewer"})
    bob_list.bring_to_front()
    expect(bob_list.locator(f".doc-row[data-id='{doc['id']}'] .doc-title")).to_have_text(
        "After", timeout=POLL_WAIT_MS
    )
    expect(bob_list.locator(f".doc-row[data-id='{fresh['id']}']")).to_be_visible(
        timeout=POLL_WAIT_MS
    )
    bob_doc.bring_to_front()
    expect(bob_doc.locator(".doc-heading")).to_have_text("After", timeout=POLL_WAIT_MS)


def test_a_name_too_long_shows_the_servers_error(user_page, collab_server):
    alice_api = collab_server.as_user("alice")
    doc = alice_api("POST", "documents", {"name": "Short", "type": "file", "content": ""})
    long_name = "n" * 400
    # The API refuses it: the page must say so, not cut the name to fit.
    with pytest.raises(HTTPError) as refused:
        alice_api("PATCH", f"documents/{doc['id']}", {"name": long_name})
    assert refused.value.code == 400

    alice = user_page("alice")
    sign_in(alice, collab_server, "alice")
    alice.goto(f"{collab_server.url}/collab-docs/#/d/{doc['id']}")
    expect(alice.locator(".doc-heading")).to_have_text("Short")
    alice.click(".doc-title-row button:has-text('Rename')")
    alice.fill("dialog input", long_name)
    # Nothing cut silently: the field holds the whole name.
    assert len(alice.locator("dialog input").input_value()) == 400
    alice.click("dialog button[type=submit]")
    expect(alice.locator(".toast-error")).to_contain_text(re.compile(r"name", re.I))
    expect(alice.locator(".doc-heading")).to_have_text("Short")
    assert alice_api("GET", f"documents/{doc['id']}")["name"] == "Short"


def test_share_dialog_shows_refusals_and_completes_names_as_text(user_page, collab_server):
    alice_api = collab_server.as_user("alice")
    doc = alice_api("POST", "documents", {"name": "To share", "type": "file", "content": ""})
    # A user whose display name is markup: it must be shown as text.
    hostile = f"<img src=x onerror=\"fetch('{PWNED}?principal')\">Mallory"
    collab_server.server.cli("users", "add", "mallory", "--display-name", hostile)

    alice = user_page("alice")
    pwned = watch_pwned(alice)
    sign_in(alice, collab_server, "alice")
    alice.goto(f"{collab_server.url}/collab-docs/#/d/{doc['id']}")
    alice.click(".doc-header-end button:has-text('Share')")
    dialog = alice.locator("dialog")

    # Sharing with nobody: the server's refusal, not "Shared with dave".
    dialog.locator("input[aria-label=Name]").fill("dave")
    dialog.locator("form.add-share button[type=submit]").click()
    expect(dialog.locator(".form-error")).to_contain_text("no user 'dave'")
    expect(dialog.locator("li[data-principal='user:dave']")).to_have_count(0)

    # Completion of existing users.
    name = dialog.locator("input[aria-label=Name]")
    name.fill("")
    name.type("ca")
    option = dialog.locator(".completions [data-principal='user:carol']")
    expect(option).to_be_visible()
    expect(option).to_contain_text("Carol Danvers")
    option.click()
    expect(name).to_have_value("carol")
    dialog.locator("form.add-share button[type=submit]").click()
    expect(dialog.locator("li[data-principal='user:carol']")).to_be_visible()

    name.fill("")
    name.type("mal")
    mallory = dialog.locator(".completions [data-principal='user:mallory']")
    expect(mallory).to_contain_text(hostile)
    assert dialog.locator(".completions img").count() == 0
    assert pwned == [] and alice.evaluate("window.__pwned") is None


# -- a large notebook ---------------------------------------------------------------------

CELLS = 1000


def large_notebook() -> dict[str, Any]:
    """1,000 cells, about 2.7 MB: code with outputs, and markdown every fourth cell."""
    cells: list[dict[str, Any]] = []
    for n in range(CELLS):
        if n % 4 == 0:
            cells.append(
                {
                    "id": f"md-{n}",
                    "cell_type": "markdown",
                    "metadata": {},
                    "source": f"## Section {n}\n\nSome *emphasis* and `code` in cell {n}.\n\n"
                    + "- a point about the data\n" * 20
                    + ("<img src=x onerror=\"fetch('/collab-docs-pwned?md')\">" if n == 0 else ""),
                }
            )
            continue
        source = "\n".join(
            f"value_{n}_{i} = compute({i}, scale={n}, label='measurement')  # step {i}"
            for i in range(30)
        )
        cells.append(
            {
                "id": f"code-{n}",
                "cell_type": "code",
                "metadata": {},
                "execution_count": n,
                "source": source,
                "outputs": [
                    {
                        "output_type": "stream",
                        "name": "stdout",
                        "text": "".join(
                            f"row {i}: value={i * n} mean={i / 7:.4f}\n" for i in range(36)
                        ),
                    }
                ],
            }
        )
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}


# Installed before the page's own scripts: when the first cell is editable, and frame gaps.
PROBE = """
window.__probe = { editableAt: null, longest: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries())
    window.__probe.longest = Math.max(window.__probe.longest, entry.duration);
}).observe({ type: "longtask", buffered: true });
const watch = () => {
  const ready = document.querySelector(".status[data-state=connected]") &&
    document.querySelector(".notebook .cell .cm-content[contenteditable=true]");
  if (ready) window.__probe.editableAt = performance.now();
  else requestAnimationFrame(watch);
};
requestAnimationFrame(watch);
"""

SCROLL = """
async () => {
  const gaps = [];
  let last = performance.now();
  const end = last + 4000;
  await new Promise((resolve) => {
    const step = (now) => {
      gaps.push(now - last);
      last = now;
      window.scrollBy(0, 90);
      const root = document.documentElement;
      const bottom = window.scrollY + window.innerHeight >= root.scrollHeight - 2;
      if (now >= end || bottom) resolve();
      else requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  gaps.sort((a, b) => a - b);
  return {
    frames: gaps.length,
    p95: gaps[Math.floor(gaps.length * 0.95)],
    max: gaps[gaps.length - 1],
    scrolledTo: window.scrollY,
  };
}
"""


# A jump (scroll bar dragged to the middle): until the next frame is painted.
JUMP = """
async () => {
  const start = performance.now();
  window.scrollTo(0, document.documentElement.scrollHeight / 2);
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return performance.now() - start;
}
"""


def test_a_large_notebook_is_editable_quickly_and_scrolls(user_page, collab_server):
    content = large_notebook()
    size = len(json.dumps(content))
    assert size > 2_600_000, size
    alice_api = collab_server.as_user("alice")
    doc = alice_api("POST", "documents", {"name": "Large", "type": "notebook", "content": content})

    alice = user_page("alice")
    pwned = watch_pwned(alice)
    sign_in(alice, collab_server, "alice")
    alice.add_init_script(PROBE)
    alice.goto(f"{collab_server.url}/collab-docs/#/d/{doc['id']}")
    alice.reload()  # a fresh page load, so the probe's clock starts at navigation
    alice.wait_for_function(
        "() => window.__probe && window.__probe.editableAt !== null", timeout=60_000
    )
    figures: dict[str, Any] = {"cells": CELLS, "bytes": size}
    figures["editable_ms"] = round(alice.evaluate("window.__probe.editableAt"))
    figures["dom_nodes"] = alice.evaluate("document.getElementsByTagName('*').length")
    figures["editors_built"] = alice.locator(".cm-editor").count()
    figures["longest_task_ms"] = round(alice.evaluate("window.__probe.longest"))
    scroll = alice.evaluate(SCROLL)
    figures |= {f"scroll_{key}": round(value, 1) for key, value in scroll.items()}
    figures["editors_after_scroll"] = alice.locator(".cm-editor").count()
    figures["jump_to_middle_ms"] = round(alice.evaluate(JUMP), 1)
    # The figures first (measured, not asserted as tight timings), then the behaviour.
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "webapp-large-notebook.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("large notebook figures:", json.dumps(figures))

    # The header stays in view.
    box = alice.locator(".doc-header").bounding_box()
    assert box is not None and 0 <= box["y"] < 120, box
    # Every cell is there (placeholders keep the document's height and order).
    expect(alice.locator(".notebook .cell")).to_have_count(CELLS)
    # A markdown cell out of editing is rendered, and its markup stays inert.
    alice.evaluate("window.scrollTo(0, 0)")
    first = alice.locator(".notebook .cell").nth(0)
    expect(first.locator(".markdown-rendered h2")).to_have_text("Section 0")
    expect(first.locator(".markdown-rendered em")).to_have_text("emphasis")
    assert first.locator(".markdown-rendered img").count() == 0
    # Clicking it edits its source; leaving it renders it again.
    first.locator(".markdown-rendered").click()
    expect(first.locator(".cm-content")).to_be_focused()
    alice.keyboard.press("Escape")
    expect(first.locator(".markdown-rendered h2")).to_have_text("Section 0")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    alice.screenshot(path=str(SCREENSHOTS / "webapp-large-notebook-top.png"))

    # The last cell can be edited once scrolled to.
    alice.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    last = alice.locator(".notebook .cell").nth(CELLS - 1)
    last_editor = last.locator(".cm-content")
    expect(last_editor).to_be_visible()
    last_editor.click()
    alice.keyboard.press("Control+End")
    alice.keyboard.type("\n# edited at the end")
    # Viewport only: a full-page capture of a page this tall fails in Chromium.
    alice.screenshot(path=str(SCREENSHOTS / "webapp-large-notebook.png"))

    def last_source() -> str:
        got = alice_api("GET", f"documents/{doc['id']}/content")["content"]
        return str(got["cells"][CELLS - 1]["source"])

    for _ in range(40):  # the edit reaches the server (saved through the room)
        if "# edited at the end" in last_source():
            break
        alice.wait_for_timeout(250)
    assert "# edited at the end" in last_source()

    assert pwned == []
    # The property fixed: only the cells near the viewport get an editor, so the notebook
    # is editable long before 1,000 editors could be built (generous bound, loaded CI).
    assert figures["editors_built"] <= 60, figures
    assert figures["editable_ms"] <= 10_000, figures


def small_notebook() -> dict[str, Any]:
    def cell(n: int, kind: str) -> dict[str, Any]:
        base = {"id": f"c{n}", "cell_type": kind, "metadata": {}, "source": f"# cell {n}"}
        return base | ({"execution_count": None, "outputs": []} if kind == "code" else {})

    cells = [cell(0, "code"), cell(1, "markdown"), cell(2, "code")]
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}


def test_cells_move_and_change_type(user_page, collab_server):
    alice_api = collab_server.as_user("alice")
    doc = alice_api(
        "POST", "documents", {"name": "Order", "type": "notebook", "content": small_notebook()}
    )

    def saved() -> list[tuple[str, str, str]]:
        cells = alice_api("GET", f"documents/{doc['id']}/content")["content"]["cells"]
        return [(c["id"], c["cell_type"], c["source"]) for c in cells]

    def wait_saved(expected: list[tuple[str, str, str]]) -> None:
        for _ in range(40):
            if saved() == expected:
                return
            alice.wait_for_timeout(250)
        assert saved() == expected

    alice = user_page("alice")
    sign_in(alice, collab_server, "alice")
    alice.goto(f"{collab_server.url}/collab-docs/#/d/{doc['id']}")
    expect(alice.locator(".status")).to_have_attribute("data-state", "connected")
    cells = alice.locator(".notebook .cell")
    expect(cells).to_have_count(3)

    cells.nth(2).hover()
    cells.nth(2).locator("button[aria-label='Move this cell up']").click()
    expect(cells.nth(1).locator(".cm-content")).to_have_text("# cell 2")
    wait_saved(
        [("c0", "code", "# cell 0"), ("c2", "code", "# cell 2"), ("c1", "markdown", "# cell 1")]
    )

    cells.nth(0).hover()
    cells.nth(0).locator("select[aria-label='Cell type']").select_option("markdown")
    expect(cells.nth(0).locator(".markdown-rendered h1")).to_have_text("cell 0")
    wait_saved(
        [
            ("c0", "markdown", "# cell 0"),
            ("c2", "code", "# cell 2"),
            ("c1", "markdown", "# cell 1"),
        ]
    )
