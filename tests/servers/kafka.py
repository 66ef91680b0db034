"""pytest plugin: a real single-node Kafka broker for the session (``scripts/servers/kafka.sh``).

``kafka_server.bootstrap`` is ``127.0.0.1:PORT``. The broker (KRaft, broker and controller in
one JVM) is private to the session: started on a free port under a temporary directory, stopped
at its end; ``stop()`` and ``start()`` keep its data (topics, messages, committed offsets).
``COLLAB_DOCS_TEST_KAFKA_URL=HOST:PORT`` uses a running broker instead (then ``stop``/``start``/
``kill`` skip the test). If Kafka is not installed the fixture fails and names the install
command.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_collab_docs.testing import free_port

from .scripts import SCRIPTS, ServerScriptError, run_script

SCRIPT = SCRIPTS / "kafka.sh"


class KafkaServer:
    """A Kafka broker: ``bootstrap`` (``HOST:PORT``), ``port``; ``stop()`` (clean shutdown),
    ``kill()`` (SIGKILL), ``start()`` (same port, data kept; returns once it serves requests)."""

    def __init__(self, bootstrap: str, directory: Path | None = None) -> None:
        self.bootstrap = bootstrap
        self.port = int(bootstrap.split(",")[0].rsplit(":", 1)[1])
        self.dir = directory

    def _script(self, *args: str) -> None:
        if self.dir is None:
            pytest.skip("COLLAB_DOCS_TEST_KAFKA_URL names a broker these tests do not control")
        run_script(SCRIPT, *args)

    def start(self) -> None:
        self._script("start", str(self.dir), str(self.port))

    def stop(self) -> None:
        self._script("stop", str(self.dir))

    def kill(self) -> None:
        self._script("kill", str(self.dir))


@pytest.fixture(scope="session")
def kafka_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    url = os.environ.get("COLLAB_DOCS_TEST_KAFKA_URL")
    if url:
        yield KafkaServer(url.removeprefix("kafka://"))
        return
    directory = tmp_path_factory.mktemp("kafka")
    for attempt in range(3):
        port = free_port()
        try:
            run_script(SCRIPT, "start", str(directory), str(port))
            break
        except ServerScriptError as e:
            if "already in use" not in str(e) or attempt == 2:
                pytest.fail(str(e), pytrace=False)
    try:
        yield KafkaServer(f"127.0.0.1:{port}", directory)
    finally:
        run_script(SCRIPT, "stop", str(directory))
