"""Several ``jupyter collab-docs`` processes on one data dir (one SQLite store, one access
database) and one Redis (``redis_server``): a cluster on this machine."""

from __future__ import annotations

import secrets
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jupyter_collab_docs.acl.database import AccessDatabase
from jupyter_collab_docs.acl.directory import AccessDirectory
from jupyter_collab_docs.testing import StandaloneServer, free_port


@dataclass
class Node(StandaloneServer):
    """One node: ``start()`` / ``stop()`` (SIGTERM) / ``kill()`` (SIGKILL)."""

    node_id: str = "node"
    args: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"node {self.node_id}"

    def server_args(self) -> list[str]:
        return [*self.common_args(), f"--CollabDocsApp.node_id={self.node_id}", *self.args]

    def kill(self) -> None:
        """A crash: SIGKILL, no shutdown hooks."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.process = None

    def ws(self, doc_id: str, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/api/collab-docs/rooms/{doc_id}?token={token}"

    def log_text(self) -> str:
        assert self.log_path is not None
        return self.log_path.read_text(errors="replace")


@dataclass
class Cluster:
    nodes: list[Node]
    tokens: dict[str, str]
    data_dir: Path

    def start(self) -> None:
        """Start every node that is not running, in parallel."""
        waiting = [n for n in self.nodes if n.process is None]
        for node in waiting:
            node.launch()
        for node in waiting:
            node.wait_ready()

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:
            node.stop()


@pytest.fixture
def make_cluster(tmp_path: Path, redis_server: Any) -> Iterator[Callable[..., Cluster]]:
    """``make_cluster(3, "--CollabDocsApp.awareness_timeout=3")``: nodes sharing a data
    dir and a Redis, not started (``cluster.start()``); alice and carol (admin), bob."""
    made: list[Cluster] = []

    def make(n: int = 3, *args: str, cluster_url: str | None = None) -> Cluster:
        redis_server.ensure_running()
        data_dir = tmp_path / "data"
        data_dir.mkdir(exist_ok=True)
        directory = AccessDirectory(AccessDatabase("sqlite:///" + str(data_dir / "access.db")))
        try:
            tokens = {
                "alice": directory.add("alice", "Alice"),
                "bob": directory.add("bob", "Bob"),
                "carol": directory.add("carol", "Carol", admin=True),
            }
        finally:
            directory.close()
        prefix = f"test-{secrets.token_hex(4)}"  # tests never hear each other's nodes
        url = redis_server.url if cluster_url is None else cluster_url
        nodes = [
            Node(
                port=free_port(),
                data_dir=data_dir,
                token=f"server-token-{i}",
                log_path=tmp_path / f"node{i}.log",
                node_id=f"node{i}",
                args=[
                    f"--CollabDocsApp.cluster_url={url}",
                    f"--RedisBus.channel_prefix={prefix}",
                    *args,
                ],
            )
            for i in range(n)
        ]
        cluster = Cluster(nodes, tokens, data_dir)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()
    redis_server.ensure_running()
