"""The document store interface: metadata, an append-only update log, and snapshots.

Every backend (embedded SQLite, MongoDB) implements :class:`DocumentStore`. The room and
the document service only ever talk to this interface, never to a driver.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..backends import Backend
from ..timeutil import iso_time


@dataclass
class DocumentRecord:
    """A document's metadata as stored."""

    id: str
    name: str
    type: str
    owner: str
    created: datetime
    modified: datetime
    #: When it was moved to its owner's trash; None while it is not in the trash.
    trashed: datetime | None = None


@dataclass
class VersionRecord:
    """A named or automatic snapshot of a document's whole state at one moment."""

    id: str
    doc_id: str
    label: str
    created: datetime
    created_by: str
    auto: bool
    # Who changed the document since the version before this one:
    # {"alice": {"updates": 12, "bytes": 340}}
    contributors: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class PendingUpdate:
    """One Yjs update waiting to be written, with who made it and where."""

    data: bytes
    user: str
    node: str
    created: datetime


@dataclass
class StoredUpdate:
    """One record read back from the log, or the snapshot.

    ``id`` names the record in its store: what ``compact`` and ``quarantine`` delete.
    ``seq`` only orders the log (the order records are applied in); it is not unique or
    dense on every backend, so nothing may be decided by comparing it. A snapshot's
    ``seq`` is the highest log number folded into it so far (for messages only)."""

    seq: int
    data: bytes
    id: str


@dataclass
class LoadedDocument:
    """Everything needed to rebuild a document: the snapshot, then every record in the
    log, whatever its number (a record the snapshot already holds is a harmless
    duplicate: Yjs updates are idempotent).

    ``last_seq`` is the highest sequence number read, for messages only."""

    snapshot: StoredUpdate | None
    updates: list[StoredUpdate] = field(default_factory=list)

    @property
    def last_seq(self) -> int:
        seqs = [u.seq for u in self.updates]
        if self.snapshot is not None:
            seqs.append(self.snapshot.seq)
        return max(seqs, default=0)


class StoreError(Exception):
    """The store could not complete an operation (the backend is down, say)."""


# Shared by the backends, so that both read the contract's fields the same way.


def trash_time(value: datetime) -> str:
    """The trash's stored text form of a time (field ``trashed``): fixed width, so text
    order is time order (the purge compares it in the backend's query)."""
    return iso_time(value)


def value_at_path(data: Any, path: str) -> Any:
    """The value at a dotted path (``suggestion.status``) of a JSON object, None where
    there is none: what ``update_comment_thread``'s ``expect`` compares."""
    for key in path.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


