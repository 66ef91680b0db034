"""Where audit events go: a rotating JSON-lines file, or a Kafka topic (through a spool).

Sinks are named by URL (``CollabDocsApp.audit_sinks``):

``file:///abs/path/audit.jsonl``
    One JSON event per line, rotated by size (``?max_bytes=N&backups=K`` override the
    trail's ``file_max_bytes`` / ``file_backups``). A relative path is under data_dir.
``kafka://host:port[,host:port...]/topic``
    Produced with kafka-python (``acks="all"``, idempotent producer), keyed by document
    id, the value the event's JSON. Events are first appended to a spool on disk under
    ``<data_dir>/audit-spool/``, then delivered by a background thread; see
    :mod:`.spool`.

Every sink receives exactly the same line: the event as jupyter_events formats it.

:class:`Sink` is the family's interface and :data:`SINKS` its URL schemes;
``CollabDocsApp.audit_sink_classes`` maps a scheme to a plugged sink class (a new scheme,
or another class for a built-in one); see :mod:`jupyter_collab_docs.backends`.

A little over 500 lines: the interface, its URL schemes and the two built-in sinks are
kept together so that the one line every sink receives is defined in one place; the
Kafka sink's disk spool is its own module.
"""

from __future__ import annotations

import abc
import contextlib
import json
import logging
import logging.handlers
import queue
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from traitlets import Float, Int
from traitlets.config import LoggingConfigurable

from ..backends import Backend, ConfigurableABCMeta, Scheme, Schemes
from .spool import Cursor, Spool, SpoolLocked

log = logging.getLogger(__name__)

MiB = 1024 * 1024


@dataclass(frozen=True)
class SinkURL:
    """A parsed sink URL."""

    url: str
    scheme: str  # "file" or "kafka"
    path: Path | None = None  # file
    bootstrap: tuple[str, ...] = ()  # kafka
    topic: str = ""  # kafka
    options: dict[str, str] = field(default_factory=dict)


#: The one place that knows the audit sink schemes.
SINKS = Schemes(
    "audit_sinks",
    "audit_sink_classes",
    Scheme(
        ("file://",),
        "jupyter_collab_docs.audit.sinks:FileSink",
        "file:///var/log/collab-docs/audit.jsonl",
    ),
    Scheme(
        ("kafka://",),
        "jupyter_collab_docs.audit.sinks:KafkaSink",
        "kafka://kafka.example.org:9092/collab-docs-audit",
    ),
    many=True,
)


def url_scheme(url: str) -> str:
    """``kafka`` of ``kafka://host:9092/topic``: the key of ``audit_sink_classes``."""
    return url.split("://", 1)[0] if "://" in url else ""


def sink_from_url(
    url: str, trail: Any, *, node: str = "", plugged: dict[str, type[Sink]] | None = None
) -> Sink:
    """The sink a URL names for ``trail`` (an AuditTrail: data_dir and settings): the
    class plugged for its scheme, or the built-in one."""
    sink: Sink = SINKS.build(url, (plugged or {}).get(url_scheme(url)), node=node, parent=trail)
    return sink


_HOSTPORT = re.compile(r"^[A-Za-z0-9_.\-]+:[0-9]{1,5}$|^\[[0-9a-fA-F:]+\]:[0-9]{1,5}$")
_TOPIC = re.compile(r"^[A-Za-z0-9._\-]{1,249}$")


def parse_sink_url(url: str, data_dir: Path | str | None = None) -> SinkURL:
    """Parse and check one sink URL; ValueError says what is wrong."""
    base, _, query = url.partition("?")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    if base.startswith("file://"):
        raw = base[len("file://") :]
        if not raw:
            raise ValueError(f"audit sink {url!r}: file:// needs a path")
        path = Path(raw)
        if not path.is_absolute():
            path = Path(data_dir or ".", raw)
        for key in options:
            if key not in ("max_bytes", "backups"):
                raise ValueError(f"audit sink {url!r}: unknown option {key!r}")
            if not options[key].isdigit():
                raise ValueError(f"audit sink {url!r}: {key} must be a whole number")
        return SinkURL(url, "file", path=path.absolute(), options=options)
    if base.startswith("kafka://"):
        rest = base[len("kafka://") :]
        hosts, _, topic = rest.partition("/")
        servers = tuple(h.strip() for h in hosts.split(",") if h.strip())
        if not servers or not all(_HOSTPORT.match(h) for h in servers):
            raise ValueError(f"audit sink {url!r}: expected kafka://host:port[,host:port...]/topic")
        if not _TOPIC.match(topic):
            raise ValueError(
                f"audit sink {url!r}: the topic must be 1-249 characters of A-Z a-z 0-9 . _ -"
            )
        if options:
            raise ValueError(f"audit sink {url!r}: kafka sinks take no options")
        return SinkURL(url, "kafka", bootstrap=servers, topic=topic)
    raise SINKS.error(url)


