"""The ClusterBus contract (``jupyter_collab_docs/cluster/base.py``), run against every
implementation: the in-process bus (``LocalBus`` on a ``LocalHub``) and Redis
(``RedisBus`` on the ``redis_server`` of ``tests/servers/redis.py``).

"Nothing arrived" is never asserted after a sleep: messages of one sender arrive in the
order it sent them, so a marker sent after them (``delivered``) proves that whatever
was going to arrive has arrived.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from jupyter_collab_docs.cluster import LocalBus, LocalHub
from jupyter_collab_docs.cluster import base as kinds
from jupyter_collab_docs.cluster.base import BusMessage, ClusterBus
from jupyter_collab_docs.cluster.redis import RedisBus
from jupyter_collab_docs.protocol import ProtocolError
from jupyter_collab_docs.testing import eventually

MARKERS = "markers"  # the document id of ``delivered``'s markers


@dataclass
class Peer:
    """A started bus and what it received (markers aside) and how often it was told to
    resync."""

    name: str
    bus: ClusterBus
    inbox: list[BusMessage] = field(default_factory=list)
    markers: list[bytes] = field(default_factory=list)
    resyncs: int = 0

    def receive(self, message: BusMessage) -> None:
        if message.doc_id == MARKERS:
            self.markers.extend(message.parts)
        else:
            self.inbox.append(message)

    def resync(self) -> None:
        self.resyncs += 1

    def seen(self) -> list[tuple[int, str, str, list[bytes]]]:
        """(kind, sender, document, parts) of every message received, in order."""
        return [(m.kind, m.node, m.doc_id, m.parts) for m in self.inbox]


async def delivered(sender: Peer, receiver: Peer) -> None:
    """Returns once everything ``sender`` sent so far reached ``receiver`` (or never will)."""
    marker = secrets.token_bytes(8)
    sender.bus.send_to(receiver.name, MARKERS, kinds.SYNC_DIFF, marker)
    await eventually(
        lambda: marker in receiver.markers, what=f"{sender.name}'s marker at {receiver.name}"
    )


# -- the backends ---------------------------------------------------------------------------


class LocalBackend:
    """Buses on one in-process hub; an outage is the hub's."""

    def __init__(self) -> None:
        self.hub = LocalHub()

    def bus(self, name: str) -> ClusterBus:
        return LocalBus(name, self.hub)

    def interrupt(self) -> None:
        self.hub.connected = False

    def restore(self) -> None:
        self.hub.reconnect()

    async def inject(self, doc_id: str, data: bytes) -> None:
        """Raw bytes on the document's channel, from outside any bus."""
        outsider = LocalBus("outsider")  # not on the hub: it receives nothing
        self.hub.send(f"doc:{doc_id}", data, outsider)

    def finish(self) -> None:
        pass


class RedisBackend:
    """Buses on the session's Redis, on channels of this test's own; an outage stops
    the server."""

    def __init__(self, server: Any) -> None:
        server.ensure_running()
        self.server = server
        self.prefix = f"bus-contract-{secrets.token_hex(4)}"

    def bus(self, name: str) -> ClusterBus:
        return RedisBus(name, self.server.url, channel_prefix=self.prefix)

    def interrupt(self) -> None:
        self.server.stop()

    def restore(self) -> None:
        self.server.start()

    async def inject(self, doc_id: str, data: bytes) -> None:
        import redis.asyncio as redis

        client = redis.from_url(self.server.url)
        try:
            await client.publish(f"{self.prefix}:doc:{doc_id}", data)
        finally:
            await client.aclose()

    def finish(self) -> None:
        self.server.ensure_running()