class DocumentStore(Backend):
    """Durable home of documents. Implementations must not block the event loop.

    The interface of the document store family: the built-in stores and their URL
    schemes are in :data:`jupyter_collab_docs.stores.STORES`; another one is plugged by
    ``CollabDocsApp.store_class`` and built by ``from_url`` (see
    :mod:`jupyter_collab_docs.backends`).

    Invariants every backend keeps (docs/architecture.md, "Durability"):

    * ``append`` is atomic per call, keeps the order of the updates it is given, and
      once it returns, every later ``load`` reads them: no number it hands out, however
      the backend's counter misbehaves, hides a record or makes it collide.
    * ``load`` reads the snapshot and every record of the log.
    * ``compact`` deletes exactly the records it is given, never "everything up to N",
      and stores a snapshot only in place of one it contains. It replaces the snapshot and
      drops the records in one atomic step, or, where the backend cannot, writes the
      snapshot first and deletes after, so a crash leaves duplicates (harmless: Yjs
      updates are idempotent), never a gap.
    """

    @abc.abstractmethod
    async def start(self) -> None:
        """Open connections and create the schema."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release every connection and thread."""

    @abc.abstractmethod
    async def create(self, record: DocumentRecord, initial_state: bytes | None) -> None:
        """Create a document, optionally with its first state as its snapshot."""

    @abc.abstractmethod
    async def get(self, doc_id: str) -> DocumentRecord | None:
        """The metadata of one document (``trashed`` set if it is in the trash), or
        None."""

    @abc.abstractmethod
    async def list_documents(self, owner: str | None = None) -> list[DocumentRecord]:
        """All documents not in the trash (of one owner if given), newest modified
        first."""

    @abc.abstractmethod
    async def update_metadata(
        self, doc_id: str, *, name: str | None = None, modified: datetime | None = None
    ) -> None:
        """Change the name and/or the modification time."""

    @abc.abstractmethod
    async def delete(self, doc_id: str) -> bool:
        """Delete a document with its log, snapshot and versions; False if it did not
        exist."""

    # -- the trash -----------------------------------------------------------------------

    @abc.abstractmethod
    async def trash(self, doc_id: str, at: datetime) -> bool:
        """Move a document to the trash at ``at``, keeping everything it has; False if it
        does not exist or is in the trash already."""

    @abc.abstractmethod
    async def restore(self, doc_id: str) -> bool:
        """Take a document out of the trash; False if it is not in the trash."""

    @abc.abstractmethod
    async def list_trash(
        self, owner: str | None = None, trashed_before: datetime | None = None
    ) -> list[DocumentRecord]:
        """The documents in the trash (of one owner; trashed at or before a time, if
        given), most recently trashed first."""

    @abc.abstractmethod
    async def purge(self, doc_id: str, trashed_before: datetime) -> bool:
        """Delete a document for good, as ``delete`` does, if it is in the trash since
        ``trashed_before`` or earlier. Atomic against ``restore`` and another ``purge``
        (another node's): True for the one call that deleted it."""

    @abc.abstractmethod
    async def append(self, doc_id: str, updates: list[PendingUpdate]) -> int:
        """Append updates to the log and mark the document modified at the last one's
        time; returns the sequence number of the last one (0 if the document is gone)."""

    @abc.abstractmethod
    async def load(self, doc_id: str) -> LoadedDocument:
        """The snapshot and every record of the log, in log order."""

    @abc.abstractmethod
    async def compact(self, doc_id: str, snapshot: bytes, folded: Sequence[StoredUpdate]) -> bool:
        """Store ``snapshot`` and delete exactly the ``folded`` records (read by ``load``),
        which the caller has checked the snapshot contains
        (:class:`~jupyter_collab_docs.stores.containment.SnapshotContent`).

        The snapshot replaces the stored one only if it contains it: a compaction that
        started from an older state never undoes a newer one. Returns False, storing and
        deleting nothing, when it does not (another writer compacted meanwhile: load
        again and retry), when the document is gone, or when another node is compacting
        it."""

    @abc.abstractmethod
    async def quarantine(
        self, doc_id: str, record: StoredUpdate, reason: str, *, snapshot: bool = False
    ) -> None:
        """Move one record (or the snapshot) that failed to decode out of the document,
        keeping it aside for inspection, so the rest of the document still loads."""

    @abc.abstractmethod
    async def log_length(self, doc_id: str) -> int:
        """How many log records are not yet folded into the snapshot."""

    # -- versions ------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_version(self, version: VersionRecord, state: bytes) -> None:
        """Keep ``state`` (a full Yjs update) as a version of its document."""

    @abc.abstractmethod
    async def list_versions(self, doc_id: str) -> list[VersionRecord]:
        """The versions of a document, newest first."""

    @abc.abstractmethod
    async def get_version(self, doc_id: str, version_id: str) -> tuple[VersionRecord, bytes] | None:
        """One version and its state, or None."""

    @abc.abstractmethod
    async def delete_versions(self, doc_id: str, version_ids: list[str]) -> None:
        """Forget versions (old automatic ones are thinned out)."""

    # -- the audit activity feed ---------------------------------------------------------

    @abc.abstractmethod
    async def append_activity(self, events: list[dict[str, Any]]) -> None:
        """Keep audit events (JSON objects with ``event_id``, ``document_id`` and
        ``timestamp``) for the documents' activity feeds. An event whose ``event_id`` is
        already kept is ignored, so a batch may be written twice."""

    @abc.abstractmethod
    async def list_activity(self, doc_id: str, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` events of one document, newest first."""

    # -- comment threads (jupyter_collab_docs/comments, docs/comments.md) ---------------
    # A thread and a comment are JSON objects with ``id`` and ``doc_id`` (a comment also
    # ``thread_id``); the store keeps them as given. Not abstract: a plugged store
    # without them serves everything but comments (503).

    async def create_comment_thread(self, thread: dict[str, Any], comment: dict[str, Any]) -> bool:
        """Keep a new thread with its first comment; False (nothing kept) when the
        document is gone."""
        raise StoreError("this document store keeps no comments")

    async def add_comment(self, comment: dict[str, Any]) -> bool:
        """Keep one more comment of a thread; False when the thread is gone."""
        raise StoreError("this document store keeps no comments")

    async def update_comment_thread(
        self,
        doc_id: str,
        thread_id: str,
        fields: dict[str, Any],
        expect: dict[str, Any] | None = None,
    ) -> bool:
        """Set fields of a thread; False when it is gone, or when one of ``expect``'s
        fields (dotted paths: ``suggestion.status``) does not hold its value (a
        compare-and-set across nodes: suggestions are decided once)."""
        raise StoreError("this document store keeps no comments")

    async def update_comment(self, doc_id: str, comment_id: str, fields: dict[str, Any]) -> bool:
        """Set fields of a comment; False when it is gone."""
        raise StoreError("this document store keeps no comments")

    async def delete_comment(self, doc_id: str, comment_id: str) -> bool:
        """Forget one comment; False when it was gone."""
        raise StoreError("this document store keeps no comments")

    async def delete_comment_thread(self, doc_id: str, thread_id: str) -> bool:
        """Forget a thread and its comments; False when it was gone."""
        raise StoreError("this document store keeps no comments")

    async def list_comment_threads(self, doc_id: str) -> list[dict[str, Any]]:
        """The document's threads, oldest first, each with ``comments``: its comments,
        oldest first. (``delete`` forgets them with the document.)"""
        raise StoreError("this document store keeps no comments")

    # -- the inbox (comments/mentions.py, docs/comments.md "Mentions and notifications") --
    # A notification is a JSON object with ``id``, ``user`` (whose inbox), ``created`` and
    # ``read``; the store keeps it as given. Kept in the document store because it is
    # written with the comment that causes it and shared by every node like the comments.
    # Not abstract: a plugged store without them keeps no inbox (mentions still reach the
    # event stream and e-mail).

    #: Notifications kept per user: the oldest beyond it are forgotten on each write.
    max_notifications_per_user = 500

    async def add_notifications(self, notes: list[dict[str, Any]]) -> None:
        """Keep notifications (each in its ``user``'s inbox)."""
        raise StoreError("this document store keeps no inbox")

    async def list_notifications(self, user: str, limit: int = 200) -> list[dict[str, Any]]:
        """One user's newest ``limit`` notifications, newest first."""
        raise StoreError("this document store keeps no inbox")

    async def mark_notifications_read(self, user: str, ids: list[str] | None) -> int:
        """Mark the user's notifications ``ids`` (None: all of them) read; how many
        changed. Ids of another user's notifications change nothing."""
        raise StoreError("this document store keeps no inbox")

    async def update_notifications(self, comment_id: str, fields: dict[str, Any]) -> None:
        """Set fields of every notification of one comment (an edit: its new excerpt)."""
        raise StoreError("this document store keeps no inbox")

    async def delete_notifications(self, comment_ids: list[str]) -> None:
        """Forget the notifications of these comments (deleted: nothing of them stays)."""
        raise StoreError("this document store keeps no inbox")
