"""pytest plugin: a real Redis server for the session (``scripts/servers/redis.sh``).

``redis_server`` starts a private server on a free port under a temporary directory and stops it
at the end of the session; ``COLLAB_DOCS_TEST_REDIS_URL=redis://HOST:PORT/0`` uses a running
server instead (then ``stop``/``start``/``kill``/``pause`` skip the test: it is not ours to stop).
If Redis is not installed the fixture fails and names the install command.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .scripts import SCRIPTS, ScriptedServer, run_script, start_on_free_port

SCRIPT = SCRIPTS / "redis.sh"


def pid_alive(pidfile: Path) -> bool:
    """The process in ``pidfile`` runs (a zombie does not: PID 1 may not reap orphans)."""
    try:
        pid = int(pidfile.read_text())
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class RedisServer(ScriptedServer):
    """A Redis server: ``url``, ``port``; ``stop()``, ``start()`` (same port, empty: no
    persistence), ``kill()`` (SIGKILL), ``restart()``, ``pause(seconds)`` (CLIENT PAUSE)."""

    SCRIPT = SCRIPT
    URL_VARIABLE = "COLLAB_DOCS_TEST_REDIS_URL"

    def __init__(self, url: str, directory: Path | None = None) -> None:
        self.url = url
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.dir = directory

    def restart(self) -> None:
        self._script("restart", str(self.dir), str(self.port))

    def pause(self, seconds: float) -> None:
        """The server answers no client for ``seconds`` (returns at once)."""
        self._script("pause", str(self.dir), str(seconds))

    def running(self) -> bool:
        if self.dir is None:
            return True
        return pid_alive(self.dir / "server.pid")

    def ensure_running(self) -> None:
        """Start it again if a test stopped it and did not restart it."""
        if not self.running():
            self.start()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    url = os.environ.get("COLLAB_DOCS_TEST_REDIS_URL")
    if url:
        yield RedisServer(url)
        return
    directory = tmp_path_factory.mktemp("redis")
    port = start_on_free_port(SCRIPT, directory)
    server = RedisServer(f"redis://127.0.0.1:{port}/0", directory)
    try:
        yield server
    finally:
        run_script(SCRIPT, "stop", str(directory))