BACKENDS: dict[str, Callable[[pytest.FixtureRequest], Any]] = {
    "local": lambda request: LocalBackend(),
    "redis": lambda request: RedisBackend(request.getfixturevalue("redis_server")),
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> Any:
    made = BACKENDS[request.param](request)
    yield made
    made.finish()


@pytest.fixture
def peers(backend: Any) -> Callable[..., Any]:
    """``async with peers("a", "b") as (a, b)``: started buses, connected, that close at
    the end."""

    @asynccontextmanager
    async def started(*names: str) -> AsyncIterator[list[Peer]]:
        made: list[Peer] = []
        try:
            for name in names:
                peer = Peer(name, backend.bus(name))
                peer.bus.attach(peer.receive, peer.resync)
                await peer.bus.start()
                made.append(peer)
            for peer in made:
                await eventually(lambda p=peer: p.bus.connected, what=f"{peer.name} connected")
            yield made
        finally:
            for peer in made:
                await peer.bus.close()

    return started


# -- the contract ---------------------------------------------------------------------------


async def test_a_document_message_reaches_every_other_node_holding_the_document(peers, backend):
    async with peers("a", "b", "c") as (a, b, c):
        await a.bus.subscribe("d1")
        await b.bus.subscribe("d1")
        await c.bus.subscribe("d2")
        before = time.time()
        a.bus.publish("d1", kinds.UPDATE, b"update", b"")  # at once: subscribe confirmed
        await delivered(a, b)
        await delivered(a, c)
        await delivered(b, a)  # a would have heard its own message by now
        assert b.seen() == [(kinds.UPDATE, "a", "d1", [b"update", b""])]
        assert before - 1 <= b.inbox[0].sent <= time.time()
        assert c.seen() == [] and a.seen() == []
        assert b.bus.stats.received == 2 and b.bus.stats.lag.count == 2  # with the marker
        await eventually(lambda: a.bus.stats.published == 3, what="a's publishes counted")
        for peer in (a, b, c):
            assert peer.bus.clustered is True
            status = peer.bus.status()
            assert status["ok"] is True and status["backend"] == peer.bus.backend


async def test_send_to_reaches_that_node_only_whatever_it_subscribed(peers):
    async with peers("a", "b", "c") as (a, b, c):
        await c.bus.subscribe("d1")
        a.bus.send_to("b", "d1", kinds.SYNC_REPLY, b"diff", b"vector", b"awareness")
        await delivered(a, b)
        await delivered(a, c)
        assert b.seen() == [(kinds.SYNC_REPLY, "a", "d1", [b"diff", b"vector", b"awareness"])]
        assert c.seen() == []


async def test_a_broadcast_reaches_every_other_node(peers):
    async with peers("a", "b", "c") as (a, b, c):
        a.bus.broadcast("d1", kinds.DELETED, b"deleted by alice")
        a.bus.broadcast("d2", kinds.ACCESS_CHANGED)
        for peer in (b, c):
            await delivered(a, peer)
            assert peer.seen() == [
                (kinds.DELETED, "a", "d1", [b"deleted by alice"]),
                (kinds.ACCESS_CHANGED, "a", "d2", []),
            ]
        await delivered(b, a)
        assert a.seen() == []


async def test_the_messages_of_one_sender_arrive_in_the_order_it_sent_them(peers):
    async with peers("a", "b") as (a, b):
        await b.bus.subscribe("d1")
        sent = []
        for i in range(300):
            part = str(i).encode()
            if i % 3 == 0:
                a.bus.publish("d1", kinds.UPDATE, part)
            elif i % 3 == 1:
                a.bus.send_to("b", "d1", kinds.SYNC_DIFF, part)
            else:
                a.bus.broadcast("d1", kinds.ACCESS_CHANGED, part)
            sent.append(part)
        await delivered(a, b)
        assert [m.parts[0] for m in b.inbox] == sent


async def test_unsubscribing_stops_the_documents_messages_and_only_them(peers):
    async with peers("a", "b") as (a, b):
        await b.bus.subscribe("d1")
        await b.bus.subscribe("d2")
        await b.bus.unsubscribe("d1")
        # subscriptions of one node are handled in order: once this one is confirmed,
        # the transport has dropped d1
        await b.bus.subscribe("d3")
        a.bus.publish("d1", kinds.UPDATE, b"gone")
        a.bus.publish("d2", kinds.UPDATE, b"kept")
        await delivered(a, b)
        assert b.seen() == [(kinds.UPDATE, "a", "d2", [b"kept"])]
        await b.bus.subscribe("d1")
        a.bus.publish("d1", kinds.UPDATE, b"back")
        await delivered(a, b)
        assert [m.parts for m in b.inbox] == [[b"kept"], [b"back"]]


async def test_a_message_that_is_no_envelope_is_counted_and_dropped(peers, backend):
    async with peers("a", "b") as (a, b):
        await b.bus.subscribe("d1")
        await backend.inject("d1", b"\x09garbage")
        await eventually(lambda: b.bus.stats.malformed == 1, what="the malformed message")
        a.bus.publish("d1", kinds.UPDATE, b"after")
        await delivered(a, b)
        assert b.seen() == [(kinds.UPDATE, "a", "d1", [b"after"])]


async def test_an_outage_is_reported_counted_and_followed_by_a_resync(peers, backend):
    async with peers("a", "b") as (a, b):
        await b.bus.subscribe("d1")
        resyncs = {peer.name: peer.resyncs for peer in (a, b)}
        backend.interrupt()
        a.bus.publish("d1", kinds.UPDATE, b"lost")  # never blocks, never raises
        await eventually(
            lambda: a.bus.stats.dropped >= 1 and not a.bus.connected and not b.bus.connected,
            what="the outage noticed and the lost message counted",
        )
        assert a.bus.status()["ok"] is False and b.bus.status()["ok"] is False
        backend.restore()
        await eventually(
            lambda: all(p.resyncs > resyncs[p.name] for p in (a, b)),
            what="every node resyncs once the transport is back",
        )
        a.bus.publish("d1", kinds.UPDATE, b"after")
        await delivered(a, b)
        assert b.seen() == [(kinds.UPDATE, "a", "d1", [b"after"])]
        assert a.bus.connected and b.bus.connected


async def test_closing_sends_what_was_queued_and_then_hears_nothing(peers):
    async with peers("a", "b", "c") as (a, b, c):
        for peer in (a, b):
            await peer.bus.subscribe("d1")
        a.bus.publish("d1", kinds.AWARENESS, b"leaving")
        await a.bus.close()
        await eventually(lambda: bool(b.inbox), what="the message published before close")
        assert b.seen() == [(kinds.AWARENESS, "a", "d1", [b"leaving"])]
        b.bus.publish("d1", kinds.UPDATE, b"to nobody")
        b.bus.broadcast("d1", kinds.ACCESS_CHANGED)
        await delivered(b, c)
        assert a.seen() == [] and a.markers == []


# -- the envelope every bus carries ---------------------------------------------------------


def test_envelopes_round_trip_and_garbage_is_refused():
    data = kinds.encode(kinds.SYNC_REPLY, "node-1", "doc", [b"\x00\x00", b"sv", b""])
    message = kinds.decode(data)
    assert (message.kind, message.node, message.doc_id) == (kinds.SYNC_REPLY, "node-1", "doc")
    assert message.parts == [b"\x00\x00", b"sv", b""]
    for bad in (b"", b"\x09\x01", data[:-1], data[:12]):
        with pytest.raises(ProtocolError):
            kinds.decode(bad)
