"""pytest plugin: a real MariaDB server for the session (``scripts/servers/mariadb.sh``).

``mariadb_url`` is ``mysql+pymysql://collab:collab@127.0.0.1:PORT/collab`` (database ``collab``;
the ``collab`` user may also create databases of its own). The server is private to the session:
started on a free port under a temporary directory, stopped at its end.
``COLLAB_DOCS_TEST_MARIADB_URL`` uses a running server instead. If MariaDB is not installed the
fixture fails and names the install command.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from jupyter_collab_docs.testing import free_port

from .scripts import SCRIPTS, ServerScriptError, run_script

SCRIPT = SCRIPTS / "mariadb.sh"


class MariaDBServer:
    """A MariaDB server: ``url`` (SQLAlchemy style), ``port``; ``stop()``, ``start()`` (same
    port, data kept)."""

    def __init__(self, url: str, port: int, directory: Path | None = None) -> None:
        self.url = url
        self.port = port
        self.dir = directory

    def _script(self, *args: str) -> None:
        if self.dir is None:
            pytest.skip("COLLAB_DOCS_TEST_MARIADB_URL names a server these tests do not control")
        run_script(SCRIPT, *args)

    def start(self) -> None:
        self._script("start", str(self.dir), str(self.port))

    def stop(self) -> None:
        self._script("stop", str(self.dir))


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDBServer]:
    url = os.environ.get("COLLAB_DOCS_TEST_MARIADB_URL")
    if url:
        yield MariaDBServer(url, urlsplit(url).port or 3306)
        return
    directory = tmp_path_factory.mktemp("mariadb")
    for attempt in range(3):
        port = free_port()
        try:
            run_script(SCRIPT, "start", str(directory), str(port))
            break
        except ServerScriptError as e:
            if "already in use" not in str(e) or attempt == 2:
                pytest.fail(str(e), pytrace=False)
    url = run_script(SCRIPT, "url", str(directory)).strip()
    try:
        yield MariaDBServer(url, port, directory)
    finally:
        run_script(SCRIPT, "stop", str(directory))


@pytest.fixture(scope="session")
def mariadb_url(mariadb_server: MariaDBServer) -> str:
    """``mysql+pymysql://collab:collab@127.0.0.1:PORT/collab`` of the session's server."""
    return mariadb_server.url
