"""Document stores, chosen by the scheme of ``CollabDocsApp.store_url`` (or plugged by
``CollabDocsApp.store_class``; see :mod:`jupyter_collab_docs.backends`)."""

from __future__ import annotations

from typing import Any

from ..backends import Scheme, Schemes
from .base import (
    DocumentRecord,
    DocumentStore,
    LoadedDocument,
    PendingUpdate,
    StoredUpdate,
    StoreError,
    VersionRecord,
)

#: The one place that knows the store_url schemes.
STORES = Schemes(
    "store_url",
    "store_class",
    Scheme(
        ("sqlite:///",),
        "jupyter_collab_docs.stores.sqlite:SQLiteDocumentStore",
        "sqlite:////var/lib/collab-docs/documents.db",
    ),
    Scheme(
        ("mongodb://", "mongodb+srv://"),
        "jupyter_collab_docs.stores.mongodb:MongoDocumentStore",
        "mongodb://mongo.example.org:27017/collab_docs",
    ),
)


def store_from_url(
    url: str,
    node: str | None = None,
    *,
    cls: type[DocumentStore] | None = None,
    parent: Any = None,
) -> DocumentStore:
    """Build the store a URL names, or ``cls`` (a plugged store) for it; the backend's
    driver is imported only when used. ``node`` names this server node (the owner of the
    store's compaction leases); ``parent`` is the configurable whose configuration the
    store reads (the app)."""
    store: DocumentStore = STORES.build(url, cls, node=node or "", parent=parent)
    return store


__all__ = [
    "STORES",
    "DocumentRecord",
    "DocumentStore",
    "LoadedDocument",
    "PendingUpdate",
    "StoreError",
    "StoredUpdate",
    "VersionRecord",
    "store_from_url",
]
