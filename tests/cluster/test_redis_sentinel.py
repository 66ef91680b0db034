"""The Redis bus behind Redis Sentinel (``redis+sentinel://``, issue #18): a primary, a
replica and a sentinel from ``scripts/servers/``; two real nodes follow a failover (the
primary killed mid-edit) to the promoted replica, and their rooms reconverge."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from pycrdt import Text

from jupyter_collab_docs.cluster import BUSES
from jupyter_collab_docs.cluster.redis import SentinelURL, redact
from jupyter_collab_docs.testing import eventually, free_port
from tests.servers.scripts import SCRIPTS, run_script

from .test_redis_cluster import LiveClient, api, converged, create, edit_text, text_of, until_stored

REDIS = SCRIPTS / "redis.sh"
SENTINEL = SCRIPTS / "redis-sentinel.sh"


class SentinelSet:
    """A primary and a replica (``redis.sh``) watched by one sentinel."""

    def __init__(self, root: Path) -> None:
        self.primary, self.replica, self.sentinel = root / "primary", root / "replica", root / "s"
        self.primary_port, self.replica_port, self.sentinel_port = (free_port() for _ in "prs")

    def start(self) -> None:
        run_script(REDIS, "start", str(self.primary), str(self.primary_port))
        run_script(REDIS, "start", str(self.replica), str(self.replica_port))
        run_script(SENTINEL, "replicate", str(self.replica), str(self.primary_port))
        run_script(
            SENTINEL, "start", str(self.sentinel), str(self.sentinel_port), str(self.primary_port)
        )

    def stop(self) -> None:
        for script, directory in (
            (SENTINEL, self.sentinel),
            (REDIS, self.replica),
            (REDIS, self.primary),
        ):
            run_script(script, "stop", str(directory))

    @property
    def url(self) -> str:
        return run_script(SENTINEL, "url", str(self.sentinel)).strip()

    def current_primary(self) -> int:
        return int(run_script(SENTINEL, "primary", str(self.sentinel)).strip())

    def channels_on(self, port: int, pattern: str) -> list[str]:
        out = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "pubsub", "channels", pattern],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.split()


@pytest.fixture
def sentinels(tmp_path: Path) -> Any:
    found = SentinelSet(tmp_path / "redis")
    found.start()
    yield found
    found.stop()


def test_the_sentinel_url_is_parsed_and_checked():
    url = SentinelURL.parse("redis+sentinel://:pw@h1:26379,h2/mymaster/2")
    assert url.sentinels == [("h1", 26379), ("h2", 26379)]
    assert (url.service, url.db, url.password, url.username) == ("mymaster", 2, "pw", None)
    assert redact("redis+sentinel://:pw@h1:26379,h2/mymaster/2") == (
        "redis+sentinel://:***@h1:26379,h2/mymaster/2"
    )
    assert BUSES.check("redis+sentinel://h1/mymaster") == "redis+sentinel://h1/mymaster"
    for bad, says in [
        ("redis+sentinel://h1:26379", "service name"),
        ("redis+sentinel:///mymaster", "sentinel"),
        ("redis+sentinel://h1:x/mymaster", "port"),
        ("redis+sentinel://h1/mymaster/db1", "database"),
    ]:
        with pytest.raises(ValueError, match=says):
            SentinelURL.parse(bad)


async def test_the_bus_follows_a_failover_and_rooms_reconverge(make_cluster, sentinels):
    cluster = make_cluster(2, "--ClusterBus.resync_interval=60", cluster_url=sentinels.url)
    await anyio.to_thread.run_sync(cluster.start)
    doc_id = create(cluster, "file", "")
    carol = cluster.tokens["carol"]
    prefix = next(a for a in cluster.nodes[0].args if "channel_prefix" in a).split("=", 1)[1]
    first = sentinels.current_primary()
    assert first == sentinels.primary_port
    clients = [
        LiveClient(f"c{i}", cluster.nodes[i % 2].ws(doc_id, cluster.tokens["alice"]))
        for i in range(4)
    ]
    async with anyio.create_task_group() as tg:
        for client in clients:
            tg.start_soon(client.run)
        await eventually(lambda: all(c.doc.get_state() for c in clients), 5)
        await eventually(lambda: sentinels.channels_on(first, f"{prefix}:doc:*") != [], 5)

        async def edit_all(seed: int, ops: int) -> None:
            async with anyio.create_task_group() as editors:
                for i, client in enumerate(clients):
                    editors.start_soon(edit_text, client, random.Random(seed + i), ops)

        await edit_all(1, 30)
        await converged(clients, text_of, 5, "before the failover")
        # the primary crashes mid-edit; the sentinel promotes the replica
        tg.start_soon(edit_all, 2, 80)
        await anyio.sleep(0.2)
        await anyio.to_thread.run_sync(run_script, REDIS, "kill", str(sentinels.primary))
        killed = time.monotonic()
        await eventually(
            lambda: sentinels.current_primary() == sentinels.replica_port, 20, "a failover"
        )
        promoted = time.monotonic()
        print(f"sentinel promoted the replica {promoted - killed:.2f}s after the kill")
        # both nodes subscribe on the new primary, and say so
        await eventually(
            lambda: len(sentinels.channels_on(sentinels.replica_port, f"{prefix}:node:*")) == 2,
            10,
            "both nodes subscribed on the promoted replica",
        )
        for node in cluster.nodes:
            await eventually(lambda n=node: api(n, carol, "GET", "health")[0] == 200, 10)
        await edit_all(3, 30)
        # healed by the reconnect's exchange, not by the periodic one (60 s here)
        await converged(clients, text_of, 10, "everyone after the failover")
        print(f"converged {time.monotonic() - promoted:.2f}s after the promotion")
        # and live updates travel through the new primary again
        clients[0].doc.get("source", type=Text).insert(0, "<after>")
        await eventually(lambda: clients[1].text.startswith("<after>"), 3, "a live update")
        for client in clients:
            assert client.error is None
            client.stop.set()
    _, body = api(cluster.nodes[0], carol, "GET", "health")
    cluster_check = body["checks"]["cluster"]
    assert cluster_check["url"].startswith("redis+sentinel://") and cluster_check["ok"]
    await until_stored(cluster, doc_id, text_of, clients[0].text)
