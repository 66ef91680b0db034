"""pytest plugin: a MongoDB-compatible server, FerretDB (v1, SQLite handler), on 127.0.0.1
(``scripts/servers/ferretdb.sh``).

``mongodb_url`` (session) starts one private server on a free port, with its files in a
temporary directory, and stops it at the end; ``COLLAB_DOCS_TEST_MONGODB_URL`` uses a
running server instead (a real MongoDB, say). ``mongodb_test_url`` (per test) is that URL
with a database of the test's own, so tests never see each other's data; it is dropped
after the test. ``FerretDB`` starts and stops more private servers (outage tests).

If FerretDB is not built the fixtures fail, naming ``scripts/servers/ferretdb.sh install``:
they never skip, so a missing server cannot pass as green.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from jupyter_collab_docs.testing import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "servers" / "ferretdb.sh"
URL_ENV = "COLLAB_DOCS_TEST_MONGODB_URL"
NOT_INSTALLED = 3  # the scripts' exit code when the server is not installed


def _script(*args: str, timeout: float = 120) -> str:
    """Run ``ferretdb.sh args...``; a server it starts is stopped by its watcher if this
    process dies without stopping it."""
    done = subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLLAB_DOCS_OWNER_PID": str(os.getpid())},
        stdin=subprocess.DEVNULL,
    )
    if done.returncode == NOT_INSTALLED:
        pytest.fail(
            f"{done.stderr.strip()} (or set {URL_ENV} to a MongoDB server's URL)", pytrace=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"ferretdb.sh {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


class FerretDB:
    """A private FerretDB under ``directory``: ``start()`` (same port each time, same
    data), ``stop()``, ``url`` (no database)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.port = 0

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> None:
        if self.port:
            _script("start", str(self.dir), str(self.port))
            return
        for attempt in range(3):
            self.port = free_port()
            try:
                _script("start", str(self.dir), str(self.port))
                return
            except RuntimeError as e:
                if "already in use" not in str(e) or attempt == 2:
                    pytest.fail(str(e), pytrace=False)

    def stop(self) -> None:
        _script("stop", str(self.dir))


def with_database(url: str, database: str) -> str:
    """``url`` naming ``database`` instead of the one it names (if any), options kept."""
    return urlunsplit(urlsplit(url)._replace(path="/" + database))


def database_name(nodeid: str) -> str:
    """A MongoDB database name (short, no ``/\\. "$``) unique to one test."""
    digest = hashlib.sha1(nodeid.encode()).hexdigest()[:8]
    words = re.sub(r"[^A-Za-z0-9_]+", "_", nodeid.rsplit("::", 1)[-1]).strip("_")
    return f"t_{digest}_{words}"[:60]


@pytest.fixture(scope="session")
def mongodb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a MongoDB-compatible server for this test session (no database)."""
    external = os.environ.get(URL_ENV)
    if external:
        yield external
        return
    server = FerretDB(tmp_path_factory.mktemp("ferretdb"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def mongodb_test_url(mongodb_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """``mongodb_url`` with a database of this test's own, dropped after the test."""
    url = with_database(mongodb_url, database_name(request.node.nodeid))
    yield url
    from pymongo import MongoClient

    client: MongoClient = MongoClient(url, serverSelectionTimeoutMS=3000)
    try:
        client.drop_database(client.get_default_database().name)
    except Exception:  # a test may have taken the server down; nothing to clean then
        pass
    finally:
        client.close()
