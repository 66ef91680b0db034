"""Cluster buses, chosen by the scheme of ``CollabDocsApp.cluster_url``.

* ``""`` (default): :class:`LocalBus`, one node, nothing leaves the process.
* ``redis://host:port/db``, ``rediss://…`` (TLS), ``unix:///path/redis.sock``:
  :class:`RedisBus`.
"""

from __future__ import annotations

from typing import Any

from .base import BusMessage, ClusterBus
from .local import LocalBus, LocalHub

SCHEMES = ("redis://", "rediss://", "unix://")


def bus_from_url(url: str, node_id: str, **kwargs: Any) -> ClusterBus:
    """The bus a URL names (``kwargs``: traitlets ``parent``/``config``)."""
    if not url:
        return LocalBus(node_id, **kwargs)
    if url.startswith(SCHEMES):
        from .redis import RedisBus

        return RedisBus(node_id, url, **kwargs)
    scheme = url.split(":", 1)[0]
    raise ValueError(
        f"unsupported cluster_url scheme {scheme!r}: leave it empty for one node, or use "
        "redis://host:port/db"
    )


__all__ = ["SCHEMES", "BusMessage", "ClusterBus", "LocalBus", "LocalHub", "bus_from_url"]
