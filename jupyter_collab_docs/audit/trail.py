"""AuditTrail: what the services call to record an action.

``emit`` records one event now; ``edit`` counts one document update on the hot path and
the trail turns each user's burst of edits on a document into a single
``document.edited`` event.

Every event goes through Jupyter Server's ``event_logger`` (jupyter_events), which
validates it against the kind's registered schema (:mod:`.schemas`) and hands it to the
logging handler the trail registers there; that handler gives the same JSON line to every
configured sink (:mod:`.sinks`) and keeps events with a document id for the document
store's activity feed (``GET documents/{id}/activity``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import ValidationError
from jupyter_events import EventLogger
from traitlets import Float, Int
from traitlets.config import LoggingConfigurable

from ..identity import Actor
from ..timeutil import iso_time, utc_now
from .ratelimit import RefusalLimiter
from .schemas import KINDS, SCHEMA_BASE, InvalidAuditEvent, register_schemas, schema_id
from .sinks import Sink, sink_from_url

MiB = 1024 * 1024

#: Events after which a document's open edit bursts are closed first, so the trail reads
#: "alice edited, then made a version" rather than the other way round.
_CONTENT_BOUNDARIES = frozenset(
    {"version.created", "version.restored", "document.content_replaced", "document.deleted"}
)

#: Refusals: caused by the caller, so rate-limited per source (see ratelimit.py).
REFUSAL = "access.denied"


def _iso(ts: float) -> str:
    return iso_time(datetime.fromtimestamp(ts, timezone.utc))


#: How long the activity of a burst of events (many joins at once) is gathered before it
#: is written to the store in one transaction. Readers of the feed flush it first.
ACTIVITY_WRITE_DELAY = 0.2


def _clip(caps: dict[str, int], data: dict[str, Any]) -> None:
    """Cut strings longer than their schema's maxLength (marked with a final "…"), so an
    oversize value never makes an emission raise or a line grow without bound."""
    for key, cap in caps.items():
        value = data.get(key)
        if isinstance(value, str) and len(value) > cap:
            data[key] = value[: cap - 1] + "\u2026"


def _field_caps(schema: dict[str, Any]) -> dict[str, int]:
    """The maxLength of each capped string field of a schema, by field name."""
    return {
        name: int(prop["maxLength"])
        for name, prop in schema.get("properties", {}).items()
        if isinstance(prop, dict) and "maxLength" in prop
    }


class _CompiledValidator:
    """An event schema's check, compiled once (fastjsonschema: Python code generated from
    the schema, some 20 times faster than jsonschema walking it), so the events of every
    join and leave cost no schema walk. An event it refuses is checked again by the
    original jsonschema validator, which raises with its usual, detailed message (and
    alone decides: a refusal only the compiled check makes is not one)."""

    def __init__(self, schema: dict[str, Any], original: Any) -> None:
        self._check = fastjsonschema.compile(schema)
        self._original = original

    def validate(self, instance: Any) -> None:
        try:
            self._check(instance)
        except fastjsonschema.JsonSchemaException:
            self._original.validate(instance)

    def __getattr__(self, name: str) -> Any:  # anything else jupyter_events may ask
        return getattr(self._original, name)


def _compile_validators(event_logger: EventLogger) -> dict[str, dict[str, int]]:
    """Give each of our registered schemas a compiled validator; returns every schema's
    field caps. Read from the schemas the event logger already holds: no file is parsed
    after the trail is made."""
    caps: dict[str, dict[str, int]] = {}
    for kind in KINDS:
        sid = schema_id(kind)
        if sid not in event_logger.schemas:
            continue
        registered = event_logger.schemas.get(sid)
        schema = getattr(registered, "_schema", None)
        original = getattr(registered, "_validator", None)
        if not isinstance(schema, dict):
            continue
        caps[sid] = _field_caps(schema)
        if original is not None and not isinstance(original, _CompiledValidator):
            # jupyter_events keeps the validator in EventSchema._validator; without it
            # (another version) events are simply checked the slow way.
            registered._validator = _CompiledValidator(schema, original)
    return caps


class AuditHandler(logging.Handler):
    """The trail's handler on the event logger: one formatted line to every sink."""

    def __init__(self, trail: AuditTrail) -> None:
        super().__init__(logging.INFO)
        self.trail = trail

    def emit(self, record: logging.LogRecord) -> None:
        event = record.msg
        if not isinstance(event, dict) or not str(event.get("__schema__", "")).startswith(
            SCHEMA_BASE
        ):
            return  # another extension's event on the shared logger
        try:
            line = self.format(record)  # jupyter_events' JSON formatter
        except Exception:
            self.handleError(record)
            return
        self.trail._deliver(line, event)


