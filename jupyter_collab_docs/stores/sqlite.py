"""The embedded document store: one SQLite file, written from one worker thread.

SQLite is synchronous, so every call runs on a single-thread executor that owns the
connection; the event loop only awaits futures. WAL mode lets readers proceed while a
batch is written, and ``compact`` is one transaction, so a crash leaves either the old
snapshot and log or the new snapshot without the folded records: never a gap.

Several processes may share the file (cluster nodes on one machine, JupyterHub servers):
every write transaction starts with ``BEGIN IMMEDIATE``, so it waits for the others
(``busy_timeout``) instead of failing at once with "database is locked" when a read
transaction cannot be upgraded. Log records are numbered by ``AUTOINCREMENT`` across all
documents; a record's number is its id.

About 800 lines on purpose, like the MongoDB store: every method is one transaction on
the worker thread's connection, and the write-order rules they share (BEGIN IMMEDIATE,
compaction in one transaction, the trash's fixed-width times) are easier to check side by
side than across modules.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from traitlets import Float
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

T = TypeVar("T")

SNAPSHOT_ID = "snapshot"  # one per document

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    owner TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_owner ON documents (owner);
CREATE TABLE IF NOT EXISTS updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    data BLOB NOT NULL,
    user TEXT NOT NULL,
    node TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS updates_doc_seq ON updates (doc_id, seq);
CREATE TABLE IF NOT EXISTS snapshots (
    doc_id TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    upto_seq INTEGER NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    label TEXT NOT NULL,
    created TEXT NOT NULL,
    created_by TEXT NOT NULL,
    auto INTEGER NOT NULL,
    contributors TEXT NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (doc_id, id)
);
CREATE INDEX IF NOT EXISTS versions_doc_created ON versions (doc_id, created);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    reason TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS activity (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS activity_doc_seq ON activity (doc_id, seq);
CREATE TABLE IF NOT EXISTS trash (
    doc_id TEXT PRIMARY KEY,
    trashed TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trash_trashed ON trash (trashed);
CREATE TABLE IF NOT EXISTS comment_threads (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS comment_threads_doc ON comment_threads (doc_id, seq);
CREATE TABLE IF NOT EXISTS comments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_doc ON comments (doc_id, seq);
CREATE INDEX IF NOT EXISTS comments_thread ON comments (thread_id);
CREATE TABLE IF NOT EXISTS inbox (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    created TEXT NOT NULL,
    read INTEGER NOT NULL,
    comment_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_user_created ON inbox (user, created);
CREATE INDEX IF NOT EXISTS inbox_comment ON inbox (comment_id);
"""

#: The columns of a DocumentRecord: ``documents`` as ``d``, left-joined with ``trash``
#: as ``t`` (a table of its own, so files made before the trash need no migration).
RECORD_COLUMNS = "d.id, d.name, d.type, d.owner, d.created, d.modified, t.trashed"
RECORD_FROM = "documents d LEFT JOIN trash t ON t.doc_id = d.id"


def _record(row: tuple) -> DocumentRecord:
    return DocumentRecord(
        id=row[0],
        name=row[1],
        type=row[2],
        owner=row[3],
        created=from_stored_iso(row[4]),
        modified=from_stored_iso(row[5]),
        trashed=from_stored_iso(row[6]) if len(row) > 6 and row[6] else None,
    )


