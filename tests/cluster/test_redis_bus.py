"""The Redis bus on its own: envelopes, the bounded queue while Redis is away, and two
buses exchanging messages through a real Redis."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_collab_docs.cluster import base as kinds
from jupyter_collab_docs.cluster import bus_from_url
from jupyter_collab_docs.cluster.redis import RedisBus, redact
from jupyter_collab_docs.protocol import ProtocolError

from ..conftest import free_port


def test_envelopes_round_trip_and_garbage_is_refused():
    data = kinds.encode(kinds.SYNC_REPLY, "node-1", "doc", [b"\x00\x00", b"sv", b""])
    message = kinds.decode(data)
    assert (message.kind, message.node, message.doc_id) == (kinds.SYNC_REPLY, "node-1", "doc")
    assert message.parts == [b"\x00\x00", b"sv", b""]
    for bad in (b"", b"\x09\x01", data[:-1], data[:12]):
        with pytest.raises(ProtocolError):
            kinds.decode(bad)


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
        await asyncio.sleep(1.2)
        status = bus.status()
        assert status["ok"] is False and status["subscribed"] is False
        assert "error" in status
        assert resyncs == []  # nothing to resync with while nobody answers
    finally:
        await bus.close()


async def test_two_buses_talk_through_redis(redis_server):
    redis_server.ensure_running()
    prefix = f"bus-test-{free_port()}"
    got: dict[str, list[kinds.BusMessage]] = {"a": [], "b": []}
    buses = {}
    for name in ("a", "b"):
        bus = RedisBus(name, redis_server.url, channel_prefix=prefix)
        bus.attach(got[name].append, lambda: None)
        await bus.start()
        buses[name] = bus
    try:
        for _ in range(100):
            if all(b.connected for b in buses.values()):
                break
            await asyncio.sleep(0.05)
        await buses["a"].subscribe("d1")
        await buses["b"].subscribe("d1")
        buses["a"].publish("d1", kinds.UPDATE, b"u")
        buses["a"].send_to("b", "d1", kinds.SYNC_DIFF, b"diff")
        buses["b"].broadcast("d1", kinds.ACCESS_CHANGED)
        for _ in range(100):
            if len(got["b"]) >= 2 and got["a"]:
                break
            await asyncio.sleep(0.02)
        assert sorted(m.kind for m in got["b"]) == [kinds.UPDATE, kinds.SYNC_DIFF]
        assert [m.kind for m in got["a"]] == [kinds.ACCESS_CHANGED]  # not its own
        assert buses["b"].stats.lag.count == 2
        await buses["b"].unsubscribe("d1")
        await asyncio.sleep(0.1)
        buses["a"].publish("d1", kinds.UPDATE, b"u2")
        await asyncio.sleep(0.2)
        assert len(got["b"]) == 2
    finally:
        for bus in buses.values():
            await bus.close()
