"""Document stores, chosen by the scheme of ``CollabDocsApp.store_url``."""

from __future__ import annotations

from .base import (
    DocumentRecord,
    DocumentStore,
    LoadedDocument,
    PendingUpdate,
    StoredUpdate,
    StoreError,
    VersionRecord,
)


def store_from_url(url: str, node: str | None = None) -> DocumentStore:
    """Build the store a URL names; the backend's driver is imported only when used.
    ``node`` names this server node (the owner of the store's compaction leases)."""
    if url.startswith("sqlite:///"):
        from .sqlite import SQLiteDocumentStore, path_from_url

        return SQLiteDocumentStore(path_from_url(url))
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from .mongodb import MongoDocumentStore

        return MongoDocumentStore(url, node=node)
    scheme = url.split(":", 1)[0]
    raise ValueError(
        f"unsupported store_url scheme {scheme!r}: use sqlite:///path/to/file.db "
        "or mongodb://host[:port]/database"
    )


__all__ = [
    "DocumentRecord",
    "DocumentStore",
    "LoadedDocument",
    "PendingUpdate",
    "StoreError",
    "StoredUpdate",
    "VersionRecord",
    "store_from_url",
]
