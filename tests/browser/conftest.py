"""Browser tests: Playwright (sync API) driving Debian's Chromium against a real
``jupyter collab-docs`` process, which serves JupyterLab at ``/lab`` and the standalone
page at ``/collab-docs/``.

Playwright never downloads a browser here: ``scripts/install-chromium.sh`` installs
``/usr/bin/chromium`` (``make test`` runs it). Screenshots go to
``test-artifacts/screenshots/``; a failing test also leaves a screenshot of every page it
opened, named ``FAILED-<test>-<n>.png``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jupyter_collab_docs.testing import StandaloneServer, free_port

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - make test installs it with the test extras
    raise pytest.UsageError(
        "the browser tests need Playwright: pip install -e '.[test]' (then no `playwright "
        "install`: they use the system Chromium)"
    ) from None

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("COLLAB_DOCS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
USERS = {"alice": "Alice Liddell", "bob": "Bob Builder", "carol": "Carol Danvers"}
# Administrators (``users add --admin``): the only users the standalone server lets run code.
ADMINS = {"ada": "Ada Lovelace"}
# A display name that is an HTML payload (the ``mallory`` fixture's).
HOSTILE = "<img src=x onerror=window.__pwned=1>"


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    """Playwright's sync API owns this thread's event loop: pytest-jupyter's own fixture
    would close it after the first test. Browser tests run no in-process server."""
    yield


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    yield


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Per module, not per session: while Playwright's sync API runs, its event loop is
    # this thread's running loop, which would break the async tests collected after us.
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-chromium.sh", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # root in a container: no sandbox; /dev/shm may be tiny.
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        yield browser
        browser.close()


@dataclass
class CollabServer:
    """A running standalone server with users alice, bob and carol, and ada, an
    administrator."""

    server: StandaloneServer
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def log_path(self) -> Path | None:
        return self.server.log_path

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """REST under ``/api/collab-docs/``; ``token`` defaults to the server's (admin)."""
        return self.server.request(method, path, body, token)

    def as_user(self, user: str) -> Callable[..., Any]:
        """``request`` bound to one user's token."""
        return lambda method, path, body=None: self.request(method, path, body, self.tokens[user])


@pytest.fixture(scope="module")
def collab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollabServer]:
    """One server per test module (each test creates its own documents)."""
    tmp = tmp_path_factory.mktemp("browser-server")
    server = StandaloneServer(
        port=free_port(),
        data_dir=tmp / "data",
        token="browser-admin-token",
        log_path=tmp / "server.log",
    )
    tokens = {
        user: server.cli("users", "add", user, "--display-name", name).splitlines()[-1].strip()
        for user, name in USERS.items()
    }
    tokens |= {
        user: server.cli("users", "add", user, "--admin", "--display-name", name)
        .splitlines()[-1]
        .strip()
        for user, name in ADMINS.items()
    }
    server.start()
    try:
        yield CollabServer(server, tokens)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def mallory(collab_server: CollabServer) -> Iterator[str]:
    """A user whose display name is an HTML payload (a commenter in the tests)."""
    out = collab_server.server.cli("users", "add", "mallory", "--display-name", HOSTILE)
    collab_server.tokens["mallory"] = out.splitlines()[-1].strip()
    yield "mallory"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``) each browser module runs whole on one
    worker: its browser and server are per module, and Playwright's loop must not be
    running while another module's async tests run on that worker."""
    for item in items:
        if item.path.parent == HERE and item.get_closest_marker("xdist_group") is None:
            item.add_marker(
                pytest.mark.xdist_group(f"browser-{item.path.stem.removeprefix('test_')}")
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


def _artifact_name(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / (re.sub(r"[^\w.-]+", "_", name) + ".png")


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """``screenshot(page, name)``: a full-page PNG in test-artifacts/screenshots/."""

    def take(page: Page, name: str) -> Path:
        path = _artifact_name(name)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def user_page(
    browser: Browser, collab_server: CollabServer, request: pytest.FixtureRequest
) -> Iterator[Callable[[str], Page]]:
    """``user_page(user)``: a Page in a fresh browser context (own cookies and storage),
    not navigated yet. Browser console errors are kept for the failure report."""
    contexts: list[Any] = []
    pages: list[Page] = []

    def open_page(user: str) -> Page:
        assert user in collab_server.tokens, f"unknown test user {user!r}"
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda msg: (
                print(f"[{user} console.{msg.type}] {msg.text}")
                if msg.type in ("error", "warning")
                else None
            ),
        )
        pages.append(page)
        return page

    yield open_page
    if request.node.stash.get(_FAILED, False):
        for n, page in enumerate(pages):
            try:
                page.screenshot(path=str(_artifact_name(f"FAILED-{request.node.name}-{n}")))
            except Exception as exc:  # a crashed page: the report still matters more
                print(f"no failure screenshot of page {n}: {exc}")
    for context in contexts:
        context.close()
