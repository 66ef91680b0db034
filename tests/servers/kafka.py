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

from .scripts import SCRIPTS, ScriptedServer, run_script, start_on_free_port

SCRIPT = SCRIPTS / "kafka.sh"


class KafkaServer(ScriptedServer):
    """A Kafka broker: ``bootstrap`` (``HOST:PORT``), ``port``; ``stop()`` (clean shutdown),
    ``kill()`` (SIGKILL), ``start()`` (same port, data kept; returns once it serves requests)."""

    SCRIPT = SCRIPT
    URL_VARIABLE = "COLLAB_DOCS_TEST_KAFKA_URL"

    def __init__(self, bootstrap: str, directory: Path | None = None) -> None:
        self.bootstrap = bootstrap
        self.port = int(bootstrap.split(",")[0].rsplit(":", 1)[1])
        self.dir = directory


@pytest.fixture(scope="session")
def kafka_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    url = os.environ.get("COLLAB_DOCS_TEST_KAFKA_URL")
    if url:
        yield KafkaServer(url.removeprefix("kafka://"))
        return
    directory = tmp_path_factory.mktemp("kafka")
    port = start_on_free_port(SCRIPT, directory)
    try:
        yield KafkaServer(f"127.0.0.1:{port}", directory)
    finally:
        run_script(SCRIPT, "stop", str(directory))
