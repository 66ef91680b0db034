"""The audit trail stays off the hot path of joins and edits: no schema file is read after
the trail is made, an event's own schema is checked by a compiled validator (jsonschema
then runs only for jupyter_events' envelope), and a burst of session events reaches the
activity store in one write, not one per join."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import jsonschema.validators
import pytest

from jupyter_collab_docs.audit import schemas
from jupyter_collab_docs.audit.trail import AuditTrail
from jupyter_collab_docs.identity import Actor
from jupyter_collab_docs.testing import eventually

DOC = "d" * 32


class ActivityStore:
    """The activity part of a document store, counting its writes."""

    def __init__(self) -> None:
        self.writes = 0
        self.events: list[dict[str, Any]] = []

    async def append_activity(self, events: list[dict[str, Any]]) -> None:
        self.writes += 1
        self.events.extend(events)

    async def list_activity(self, doc_id: str, limit: int) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("document_id") == doc_id][-limit:]


async def test_no_schema_file_is_read_once_the_trail_exists(tmp_path: Path, monkeypatch) -> None:
    # As in a fresh process: nothing remembered from other tests' emissions.
    cached = getattr(schemas.field_caps, "cache_clear", None)
    if cached is not None:
        cached()
    trail = AuditTrail("n", data_dir=tmp_path)

    def no_yaml(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a schema file was parsed while emitting")

    monkeypatch.setattr(schemas.yaml, "safe_load", no_yaml)
    await trail.start()
    try:
        alice = Actor.create("alice")
        trail.emit("session.joined", alice, DOC, role="editor")
        trail.emit("session.left", alice, DOC)
        trail.emit("document.created", alice, DOC, name="x" * 5000, type="file")
        # Caps still apply (from the schemas parsed when the trail was made).
        created = [e for e in trail._memory if e["kind"] == "document.created"]
        assert created and len(created[0]["name"]) < 5000 and created[0]["name"].endswith("…")
    finally:
        await trail.close()


async def test_jsonschema_runs_only_for_the_envelope_of_a_hot_event(
    tmp_path: Path, monkeypatch
) -> None:
    trail = AuditTrail("n", data_dir=tmp_path)
    await trail.start()
    runs = 0
    for validator in set(jsonschema.validators._VALIDATORS.values()):
        original = validator.iter_errors

        def counting(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            nonlocal runs
            runs += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(validator, "iter_errors", counting)
    try:
        alice = Actor.create("alice")
        for _ in range(10):
            trail.emit("session.joined", alice, DOC, role="editor")
        # jupyter_events checks its envelope with jsonschema, once per event; our schema
        # was checked by the compiled validator.
        assert runs == 10
        with pytest.raises(schemas.InvalidAuditEvent, match="role"):
            trail.emit("session.joined", alice, DOC, role="god")
    finally:
        await trail.close()


async def test_a_burst_of_joins_reaches_the_activity_store_in_one_write(tmp_path: Path) -> None:
    store = ActivityStore()
    trail = AuditTrail("n", data_dir=tmp_path, store=store)
    await trail.start()
    try:
        for i in range(20):
            trail.emit("session.joined", Actor.create(f"user{i}"), DOC, role="viewer")
            for _ in range(3):  # each join in loop turns of its own
                await asyncio.sleep(0)
        await eventually(lambda: len(store.events) == 20, what="the joins' activity")
        assert store.writes == 1
        assert len(await trail.activity(DOC, limit=50)) == 20
    finally:
        await trail.close()
