"""A room's persistence: loading, the writer, compaction, and repair.

* Load: the snapshot and the log, through the update guard, into a fresh ``Doc``; a
  record that does not apply is quarantined and the build starts over without it.
* The writer: a task that appends what the room applied to the store at this process's
  next write tick (every ``write_delay``, the same moment for every room, so the store
  commits them together), in batches, retrying a store that fails; a full backlog
  makes the room refuse edits (guard.py).
* Compaction: heal the doc from the store, then fold into a snapshot only the records
  it provably contains (:mod:`..stores.containment`). In a cluster, a room holding
  other nodes' updates also snapshots periodically and on close: a crashed node's
  unflushed updates then live only in the other nodes' memory.
* Repair: after an update yrs refused halfway, rebuild the doc from the store.

Compaction heals through the cluster exchange's diff (what the store holds that the doc
lacks is applied like another node's answer), so this part builds on that one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from typing import Any

from pycrdt import Doc

from ..doctypes import TrustWatch
from ..stores import LoadedDocument, PendingUpdate, StoredUpdate, StoreError
from ..stores.containment import SnapshotContent
from ..timeutil import utc_now
from ..update_guard import VerifiedUpdates
from .exchange import ClusterExchange
from .state import RoomLoadError
from .updates import clocks, is_fatal

log = logging.getLogger(__name__)

# This process's offset of the write ticks, as a fraction of the period: other processes
# writing to the same store (cluster nodes on one machine) tick at other moments.
_TICK_PHASE = random.random()


async def _until_next_tick(period: float) -> None:
    """Sleep until this process's next write tick, every ``period`` on the loop's clock
    (so at most ``period``).

    Every room that changed within the same ``period`` wakes in the same loop turn, so
    the store's group commit writes all their batches in one transaction: with many
    rooms, one executor hop and one commit per tick instead of one per room."""
    if period <= 0:
        await asyncio.sleep(0)
        return
    loop = asyncio.get_running_loop()
    phase = _TICK_PHASE * period
    when = ((loop.time() - phase) // period + 1) * period + phase
    future: asyncio.Future[None] = loop.create_future()
    handle = loop.call_at(when, _resolve, future)
    try:
        await future
    finally:
        handle.cancel()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class RoomPersistence(ClusterExchange):
    """The store's part of a room."""

    verified: VerifiedUpdates  # large stored records the guard passed (room.py)

    def _init_persistence(self) -> None:
        self._pending: list[PendingUpdate] = []
        self._pending_bytes = 0
        self._writes_wanted = asyncio.Event()
        self._drained = asyncio.Event()  # set while nothing waits to be written
        self._drained.set()
        self._durable_seq = 0
        self._log_length = 0
        self._write_failures = 0
        self._compact_lock = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None
        self._repair: asyncio.Task[None] | None = None
        self._damaged = False  # a refused update may have left part of itself in the doc
        self._repair_wanted = False
        self._captured: list[bytes] | None = None
        self._uncontained: dict[str, float] = {}  # log record id -> when first seen pending
        self._last_remote_snapshot = time.monotonic()  # see snapshot_remote_updates

    # -- loading and repair --------------------------------------------------------------

    async def load(self) -> None:
        """Build the doc from the store and start the writer."""
        self.doc, loaded = await self._build_doc()
        self._durable_seq = loaded.last_seq
        self._log_length = len(loaded.updates)
        self._writer = asyncio.create_task(self._write_loop(), name=f"room-writer-{self.doc_id}")

    async def _build_doc(self) -> tuple[Doc[Any], LoadedDocument]:
        """Snapshot + log applied into a fresh Doc. A record yrs refuses is quarantined
        and the build starts over without it: a failed apply can leave part of itself
        behind, and the doc must be exactly what the stored records rebuild.

        Every record passes the update guard first: one that yrs would crash on (deep
        nesting, stored before the guard existed) or that would bloat the process is
        quarantined the same way, so a poisoned document opens without it. A trust key
        that older records set on a cell is removed, and the removal stored."""
        limits = self.config.stored_limits
        while True:
            try:
                loaded = await self.store.load(self.doc_id)
            except StoreError as exc:
                raise RoomLoadError(str(exc)) from exc
            doc: Doc[Any] = Doc()
            records = ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates
            structs = 0
            watched = self.doc_type == "notebook" and any(b"trusted" in r.data for r in records)
            with contextlib.ExitStack() as stack:
                watch = stack.enter_context(TrustWatch(doc)) if watched else None
                for record in records:
                    try:
                        structs += self.verified.inspect(record.data, limits).structs
                        doc.apply_update(record.data)
                    except BaseException as exc:
                        if is_fatal(exc):
                            raise
                        await self._quarantine(record, exc, snapshot=record is loaded.snapshot)
                        break
                else:
                    stack.close()
                    removal = watch.strip() if watch is not None else None
                    if removal is not None:  # nobody holds this doc yet: store only
                        self._queue_write(removal, "server")
                    self._doc_structs = structs
                    return doc, loaded

    async def _quarantine(self, record: StoredUpdate, exc: BaseException, snapshot: bool) -> None:
        kind = "snapshot" if snapshot else "update"
        log.error(
            "document %s: %s seq %d does not decode (%r); quarantined",
            self.doc_id,
            kind,
            record.seq,
            exc,
        )
        try:
            await self.store.quarantine(self.doc_id, record, repr(exc), snapshot=snapshot)
        except StoreError as store_exc:
            raise RoomLoadError(str(store_exc)) from store_exc

    @property
    def repairing(self) -> bool:
        """True from a refused update until the doc has been rebuilt from the store."""
        return self._damaged

    def _schedule_repair(self) -> None:
        self._damaged = True
        self._repair_wanted = True
        if self._repair is None or self._repair.done():
            self._repair = asyncio.create_task(
                self._repair_doc(), name=f"room-repair-{self.doc_id}"
            )

    async def _repair_doc(self) -> None:
        """Rebuild the doc from what was stored and queued, after an update that yrs
        refused halfway. Nobody saw the half-applied part (it was neither broadcast nor
        stored), so clients, store and room agree again once the doc is swapped."""
        while self._repair_wanted and not self.closed:
            self._repair_wanted = False
            self._captured = []
            try:
                await self.flush()
                doc, loaded = await self._build_doc()
                for update in self._captured:  # applied while we were loading
                    doc.apply_update(update)
            except BaseException as exc:
                if is_fatal(exc):
                    raise
                log.error("document %s: repair failed (%r); retrying", self.doc_id, exc)
                self._repair_wanted = True
                await asyncio.sleep(1.0)
                continue
            finally:
                self._captured = None
            self.doc = doc
            self._durable_seq = max(self._durable_seq, loaded.last_seq)
            log.warning("document %s: rebuilt from the store after a refused update", self.doc_id)
        self._damaged = self._repair_wanted
        if not self._damaged:
            # Remote updates not yet stored by their nodes were dropped with the old doc.
            self.request_sync()

    async def _close_persistence(self, persist: bool) -> None:
        """The room closes: its last writes and snapshot (if ``persist``), then the
        writer stops."""
        if self._repair is not None:
            # The log is the truth; a damaged doc is simply not folded into a snapshot.
            self._repair.cancel()
            await asyncio.gather(self._repair, return_exceptions=True)
        try:
            if persist:
                await self.flush()
                if self._log_length > 0 or self._remote_dirty:
                    await self._compact_quietly()
        finally:
            # Also when the flush is cancelled (a shutdown past its bound): a writer left
            # running would retry a store that is down until the process dies.
            if self._writer is not None:
                self._writer.cancel()
                await asyncio.gather(self._writer, return_exceptions=True)

    # -- the writer ----------------------------------------------------------------------

    def _queue_write(self, update: bytes, author: str) -> None:
        now = utc_now()
        self._pending.append(PendingUpdate(update, author, self.config.node, now))
        self._pending_bytes += len(update)
        self._drained.clear()
        self._writes_wanted.set()

    @property
    def backlog_bytes(self) -> int:
        return self._pending_bytes

    @property
    def backlog_updates(self) -> int:
        return len(self._pending)

    async def _write_loop(self) -> None:
        while True:
            await self._writes_wanted.wait()
            self._writes_wanted.clear()
            try:
                await _until_next_tick(self.config.write_delay)
                await self._write_pending()
                if self._log_length >= self.config.compact_threshold:
                    await self._compact_quietly()
            except Exception:
                log.exception("document %s: writer failed; retrying", self.doc_id)
                self._writes_wanted.set()
                await asyncio.sleep(1.0)

    async def _write_pending(self) -> None:
        while self._pending:
            batch = self._pending[: self.config.write_batch_size]
            started = time.perf_counter()
            try:
                seq = await self.store.append(self.doc_id, batch)
            except StoreError as exc:
                # Keep the updates in memory and retry; the backlog bound refuses new
                # edits if the store stays away.
                self.stats.store_write_errors += 1
                self._write_failures += 1
                delay = min(5.0, 0.1 * 2 ** min(self._write_failures, 6))
                log.error(
                    "document %s: write failed (%s); retrying in %.1fs", self.doc_id, exc, delay
                )
                await asyncio.sleep(delay)
                continue
            self.stats.store_writes.observe(time.perf_counter() - started)
            self._write_failures = 0
            del self._pending[: len(batch)]
            self._pending_bytes -= sum(len(u.data) for u in batch)
            self._durable_seq = max(self._durable_seq, seq)
            self._log_length += len(batch)
        self._drained.set()

    async def flush(self) -> None:
        """Wait until every change made so far is durable in the store."""
        if self._writer is None or self._writer.done():
            await self._write_pending()
        else:
            await self._drained.wait()

    # -- compaction ----------------------------------------------------------------------

    async def compact(self) -> None:
        """Fold the log into a snapshot: the doc's full state, through a Doc, never by
        merging a long log (docs/architecture.md, "Batching and compaction").

        The log is shared: other nodes (or other servers on the same store) append to it,
        and a message of theirs may never have reached this doc. So the doc first takes
        in whatever the store holds that it lacks (which also heals it and its sockets),
        and the fold deletes only the records the snapshot provably contains, one by
        one (structs and deletions; never "everything up to a number": numbers may
        repeat or run backwards on some stores). A record it does not contain (one yrs
        keeps pending for a missing dependency, or one that landed after the load) stays.
        Pending local updates may already be in the snapshot: when they land in the log
        later they are duplicates, folded next time. A snapshot that does not rebuild the
        same state (yrs cannot always encode what odd updates left behind) is not stored;
        the log stays as it is."""
        async with self._compact_lock:
            if self._damaged:
                return  # never fold a half-applied update into the snapshot
            loaded = await self.store.load(self.doc_id)
            written_before = self._log_length
            if not self._heal_from(loaded) or self._damaged:
                return
            was_dirty, self._remote_dirty = self._remote_dirty, False
            snapshot = self.doc.get_update()
            check: Doc[Any] = Doc()
            check.apply_update(snapshot)
            if clocks(check.get_state()) != clocks(self.doc.get_state()):
                log.warning("document %s: snapshot does not round-trip; log kept", self.doc_id)
                self._remote_dirty = was_dirty
                return
            folded = await self._foldable(loaded, SnapshotContent.of_doc(check))
            stored = False
            try:
                if folded is not None:
                    stored = await self.store.compact(self.doc_id, snapshot, folded)
            finally:
                if not stored:
                    self._remote_dirty = self._remote_dirty or was_dirty
            if not stored or folded is None:
                return
            self.stats.compactions += 1
            self._last_remote_snapshot = time.monotonic()
            written_since = self._log_length - written_before
            self._log_length = len(loaded.updates) - len(folded) + written_since

    def _heal_from(self, loaded: LoadedDocument) -> bool:
        """Apply into the doc what the stored records hold that it lacks. False if the
        store's records cannot be read back (then nothing is folded)."""
        records = ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates
        if not records:
            return True
        # The usual case, the doc already holds every record (structs and deletions):
        # nothing to apply, and no second Doc built from the whole store (issue #16).
        try:
            held = SnapshotContent.of_doc(self.doc)
            if all(held.contains(record.data) for record in records):
                return True
        except BaseException as exc:
            if is_fatal(exc):
                raise
            # the doc's delete set does not parse: heal the long way below
        stored: Doc[Any] = Doc()
        try:
            for record in records:
                stored.apply_update(record.data)
            missing = stored.get_update(self.doc.get_state())
        except BaseException as exc:
            if is_fatal(exc):
                raise
            log.warning("document %s: stored records do not apply (%r); log kept", self.doc_id, exc)
            return False
        try:
            self._apply_remote_diff(missing)
        except BaseException as exc:
            if is_fatal(exc):
                raise
            log.warning("document %s: could not heal from the store (%r)", self.doc_id, exc)
            return False
        return True

    async def _foldable(
        self, loaded: LoadedDocument, content: SnapshotContent
    ) -> list[StoredUpdate] | None:
        """The loaded records a snapshot with ``content`` may fold: each one it contains,
        wherever it sits in the log; None if it does not even contain the stored snapshot.

        A record the doc cannot contain even after healing from the store is pending in
        yrs: it depends on an update that no record holds. In a cluster that update may
        still be on its way (or only in the memory of a node that snapshots it soon), so
        the record stays in the log for ``pending_grace`` seconds; after that (at once on
        a single node, where nothing else could bring it) it is quarantined: kept aside
        for inspection, out of the log, never silently deleted.
        """
        if loaded.snapshot is not None and not content.contains(loaded.snapshot.data):
            log.warning("document %s: the stored snapshot is not contained; log kept", self.doc_id)
            return None
        grace = self.config.pending_grace if self.clustered else 0.0
        now = time.monotonic()
        waiting: dict[str, float] = {}
        folded: list[StoredUpdate] = []
        for record in loaded.updates:
            if content.contains(record.data):
                folded.append(record)
                continue
            first_seen = self._uncontained.get(record.id, now)
            if now - first_seen < grace:
                waiting[record.id] = first_seen
                log.info(
                    "document %s: record %d waits for a missing dependency; kept in the log",
                    self.doc_id,
                    record.seq,
                )
                continue
            log.error(
                "document %s: update seq %d depends on updates nobody stored; quarantined",
                self.doc_id,
                record.seq,
            )
            await self.store.quarantine(
                self.doc_id, record, "pending: its dependencies were never stored"
            )
        self._uncontained = waiting
        return folded

    async def snapshot_remote_updates(self, every: float) -> None:
        """Compact if the doc holds updates of other nodes that no snapshot of ours holds
        and the last such snapshot is ``every`` seconds old: until their node stores
        them, a crash of it leaves them only in the memory of nodes like this one."""
        now = time.monotonic()
        if not self._remote_dirty or now - self._last_remote_snapshot < every:
            return
        self._last_remote_snapshot = now
        await self._compact_quietly()

    @property
    def writer_stopped(self) -> bool:
        """Whether the writer task was started and has ended (the room closed)."""
        return self._writer is not None and self._writer.done()

    async def _compact_quietly(self) -> None:
        try:
            await self.compact()
        except StoreError as exc:
            log.error("document %s: compaction failed: %s", self.doc_id, exc)
