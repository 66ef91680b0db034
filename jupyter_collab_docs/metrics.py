"""Prometheus metrics of the rooms and the cluster bus, served by Jupyter Server's own
``/metrics`` endpoint (``prometheus_client``'s default registry).

The hot path only adds to plain Python integers (:class:`RoomStats`, :class:`BusStats`);
nothing takes a lock or builds a label set per update. A collector, registered once per
process, reads those numbers when Prometheus scrapes.
"""

from __future__ import annotations

import bisect
import logging
import weakref
from collections.abc import Iterator
from typing import Any, Protocol

log = logging.getLogger(__name__)

# Seconds: store writes and bus lag are milliseconds normally, seconds when degraded.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Histogram:
    """Cumulative-at-scrape histogram with plain counters."""

    __slots__ = ("bounds", "count", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.sum += value

    def buckets(self) -> list[tuple[str, int]]:
        out, total = [], 0
        for bound, count in zip(self.bounds, self.counts, strict=False):
            total += count
            out.append((repr(float(bound)), total))
        out.append(("+Inf", self.count))
        return out


class RoomStats:
    """Counters of one node's rooms."""

    def __init__(self) -> None:
        self.updates_in = {"client": 0, "server": 0, "remote": 0}
        self.messages_out = 0
        self.store_writes = Histogram()
        self.store_write_errors = 0
        self.compactions = 0
        self.resync_requests = 0  # state vectors this node published
        self.resync_replies = 0  # answers it sent to other nodes' state vectors
        self.resync_healed = 0  # exchanges that brought something this node lacked


class BusStats:
    """Counters of one node's cluster bus."""

    def __init__(self) -> None:
        self.published = 0
        self.dropped = 0
        self.publish_errors = 0
        self.received = 0
        self.malformed = 0
        self.reconnects = 0
        self.resync_triggers = 0
        self.lag = Histogram()

    def observe_lag(self, seconds: float) -> None:
        self.lag.observe(max(0.0, seconds))


class MetricsSource(Protocol):
    """What the collector reads from a room manager."""

    stats: RoomStats

    def metrics_gauges(self) -> dict[str, Any]: ...


_sources: weakref.WeakSet[Any] = weakref.WeakSet()
_registered = False


def unregister(source: Any) -> None:
    """Stop publishing a closed room manager's numbers (another may serve the same node
    label in this process, and two sources of one label would clash)."""
    _sources.discard(source)


def register(source: Any) -> None:
    """Publish a room manager's numbers (registers the collector on first use)."""
    global _registered
    _sources.add(source)
    if _registered:
        return
    _registered = True
    try:
        from prometheus_client import REGISTRY

        REGISTRY.register(_Collector())
    except Exception:  # prometheus_client missing or a clash: metrics are optional
        log.warning("collab-docs metrics are not available", exc_info=True)


class _Collector:
    def describe(self) -> list[Any]:
        return []  # collected lazily; no fixed description

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily as Counter
        from prometheus_client.core import GaugeMetricFamily as Gauge
        from prometheus_client.core import HistogramMetricFamily as Histogram

        def family(kind: Any, name: str, doc: str, *labels: str) -> Any:
            return kind("collab_docs_" + name, doc, labels=["node", *labels])

        rooms = family(Gauge, "rooms_open", "Rooms loaded on this node")
        conns = family(Gauge, "connections", "Open room sockets")
        backlog = family(Gauge, "store_backlog_bytes", "Bytes of updates waiting to be stored")
        queue = family(Gauge, "bus_queue_messages", "Messages waiting to be published")
        connected = family(Gauge, "bus_connected", "1 when the cluster bus is connected")
        updates = family(Counter, "updates_in", "Updates applied to rooms", "source")
        out = family(Counter, "messages_out", "Messages written to sockets")
        writes = family(Histogram, "store_write_seconds", "Latency of batched store appends")
        write_errors = family(Counter, "store_write_errors", "Failed store appends (retried)")
        compactions = family(Counter, "compactions", "Snapshots written")
        resyncs = family(Counter, "resyncs", "State-vector exchanges between nodes", "step")
        bus = family(Counter, "bus_messages", "Cluster bus messages", "outcome")
        lag = family(Histogram, "bus_lag_seconds", "From publish on one node to receipt on another")
        for source in list(_sources):
            stats: RoomStats = source.stats
            gauges = source.metrics_gauges()
            node = gauges["node"]
            rooms.add_metric([node], gauges["rooms"])
            conns.add_metric([node], gauges["connections"])
            backlog.add_metric([node], gauges["backlog_bytes"])
            queue.add_metric([node], gauges["bus_queue"])
            connected.add_metric([node], 1.0 if gauges["bus_connected"] else 0.0)
            for kind, count in stats.updates_in.items():
                updates.add_metric([node, kind], count)
            out.add_metric([node], stats.messages_out)
            h = stats.store_writes
            writes.add_metric([node], h.buckets(), h.sum)
            write_errors.add_metric([node], stats.store_write_errors)
            compactions.add_metric([node], stats.compactions)
            resyncs.add_metric([node, "request"], stats.resync_requests)
            resyncs.add_metric([node, "reply"], stats.resync_replies)
            resyncs.add_metric([node, "healed"], stats.resync_healed)
            b: BusStats = gauges["bus_stats"]
            for outcome in ("published", "dropped", "publish_errors", "received", "malformed"):
                bus.add_metric([node, outcome], getattr(b, outcome))
            bus.add_metric([node, "reconnects"], b.reconnects)
            lag.add_metric([node], b.lag.buckets(), b.lag.sum)
        yield from (rooms, conns, backlog, queue, connected, updates, out, writes)
        yield from (write_errors, compactions, resyncs, bus, lag)
