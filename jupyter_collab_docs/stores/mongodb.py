"""The MongoDB document store, on PyMongo's asyncio client (``AsyncMongoClient``).

One module of about 1,200 lines on purpose: every method keeps the same write-order
invariants listed below, and they are easier to check side by side than across files.

It also runs on FerretDB (v1, SQLite handler), which the tests use, so it relies on no
transactions and no multi-document atomicity; every invariant of
:class:`~jupyter_collab_docs.stores.base.DocumentStore` is kept by the order of writes:

* Sequence numbers are per document and only order the log: ``append`` reserves a block
  with one ``$inc`` on the document's record (which also checks that it exists and sets
  ``modified``), then inserts the records in order. Nothing relies on the numbers being
  dense, unique or increasing: FerretDB's ``$inc`` is not atomic across connections, and
  hands out a number twice or falls behind. A record refused for a number already taken
  (the unique index) is numbered again above the highest stored one, and the counter is
  raised to it; a record's identity is its ``_id``. ``delete`` removes the document's
  record first, and an append that reserved seqs before it cleans up after itself.
* ``compact`` writes the new snapshot (its chunks, then the pointer record, swapped on
  its ``gen`` and only in place of a snapshot it contains), then deletes exactly the
  records it was given by ``_id``: a crash in between leaves duplicates, never a gap. A
  per-document lease in ``leases`` (owner, expiry) keeps two server nodes from
  compacting one document at once.
* ``load`` reads the snapshot, then every record of the log, then checks that the
  snapshot did not change meanwhile (a compaction on another node), and starts over if
  it did.
* Data bigger than ``chunk_size`` (8 MiB; a BSON document holds 16 MiB at most) is written
  as numbered chunks in ``chunks`` before the record that points at them. The initial
  state given to ``create`` is always a chunk reference inside the document's record, so
  creating a document with its first state is one atomic insert.

Collections: ``documents`` (metadata, the seq counter, the initial state's reference),
``updates`` (the log: doc_id, seq, data, user, node, created), ``snapshots`` (one per
document), ``versions``, ``quarantine``, ``chunks`` (large values), ``leases``,
``activity`` (the audit feed) and ``meta`` (the schema version; the write concern probe).
Their indexes are created by ``start``.

Timestamps are stored as UTC ISO 8601 strings, like the SQLite store does: they sort in
time order and keep microseconds (BSON dates keep milliseconds). Lease expiries, which only
this module reads, are BSON dates.

The URL is a MongoDB connection string; its database is the path (default
``collab_docs``). Options in it (``w``, ``journal``, ``wtimeoutMS``,
``serverSelectionTimeoutMS``, ...) are the driver's. Without ``w``/``journal`` the store
writes with ``w="majority", j=True``; if the server refuses that write concern (a mongod
without journaling, say), ``start`` logs a warning and falls back to ``w=1`` (journaled if
the server allows it). A write concern set in the URL is never changed: if the server
refuses it, ``start`` fails. Without ``serverSelectionTimeoutMS`` an unreachable server
fails an operation after 3 s instead of the driver's 30, so rooms retry promptly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, unquote

from bson import ObjectId
from bson.codec_options import CodecOptions
from bson.errors import BSONError
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    BulkWriteError,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
    WriteConcernError,
)
from pymongo.write_concern import WriteConcern
from traitlets import Float, Int
from traitlets.config import LoggingConfigurable

from ..backends import ConfigurableABCMeta
from ..timeutil import from_stored_iso, stored_iso, utc_now
from .base import (
    DocumentRecord,
    DocumentStore,
    LoadedDocument,
    PendingUpdate,
    StoredUpdate,
    StoreError,
    VersionRecord,
    trash_time,
    value_at_path,
)
from .containment import SnapshotContent

log = logging.getLogger(__name__)

MiB = 1024 * 1024
DEFAULT_DATABASE = "collab_docs"
DELETE_SLICE = 5_000
DEFAULT_CHUNK_SIZE = 8 * MiB
DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 3000
DEFAULT_LEASE_TTL = 60.0
DEFAULT_WRITE_CONCERN = WriteConcern(w="majority", j=True)
# Tried in order when the server refuses the default write concern.
FALLBACK_WRITE_CONCERNS = (WriteConcern(w=1, j=True), WriteConcern(w=1))
SCHEMA_VERSION = 1
LOAD_ATTEMPTS = 20
APPEND_ATTEMPTS = 50
INITIAL_STATE_ID = "initial"  # the id of the first state given to create, as a snapshot

CODEC_OPTIONS: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=timezone.utc)

# What pymongo raises for a write concern the server cannot satisfy or does not allow.
_UNSATISFIABLE_WRITE_CONCERN_CODES = {79, 100}  # UnknownReplWriteConcern, Unsatisfiable...


def is_mongodb_url(url: str) -> bool:
    return url.startswith(("mongodb://", "mongodb+srv://"))


def _refuses_write_concern(exc: PyMongoError) -> bool:
    if isinstance(exc, WriteConcernError):
        return True
    if isinstance(exc, OperationFailure):
        if exc.code in _UNSATISFIABLE_WRITE_CONCERN_CODES:
            return True
        message = str(exc).lower()
        # mongod without journaling: "cannot use 'j' option when a host does not have
        # journaling enabled" (BadValue, code 2).
        return exc.code == 2 and ("journal" in message or "write concern" in message)
    return False


@contextmanager
def _driver_errors(what: str) -> Iterator[None]:
    """Driver and BSON errors become :class:`StoreError` (rooms retry on those)."""
    try:
        yield
    except DuplicateKeyError as exc:
        raise StoreError(f"MongoDB: {what}: already exists ({exc})") from exc
    except (PyMongoError, BSONError) as exc:
        raise StoreError(f"MongoDB: {what}: {exc}") from exc


class _Changed(Exception):
    """What load was reading changed under it (a compaction elsewhere): read again."""


def _record(row: Mapping[str, Any]) -> DocumentRecord:
    return DocumentRecord(
        id=row["_id"],
        name=row["name"],
        type=row["type"],
        owner=row["owner"],
        created=from_stored_iso(row["created"]),
        modified=from_stored_iso(row["modified"]),
        trashed=from_stored_iso(row["trashed"]) if row.get("trashed") else None,
    )


#: The lease a restore or a purge holds (see "the trash" below); a holder that dies
#: leaves it to expire after TRASH_LEASE_TTL seconds.
TRASH_LEASE = "trash"
TRASH_LEASE_TTL = 60.0
TRASH_LEASE_TRIES = 40
TRASH_LEASE_WAIT = 0.05


def _version(row: Mapping[str, Any]) -> VersionRecord:
    return VersionRecord(
        id=row["id"],
        doc_id=row["doc_id"],
        label=row["label"],
        created=from_stored_iso(row["created"]),
        created_by=row["created_by"],
        auto=bool(row["auto"]),
        # A list, not a subdocument keyed by user: names may hold "." or start with "$"
        # (and FerretDB v1 has no nested arrays, so no pairs either).
        contributors={c["user"]: dict(c["stats"]) for c in row.get("contributors", [])},
    )


class _Collection:
    """A store attribute that is one collection of its database (StoreError before the
    store is started)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, store: MongoDocumentStore, owner: type) -> AsyncCollection[dict[str, Any]]:
        return store._coll(self.name)


