"""Reading audit events back from a sink, for ``jupyter collab-docs audit tail``.

Both readers yield the event lines (JSON text) in the order the sink holds them, oldest
first, optionally only those of one document, and with ``follow`` keep waiting for new
ones until interrupted.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .sinks import SinkURL


def _matches(line: str | bytes, document: str | None) -> bool:
    if document is None:
        return True
    try:
        return bool(json.loads(line).get("document_id") == document)
    except (ValueError, AttributeError):
        return False


def _complete_lines(f: IO[bytes], partial: bytes) -> tuple[list[bytes], bytes]:
    data = partial + f.read()
    *lines, rest = data.split(b"\n")
    return lines, rest


def read_file(
    path: Path,
    document: str | None = None,
    follow: bool = False,
    poll: float = 0.25,
    backups: int = 100,
) -> Iterator[str]:
    """Lines of a file sink: its rotated files (oldest first), then the live file; with
    ``follow``, then every line appended, across rotations."""
    rotated = [Path(f"{path}.{n}") for n in range(backups, 0, -1)]
    for old in rotated:
        try:
            with old.open("rb") as f:
                lines, _ = _complete_lines(f, b"")
        except FileNotFoundError:
            continue
        for line in lines:
            if line and _matches(line, document):
                yield line.decode("utf-8")
    current: IO[bytes] | None = None
    partial = b""
    try:
        while True:
            if current is None:
                try:
                    current = path.open("rb")
                except FileNotFoundError:
                    if not follow:
                        return
                    time.sleep(poll)
                    continue
            lines, partial = _complete_lines(current, partial)
            for line in lines:
                if line and _matches(line, document):
                    yield line.decode("utf-8")
            if not follow:
                return
            if _rotated(path, current):
                # Read what was written before the rotation, then go on with the new file.
                lines, partial = _complete_lines(current, partial)
                for line in lines:
                    if line and _matches(line, document):
                        yield line.decode("utf-8")
                current.close()
                current, partial = None, b""
                continue
            time.sleep(poll)
    finally:
        if current is not None:
            current.close()


def _rotated(path: Path, f: IO[bytes]) -> bool:
    try:
        return os.stat(path).st_ino != os.fstat(f.fileno()).st_ino
    except FileNotFoundError:
        return True


def read_kafka(
    sink: SinkURL,
    document: str | None = None,
    follow: bool = False,
    timeout: float = 10.0,
) -> Iterator[str]:
    """Values of a Kafka sink's topic, every partition from its start (per-document order:
    a document's events are in one partition); without ``follow``, up to the end the
    topic had when reading began. Duplicates (a replayed spool) are shown once."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        bootstrap_servers=list(sink.bootstrap),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="jupyter-collab-docs-audit-tail",
        request_timeout_ms=int(timeout * 1000) + 5000,
    )
    try:
        partitions = _partitions(consumer, sink.topic, timeout)
        if not partitions:
            if not follow:
                return
            while not partitions:  # the topic appears with its first event
                time.sleep(1.0)
                partitions = _partitions(consumer, sink.topic, timeout)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end: dict[Any, int] = consumer.end_offsets(partitions)
        seen: set[str] = set()
        while True:
            if not follow and all(consumer.position(p) >= end[p] for p in partitions):
                return
            batches = consumer.poll(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    line = record.value.decode("utf-8")
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    if document is not None and event.get("document_id") != document:
                        continue
                    event_id = event.get("event_id")
                    if event_id in seen:
                        continue
                    if event_id:
                        seen.add(event_id)
                    yield line
    finally:
        consumer.close()


def _partitions(consumer: Any, topic: str, timeout: float) -> list[Any]:
    from kafka import TopicPartition

    deadline = time.monotonic() + timeout
    while True:
        ids = consumer.partitions_for_topic(topic)
        if ids or time.monotonic() > deadline:
            return [TopicPartition(topic, p) for p in sorted(ids or ())]
        time.sleep(0.2)