class AuditTrail(LoggingConfigurable):
    """Records audit events: validated by jupyter_events, delivered to every sink.

    Configurable as ``c.AuditTrail.<trait>`` in the server's configuration.
    """

    edit_burst_idle = Float(
        10.0,
        help="""Seconds without edits by a user on a document after which their burst of
        edits is recorded as one document.edited event.""",
    ).tag(config=True)

    edit_burst_max = Float(
        600.0,
        help="""Longest burst (s): a user editing without pause gets one document.edited
        event at least this often.""",
    ).tag(config=True)

    file_max_bytes = Int(
        50 * MiB, help="file:// sinks rotate when the file would pass this size."
    ).tag(config=True)

    file_backups = Int(
        5, help="file:// sinks keep this many rotated files (audit.jsonl.1 ... .N)."
    ).tag(config=True)

    spool_max_bytes = Int(
        1024 * MiB,
        help="""Most bytes of events a kafka:// sink keeps on disk while Kafka is
        unreachable; past it new events are not kept (each one is logged as an error).""",
    ).tag(config=True)

    kafka_timeout = Float(
        10.0, help="Seconds a Kafka connection, send or flush may take before it is retried."
    ).tag(config=True)

    close_timeout = Float(
        5.0,
        help="""At shutdown, seconds left to deliver spooled events; the rest stays in the
        spool and is delivered after the next start.""",
    ).tag(config=True)

    activity_buffer = Int(
        10000,
        help="""Events kept in memory for the activity feed while the document store
        cannot take them (the oldest are dropped past it; the sinks still have them).""",
    ).tag(config=True)

    refusals_per_source = Int(
        20,
        help="""access.denied events recorded per source (a user, or the address of an
        unauthenticated caller) per refusal_interval; the others are counted, and the
        count is logged once per interval.""",
    ).tag(config=True)

    refusals_total = Int(
        200, help="access.denied events recorded per refusal_interval, all sources together."
    ).tag(config=True)

    refusal_interval = Float(
        60.0, help="Seconds of the refusal rate limit's window (and of its dropped-count log)."
    ).tag(config=True)

    def __init__(
        self,
        node: str,
        *,
        sinks: list[str] | tuple[str, ...] = (),
        store: Any = None,
        data_dir: Path | str | None = None,
        event_logger: EventLogger | None = None,
        sink_classes: dict[str, type[Sink]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.node = node
        self.store = store  # a DocumentStore with append_activity / list_activity
        self.data_dir = Path(data_dir) if data_dir is not None else Path.cwd()
        self.event_logger = event_logger if event_logger is not None else EventLogger()
        register_schemas(self.event_logger)
        self._caps = _compile_validators(self.event_logger)
        # sink_classes: CollabDocsApp.audit_sink_classes (a scheme -> a plugged class).
        self.sinks: list[Sink] = [
            sink_from_url(url, self, node=node, plugged=sink_classes) for url in sinks
        ]
        self._handler = AuditHandler(self)
        self.event_logger.register_handler(self._handler)
        # (document_id, user) -> [updates, bytes, first, last] (time.time())
        self._bursts: dict[tuple[str, str], list[Any]] = {}
        self._activity: list[dict[str, Any]] = []  # waiting for the store
        self._memory: deque[dict[str, Any]] = deque(maxlen=self.activity_buffer)
        self._activity_task: asyncio.Task[None] | None = None
        self._activity_lock: asyncio.Lock | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._early: list[tuple[str, dict[str, Any]]] | None = []  # events before start
        self._refusals = RefusalLimiter(
            self.refusals_per_source, self.refusals_total, self.refusal_interval
        )
        self._started = False
        self._closed = False

    # -- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        opened: list[Sink] = []
        try:
            for sink in self.sinks:
                sink.open()
                opened.append(sink)
        except Exception:
            for sink in opened:
                sink.close(0)
            raise
        early, self._early = self._early or [], None
        for line, event in early:
            self._deliver(line, event)
        self._sweeper = asyncio.create_task(self._sweep())

    async def close(self) -> None:
        if self._closed:
            return
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        self._end_bursts(lambda key, burst: True)  # open bursts end with the trail
        self._closed = True
        self.event_logger.remove_handler(self._handler)
        if self._activity_task is not None and not self._activity_task.done():
            self._activity_task.cancel()  # a store that is down: one last attempt below
            with contextlib.suppress(asyncio.CancelledError):
                await self._activity_task
        await self._flush_activity()
        loop = asyncio.get_running_loop()
        for sink in self.sinks:
            if self._started:
                await loop.run_in_executor(None, sink.close, self.close_timeout)

    # -- recording -----------------------------------------------------------------------

    def emit(
        self, kind: str, actor: Actor | str | None, document_id: str | None = None, **fields: Any
    ) -> None:
        """Record one event of ``kind`` (e.g. "document.created") by ``actor``.

        Raises :class:`InvalidAuditEvent` if the event does not match its schema (a
        string longer than its schema's maxLength is cut, not refused). An
        ``access.denied`` past the refusal rate limit of its source is counted and not
        recorded; its source is the user, or the ``source`` field (the caller's address)."""
        name = actor.username if isinstance(actor, Actor) else actor
        if kind == REFUSAL:
            source = f"user:{name}" if name is not None else f"addr:{fields.get('source')}"
            if not self._refusals.allow(source):
                return
        if document_id is not None:
            if kind in _CONTENT_BOUNDARIES:
                self._end_bursts(lambda key, burst: key[0] == document_id)
            elif kind == "session.left" and name is not None:
                self._end_burst((document_id, name))
        self._emit(kind, name, document_id, fields)

    def _emit(
        self, kind: str, actor: str | None, document_id: str | None, fields: dict[str, Any]
    ) -> None:
        sid = schema_id(kind)  # raises for an unknown kind
        now = utc_now()
        if now.microsecond == 0:  # isoformat() would drop the fraction: keep one format
            now = now.replace(microsecond=1)
        data: dict[str, Any] = {
            "event_id": str(uuid.uuid4()),
            "schema_id": sid,
            "kind": kind,
            # exactly jupyter_events' __timestamp__ (naive UTC isoformat + "Z")
            "timestamp": now.replace(tzinfo=None).isoformat() + "Z",
            "actor": actor,
        }
        if document_id is not None:
            data["document_id"] = document_id
        data["node"] = self.node
        for key in fields:
            if key in data:
                raise InvalidAuditEvent(f"{kind}: field {key!r} is reserved")
        data.update(fields)
        _clip(self._caps.get(sid, {}), data)
        try:
            if self._closed:
                # Nothing to deliver to any more; still check the event (a bug is a bug).
                self.event_logger.schemas.validate_event(sid, data)
                self.log.debug("audit: %s after the trail closed, not recorded", kind)
                return
            # jupyter_events validates, then calls every handler (ours: the sinks).
            # A naive UTC timestamp makes its __timestamp__ "....Z", equal to ours.
            self.event_logger.emit(
                schema_id=sid, data=data, timestamp_override=now.replace(tzinfo=None)
            )
        except ValidationError as exc:
            path = "/".join(str(p) for p in exc.absolute_path) or "(event)"
            raise InvalidAuditEvent(f"invalid {kind} event at {path}: {exc.message}") from exc

    def _deliver(self, line: str, event: dict[str, Any]) -> None:
        """Called by the handler, on the thread that emitted (the event loop)."""
        if self._early is not None:
            self._early.append((line, event))
            return
        for sink in self.sinks:
            try:
                sink.write(line, event)
            except Exception:
                self.log.exception("audit: sink %s failed; event: %s", sink.url, line)
        # An owner's feed shows what signed-in people did: an anonymous refusal (anyone
        # can cause one) stays in the sinks only.
        anonymous_refusal = event.get("kind") == REFUSAL and event.get("actor") is None
        if event.get("document_id") is not None and not anonymous_refusal:
            self._keep_activity(json.loads(line))

    # -- refusals ------------------------------------------------------------------------

    @property
    def refusals_dropped(self) -> int:
        """access.denied events not recorded (rate limit) since the trail was made."""
        return self._refusals.dropped_total

    def report_dropped_refusals(self, now: float | None = None) -> None:
        """Log how many refusals were not recorded since the last report (the sweeper
        calls this; at most once per refusal_interval unless ``now`` is None)."""
        report = self._refusals.take_report(now)
        if report is not None:
            dropped, sources = report
            self.log.warning(
                "audit: %d access.denied events not recorded (more than %d per %g s from "
                "one source, or %d from all; %d sources); %d since start",
                dropped,
                self.refusals_per_source,
                self.refusal_interval,
                self.refusals_total,
                sources,
                self._refusals.dropped_total,
            )

    # -- edit bursts ---------------------------------------------------------------------

    def edit(self, document_id: str, user: str, nbytes: int) -> None:
        """Count one update by ``user``: cheap, called for every edit."""
        now = time.time()
        burst = self._bursts.get((document_id, user))
        if burst is None:
            self._bursts[(document_id, user)] = [1, nbytes, now, now]
        else:
            burst[0] += 1
            burst[1] += nbytes
            burst[3] = now

    def _end_burst(self, key: tuple[str, str]) -> None:
        burst = self._bursts.pop(key, None)
        if burst is not None:
            self._emit_burst(key, burst)

    def _end_bursts(self, which: Any) -> None:
        ended = [(k, b) for k, b in self._bursts.items() if which(k, b)]
        for key, _ in ended:
            del self._bursts[key]
        for key, burst in ended:  # in the order the bursts began
            self._emit_burst(key, burst)

    def _emit_burst(self, key: tuple[str, str], burst: list[Any]) -> None:
        updates, nbytes, first, last = burst
        self._emit(
            "document.edited",
            key[1],
            key[0],
            {
                "updates": updates,
                "bytes": nbytes,
                "first_edit": _iso(first),
                "last_edit": _iso(last),
            },
        )

    def end_idle_bursts(self, now: float | None = None) -> None:
        """Record the bursts that are over: idle for edit_burst_idle s, or too long."""
        now = time.time() if now is None else now
        idle, longest = self.edit_burst_idle, self.edit_burst_max
        self._end_bursts(lambda key, b: now - b[3] >= idle or now - b[2] >= longest)

    async def _sweep(self) -> None:
        period = max(0.05, min(1.0, self.edit_burst_idle / 4, self.edit_burst_max / 4))
        while True:
            await asyncio.sleep(period)
            try:
                self.end_idle_bursts()
            except Exception:
                self.log.exception("audit: could not record edit bursts")
            self.report_dropped_refusals(time.monotonic())

    # -- the activity feed ---------------------------------------------------------------

    def _keep_activity(self, event: dict[str, Any]) -> None:
        if self.store is None:
            self._memory.append(event)
            return
        self._activity.append(event)
        if len(self._activity) > self.activity_buffer:
            del self._activity[: len(self._activity) - self.activity_buffer]
            self.log.warning("audit: activity feed behind; oldest events dropped from it")
        if self._activity_task is None or self._activity_task.done():
            with contextlib.suppress(RuntimeError):  # no running loop: next flush takes it
                self._activity_task = asyncio.get_running_loop().create_task(
                    self._flush_activity_soon()
                )

    async def _flush_activity_soon(self) -> None:
        """Gather a burst's activity for a moment, then write it in one go (one thread
        hop and one transaction for many joins, not one each)."""
        await asyncio.sleep(ACTIVITY_WRITE_DELAY)
        await self._flush_activity()

    async def _flush_activity(self, retry: bool = False) -> None:
        """Write the waiting events to the store; ``retry``: until it takes them (the
        background task), else one attempt (a failure is logged; they stay waiting)."""
        if self._activity_lock is None:
            self._activity_lock = asyncio.Lock()
        delay = 0.1
        async with self._activity_lock:
            while self._activity and self.store is not None:
                batch = self._activity[:1000]
                try:
                    await self.store.append_activity(batch)
                except Exception as exc:
                    if not retry or self._closed:
                        self.log.error(
                            "audit: %d activity events not stored yet: %s", len(batch), exc
                        )
                        return
                    self.log.warning("audit: activity not stored yet (%s); retrying", exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                del self._activity[: len(batch)]

    async def activity(self, document_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The newest events of one document, newest first."""
        if self.store is None:
            found = [e for e in reversed(self._memory) if e.get("document_id") == document_id]
            return found[:limit]
        await self._flush_activity()
        return list(await self.store.list_activity(document_id, limit))