def path_from_url(url: str) -> Path:
    """``sqlite:///abs/path.db`` -> ``/abs/path.db`` (SQLAlchemy's spelling)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(f"not a sqlite URL: {url!r} (expected sqlite:///path/to/file.db)")
    return Path(url[len(prefix) :])


class SQLiteDocumentStore(DocumentStore, LoggingConfigurable, metaclass=ConfigurableABCMeta):
    """:class:`DocumentStore` on one SQLite file (``c.SQLiteDocumentStore.<trait>``)."""

    busy_timeout = Float(
        10.0,
        min=0.0,
        help="""Seconds a statement waits for a lock another process holds (the documents
        CLI, another server on the same file) before failing with "database is
        locked".""",
    ).tag(config=True)

    @classmethod
    def from_url(cls, url: str, *, node: str, parent: Any = None) -> SQLiteDocumentStore:
        return cls(path_from_url(url), parent=parent)

    def __init__(self, path: Path | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # busy_timeout, parent, config
        self.path = Path(path)
        self._executor: ThreadPoolExecutor | None = None
        self._db: sqlite3.Connection | None = None
        self._appends: list[tuple[str, list[PendingUpdate], asyncio.Future[int]]] = []
        self._appender: asyncio.Task[None] | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._executor is None or self._db is None:
            raise StoreError("the document store is not started")
        db = self._db
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, db)
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite error on {self.path}: {exc}") from exc

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="collab-docs-sqlite")

        def open_db() -> sqlite3.Connection:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            db.executescript(SCHEMA)
            return db

        self._db = await asyncio.get_running_loop().run_in_executor(self._executor, open_db)

    async def close(self) -> None:
        if self._executor is None:
            return
        if self._appender is not None:
            await asyncio.gather(self._appender, return_exceptions=True)
        if self._db is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._db.close)
        self._executor.shutdown(wait=True)
        self._executor = None
        self._db = None

    async def create(self, record: DocumentRecord, initial_state: bytes | None) -> None:
        def work(db: sqlite3.Connection) -> None:
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        record.id,
                        record.name,
                        record.type,
                        record.owner,
                        stored_iso(record.created),
                        stored_iso(record.modified),
                    ),
                )
                if initial_state is not None:
                    db.execute(
                        "INSERT INTO snapshots VALUES (?, ?, 0, ?)",
                        (record.id, initial_state, stored_iso(record.created)),
                    )

        await self._run(work)

    async def get(self, doc_id: str) -> DocumentRecord | None:
        def work(db: sqlite3.Connection) -> DocumentRecord | None:
            row = db.execute(
                f"SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE d.id = ?", (doc_id,)
            ).fetchone()
            return _record(row) if row else None

        return await self._run(work)

    async def list_documents(self, owner: str | None = None) -> list[DocumentRecord]:
        def work(db: sqlite3.Connection) -> list[DocumentRecord]:
            sql = "SELECT id, name, type, owner, created, modified FROM documents"
            sql += " WHERE id NOT IN (SELECT doc_id FROM trash)"
            args: tuple = ()
            if owner is not None:
                sql += " AND owner = ?"
                args = (owner,)
            rows = db.execute(sql + " ORDER BY modified DESC, id", args).fetchall()
            return [_record(r) for r in rows]

        return await self._run(work)

    async def update_metadata(
        self, doc_id: str, *, name: str | None = None, modified: datetime | None = None
    ) -> None:
        def work(db: sqlite3.Connection) -> None:
            with db:
                if name is not None:
                    db.execute("UPDATE documents SET name = ? WHERE id = ?", (name, doc_id))
                if modified is not None:
                    db.execute(
                        "UPDATE documents SET modified = ? WHERE id = ?",
                        (stored_iso(modified), doc_id),
                    )

        await self._run(work)

    async def delete(self, doc_id: str) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            with db:
                db.execute("BEGIN IMMEDIATE")
                return self._delete_everything(db, doc_id)

        return await self._run(work)

    @staticmethod
    def _delete_everything(db: sqlite3.Connection, doc_id: str) -> bool:
        cur = db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        db.execute("DELETE FROM updates WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM snapshots WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM versions WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM trash WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM comments WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM comment_threads WHERE doc_id = ?", (doc_id,))
        return cur.rowcount > 0

    # -- the trash -----------------------------------------------------------------------

    async def trash(self, doc_id: str, at: datetime) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            with db:
                db.execute("BEGIN IMMEDIATE")
                cur = db.execute(
                    "INSERT OR IGNORE INTO trash SELECT id, ? FROM documents WHERE id = ?",
                    (trash_time(at), doc_id),
                )
                return cur.rowcount > 0

        return await self._run(work)

    async def restore(self, doc_id: str) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            with db:
                return db.execute("DELETE FROM trash WHERE doc_id = ?", (doc_id,)).rowcount > 0

        return await self._run(work)

    async def list_trash(
        self, owner: str | None = None, trashed_before: datetime | None = None
    ) -> list[DocumentRecord]:
        def work(db: sqlite3.Connection) -> list[DocumentRecord]:
            sql = f"SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE t.trashed IS NOT NULL"
            args: list[Any] = []
            if owner is not None:
                sql += " AND d.owner = ?"
                args.append(owner)
            if trashed_before is not None:
                sql += " AND t.trashed <= ?"
                args.append(trash_time(trashed_before))
            rows = db.execute(sql + " ORDER BY t.trashed DESC, d.id", args).fetchall()
            return [_record(r) for r in rows]

        return await self._run(work)

    async def purge(self, doc_id: str, trashed_before: datetime) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            with db:
                db.execute("BEGIN IMMEDIATE")  # another process's restore or purge waits
                row = db.execute(
                    "SELECT 1 FROM trash WHERE doc_id = ? AND trashed <= ?",
                    (doc_id, trash_time(trashed_before)),
                ).fetchone()
                return row is not None and self._delete_everything(db, doc_id)

        return await self._run(work)

    async def append(self, doc_id: str, updates: list[PendingUpdate]) -> int:
        # Group commit: the appends of every room that arrive while a transaction runs
        # are written together in the next one (one thread hop, one fsync).
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._appends.append((doc_id, updates, future))
        if self._appender is None or self._appender.done():
            self._appender = asyncio.create_task(self._write_appends())
        return await future

    async def _write_appends(self) -> None:
        while self._appends:
            batch, self._appends = self._appends, []
            try:
                seqs = await self._run(partial(self._append_batch, batch=batch))
            except Exception as exc:
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, _, future), seq in zip(batch, seqs, strict=True):
                if not future.done():
                    future.set_result(seq)

    @staticmethod
    def _append_batch(
        db: sqlite3.Connection, *, batch: list[tuple[str, list[PendingUpdate], Any]]
    ) -> list[int]:
        seqs = []
        with db:
            db.execute("BEGIN IMMEDIATE")
            for doc_id, updates, _ in batch:
                exists = db.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone()
                if exists is None or not updates:
                    seqs.append(0)  # deleted meanwhile: its late updates go nowhere
                    continue
                db.executemany(
                    "INSERT INTO updates (doc_id, data, user, node, created) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(doc_id, u.data, u.user, u.node, stored_iso(u.created)) for u in updates],
                )
                seqs.append(int(db.execute("SELECT last_insert_rowid()").fetchone()[0]))
                db.execute(
                    "UPDATE documents SET modified = ? WHERE id = ?",
                    (stored_iso(updates[-1].created), doc_id),
                )
        return seqs

    async def load(self, doc_id: str) -> LoadedDocument:
        def work(db: sqlite3.Connection) -> LoadedDocument:
            # One read transaction: the snapshot and the log are seen at the same moment.
            with db:
                db.execute("BEGIN")
                row = db.execute(
                    "SELECT data, upto_seq FROM snapshots WHERE doc_id = ?", (doc_id,)
                ).fetchone()
                rows = db.execute(
                    "SELECT seq, data FROM updates WHERE doc_id = ? ORDER BY seq", (doc_id,)
                ).fetchall()
            snapshot = StoredUpdate(seq=row[1], data=row[0], id=SNAPSHOT_ID) if row else None
            return LoadedDocument(snapshot, [StoredUpdate(s, d, str(s)) for s, d in rows])

        return await self._run(work)

    async def compact(self, doc_id: str, snapshot: bytes, folded: Sequence[StoredUpdate]) -> bool:
        seqs = [int(record.id) for record in folded]

        def work(db: sqlite3.Connection) -> bool:
            content = SnapshotContent.of(snapshot)  # decoded before the write lock is taken
            with db:
                db.execute("BEGIN IMMEDIATE")
                if db.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is None:
                    return False
                row = db.execute(
                    "SELECT data, upto_seq FROM snapshots WHERE doc_id = ?", (doc_id,)
                ).fetchone()
                if row is not None and not content.contains(row[0]):
                    return False  # another writer stored a state this one lacks
                upto = max([row[1] if row else 0, *seqs])
                db.execute(
                    "INSERT INTO snapshots VALUES (?, ?, ?, ?) ON CONFLICT(doc_id) DO UPDATE "
                    "SET data = excluded.data, upto_seq = excluded.upto_seq, "
                    "created = excluded.created",
                    (doc_id, snapshot, upto, stored_iso(utc_now())),
                )
                db.executemany(
                    "DELETE FROM updates WHERE doc_id = ? AND seq = ?", [(doc_id, s) for s in seqs]
                )
            return True

        return await self._run(work)

    async def quarantine(
        self, doc_id: str, record: StoredUpdate, reason: str, *, snapshot: bool = False
    ) -> None:
        def work(db: sqlite3.Connection) -> None:
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "INSERT INTO quarantine (doc_id, kind, seq, data, reason, created) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        doc_id,
                        "snapshot" if snapshot else "update",
                        record.seq,
                        record.data,
                        reason,
                        stored_iso(utc_now()),
                    ),
                )
                if snapshot:
                    db.execute("DELETE FROM snapshots WHERE doc_id = ?", (doc_id,))
                else:
                    db.execute(
                        "DELETE FROM updates WHERE doc_id = ? AND seq = ?", (doc_id, int(record.id))
                    )

        await self._run(work)

    async def log_length(self, doc_id: str) -> int:
        def work(db: sqlite3.Connection) -> int:
            row = db.execute("SELECT COUNT(*) FROM updates WHERE doc_id = ?", (doc_id,)).fetchone()
            return int(row[0])

        return await self._run(work)

    # -- versions ------------------------------------------------------------------------

    @staticmethod
    def _version(row: tuple) -> VersionRecord:
        return VersionRecord(
            id=row[0],
            doc_id=row[1],
            label=row[2],
            created=from_stored_iso(row[3]),
            created_by=row[4],
            auto=bool(row[5]),
            contributors=json.loads(row[6]),
        )

    async def create_version(self, version: VersionRecord, state: bytes) -> None:
        def work(db: sqlite3.Connection) -> None:
            with db:
                db.execute(
                    "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        version.id,
                        version.doc_id,
                        version.label,
                        stored_iso(version.created),
                        version.created_by,
                        int(version.auto),
                        json.dumps(version.contributors),
                        state,
                    ),
                )

        await self._run(work)

    async def list_versions(self, doc_id: str) -> list[VersionRecord]:
        def work(db: sqlite3.Connection) -> list[VersionRecord]:
            rows = db.execute(
                "SELECT id, doc_id, label, created, created_by, auto, contributors FROM versions "
                "WHERE doc_id = ? ORDER BY created DESC, id DESC",
                (doc_id,),
            ).fetchall()
            return [self._version(r) for r in rows]

        return await self._run(work)

    async def get_version(self, doc_id: str, version_id: str) -> tuple[VersionRecord, bytes] | None:
        def work(db: sqlite3.Connection) -> tuple[VersionRecord, bytes] | None:
            row = db.execute(
                "SELECT id, doc_id, label, created, created_by, auto, contributors, state "
                "FROM versions "
                "WHERE doc_id = ? AND id = ?",
                (doc_id, version_id),
            ).fetchone()
            return (self._version(row), row[7]) if row else None

        return await self._run(work)

    async def delete_versions(self, doc_id: str, version_ids: list[str]) -> None:
        def work(db: sqlite3.Connection) -> None:
            with db:
                db.executemany(
                    "DELETE FROM versions WHERE doc_id = ? AND id = ?",
                    [(doc_id, v) for v in version_ids],
                )

        await self._run(work)

    # -- the audit activity feed ---------------------------------------------------------

    async def append_activity(self, events: list[dict[str, Any]]) -> None:
        rows = [
            (e["event_id"], e["document_id"], e.get("timestamp", ""), json.dumps(e))
            for e in events
            if e.get("document_id") is not None
        ]

        def work(db: sqlite3.Connection) -> None:
            with db:
                db.executemany(
                    "INSERT OR IGNORE INTO activity (event_id, doc_id, timestamp, event) "
                    "VALUES (?, ?, ?, ?)",
                    rows,
                )

        if rows:
            await self._run(work)

    async def list_activity(self, doc_id: str, limit: int) -> list[dict[str, Any]]:
        def work(db: sqlite3.Connection) -> list[dict[str, Any]]:
            # One node writes a SQLite store: insertion order is emission order.
            rows = db.execute(
                "SELECT event FROM activity WHERE doc_id = ? ORDER BY seq DESC LIMIT ?",
                (doc_id, limit),
            ).fetchall()
            return [json.loads(r[0]) for r in rows]

        return await self._run(work)

    # -- comment threads (docs/comments.md) -----------------------------------------------

    async def create_comment_thread(self, thread: dict[str, Any], comment: dict[str, Any]) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            with db:
                db.execute("BEGIN IMMEDIATE")
                cur = db.execute(
                    "INSERT INTO comment_threads (id, doc_id, data) "
                    "SELECT ?, id, ? FROM documents WHERE id = ?",
                    (thread["id"], json.dumps(thread), thread["doc_id"]),
                )
                if cur.rowcount == 0:
                    return False  # the document is gone: nothing written
                _insert_comment(db, comment)
                return True

        return await self._run(work)

    async def add_comment(self, comment: dict[str, Any]) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            with db:
                db.execute("BEGIN IMMEDIATE")
                found = db.execute(
                    "SELECT 1 FROM comment_threads WHERE id = ? AND doc_id = ?",
                    (comment["thread_id"], comment["doc_id"]),
                ).fetchone()
                if found is None:
                    return False
                _insert_comment(db, comment)
                return True

        return await self._run(work)

    async def update_comment_thread(
        self,
        doc_id: str,
        thread_id: str,
        fields: dict[str, Any],
        expect: dict[str, Any] | None = None,
    ) -> bool:
        return await self._update_comment_row("comment_threads", doc_id, thread_id, fields, expect)

    async def update_comment(self, doc_id: str, comment_id: str, fields: dict[str, Any]) -> bool:
        return await self._update_comment_row("comments", doc_id, comment_id, fields)

    async def _update_comment_row(
        self,
        table: str,
        doc_id: str,
        row_id: str,
        fields: dict[str, Any],
        expect: dict[str, Any] | None = None,
    ) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            with db:
                db.execute("BEGIN IMMEDIATE")
                row = db.execute(
                    f"SELECT data FROM {table} WHERE id = ? AND doc_id = ?", (row_id, doc_id)
                ).fetchone()
                if row is None:
                    return False
                stored = json.loads(row[0])
                if expect and any(value_at_path(stored, k) != v for k, v in expect.items()):
                    return False  # decided meanwhile (a compare-and-set)
                data = {**stored, **fields}
                db.execute(f"UPDATE {table} SET data = ? WHERE id = ?", (json.dumps(data), row_id))
                return True

        return await self._run(work)

    async def delete_comment(self, doc_id: str, comment_id: str) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            with db:
                cur = db.execute(
                    "DELETE FROM comments WHERE id = ? AND doc_id = ?", (comment_id, doc_id)
                )
                return cur.rowcount > 0

        return await self._run(work)

    async def delete_comment_thread(self, doc_id: str, thread_id: str) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            with db:
                db.execute("BEGIN IMMEDIATE")
                cur = db.execute(
                    "DELETE FROM comment_threads WHERE id = ? AND doc_id = ?", (thread_id, doc_id)
                )
                db.execute(
                    "DELETE FROM comments WHERE thread_id = ? AND doc_id = ?", (thread_id, doc_id)
                )
                return cur.rowcount > 0

        return await self._run(work)

    async def list_comment_threads(self, doc_id: str) -> list[dict[str, Any]]:
        def work(db: sqlite3.Connection) -> list[dict[str, Any]]:
            threads = [
                {**json.loads(r[0]), "comments": []}
                for r in db.execute(
                    "SELECT data FROM comment_threads WHERE doc_id = ? ORDER BY seq", (doc_id,)
                )
            ]
            by_id = {t["id"]: t for t in threads}
            for (data,) in db.execute(
                "SELECT data FROM comments WHERE doc_id = ? ORDER BY seq", (doc_id,)
            ):
                comment = json.loads(data)
                if comment["thread_id"] in by_id:
                    by_id[comment["thread_id"]]["comments"].append(comment)
            return threads

        return await self._run(work)

    # -- the inbox (comments/mentions.py) --------------------------------------------------

    async def add_notifications(self, notes: list[dict[str, Any]]) -> None:
        keep = self.max_notifications_per_user

        def work(db: sqlite3.Connection) -> None:
            with db:
                db.executemany(
                    "INSERT INTO inbox (id, user, created, read, comment_id, data) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            n["id"],
                            n["user"],
                            n["created"],
                            int(n["read"]),
                            n["comment_id"],
                            json.dumps(n),
                        )
                        for n in notes
                    ],
                )
                for user in {n["user"] for n in notes}:
                    db.execute(
                        "DELETE FROM inbox WHERE user = ? AND id NOT IN (SELECT id FROM inbox "
                        "WHERE user = ? ORDER BY created DESC, id DESC LIMIT ?)",
                        (user, user, keep),
                    )

        await self._run(work)

    async def list_notifications(self, user: str, limit: int = 200) -> list[dict[str, Any]]:
        def work(db: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = db.execute(
                "SELECT data, read FROM inbox WHERE user = ? ORDER BY created DESC, id DESC "
                "LIMIT ?",
                (user, limit),
            )
            return [{**json.loads(data), "read": bool(read)} for data, read in rows]

        return await self._run(work)

    async def mark_notifications_read(self, user: str, ids: list[str] | None) -> int:
        def work(db: sqlite3.Connection) -> int:
            with db:
                if ids is None:
                    cur = db.execute(
                        "UPDATE inbox SET read = 1 WHERE user = ? AND read = 0", (user,)
                    )
                else:
                    cur = db.executemany(
                        "UPDATE inbox SET read = 1 WHERE user = ? AND id = ? AND read = 0",
                        [(user, i) for i in ids],
                    )
                return cur.rowcount

        return await self._run(work)

    async def update_notifications(self, comment_id: str, fields: dict[str, Any]) -> None:
        def work(db: sqlite3.Connection) -> None:
            with db:
                db.execute("BEGIN IMMEDIATE")
                rows = db.execute(
                    "SELECT id, data FROM inbox WHERE comment_id = ?", (comment_id,)
                ).fetchall()
                for note_id, data in rows:
                    note = {**json.loads(data), **fields}
                    db.execute(
                        "UPDATE inbox SET data = ? WHERE id = ?", (json.dumps(note), note_id)
                    )

        await self._run(work)

    async def delete_notifications(self, comment_ids: list[str]) -> None:
        def work(db: sqlite3.Connection) -> None:
            with db:
                db.executemany(
                    "DELETE FROM inbox WHERE comment_id = ?", [(c,) for c in comment_ids]
                )

        await self._run(work)


def _insert_comment(db: sqlite3.Connection, comment: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO comments (id, doc_id, thread_id, data) VALUES (?, ?, ?, ?)",
        (comment["id"], comment["doc_id"], comment["thread_id"], json.dumps(comment)),
    )