class MongoDocumentStore(DocumentStore, LoggingConfigurable, metaclass=ConfigurableABCMeta):
    """:class:`DocumentStore` on a MongoDB (or FerretDB) database.

    Configurable as ``c.MongoDocumentStore.<trait>``; the constructor also takes the
    traits as keywords."""

    chunk_size = Int(
        DEFAULT_CHUNK_SIZE,
        min=1024,
        max=15 * MiB,
        help="""Bytes past which a value (an update, a snapshot, a version) is written as
        numbered chunks in the chunks collection (a BSON document holds 16 MiB at
        most).""",
    ).tag(config=True)

    lease_ttl = Float(
        DEFAULT_LEASE_TTL,
        min=1.0,
        help="""Seconds a node's compaction lease on a document lasts unless renewed. A
        node that dies holding one delays that document's compaction this long; keep it
        well above the clock skew between nodes.""",
    ).tag(config=True)

    server_selection_timeout_ms = Int(
        DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
        min=1,
        help="""Milliseconds an operation waits for a reachable server before it fails (so
        rooms retry promptly); serverSelectionTimeoutMS in store_url takes precedence.""",
    ).tag(config=True)

    @classmethod
    def from_url(cls, url: str, *, node: str, parent: Any = None) -> MongoDocumentStore:
        return cls(url, node=node, parent=parent)

    def __init__(self, url: str, *, node: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # the traits above, parent, config
        server_selection_timeout_ms = self.server_selection_timeout_ms
        if not is_mongodb_url(url):
            raise ValueError(f"not a MongoDB URL: {url!r} (expected mongodb://host/database)")
        # Parsed by hand: pymongo's parse_uri resolves mongodb+srv:// names (blocking DNS).
        # The driver validates the URL when the store starts.
        path, _, query = url.split("://", 1)[1].partition("/")[2].partition("?")
        options = {k.lower(): v[-1] for k, v in parse_qs(query).items()}
        self.url = url
        self.database_name: str = unquote(path) or DEFAULT_DATABASE
        if options.get("w") == "0":
            # Unacknowledged writes would lose errors the store relies on (a taken lease,
            # a duplicate id) and durability; FerretDB also answers them, desyncing the
            # connection.
            raise ValueError("w=0 (unacknowledged writes) is not supported for the store")
        self._write_concern_from_url = bool(options.keys() & {"w", "journal"})
        self._wtimeout = int(options["wtimeoutms"]) if "wtimeoutms" in options else None
        self._client_options: dict[str, Any] = {}
        if "serverselectiontimeoutms" not in options:
            self._client_options["serverSelectionTimeoutMS"] = server_selection_timeout_ms
        if "connecttimeoutms" not in options:
            self._client_options["connectTimeoutMS"] = max(server_selection_timeout_ms, 1000)
        self.node = node or f"{socket.gethostname()}-{os.getpid()}"
        #: The write concern in force once started (see the module's docstring).
        self.write_concern: WriteConcern | None = None
        self._client: AsyncMongoClient[dict[str, Any]] | None = None
        self._db: AsyncDatabase[dict[str, Any]] | None = None
        self._queues: dict[str, list[tuple[list[PendingUpdate], asyncio.Future[int]]]] = {}
        self._appenders: dict[str, asyncio.Task[None]] = {}

    # -- plumbing ------------------------------------------------------------------------

    def _coll(self, name: str) -> AsyncCollection[dict[str, Any]]:
        if self._db is None:
            raise StoreError("the document store is not started")
        return self._db[name]

    _documents = _Collection("documents")
    _updates = _Collection("updates")
    _snapshots = _Collection("snapshots")
    _versions = _Collection("versions")
    _quarantine = _Collection("quarantine")
    _leases = _Collection("leases")
    _activity = _Collection("activity")
    _chunks = _Collection("chunks")

    async def start(self) -> None:
        with _driver_errors("reading the store URL"):  # a malformed URL or option
            client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
                self.url,
                tz_aware=True,
                tzinfo=timezone.utc,
                appname="jupyter-collab-docs",
                **self._client_options,
            )
        try:
            with _driver_errors(f"connecting to {self.database_name}"):
                base = client.get_database(self.database_name, codec_options=CODEC_OPTIONS)
                await base.command("ping")
            if self._write_concern_from_url:
                wanted = base.write_concern
            else:
                wanted = WriteConcern(**DEFAULT_WRITE_CONCERN.document, wtimeout=self._wtimeout)
            self.write_concern = await self._choose_write_concern(base, wanted)
            self._client = client
            self._db = base.with_options(write_concern=self.write_concern)
            with _driver_errors("creating indexes"):
                await self._create_indexes()
        except BaseException:
            self._client = None
            self._db = None
            await client.close()
            raise
        log.info(
            "MongoDB store: database %s, write concern %s",
            self.database_name,
            self.write_concern.document,
        )

    async def _probe_write_concern(
        self, db: AsyncDatabase[dict[str, Any]], concern: WriteConcern
    ) -> None:
        """One write with ``concern``: records the schema version in ``meta``."""
        meta = db.get_collection("meta", write_concern=concern)
        record = {"$set": {"version": SCHEMA_VERSION}}
        try:
            await meta.update_one({"_id": "schema"}, record, upsert=True)
        except DuplicateKeyError:
            # Nodes starting at once on a new database: FerretDB's upsert is not atomic,
            # and the other node's insert won. The record exists now.
            await meta.update_one({"_id": "schema"}, record)

    async def _choose_write_concern(
        self, db: AsyncDatabase[dict[str, Any]], wanted: WriteConcern
    ) -> WriteConcern:
        candidates = [wanted]
        if not self._write_concern_from_url:
            candidates.extend(
                WriteConcern(**c.document, wtimeout=self._wtimeout) for c in FALLBACK_WRITE_CONCERNS
            )
        refusals: list[str] = []
        for concern in candidates:
            try:
                await self._probe_write_concern(db, concern)
            except PyMongoError as exc:
                if not _refuses_write_concern(exc) or concern is candidates[-1]:
                    raise StoreError(
                        f"MongoDB: writing with write concern {concern.document}: {exc}"
                    ) from exc
                refusals.append(f"{concern.document}: {exc}")
                continue
            if refusals:
                log.warning(
                    "MongoDB store: the server refused the default write concern (%s); "
                    "writing with %s instead. Set w= and journal= in store_url to choose.",
                    "; ".join(refusals),
                    concern.document,
                )
            return concern
        raise AssertionError("unreachable")

    async def _create_indexes(self) -> None:
        # FerretDB v1 has no TTL or partial indexes: expired leases are taken over by
        # the next acquire, never reaped by the server.
        await self._documents.create_index([("owner", ASCENDING), ("modified", DESCENDING)])
        await self._documents.create_index([("modified", DESCENDING)])
        await self._documents.create_index([("trashed", DESCENDING)])  # the hourly purge
        await self._updates.create_index([("doc_id", ASCENDING), ("seq", ASCENDING)], unique=True)
        await self._versions.create_index([("doc_id", ASCENDING), ("id", ASCENDING)], unique=True)
        await self._versions.create_index([("doc_id", ASCENDING), ("created", DESCENDING)])
        await self._quarantine.create_index([("doc_id", ASCENDING)])
        await self._chunks.create_index([("blob", ASCENDING), ("n", ASCENDING)], unique=True)
        await self._chunks.create_index([("doc_id", ASCENDING)])
        await self._activity.create_index(
            [("doc_id", ASCENDING), ("ts", DESCENDING), ("order", DESCENDING)]
        )
        await self._coll("comment_threads").create_index([("doc_id", ASCENDING)])
        await self._coll("comments").create_index([("doc_id", ASCENDING)])
        await self._coll("comments").create_index([("thread_id", ASCENDING)])
        await self._coll("comment_claims").create_index([("doc_id", ASCENDING)])
        await self._coll("inbox").create_index([("user", ASCENDING), ("created", DESCENDING)])
        await self._coll("inbox").create_index([("comment_id", ASCENDING)])

    async def close(self) -> None:
        if self._appenders:
            await asyncio.gather(*self._appenders.values(), return_exceptions=True)
        client, self._client, self._db = self._client, None, None
        if client is not None:
            await client.close()

    # -- large values --------------------------------------------------------------------

    async def _put_blob(
        self, doc_id: str, kind: str, data: bytes, *, always_chunk: bool = False
    ) -> dict[str, Any]:
        """Store ``data`` and return the fields that point at it: inline while it is
        small, else chunks written first (a crash leaves unreferenced chunks, never a
        record pointing at missing ones)."""
        if len(data) <= self.chunk_size and not always_chunk:
            return {"data": data}
        key = f"{kind}:{doc_id}:{uuid.uuid4().hex}"
        size = self.chunk_size
        count = 0
        for n, start in enumerate(range(0, max(len(data), 1), size)):
            # One chunk per insert keeps every command well under the 48 MB message cap.
            await self._chunks.insert_one(
                {
                    "blob": key,
                    "n": n,
                    "doc_id": doc_id,
                    "kind": kind,
                    "data": data[start : start + size],
                }
            )
            count += 1
        return {"data": b"", "blob": key, "chunks": count, "size": len(data)}

    async def _get_blob(self, fields: Mapping[str, Any]) -> bytes:
        """The bytes stored by :meth:`_put_blob`; :class:`_Changed` if chunks are gone."""
        key = fields.get("blob")
        if key is None:
            return bytes(fields["data"])
        parts: list[bytes] = []
        async for chunk in self._chunks.find({"blob": key}).sort("n", ASCENDING):
            if chunk["n"] != len(parts):
                break
            parts.append(bytes(chunk["data"]))
        data = b"".join(parts)
        if len(parts) != fields["chunks"] or len(data) != fields["size"]:
            raise _Changed(f"chunks of {key} are missing")
        return data

    async def _drop_blobs(self, keys: list[str]) -> None:
        if keys:
            await self._chunks.delete_many({"blob": {"$in": keys}})

    # -- documents -----------------------------------------------------------------------

    async def create(self, record: DocumentRecord, initial_state: bytes | None) -> None:
        with _driver_errors(f"creating document {record.id}"):
            row: dict[str, Any] = {
                "_id": record.id,
                "name": record.name,
                "type": record.type,
                "owner": record.owner,
                "created": stored_iso(record.created),
                "modified": stored_iso(record.modified),
                "seq": 0,
            }
            if initial_state is not None:
                # Chunks first, then one insert: the document exists with its first
                # state or not at all.
                blob = await self._put_blob(record.id, "initial", initial_state, always_chunk=True)
                row["initial"] = blob
            try:
                await self._documents.insert_one(row)
            except DuplicateKeyError:
                if initial_state is not None:
                    await self._drop_blobs([row["initial"]["blob"]])
                raise

    async def get(self, doc_id: str) -> DocumentRecord | None:
        with _driver_errors(f"reading document {doc_id}"):
            row = await self._documents.find_one({"_id": doc_id}, {"initial": 0})
        return _record(row) if row else None

    async def list_documents(self, owner: str | None = None) -> list[DocumentRecord]:
        query: dict[str, Any] = {"trashed": None}  # null or missing: not in the trash
        if owner is not None:
            query["owner"] = owner
        with _driver_errors("listing documents"):
            cursor = self._documents.find(query, {"initial": 0})
            rows = await cursor.sort([("modified", DESCENDING), ("_id", ASCENDING)]).to_list()
        return [_record(r) for r in rows]

    async def update_metadata(
        self, doc_id: str, *, name: str | None = None, modified: datetime | None = None
    ) -> None:
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if modified is not None:
            changes["modified"] = stored_iso(modified)
        if changes:
            with _driver_errors(f"updating document {doc_id}"):
                await self._documents.update_one({"_id": doc_id}, {"$set": changes})

    async def delete(self, doc_id: str) -> bool:
        with _driver_errors(f"deleting document {doc_id}"):
            # The record first: from then on appends and compactions find no document.
            result = await self._documents.delete_one({"_id": doc_id})
            await self._delete_contents(doc_id)
        return result.deleted_count > 0

    async def _delete_contents(self, doc_id: str) -> None:
        """What a document has besides its record (deleted first, by the caller)."""
        await self._delete_in_slices(self._updates, {"doc_id": doc_id})
        await self._snapshots.delete_one({"_id": doc_id})
        await self._versions.delete_many({"doc_id": doc_id})
        await self._leases.delete_many({"doc_id": doc_id})
        # Quarantined records (and their chunks) stay for inspection, as in SQLite.
        await self._chunks.delete_many({"doc_id": doc_id, "kind": {"$ne": "quarantine"}})
        await self._coll("comments").delete_many({"doc_id": doc_id})
        await self._coll("comment_threads").delete_many({"doc_id": doc_id})
        await self._coll("comment_claims").delete_many({"doc_id": doc_id})

    # -- the trash: one field of the record. A restore and a purge each hold the
    # -- document's "trash" lease while they write: FerretDB applies a filtered write as
    # -- a read and then a write, so without it a restore and another node's purge could
    # -- both match (the restored document then purged), or two purges both delete ------

    async def trash(self, doc_id: str, at: datetime) -> bool:
        with _driver_errors(f"moving document {doc_id} to the trash"):
            result = await self._documents.update_one(
                {"_id": doc_id, "trashed": None}, {"$set": {"trashed": trash_time(at)}}
            )
        return result.modified_count > 0

    async def restore(self, doc_id: str) -> bool:
        # A purge holding the lease is done within moments: wait for it rather than fail.
        for _ in range(TRASH_LEASE_TRIES):
            token = await self.acquire_lease(doc_id, TRASH_LEASE, TRASH_LEASE_TTL)
            if token is not None:
                break
            await asyncio.sleep(TRASH_LEASE_WAIT)
        else:
            return False
        try:
            with _driver_errors(f"restoring document {doc_id}"):
                result = await self._documents.update_one(
                    {"_id": doc_id, "trashed": {"$type": "string"}},
                    {"$unset": {"trashed": ""}},
                )
        finally:
            await self.release_lease(doc_id, token, TRASH_LEASE)
        return result.modified_count > 0

    async def list_trash(
        self, owner: str | None = None, trashed_before: datetime | None = None
    ) -> list[DocumentRecord]:
        trashed: dict[str, Any] = {"$type": "string"}
        if trashed_before is not None:
            trashed["$lte"] = trash_time(trashed_before)
        query: dict[str, Any] = {"trashed": trashed}
        if owner is not None:
            query["owner"] = owner
        with _driver_errors("listing the trash"):
            cursor = self._documents.find(query, {"initial": 0})
            rows = await cursor.sort([("trashed", DESCENDING), ("_id", ASCENDING)]).to_list()
        return [_record(r) for r in rows]

    async def purge(self, doc_id: str, trashed_before: datetime) -> bool:
        token = await self.acquire_lease(doc_id, TRASH_LEASE, TRASH_LEASE_TTL)
        if token is None:
            return False  # another node purges or restores it right now
        try:
            with _driver_errors(f"purging document {doc_id}"):
                result = await self._documents.delete_one(
                    {"_id": doc_id, "trashed": {"$lte": trash_time(trashed_before)}}
                )
        except BaseException:
            await self.release_lease(doc_id, token, TRASH_LEASE)
            raise
        if result.deleted_count == 0:
            await self.release_lease(doc_id, token, TRASH_LEASE)
            return False
        with _driver_errors(f"purging document {doc_id}"):
            await self._delete_contents(doc_id)  # the lease goes with the rest
        return True

    # -- the log -------------------------------------------------------------------------

    async def append(self, doc_id: str, updates: list[PendingUpdate]) -> int:
        # The appends of one document that arrive while a batch of it is written are
        # written together next, in arrival order; other documents are written meanwhile.
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(doc_id, []).append((updates, future))
        if doc_id not in self._appenders:
            self._appenders[doc_id] = asyncio.create_task(
                self._write_appends(doc_id), name=f"collab-docs-mongodb-append-{doc_id}"
            )
        return await future

    async def _write_appends(self, doc_id: str) -> None:
        try:
            while batch := self._queues.pop(doc_id, None):
                try:
                    seqs = await self._append_batch(doc_id, [updates for updates, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), seq in zip(batch, seqs, strict=True):
                    if not future.done():
                        future.set_result(seq)
        finally:
            del self._appenders[doc_id]

    async def _append_batch(self, doc_id: str, calls: list[list[PendingUpdate]]) -> list[int]:
        flat = [u for updates in calls for u in updates]
        if not flat:
            return [0] * len(calls)
        with _driver_errors(f"appending to document {doc_id}"):
            numbers = await self._insert_numbered(doc_id, flat)
            if numbers is None or await self._documents.count_documents({"_id": doc_id}) == 0:
                # Deleted meanwhile: its late updates go nowhere, and delete may have
                # cleaned up before our inserts.
                await self._updates.delete_many({"doc_id": doc_id})
                await self._chunks.delete_many({"doc_id": doc_id, "kind": {"$ne": "quarantine"}})
                return [0] * len(calls)
        seqs = []
        end = -1
        for updates in calls:
            end += len(updates)
            seqs.append(numbers[end] if updates else 0)
        return seqs

    async def _insert_numbered(self, doc_id: str, flat: list[PendingUpdate]) -> list[int] | None:
        """Insert ``flat`` in order, numbered from the document's counter; the numbers
        given, or None if the document is gone.

        The counter may hand out a number already in the log (FerretDB's ``$inc`` is not
        atomic across connections, or a counter was set back): the unique (doc_id, seq)
        index refuses that record, and the records from it on are numbered again above
        the highest stored number, which the counter is then raised to. No record is
        ever dropped for its number."""
        fields: list[dict[str, Any]] = []
        numbers: list[int] = []
        for _ in range(APPEND_ATTEMPTS):
            rest = flat[len(numbers) :]
            row = await self._documents.find_one_and_update(
                {"_id": doc_id},
                {"$inc": {"seq": len(rest)}, "$set": {"modified": stored_iso(flat[-1].created)}},
                return_document=ReturnDocument.AFTER,
            )
            if row is None:
                return None
            first = int(row["seq"]) - len(rest) + 1
            while len(fields) < len(flat):  # once, after the first numbers are taken
                fields.append(await self._put_blob(doc_id, "update", flat[len(fields)].data))
            records = [
                {
                    "doc_id": doc_id,
                    "seq": first + i,
                    "user": update.user,
                    "node": update.node,
                    "created": stored_iso(update.created),
                    **fields[len(numbers) + i],
                }
                for i, update in enumerate(rest)
            ]
            try:
                await self._updates.insert_many(records, ordered=True)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if not errors or any(err.get("code") != 11000 for err in errors):
                    raise
                landed = min(int(err["index"]) for err in errors)  # ordered: all before it
                numbers.extend(r["seq"] for r in records[:landed])
                top = await self._highest_seq(doc_id)
                # Routine on FerretDB with several nodes (its $inc races): nothing is lost.
                log.info(
                    "document %s: log number %d is taken (the counter is behind the log, "
                    "at most %d); numbering %d records again",
                    doc_id,
                    records[landed]["seq"],
                    top,
                    len(records) - landed,
                )
                await self._documents.update_one({"_id": doc_id}, {"$max": {"seq": top}})
                continue
            numbers.extend(r["seq"] for r in records)
            return numbers
        raise StoreError(
            f"MongoDB: appending to document {doc_id}: no free log number after "
            f"{APPEND_ATTEMPTS} attempts"
        )

    async def _highest_seq(self, doc_id: str) -> int:
        row = await self._updates.find_one(
            {"doc_id": doc_id}, {"seq": 1}, sort=[("seq", DESCENDING)]
        )
        return int(row["seq"]) if row else 0

    async def load(self, doc_id: str) -> LoadedDocument:
        with _driver_errors(f"loading document {doc_id}"):
            for _ in range(LOAD_ATTEMPTS):
                try:
                    return await self._load_once(doc_id)
                except _Changed:
                    await asyncio.sleep(0.01)
        raise StoreError(f"MongoDB: document {doc_id} kept changing while it was loaded")

    async def _load_once(self, doc_id: str) -> LoadedDocument:
        snapshot: StoredUpdate | None = None
        row = await self._snapshots.find_one({"_id": doc_id})
        if row is not None:
            data = await self._get_blob(row)
            snapshot = StoredUpdate(seq=int(row["upto_seq"]), data=data, id=row["gen"])
        else:
            doc = await self._documents.find_one({"_id": doc_id})
            if doc is not None and doc.get("initial"):
                data = await self._get_blob(doc["initial"])
                snapshot = StoredUpdate(seq=0, data=data, id=INITIAL_STATE_ID)
        # Every record, whatever its number: one numbered at or below what a snapshot
        # folded may still hold content the snapshot lacks.
        updates = []
        cursor = self._updates.find({"doc_id": doc_id})
        async for record in cursor.sort([("seq", ASCENDING), ("_id", ASCENDING)]):
            data = await self._get_blob(record)
            updates.append(StoredUpdate(seq=int(record["seq"]), data=data, id=str(record["_id"])))
        # A compaction that ran meanwhile may have deleted records we had yet to read.
        check = await self._snapshots.find_one({"_id": doc_id})
        if (check or {}).get("gen") != (row or {}).get("gen"):
            raise _Changed(f"the snapshot of {doc_id} changed")
        return LoadedDocument(snapshot, updates)

    async def log_length(self, doc_id: str) -> int:
        with _driver_errors(f"counting the log of {doc_id}"):
            return await self._updates.count_documents({"doc_id": doc_id})

    # -- compaction ----------------------------------------------------------------------

    async def acquire_lease(
        self, doc_id: str, name: str = "compact", ttl: float | None = None
    ) -> str | None:
        """Take the ``name`` lease of a document for ``ttl`` seconds; returns a token to
        renew or release it with, or None while another holder's lease runs. Expiry is
        judged by each node's clock: keep ``ttl`` well above the clock skew."""
        token = f"{self.node}:{uuid.uuid4().hex}"
        now = utc_now()
        expires = now + timedelta(seconds=self.lease_ttl if ttl is None else ttl)
        with _driver_errors(f"taking the {name} lease of {doc_id}"):
            try:
                # Matches a missing or expired lease; a live one makes the upsert collide.
                await self._leases.update_one(
                    {"_id": f"{name}:{doc_id}", "expires": {"$lte": now}},
                    {
                        "$set": {
                            "doc_id": doc_id,
                            "name": name,
                            "owner": self.node,
                            "token": token,
                            "acquired": now,
                            "expires": expires,
                        }
                    },
                    upsert=True,
                )
            except DuplicateKeyError:
                return None
        return token

    async def renew_lease(
        self, doc_id: str, token: str, name: str = "compact", ttl: float | None = None
    ) -> bool:
        """Extend a lease still held with ``token``; False if it was lost (expired and
        taken by another node)."""
        expires = utc_now() + timedelta(seconds=self.lease_ttl if ttl is None else ttl)
        with _driver_errors(f"renewing the {name} lease of {doc_id}"):
            result = await self._leases.update_one(
                {"_id": f"{name}:{doc_id}", "token": token}, {"$set": {"expires": expires}}
            )
        return result.matched_count == 1

    async def release_lease(self, doc_id: str, token: str, name: str = "compact") -> bool:
        """Give a lease back; False if it was no longer ours."""
        with _driver_errors(f"releasing the {name} lease of {doc_id}"):
            result = await self._leases.delete_one({"_id": f"{name}:{doc_id}", "token": token})
        return result.deleted_count == 1

    async def lease_holder(self, doc_id: str, name: str = "compact") -> str | None:
        """The node holding a live lease, or None."""
        with _driver_errors(f"reading the {name} lease of {doc_id}"):
            row = await self._leases.find_one(
                {"_id": f"{name}:{doc_id}", "expires": {"$gt": utc_now()}}
            )
        return row["owner"] if row else None

    async def compact(self, doc_id: str, snapshot: bytes, folded: Sequence[StoredUpdate]) -> bool:
        token = await self.acquire_lease(doc_id)
        if token is None:
            # Another node is compacting this document; the log stays until next time.
            log.info("document %s: compaction skipped, another node holds the lease", doc_id)
            return False
        try:
            return await self._compact_holding(doc_id, snapshot, folded, token)
        finally:
            try:
                await self.release_lease(doc_id, token)
            except StoreError as exc:  # it expires on its own
                log.warning("document %s: could not release the compaction lease: %s", doc_id, exc)

    async def _compact_holding(
        self, doc_id: str, snapshot: bytes, folded: Sequence[StoredUpdate], token: str
    ) -> bool:
        content = SnapshotContent.of(snapshot)
        with _driver_errors(f"compacting document {doc_id}"):
            if await self._documents.count_documents({"_id": doc_id}) == 0:
                return False
            fields = await self._put_blob(doc_id, "snapshot", snapshot)
            ours = [fields["blob"]] if "blob" in fields else []
            if not await self.renew_lease(doc_id, token):
                await self._drop_blobs(ours)
                log.warning("document %s: compaction lease lost mid-way; not stored", doc_id)
                return False
            upto = await self._replace_snapshot(doc_id, content, fields, folded)
            if upto is None:
                await self._drop_blobs(ours)
                log.info("document %s: a newer snapshot is stored; nothing folded", doc_id)
                return False
            # Only now drop the folded records (exactly those): a crash before leaves
            # duplicates, never a gap.
            ids = [ObjectId(record.id) for record in folded]
            for start in range(0, len(ids), DELETE_SLICE):
                part = {"_id": {"$in": ids[start : start + DELETE_SLICE]}, "doc_id": doc_id}
                big = await self._updates.find(
                    part | {"blob": {"$exists": True}}, {"blob": 1}
                ).to_list()
                await self._updates.delete_many(part)
                await self._drop_blobs([r["blob"] for r in big])
            # A counter behind what it folded would number new records among old ones.
            await self._documents.update_one({"_id": doc_id}, {"$max": {"seq": upto}})
        return True

    async def _replace_snapshot(
        self,
        doc_id: str,
        content: SnapshotContent,
        fields: dict[str, Any],
        folded: Sequence[StoredUpdate],
    ) -> int | None:
        """Store the snapshot in place of the current one if it contains it (compare and
        swap on the current one's ``gen``, again while other nodes swap theirs); returns
        its ``upto_seq``, or None if the stored state holds something it lacks."""
        for _ in range(LOAD_ATTEMPTS):
            current = await self._snapshots.find_one({"_id": doc_id})
            doc = await self._documents.find_one({"_id": doc_id}, {"initial": 1})
            if doc is None:
                return None
            base = current if current is not None else doc.get("initial")
            try:
                if base is not None and not content.contains(await self._get_blob(base)):
                    return None
            except _Changed:
                continue  # replaced while we read it
            upto = max([int((current or {}).get("upto_seq", 0)), *(r.seq for r in folded)])
            row = {"_id": doc_id, "upto_seq": upto, "gen": uuid.uuid4().hex}
            row |= {"created": stored_iso(utc_now()), **fields}
            if current is not None:
                swapped = await self._snapshots.replace_one(
                    {"_id": doc_id, "gen": current["gen"]}, row
                )
                if swapped.matched_count == 0:
                    continue
                await self._drop_blobs([current["blob"]] if "blob" in current else [])
                return upto
            try:
                await self._snapshots.insert_one(row)
            except DuplicateKeyError:
                continue  # another node stored the first snapshot meanwhile
            if doc.get("initial"):
                await self._documents.update_one({"_id": doc_id}, {"$unset": {"initial": ""}})
                await self._drop_blobs([doc["initial"]["blob"]])
            return upto
        raise StoreError(f"MongoDB: the snapshot of {doc_id} kept changing while it was replaced")

    @staticmethod
    async def _delete_in_slices(collection: Any, query: dict[str, Any]) -> None:
        """``delete_many`` in slices of a few thousand: FerretDB's SQLite backend turns one
        big delete into one SQL statement with a variable per document and fails past
        SQLite's limit (seen folding a 260k-record log)."""
        while True:
            ids = [
                row["_id"] async for row in collection.find(query, {"_id": 1}).limit(DELETE_SLICE)
            ]
            if not ids:
                return
            await collection.delete_many({"_id": {"$in": ids}})

    async def quarantine(
        self, doc_id: str, record: StoredUpdate, reason: str, *, snapshot: bool = False
    ) -> None:
        with _driver_errors(f"quarantining a record of {doc_id}"):
            fields = await self._put_blob(doc_id, "quarantine", record.data)
            await self._quarantine.insert_one(
                {
                    "doc_id": doc_id,
                    "kind": "snapshot" if snapshot else "update",
                    "seq": record.seq,
                    "reason": reason,
                    "created": stored_iso(utc_now()),
                    **fields,
                }
            )
            if snapshot:
                row = await self._snapshots.find_one_and_delete({"_id": doc_id, "gen": record.id})
                if row is not None:
                    await self._drop_blobs([row["blob"]] if "blob" in row else [])
                elif record.id == INITIAL_STATE_ID:
                    doc = await self._documents.find_one_and_update(
                        {"_id": doc_id}, {"$unset": {"initial": ""}}
                    )
                    if doc is not None and doc.get("initial"):
                        await self._drop_blobs([doc["initial"]["blob"]])
            else:
                row = await self._updates.find_one_and_delete(
                    {"_id": ObjectId(record.id), "doc_id": doc_id}
                )
                if row is not None and "blob" in row:
                    await self._drop_blobs([row["blob"]])

    # -- versions ------------------------------------------------------------------------

    async def create_version(self, version: VersionRecord, state: bytes) -> None:
        with _driver_errors(f"creating version {version.id} of {version.doc_id}"):
            fields = await self._put_blob(version.doc_id, "version", state)
            try:
                await self._versions.insert_one(
                    {
                        "doc_id": version.doc_id,
                        "id": version.id,
                        "label": version.label,
                        "created": stored_iso(version.created),
                        "created_by": version.created_by,
                        "auto": version.auto,
                        "contributors": [
                            {"user": user, "stats": stats}
                            for user, stats in version.contributors.items()
                        ],
                        **fields,
                    }
                )
            except DuplicateKeyError:
                await self._drop_blobs([fields["blob"]] if "blob" in fields else [])
                raise

    async def list_versions(self, doc_id: str) -> list[VersionRecord]:
        with _driver_errors(f"listing the versions of {doc_id}"):
            cursor = self._versions.find({"doc_id": doc_id}, {"data": 0})
            rows = await cursor.sort([("created", DESCENDING), ("id", DESCENDING)]).to_list()
        return [_version(r) for r in rows]

    async def get_version(self, doc_id: str, version_id: str) -> tuple[VersionRecord, bytes] | None:
        with _driver_errors(f"reading version {version_id} of {doc_id}"):
            row = await self._versions.find_one({"doc_id": doc_id, "id": version_id})
            if row is None:
                return None
            try:
                state = await self._get_blob(row)
            except _Changed:
                return None  # deleted while we read it
        return _version(row), state

    async def delete_versions(self, doc_id: str, version_ids: list[str]) -> None:
        if not version_ids:
            return
        query = {"doc_id": doc_id, "id": {"$in": list(version_ids)}}
        with _driver_errors(f"deleting versions of {doc_id}"):
            big = await self._versions.find(
                query | {"blob": {"$exists": True}}, {"blob": 1}
            ).to_list()
            await self._versions.delete_many(query)
            await self._drop_blobs([r["blob"] for r in big])

    # -- the audit activity feed ---------------------------------------------------------
    # One record per event in ``activity``: _id is the event id (so a batch written twice
    # is kept once). Several nodes write here: the feed is ordered by timestamp, then by
    # each process's emission order.

    async def append_activity(self, events: list[dict[str, Any]]) -> None:
        rows = [
            {
                "_id": e["event_id"],  # a batch written twice collides here
                "doc_id": e["document_id"],
                "ts": _sortable_timestamp(e.get("timestamp", "")),
                "order": ObjectId(),  # this process's emission order, within a timestamp
                # JSON text, as in SQLite: event fields may be any JSON (FerretDB v1 stores
                # no nested arrays, MongoDB no "$" keys).
                "event": json.dumps(e),
            }
            for e in events
            if e.get("document_id") is not None
        ]
        if not rows:
            return
        with _driver_errors("writing activity events"):
            try:
                await self._activity.insert_many(rows, ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if not errors or any(err.get("code") != 11000 for err in errors):
                    raise

    async def list_activity(self, doc_id: str, limit: int) -> list[dict[str, Any]]:
        if limit <= 0:
            return []
        with _driver_errors(f"listing the activity of {doc_id}"):
            cursor = self._activity.find({"doc_id": doc_id}, {"event": 1})
            cursor = cursor.sort([("ts", DESCENDING), ("order", DESCENDING)]).limit(limit)
            rows = await cursor.to_list()
        return [json.loads(r["event"]) for r in rows]

    # -- comment threads (docs/comments.md): a write, then a check that what it hangs on
    # -- is still there (no transactions: a delete may have run in between) --------------

    async def create_comment_thread(self, thread: dict[str, Any], comment: dict[str, Any]) -> bool:
        doc_id = thread["doc_id"]
        threads, comments = self._coll("comment_threads"), self._coll("comments")
        with _driver_errors(f"adding a comment thread to {doc_id}"):
            if await self._documents.count_documents({"_id": doc_id}) == 0:
                return False
            # The comment first: a thread is listed only once it exists, whole.
            await comments.insert_one(_comment_row(comment))
            await threads.insert_one({"_id": thread["id"], **thread})
            if await self._documents.count_documents({"_id": doc_id}) == 0:
                await threads.delete_one({"_id": thread["id"]})
                await comments.delete_many({"thread_id": thread["id"]})
                return False
        return True

    async def add_comment(self, comment: dict[str, Any]) -> bool:
        threads, comments = self._coll("comment_threads"), self._coll("comments")
        where = {"_id": comment["thread_id"], "doc_id": comment["doc_id"]}
        with _driver_errors(f"adding a comment to {comment['doc_id']}"):
            if await threads.count_documents(where) == 0:
                return False
            await comments.insert_one(_comment_row(comment))
            if await threads.count_documents(where) == 0:
                await comments.delete_one({"_id": comment["id"]})
                return False
        return True

    async def update_comment_thread(
        self,
        doc_id: str,
        thread_id: str,
        fields: dict[str, Any],
        expect: dict[str, Any] | None = None,
    ) -> bool:
        where = {"_id": thread_id, "doc_id": doc_id}
        with _driver_errors(f"changing a comment thread of {doc_id}"):
            if expect:
                revision = await self._claim_thread(doc_id, thread_id, expect)
                if revision is None:
                    return False
                fields = {**fields, "_rev": revision + 1}  # in the same write as the change
            result = await self._coll("comment_threads").update_one(where, {"$set": fields})
        return result.matched_count > 0

    async def _claim_thread(
        self, doc_id: str, thread_id: str, expect: dict[str, Any]
    ) -> int | None:
        """The thread's revision, claimed by this caller, if it is in the state ``expect``
        names; None when it is not, or another caller claimed it first.

        A filtered update alone is not enough: FerretDB's updates are not atomic across
        connections, and two deciders both matched. The claim is an insert under a unique
        ``_id``, the thread and its revision (``_rev``, raised with each claimed change),
        which exactly one caller gets."""
        row = await self._coll("comment_threads").find_one({"_id": thread_id, "doc_id": doc_id})
        if row is None or any(value_at_path(row, key) != value for key, value in expect.items()):
            return None
        revision = int(row.get("_rev") or 0)
        claim = {"_id": f"{thread_id}:{revision}", "doc_id": doc_id, "thread_id": thread_id}
        try:
            await self._coll("comment_claims").insert_one(claim)
        except DuplicateKeyError:
            return None  # another caller changes it from this revision
        return revision

    async def update_comment(self, doc_id: str, comment_id: str, fields: dict[str, Any]) -> bool:
        with _driver_errors(f"changing a comment of {doc_id}"):
            result = await self._coll("comments").update_one(
                {"_id": comment_id, "doc_id": doc_id}, {"$set": fields}
            )
        return result.matched_count > 0

    async def delete_comment(self, doc_id: str, comment_id: str) -> bool:
        with _driver_errors(f"deleting a comment of {doc_id}"):
            result = await self._coll("comments").delete_one({"_id": comment_id, "doc_id": doc_id})
        return result.deleted_count > 0

    async def delete_comment_thread(self, doc_id: str, thread_id: str) -> bool:
        with _driver_errors(f"deleting a comment thread of {doc_id}"):
            result = await self._coll("comment_threads").delete_one(
                {"_id": thread_id, "doc_id": doc_id}
            )
            await self._coll("comments").delete_many({"thread_id": thread_id, "doc_id": doc_id})
            await self._coll("comment_claims").delete_many({"thread_id": thread_id})
        return result.deleted_count > 0

    async def list_comment_threads(self, doc_id: str) -> list[dict[str, Any]]:
        with _driver_errors(f"listing the comment threads of {doc_id}"):
            threads = await self._coll("comment_threads").find({"doc_id": doc_id}).to_list()
            comments = await self._coll("comments").find({"doc_id": doc_id}).to_list()
        # Sorted here: the same order on MongoDB and FerretDB, without an index per sort.
        threads.sort(key=lambda row: (row.get("created", ""), row["_id"]))
        comments.sort(key=lambda row: (row.get("created", ""), row["_id"]))
        by_id = {row["_id"]: {**_without_id(row), "comments": []} for row in threads}
        for row in comments:
            if row.get("thread_id") in by_id:
                by_id[row["thread_id"]]["comments"].append(_without_id(row))
        return list(by_id.values())

    # -- the inbox (comments/mentions.py): one collection, a document per notification ----

    async def add_notifications(self, notes: list[dict[str, Any]]) -> None:
        inbox = self._coll("inbox")
        with _driver_errors("adding notifications"):
            if notes:
                await inbox.insert_many([{"_id": note["id"], **note} for note in notes])
            for user in {note["user"] for note in notes}:
                extra = (
                    await inbox.find({"user": user}, {"_id": 1})
                    .sort([("created", DESCENDING), ("_id", DESCENDING)])
                    .skip(self.max_notifications_per_user)
                    .to_list()
                )
                if extra:
                    await inbox.delete_many({"_id": {"$in": [row["_id"] for row in extra]}})

    async def list_notifications(self, user: str, limit: int = 200) -> list[dict[str, Any]]:
        with _driver_errors(f"listing the inbox of {user}"):
            rows = (
                await self._coll("inbox")
                .find({"user": user})
                .sort([("created", DESCENDING), ("_id", DESCENDING)])
                .limit(limit)
                .to_list()
            )
        return [_without_id(row) for row in rows]

    async def mark_notifications_read(self, user: str, ids: list[str] | None) -> int:
        where: dict[str, Any] = {"user": user, "read": False}
        if ids is not None:
            where["_id"] = {"$in": list(ids)}
        with _driver_errors(f"marking the inbox of {user} read"):
            result = await self._coll("inbox").update_many(where, {"$set": {"read": True}})
        return int(result.modified_count)

    async def update_notifications(self, comment_id: str, fields: dict[str, Any]) -> None:
        with _driver_errors(f"changing the notifications of comment {comment_id}"):
            await self._coll("inbox").update_many({"comment_id": comment_id}, {"$set": fields})

    async def delete_notifications(self, comment_ids: list[str]) -> None:
        with _driver_errors("deleting notifications"):
            await self._coll("inbox").delete_many({"comment_id": {"$in": list(comment_ids)}})


def _comment_row(comment: dict[str, Any]) -> dict[str, Any]:
    return {"_id": comment["id"], **comment}


def _without_id(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "_id"}


def _sortable_timestamp(value: Any) -> str:
    """An event's timestamp as fixed-width UTC text, so that text order is time order
    (``isoformat`` drops ``.000000``, which would sort ``...:07Z`` after ``...:07.5Z``)."""
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")
