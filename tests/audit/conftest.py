"""Fixtures of the audit tests: the in-process server's AuditTrail settings, a Kafka topic
of one's own, and helpers to read and check events."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from jupyter_collab_docs.audit.schemas import ENVELOPE, all_schemas

SCHEMAS = all_schemas()
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def audit_config() -> dict[str, Any]:
    """``c.AuditTrail`` traits of the in-process server (override per module)."""
    return {}


@pytest.fixture
def jp_server_config(
    tmp_path: Path, collab_config: dict[str, Any], audit_config: dict[str, Any]
) -> dict[str, Any]:
    from jupyter_collab_docs.identity import CollabDocsIdentityProvider
    from jupyter_collab_docs.testing import EXTENSION

    return {
        "ServerApp": {
            "jpserver_extensions": {EXTENSION: True},
            "identity_provider_class": CollabDocsIdentityProvider,
        },
        "CollabDocsApp": {"data_dir": str(tmp_path / "collab"), **collab_config},
        "AuditTrail": audit_config,
    }


@pytest.fixture
def topic() -> str:
    return f"audit-{uuid.uuid4().hex[:10]}"


def check_event(event: dict[str, Any]) -> dict[str, Any]:
    """Assert that ``event`` (as a sink received it) matches its schema; returns it."""
    sid = event["__schema__"]
    assert sid in SCHEMAS, f"unknown schema {sid}"
    data = {k: v for k, v in event.items() if not k.startswith("__")}
    errors = sorted(Draft7Validator(SCHEMAS[sid]).iter_errors(data), key=str)
    assert not errors, f"{event} does not match {sid}: {[e.message for e in errors]}"
    assert event["schema_id"] == sid
    assert event["__schema_version__"] == SCHEMAS[sid]["version"]
    assert event["__timestamp__"] == event["timestamp"]
    assert UUID.match(event["event_id"])
    for name in ENVELOPE:
        assert name in event, f"{name} missing from {event}"
    return event


def parse_lines(lines: list[str] | list[bytes]) -> list[dict[str, Any]]:
    return [check_event(json.loads(line)) for line in lines if line]


def file_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return parse_lines(path.read_text().splitlines())


def consume(
    bootstrap: str, topic: str, until: Any, timeout: float = 60.0
) -> list[tuple[bytes | None, bytes]]:
    """(key, value) of every record of ``topic`` from its start, in partition order, until
    ``until(records)`` is true (fails after ``timeout`` s)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,  # see the topic soon after its first event creates it
    )
    records: list[tuple[bytes | None, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while not until(records):
            if time.monotonic() > deadline:
                kinds = [json.loads(v)["kind"] for _, v in records]
                raise AssertionError(f"timed out on topic {topic}; got {kinds}")
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend((r.key, r.value) for r in batch)
    finally:
        consumer.close()
    return records
