"""The in-process bus: the default, one node and nobody to talk to.

A :class:`LocalBus` on its own (no hub) is the single-node default: publishing is a no-op
and the rooms skip every cluster step. Several buses sharing one :class:`LocalHub` make a
cluster inside one process, which the tests use to drive several room managers through
the same code paths as Redis, including lost messages (``LocalHub.drop``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .base import ClusterBus, encode


class LocalHub:
    """The switchboard of in-process buses. ``drop(channel, data) -> bool`` loses a
    message when it returns True; ``connected = False`` loses everything (an outage)."""

    def __init__(self) -> None:
        self.buses: dict[str, LocalBus] = {}
        self.drop: Callable[[str, bytes], bool] | None = None
        self.connected = True

    def send(self, channel: str, data: bytes, sender: LocalBus) -> bool:
        if not self.connected:
            return False
        if self.drop is not None and self.drop(channel, data):
            return True  # lost on the way: the sender cannot tell (at most once)
        loop = asyncio.get_running_loop()
        for bus in self.buses.values():
            if bus is not sender and channel in bus.channels:
                loop.call_soon(bus._deliver, data)
        return True

    def reconnect(self) -> None:
        """End an outage: every bus resyncs, as after a Redis reconnect."""
        self.connected = True
        for bus in self.buses.values():
            bus._resync()


class LocalBus(ClusterBus):
    backend = "local"

    def __init__(self, node_id: str, hub: LocalHub | None = None, **kwargs: Any) -> None:
        super().__init__(node_id, **kwargs)
        self.hub = hub
        self.clustered = hub is not None
        self.channels: set[str] = {f"node:{node_id}", "control"}
        if hub is not None:
            hub.buses[node_id] = self

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        if self.hub is not None:
            self.hub.buses.pop(self.node_id, None)

    async def subscribe(self, doc_id: str) -> None:
        self.channels.add(f"doc:{doc_id}")

    async def unsubscribe(self, doc_id: str) -> None:
        self.channels.discard(f"doc:{doc_id}")

    def _send(self, channel: str, data: bytes) -> None:
        assert self.hub is not None
        if self.hub.send(channel, data, self):
            self.stats.published += 1
        else:
            self.stats.dropped += 1

    def publish(self, doc_id: str, kind: int, *parts: bytes) -> None:
        if self.hub is not None:
            self._send(f"doc:{doc_id}", encode(kind, self.node_id, doc_id, parts))

    def send_to(self, node: str, doc_id: str, kind: int, *parts: bytes) -> None:
        if self.hub is not None:
            self._send(f"node:{node}", encode(kind, self.node_id, doc_id, parts))

    def broadcast(self, doc_id: str, kind: int, *parts: bytes) -> None:
        if self.hub is not None:
            self._send("control", encode(kind, self.node_id, doc_id, parts))

    def status(self) -> dict[str, Any]:
        if self.hub is None:
            return {"ok": True, "backend": self.backend, "nodes": 1}
        return {"ok": self.hub.connected, "backend": self.backend, "nodes": len(self.hub.buses)}

    @property
    def connected(self) -> bool:
        return self.hub is None or self.hub.connected

    @property
    def queued(self) -> int:
        return 0
