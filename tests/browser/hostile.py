"""Hostile notebook outputs for the browser tests: what an editor can write over the
room socket (a real pycrdt y-websocket client), and how a test watches for its effects."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import anyio
from jupyter_ydoc import YNotebook
from playwright.sync_api import Page

from jupyter_collab_docs.testing import eventually, yclient

# An output an editor writes over the room socket: a script, and an image whose onerror
# handler runs, each set a marker and fetch a URL the test watches. Trusted, JupyterLab
# would run both in the reader's page (with the reader's cookie and kernels).
PWNED = "/collab-docs-pwned"
HOSTILE_HTML = (
    '<b class="hostile">output from bob</b>'
    f"<script>window.__pwned = 'script'; fetch('{PWNED}?script');</script>"
    '<img class="hostile-img" src="/collab-docs-no-such-image.png" '
    f"onerror=\"window.__pwned = 'onerror'; fetch('{PWNED}?onerror');\">"
)
HOSTILE_OUTPUT = {
    "output_type": "display_data",
    "data": {"text/html": HOSTILE_HTML},
    "metadata": {},
}


def append_trusted_hostile_cell(ynotebook: YNotebook) -> None:
    """A cell whose metadata says trusted, with the hostile output (for ``edit_room``)."""
    ynotebook.append_cell(
        {
            "cell_type": "code",
            "source": "display(HTML(...))",
            "metadata": {"trusted": True},
            "outputs": [HOSTILE_OUTPUT],
            "execution_count": 1,
        }
    )


def edit_room(
    collab_server, user: str, doc_id: str, change: Callable[[YNotebook], None], cells: int
) -> None:
    """Connect to a document's room as ``user`` with a real y-websocket client (pycrdt),
    wait for ``cells`` cells, apply ``change`` to the notebook and wait until the server
    stored it. Runs its own event loop in a thread (Playwright's owns this one)."""
    url = (
        f"ws://127.0.0.1:{collab_server.server.port}/api/collab-docs/rooms/{doc_id}"
        f"?token={collab_server.tokens[user]}"
    )

    async def run() -> None:
        async with yclient(url) as client:
            ynotebook = YNotebook(client.doc)
            await eventually(lambda: len(ynotebook.ycells) >= cells, what=f"{cells} cells")
            change(ynotebook)
            # Stored (REST reads the server's copy): the change went through.
            await eventually(
                lambda: (
                    "output from bob"
                    in json.dumps(collab_server.request("GET", f"documents/{doc_id}/content"))
                ),
                what="the output stored on the server",
            )

    errors: list[BaseException] = []

    def thread() -> None:
        try:
            anyio.run(run)
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    worker = threading.Thread(target=thread)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the room client did not finish"
    if errors:
        raise errors[0]


def watch_pwned(page: Page) -> list[str]:
    """URLs of the requests the hostile output's handlers would make."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if PWNED in request.url else None)
    return seen
