"""Cluster buses, chosen by the scheme of ``CollabDocsApp.cluster_url`` (or plugged by
``CollabDocsApp.cluster_class``; see :mod:`jupyter_collab_docs.backends`).

* ``""`` (default): :class:`LocalBus`, one node, nothing leaves the process.
* ``redis://host:port/db``, ``rediss://…`` (TLS), ``unix:///path/redis.sock``,
  ``redis+sentinel://host:port[,host:port]/service[/db]`` (Redis Sentinel):
  :class:`RedisBus`.
"""

from __future__ import annotations

from typing import Any

from ..backends import Scheme, Schemes
from .base import BusMessage, ClusterBus
from .local import LocalBus, LocalHub

#: The one place that knows the cluster_url schemes.
BUSES = Schemes(
    "cluster_url",
    "cluster_class",
    Scheme(
        ("redis://", "rediss://", "unix://", "redis+sentinel://"),
        "jupyter_collab_docs.cluster.redis:RedisBus",
        "redis://redis.example.org:6379/0",
    ),
    empty="jupyter_collab_docs.cluster.local:LocalBus",
)
SCHEMES = BUSES.prefixes


def bus_from_url(
    url: str, node_id: str, *, cls: type[ClusterBus] | None = None, parent: Any = None
) -> ClusterBus:
    """The bus a URL names, or ``cls`` (a plugged bus) built for it."""
    bus: ClusterBus = BUSES.build(url, cls, node=node_id, parent=parent)
    return bus


__all__ = [
    "BUSES",
    "SCHEMES",
    "BusMessage",
    "ClusterBus",
    "LocalBus",
    "LocalHub",
    "bus_from_url",
]