class Sink(LoggingConfigurable, Backend, metaclass=ConfigurableABCMeta):
    """Receives every event line (on the event loop: must not block).

    Built by ``cls.from_url(url, node=node_id, parent=trail)``; a plugged sink's
    constructor takes ``url``, ``node`` and ``parent`` (the AuditTrail, whose
    ``data_dir`` and settings it may read) as keywords, or it overrides ``from_url``."""

    url: str

    def open(self) -> None:
        """Start (files, threads)."""

    @abc.abstractmethod
    def write(self, line: str, event: dict[str, Any]) -> None:
        """Take one event line (its JSON) and the event (a dict)."""

    def close(self, timeout: float) -> None:
        """Stop, delivering what can be delivered within ``timeout`` seconds."""


class FileSink(Sink):
    """Appends lines to a file that rotates by size (``audit.jsonl``, ``.1``, ``.2``...)."""

    @classmethod
    def from_url(cls, url: str, *, node: str, parent: Any = None) -> FileSink:
        parsed = parse_sink_url(url, getattr(parent, "data_dir", None))
        assert parsed.path is not None
        return cls(
            url,
            parsed.path,
            max_bytes=int(parsed.options.get("max_bytes", parent.file_max_bytes)),
            backups=int(parsed.options.get("backups", parent.file_backups)),
            parent=parent,
        )

    def __init__(self, url: str, path: Path, max_bytes: int, backups: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._handler: logging.handlers.RotatingFileHandler | None = None

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            self.path, maxBytes=self.max_bytes, backupCount=self.backups, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
        self._handler = handler

    def write(self, line: str, event: dict[str, Any]) -> None:
        handler = self._handler
        if handler is None:
            raise RuntimeError(f"audit sink {self.url} is not open")
        record = logging.LogRecord("audit", logging.INFO, "", 0, line, None, None)
        # RotatingFileHandler: rotates first if this line would pass max_bytes, writes,
        # flushes (so `audit tail --follow` sees it at once).
        handler.emit(record)

    def close(self, timeout: float) -> None:
        if self._handler is not None:
            self._handler.close()
            self._handler = None


_STOP = object()


class KafkaSink(Sink):
    """Events to a Kafka topic, keyed by document id, through an on-disk spool.

    ``write`` (event loop) only puts the line on an in-memory queue. A writer thread
    appends queued lines to the spool; a sender thread reads the spool in order,
    produces batches (``acks="all"``, idempotence on), flushes, and acknowledges them in
    the spool once Kafka has them all. If Kafka is down, the sender closes its producer,
    waits (backing off up to ``retry_max`` s) and tries again from the same spot, so
    events wait on disk, come out in order, and survive a restart. A batch that failed
    half-way is sent again whole: duplicates carry the same ``event_id``.
    """

    batch_size = Int(
        500, min=1, help="Most events produced to Kafka in one batch (one flush)."
    ).tag(config=True)

    retry_max = Float(
        5.0,
        min=0.0,
        help="""Longest wait (s) between two attempts to reach Kafka while it is down (the
        wait starts at 0.2 s and doubles).""",
    ).tag(config=True)

    linger_ms = Int(
        5,
        min=0,
        help="Milliseconds the producer waits to fill a request (kafka-python's linger_ms).",
    ).tag(config=True)

    @classmethod
    def from_url(cls, url: str, *, node: str, parent: Any = None) -> KafkaSink:
        data_dir = Path(getattr(parent, "data_dir", None) or ".")
        parsed = parse_sink_url(url, data_dir)
        name = "".join(c if c.isalnum() or c in "-." else "_" for c in parsed.topic)
        hosts = "_".join(h.replace(":", "-") for h in parsed.bootstrap)
        return cls(
            url,
            parsed.bootstrap,
            parsed.topic,
            data_dir / "audit-spool" / f"kafka-{hosts}-{name}",
            spool_max_bytes=parent.spool_max_bytes,
            timeout=parent.kafka_timeout,
            logger=parent.log,
            parent=parent,
        )

    def __init__(
        self,
        url: str,
        bootstrap: tuple[str, ...],
        topic: str,
        spool_dir: Path,
        *,
        spool_max_bytes: int = 256 * MiB,
        timeout: float = 10.0,
        logger: logging.Logger | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.log = logger or log  # type: ignore[assignment]
        self.url = url
        self.bootstrap = list(bootstrap)
        self.topic = topic
        self.spool_dir = spool_dir
        self.spool = Spool(spool_dir, max_bytes=spool_max_bytes)
        self.timeout = timeout
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._give_up = threading.Event()
        self._writer: threading.Thread | None = None
        self._sender: threading.Thread | None = None
        self._producer: Any = None
        self._failing_since: float | None = None
        self._pending_since: float | None = None
        self.delivered = 0  # events acknowledged by Kafka (tests, metrics)
        self.dropped = 0  # events refused by a full spool

    # -- life cycle ----------------------------------------------------------------------

    def open(self) -> None:
        import kafka  # noqa: F401  (fail at start, not at the first event, if missing)

        self.spool = self._take_spool()
        if not self.spool.empty():
            self.log.info(
                "audit: %d bytes of spooled events for %s will be replayed",
                self.spool.pending_bytes,
                self.url,
            )
        self._writer = threading.Thread(
            target=self._write_loop, name=f"audit-spool {self.topic}", daemon=True
        )
        self._sender = threading.Thread(
            target=self._send_loop, name=f"audit-kafka {self.topic}", daemon=True
        )
        self._writer.start()
        self._sender.start()

    def _take_spool(self) -> Spool:
        """Open the sink's spool. Several servers sharing one data_dir each need their
        own: a process takes the first spool no other process holds (the main one, then
        its siblings ``<name>.<suffix>``, left by a server that shared the data_dir and
        whose events are then replayed by this one), or makes a new sibling."""
        base = self.spool_dir
        siblings = sorted(base.parent.glob(base.name + ".*")) if base.parent.exists() else []
        for directory in [base, *siblings]:
            spool = Spool(directory, max_bytes=self.spool.max_bytes)
            try:
                spool.open()
            except SpoolLocked:
                continue
            if directory != base:
                self.log.warning(
                    "audit: %s is held by another server sharing this data_dir; using %s",
                    base,
                    directory,
                )
            return spool
        spool = Spool(
            base.with_name(f"{base.name}.{uuid.uuid4().hex[:8]}"), max_bytes=self.spool.max_bytes
        )
        spool.open()
        self.log.warning(
            "audit: %s is held by another server sharing this data_dir; using %s",
            base,
            spool.dir,
        )
        return spool

    def write(self, line: str, event: dict[str, Any]) -> None:
        self._queue.put(line.encode("utf-8"))

    def close(self, timeout: float) -> None:
        """Spool everything queued, deliver for up to ``timeout`` s, keep the rest."""
        self._queue.put(_STOP)
        if self._writer is not None:
            self._writer.join()
        deadline = time.monotonic() + timeout
        self._stopping.set()
        if self._sender is not None:
            self._sender.join(max(0.0, deadline - time.monotonic()))
            if self._sender.is_alive():
                self._give_up.set()
                self._sender.join()
        if not self.spool.empty():
            self.log.warning(
                "audit: %d bytes of events for %s stay spooled until the next start",
                self.spool.pending_bytes,
                self.url,
            )
        self.spool.close()

    # -- the writer thread: queue -> spool -----------------------------------------------

    def _write_loop(self) -> None:
        stop = False
        while not stop:
            lines = [self._queue.get()]
            with contextlib.suppress(queue.Empty):
                while len(lines) < 1000:
                    lines.append(self._queue.get_nowait())
            if _STOP in lines:
                stop = True
                lines = [x for x in lines if x is not _STOP]
            if not lines:
                continue
            try:
                refused = self.spool.append(lines)
            except OSError as exc:
                self.log.error("audit: cannot write the spool of %s: %s", self.url, exc)
                refused = lines
            if refused:
                self.dropped += len(refused)
                for line in refused:
                    # Not silent: the event itself goes to the server log.
                    self.log.error(
                        "audit: spool of %s full (%d bytes), event not kept: %s",
                        self.url,
                        self.spool.max_bytes,
                        line.decode("utf-8", "replace"),
                    )

    # -- the sender thread: spool -> Kafka -----------------------------------------------

    def _send_loop(self) -> None:
        backoff = 0.2
        batch: tuple[list[bytes], Cursor] | None = None
        futures: list[Any] | None = None
        try:
            while not self._give_up.is_set():
                if batch is None:
                    if self._stopping.is_set() and self.spool.empty():
                        break
                    lines, cursor = self.spool.read(self.batch_size, timeout=0.2)
                    if cursor is None:
                        continue
                    batch, futures = (lines, cursor), None
                if futures is None:
                    futures = self._produce(batch[0])
                    if futures is None:  # no connection: try again later
                        self._give_up.wait(backoff)
                        backoff = min(backoff * 2, self.retry_max)
                        continue
                state = self._wait(futures)
                if state == "ok":
                    self.spool.ack(batch[1])
                    self.delivered += len(batch[0])
                    batch, futures, backoff = None, None, 0.2
                    self._recovered()
                elif state == "failed":
                    # Given up by the producer (delivery timeout): a fresh producer sends
                    # the whole batch again; what did arrive comes twice, same event_id.
                    self._drop_producer(0.0)
                    futures = None
                    self._give_up.wait(backoff)
                    backoff = min(backoff * 2, self.retry_max)
                # "pending": the producer is still retrying; keep waiting for it
        finally:
            self._drop_producer(1.0 if batch is None else 0.0)

    def _connect(self) -> Any:
        from kafka import KafkaProducer

        timeout_ms = int(self.timeout * 1000)
        return KafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id="jupyter-collab-docs-audit",
            acks="all",
            enable_idempotence=True,
            max_in_flight_requests_per_connection=5,
            linger_ms=self.linger_ms,
            bootstrap_timeout_ms=timeout_ms,
            max_block_ms=timeout_ms,
            request_timeout_ms=timeout_ms,
            delivery_timeout_ms=3 * timeout_ms,
            reconnect_backoff_max_ms=1000,
        )

    @staticmethod
    def _key(line: bytes) -> bytes | None:
        try:
            doc = json.loads(line).get("document_id")
        except (ValueError, AttributeError):
            return None
        return doc.encode("utf-8") if isinstance(doc, str) else None

    def _produce(self, lines: list[bytes]) -> list[Any] | None:
        """Hand ``lines`` to the producer, in order; None if that failed (no broker
        reachable to connect or to learn the topic's partitions from)."""
        try:
            if self._producer is None:
                self._producer = self._connect()
            producer = self._producer
            return [producer.send(self.topic, key=self._key(x), value=x) for x in lines]
        except Exception as exc:  # KafkaTimeoutError, NoBrokersAvailable, OSError...
            # send() fails before buffering anything (it waits for the topic's metadata
            # first), so nothing of this batch is left in the producer.
            self._unavailable(exc)
            self._drop_producer(0.0)
            return None

    def _wait(self, futures: list[Any]) -> str:
        """The batch's state: "ok" when Kafka acknowledged every record, "failed" when
        the producer gave up on one, "pending" while it is still trying."""
        from kafka.errors import KafkaTimeoutError

        with contextlib.suppress(KafkaTimeoutError):  # not all acknowledged yet
            self._producer.flush(timeout=min(0.5, self.timeout))
        failed = next((f for f in futures if f.is_done and f.failed()), None)
        if failed is not None:
            self._unavailable(failed.exception)
            return "failed"
        if all(f.is_done for f in futures):
            return "ok"
        if self._pending_since is None:
            self._pending_since = time.monotonic()
        elif time.monotonic() - self._pending_since > self.timeout:
            self._unavailable("no acknowledgement")
        return "pending"

    def _unavailable(self, why: Any) -> None:
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            self.log.warning(
                "audit: Kafka %s unavailable (%s); events are spooled in %s",
                self.url,
                why,
                self.spool.dir,
            )
        else:
            self.log.debug("audit: Kafka %s still unavailable: %s", self.url, why)

    def _recovered(self) -> None:
        self._pending_since = None
        if self._failing_since is not None:
            self.log.warning(
                "audit: Kafka %s is back after %.0f s; spooled events delivered in order",
                self.url,
                time.monotonic() - self._failing_since,
            )
            self._failing_since = None

    def _drop_producer(self, timeout: float) -> None:
        producer, self._producer = self._producer, None
        self._pending_since = None
        if producer is None:
            return
        try:
            producer.close(timeout=timeout)
        except Exception:
            # kafka-python's close() flushes first and, on a timeout (records still
            # waiting for a broker that is down), raises before stopping its I/O thread.
            # Stop it ourselves: those records are still in the spool.
            with contextlib.suppress(Exception):
                producer._sender.force_close()
                producer._closed = True
