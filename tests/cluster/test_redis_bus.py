"""The Redis bus on its own: its URLs and the bounded queue while Redis is away (what every
bus does, through a real Redis too, is in test_bus_contract.py)."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_collab_docs.cluster import base as kinds
from jupyter_collab_docs.cluster import bus_from_url
from jupyter_collab_docs.cluster.redis import RedisBus, redact
from jupyter_collab_docs.testing import eventually, free_port


def test_urls():
    assert bus_from_url("", "n").backend == "local"
    assert bus_from_url("redis://127.0.0.1:1/0", "n").backend == "redis"
    with pytest.raises(ValueError, match="unsupported cluster_url"):
        bus_from_url("kafka://x", "n")
    assert redact("redis://user:secret@host:6379/0") == "redis://user:***@host:6379/0"


async def test_publishing_while_redis_is_away_is_bounded_and_counted():
    bus = RedisBus("n1", f"redis://127.0.0.1:{free_port()}/0", max_queue_messages=10)
    resyncs = []
    bus.attach(lambda message: None, lambda: resyncs.append(1))
    await bus.start()
    try:
        for i in range(1000):
            bus.publish("doc", kinds.UPDATE, b"x" * 100)
            if i % 100 == 0:
                await asyncio.sleep(0.01)
        assert bus.queued <= 10
        assert bus.stats.dropped >= 990 - 10
        await bus.subscribe("doc")  # returns at once while disconnected
        await eventually(lambda: "error" in bus.status(), what="the connection error")
        status = bus.status()
        assert status["ok"] is False and status["subscribed"] is False
        assert resyncs == []  # nothing to resync with while nobody answers
    finally:
        await bus.close()
