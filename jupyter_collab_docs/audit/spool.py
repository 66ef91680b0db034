"""A bounded, ordered, on-disk queue of event lines: the Kafka sink's write-ahead spool.

Every event bound for Kafka is appended here first; the sender reads from the front,
delivers, then acknowledges, which moves the saved read position forward. So events wait
here while Kafka is down, are replayed in order when it returns, and survive a restart of
the server (the position is a small file written atomically). A crash between a delivery
and its acknowledgement replays that batch: duplicates, recognisable by their
``event_id``, never gaps.

Layout of the directory::

    lock                  held (flock) by the one process using the spool
    000000000001.jsonl    segments, one JSON event per line, appended in order
    000000000002.jsonl
    position.json         {"segment": 1, "offset": 1234}: everything before is delivered

Segments are deleted once fully delivered. ``max_bytes`` bounds what is waiting: past it
an append is refused (the caller logs what was dropped).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

MiB = 1024 * 1024


class SpoolLocked(RuntimeError):
    """Another process uses this spool directory."""


@dataclass(frozen=True)
class Cursor:
    """Where a read ended: acknowledging it marks everything before as delivered."""

    segment: int
    offset: int
    nbytes: int  # bytes of the batch, for the size accounting


class Spool:
    def __init__(
        self, directory: Path | str, max_bytes: int = 256 * MiB, segment_bytes: int = 4 * MiB
    ) -> None:
        self.dir = Path(directory)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self._cond = threading.Condition()
        self._sizes: dict[int, int] = {}  # segment -> bytes written (complete lines only)
        self._position = (1, 0)  # (segment, offset) of the first undelivered line
        self._pending = 0  # bytes after the position
        self._tail: IO[bytes] | None = None
        self._reader: tuple[int, IO[bytes]] | None = None
        self._lock_file: IO[bytes] | None = None
        self._closed = False

    # -- opening and closing -----------------------------------------------------------

    def open(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        lock = (self.dir / "lock").open("ab")
        if fcntl is not None:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                lock.close()
                raise SpoolLocked(
                    f"the audit spool {self.dir} is in use by another process "
                    "(two servers sharing one data_dir?)"
                ) from exc
        self._lock_file = lock
        for path in self.dir.glob("*.jsonl"):
            with contextlib.suppress(ValueError):
                self._sizes[int(path.stem)] = self._repair(path)
        try:
            saved = json.loads((self.dir / "position.json").read_text())
            position = (int(saved["segment"]), int(saved["offset"]))
        except (OSError, ValueError, KeyError, TypeError):
            position = (min(self._sizes, default=1), 0)
        # Segments before the position were delivered (a crash before their removal).
        for seg in [s for s in self._sizes if s < position[0]]:
            self._remove(seg)
        if position[0] not in self._sizes:
            later = [s for s in self._sizes if s > position[0]]
            position = (min(later), 0) if later else (position[0], 0)
        position = (position[0], min(position[1], self._sizes.get(position[0], 0)))
        self._position = position
        self._pending = sum(self._sizes.values()) - position[1]
        tail = max(self._sizes, default=position[0])
        self._open_tail(tail)

    def _repair(self, path: Path) -> int:
        """Cut a last line left half-written by a crash; the segment's size."""
        with path.open("rb+") as f:
            data = f.read()
            end = data.rfind(b"\n") + 1
            if end != len(data):
                f.truncate(end)
        return end

    def _open_tail(self, segment: int) -> None:
        if self._tail is not None:
            self._tail.close()
        self._tail = self._path(segment).open("ab")
        self._sizes.setdefault(segment, 0)

    def _path(self, segment: int) -> Path:
        return self.dir / f"{segment:012d}.jsonl"

    def _remove(self, segment: int) -> None:
        self._sizes.pop(segment, None)
        if self._reader is not None and self._reader[0] == segment:
            self._reader[1].close()
            self._reader = None
        with contextlib.suppress(FileNotFoundError):
            self._path(segment).unlink()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            if self._tail is not None:
                self._tail.close()
                self._tail = None
            if self._reader is not None:
                self._reader[1].close()
                self._reader = None
            if self._lock_file is not None:
                self._lock_file.close()  # releases the flock
                self._lock_file = None

    # -- the writer's side ---------------------------------------------------------------

    @property
    def pending_bytes(self) -> int:
        return self._pending

    def empty(self) -> bool:
        with self._cond:
            return self._pending == 0

    def append(self, lines: list[bytes]) -> list[bytes]:
        """Append event lines (without their newline) in order; returns those refused
        because the spool is full."""
        refused = []
        with self._cond:
            if self._tail is None:
                return list(lines)
            tail = max(self._sizes)
            for line in lines:
                record = line + b"\n"
                if self._pending + len(record) > self.max_bytes:
                    refused.append(line)
                    continue
                if self._sizes[tail] and self._sizes[tail] + len(record) > self.segment_bytes:
                    self._tail.flush()
                    tail += 1
                    self._open_tail(tail)
                self._tail.write(record)
                self._sizes[tail] += len(record)
                self._pending += len(record)
            self._tail.flush()  # in the OS: a crash of the process loses nothing
            self._cond.notify_all()
        return refused

    # -- the sender's side ---------------------------------------------------------------

    def read(self, max_events: int, timeout: float) -> tuple[list[bytes], Cursor | None]:
        """Up to ``max_events`` undelivered lines from the front, waiting up to ``timeout``
        for some; and the cursor to acknowledge once they are delivered."""
        with self._cond:
            if self._pending == 0 and not self._closed:
                self._cond.wait(timeout)
            if self._pending == 0 or self._tail is None:
                return [], None
            segment, offset = self._position
            while offset >= self._sizes.get(segment, 0):
                # This segment is fully delivered: continue with the next one.
                later = [s for s in self._sizes if s > segment]
                if not later:
                    return [], None
                segment, offset = min(later), 0
            end = self._sizes[segment]
            if self._reader is None or self._reader[0] != segment:
                if self._reader is not None:
                    self._reader[1].close()
                self._reader = (segment, self._path(segment).open("rb"))
            f = self._reader[1]
            f.seek(offset)
            data = f.read(min(end - offset, 4 * MiB))
        lines = data.split(b"\n")[:-1]  # the data ends at a line end (or mid-line if cut)
        if len(lines) > max_events:
            lines = lines[:max_events]
        nbytes = sum(len(line) + 1 for line in lines)
        if not lines:  # one line longer than the read size: read it whole
            with self._cond, self._path(segment).open("rb") as g:
                g.seek(offset)
                line = g.readline().rstrip(b"\n")
            lines, nbytes = [line], len(line) + 1
        return lines, Cursor(segment, offset + nbytes, nbytes)

    def ack(self, cursor: Cursor) -> None:
        """Mark everything before ``cursor`` delivered, durably."""
        with self._cond:
            segment, offset = cursor.segment, cursor.offset
            later = [s for s in self._sizes if s > segment]
            if offset >= self._sizes.get(segment, 0) and later:
                segment, offset = min(later), 0  # this segment is done: on to the next
            for done in [s for s in self._sizes if s < segment]:
                self._remove(done)
            self._position = (segment, offset)
            self._pending = max(0, self._pending - cursor.nbytes)
            if self._tail is None:
                return
            tmp = self.dir / "position.json.tmp"
            tmp.write_text(json.dumps({"segment": segment, "offset": offset}))
            os.replace(tmp, self.dir / "position.json")
