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

from .scripts import SCRIPTS, ScriptedServer, run_script, start_on_free_port

SCRIPT = SCRIPTS / "mariadb.sh"


class MariaDBServer(ScriptedServer):
    """A MariaDB server: ``url`` (SQLAlchemy style), ``port``; ``stop()``, ``start()`` (same
    port, data kept)."""

    SCRIPT = SCRIPT
    URL_VARIABLE = "COLLAB_DOCS_TEST_MARIADB_URL"

    def __init__(self, url: str, port: int, directory: Path | None = None) -> None:
        self.url = url
        self.port = port
        self.dir = directory


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDBServer]:
    url = os.environ.get("COLLAB_DOCS_TEST_MARIADB_URL")
    if url:
        yield MariaDBServer(url, urlsplit(url).port or 3306)
        return
    directory = tmp_path_factory.mktemp("mariadb")
    port = start_on_free_port(SCRIPT, directory)
    url = run_script(SCRIPT, "url", str(directory)).strip()
    try:
        yield MariaDBServer(url, port, directory)
    finally:
        run_script(SCRIPT, "stop", str(directory))


@pytest.fixture(scope="session")
def mariadb_url(mariadb_server: MariaDBServer) -> str:
    """``mysql+pymysql://collab:collab@127.0.0.1:PORT/collab`` of the session's server."""
    return mariadb_server.url
