"""The trail on its own: schemas, validation, edit bursts, the file sink and its rotation,
the spool, and the emission points of the code base."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from jupyter_events import EventLogger

from jupyter_collab_docs.audit import KINDS, AuditTrail, InvalidAuditEvent, load_schema
from jupyter_collab_docs.audit.schemas import ENVELOPE, SCHEMA_DIR, all_schemas, schema_id
from jupyter_collab_docs.audit.spool import Spool
from jupyter_collab_docs.audit.tail import read_file
from jupyter_collab_docs.identity import Actor
from jupyter_collab_docs.testing import eventually

from .conftest import file_events

PACKAGE = Path(__file__).resolve().parents[2] / "jupyter_collab_docs"


def trail_in(tmp_path: Path, **config: Any) -> AuditTrail:
    """A trail writing to ``tmp_path/audit.jsonl``, with ``c.AuditTrail`` traits."""
    sink = f"file://{tmp_path}/audit.jsonl"
    return AuditTrail("node-1", sinks=[sink], data_dir=tmp_path, **config)


# -- schemas ---------------------------------------------------------------------------


def test_every_kind_has_a_versioned_schema_with_the_envelope() -> None:
    schemas = all_schemas()
    assert len(schemas) == len(KINDS)
    for kind in KINDS:
        sid = schema_id(kind)
        name = kind.replace(".", "-").replace("_", "-")
        assert sid == f"https://jupyter.org/collab-docs/events/{name}/v1"
        schema = load_schema(kind)
        assert schema["$id"] == sid and schema["version"] == "1"
        assert schema["additionalProperties"] is False
        assert set(ENVELOPE) <= set(schema["required"])
        assert schema["properties"]["kind"]["const"] == kind
        assert schema["properties"]["schema_id"]["const"] == sid
    # the envelope is word for word the same in every file
    envelopes = {
        json.dumps(
            {k: s["properties"][k] for k in ENVELOPE if k not in ("kind", "schema_id")},
            sort_keys=True,
        )
        for s in schemas.values()
    }
    assert len(envelopes) == 1
    # they load into jupyter_events (its metaschema accepts them)
    logger = EventLogger()
    for path in SCHEMA_DIR.glob("*/v*.yaml"):
        logger.register_event_schema(path)


def _emission_points() -> list[tuple[str, int, str, set[str]]]:
    """(file, line, kind, keyword fields) of every ``<...>audit.emit("kind", ...)``."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        if "audit" in path.relative_to(PACKAGE).parts[:1]:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "emit"
                and "audit" in ast.unparse(node.func.value)
            ):
                fields = {k.arg for k in node.keywords if k.arg}
                for kind in _kinds_of(node.args[0], tree):
                    found.append((path.name, node.lineno, kind, fields))
    return found


def _kinds_of(arg: ast.expr, tree: ast.Module) -> list[str]:
    """The kind(s) an emit's first argument can be: a string, or a variable assigned
    strings (``kind = "share.granted" if ... else "share.changed"``)."""
    if isinstance(arg, ast.Constant):
        return [arg.value]
    assert isinstance(arg, ast.Name), ast.unparse(arg)
    kinds = [
        c.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == arg.id for t in node.targets)
        for c in ast.walk(node.value)
        if isinstance(c, ast.Constant) and isinstance(c.value, str)
    ]
    assert kinds, f"cannot tell the kinds of {arg.id}"
    return kinds


def test_every_emission_point_matches_a_schema() -> None:
    points = _emission_points()
    assert len(points) >= 12
    for where, line, kind, fields in points:
        assert kind in KINDS, f"{where}:{line}: unknown kind {kind}"
        schema = load_schema(kind)
        own = set(schema["properties"]) - set(ENVELOPE)
        assert fields <= own, f"{where}:{line}: {kind} has no field(s) {fields - own}"
        required = set(schema["required"]) - set(ENVELOPE)
        assert required <= fields, f"{where}:{line}: {kind} misses {required - fields}"


async def test_invalid_events_raise(tmp_path: Path) -> None:
    trail = trail_in(tmp_path)
    await trail.start()
    try:
        with pytest.raises(InvalidAuditEvent, match="unknown audit event kind"):
            trail.emit("document.teleported", "alice", "d1")
        with pytest.raises(InvalidAuditEvent, match="name"):
            trail.emit("document.created", "alice", "d1", name=42, type="file")
        with pytest.raises(InvalidAuditEvent, match="Additional properties"):
            trail.emit("document.deleted", "alice", "d1", reason="typo")
        with pytest.raises(InvalidAuditEvent, match="'type' is a required property"):
            trail.emit("document.created", "alice", "d1", name="x")
        with pytest.raises(InvalidAuditEvent, match="document_id"):
            trail.emit("document.deleted", "alice")
        with pytest.raises(InvalidAuditEvent, match="reserved"):
            trail.emit("document.deleted", "alice", "d1", node="elsewhere")
        with pytest.raises(InvalidAuditEvent):
            trail.emit("share.granted", "alice", "d1", principal="user:bob", role="god")
    finally:
        await trail.close()
    assert file_events(tmp_path / "audit.jsonl") == []  # nothing invalid reached a sink
    with pytest.raises(InvalidAuditEvent):  # still checked after close
        trail.emit("document.deleted", "alice", "d1", reason="typo")


async def test_events_go_through_the_event_logger_and_sinks_get_its_json(tmp_path: Path) -> None:
    logger = EventLogger()
    seen: list[dict[str, Any]] = []

    async def listener(logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        seen.append(data)

    trail = AuditTrail(
        "node-1",
        sinks=[f"file://{tmp_path}/a.jsonl", "file://b.jsonl"],
        data_dir=tmp_path,
        event_logger=logger,
    )
    logger.add_listener(schema_id=schema_id("document.created"), listener=listener)
    await trail.start()
    alice = Actor.create("alice")
    trail.emit("document.created", alice, "d1", name="Report", type="notebook")
    trail.emit("access.denied", None, "d1", attempted="connect", reason="not authenticated")
    await trail.close()
    a = (tmp_path / "a.jsonl").read_text()
    assert a == (tmp_path / "b.jsonl").read_text()  # a relative path is under data_dir
    created, denied = file_events(tmp_path / "a.jsonl")
    assert created["kind"] == "document.created" and created["actor"] == "alice"
    assert created["name"] == "Report" and created["node"] == "node-1"
    assert created["__schema__"] == schema_id("document.created")
    assert denied["actor"] is None and denied["reason"] == "not authenticated"
    await eventually(lambda: len(seen) == 1)
    assert seen[0]["event_id"] == created["event_id"]


async def test_events_emitted_before_start_are_delivered_at_start(tmp_path: Path) -> None:
    trail = trail_in(tmp_path)
    trail.emit("document.deleted", "alice", "d1")
    assert not (tmp_path / "audit.jsonl").exists()
    await trail.start()
    await trail.close()
    assert [e["kind"] for e in file_events(tmp_path / "audit.jsonl")] == ["document.deleted"]


async def test_trail_without_store_keeps_activity_in_memory(tmp_path: Path) -> None:
    trail = AuditTrail("n", data_dir=tmp_path)
    await trail.start()
    for i in range(3):
        trail.emit("document.renamed", "alice", "d1", old_name=str(i), new_name=str(i + 1))
    trail.emit("document.deleted", "alice", "d2")
    feed = await trail.activity("d1", 2)
    assert [e["new_name"] for e in feed] == ["3", "2"]
    await trail.close()


# -- edit bursts -----------------------------------------------------------------------


async def test_edits_become_one_event_per_user_per_document_per_burst(tmp_path: Path) -> None:
    trail = trail_in(tmp_path, config=_config(edit_burst_idle=0.3))
    await trail.start()
    path = tmp_path / "audit.jsonl"
    try:
        for _ in range(100):
            trail.edit("d1", "alice", 10)
        for _ in range(40):
            trail.edit("d1", "bob", 3)
        trail.edit("d2", "alice", 7)
        await anyio.sleep(0.1)
        assert file_events(path) == []  # still typing
        await eventually(lambda: len(file_events(path)) == 3, what="three bursts")
        bursts = {(e["document_id"], e["actor"]): e for e in file_events(path)}
        assert bursts["d1", "alice"]["updates"] == 100 and bursts["d1", "alice"]["bytes"] == 1000
        assert bursts["d1", "bob"]["updates"] == 40 and bursts["d1", "bob"]["bytes"] == 120
        assert bursts["d2", "alice"]["updates"] == 1
        e = bursts["d1", "alice"]
        assert (
            e["kind"] == "document.edited" and e["first_edit"] <= e["last_edit"] <= e["timestamp"]
        )
        # a pause ends a burst: the next edit starts another one
        trail.edit("d1", "alice", 5)
        trail.edit("d1", "alice", 5)
        await eventually(lambda: len(file_events(path)) == 4, what="the next burst")
        assert file_events(path)[-1]["updates"] == 2
        # the trail closing ends the open bursts
        trail.edit("d3", "carol", 1)
    finally:
        await trail.close()
    assert [(e["document_id"], e["updates"]) for e in file_events(path)][-1] == ("d3", 1)


def _config(**traits: Any) -> Any:
    from traitlets.config import Config

    return Config({"AuditTrail": traits})


async def test_a_burst_is_cut_at_edit_burst_max(tmp_path: Path) -> None:
    trail = trail_in(tmp_path, config=_config(edit_burst_idle=5, edit_burst_max=0.4))
    await trail.start()
    path = tmp_path / "audit.jsonl"
    try:
        started = time.monotonic()
        while time.monotonic() - started < 0.7:
            trail.edit("d1", "alice", 1)
            await anyio.sleep(0.01)
        await eventually(lambda: len(file_events(path)) >= 1, what="a cut burst")
    finally:
        await trail.close()
    events = file_events(path)
    assert len(events) >= 2
    assert sum(e["updates"] for e in events) > 30


async def test_content_boundaries_and_leaving_close_bursts_first(tmp_path: Path) -> None:
    trail = trail_in(tmp_path, config=_config(edit_burst_idle=60))
    await trail.start()
    try:
        trail.edit("d1", "alice", 4)
        trail.edit("d1", "bob", 4)
        trail.edit("d2", "alice", 4)
        trail.emit("version.created", "alice", "d1", version_id="v1", label="x", auto=False)
        trail.edit("d2", "bob", 4)
        trail.emit("session.left", "bob", "d2")
        trail.emit("document.deleted", "alice", "d2")
    finally:
        await trail.close()
    got = [(e["kind"], e["actor"], e["document_id"]) for e in file_events(tmp_path / "audit.jsonl")]
    assert got == [
        ("document.edited", "alice", "d1"),
        ("document.edited", "bob", "d1"),
        ("version.created", "alice", "d1"),
        ("document.edited", "bob", "d2"),
        ("session.left", "bob", "d2"),
        ("document.edited", "alice", "d2"),
        ("document.deleted", "alice", "d2"),
    ]


def test_edit_is_cheap_and_emits_nothing(tmp_path: Path) -> None:
    trail = trail_in(tmp_path)
    users = [f"user{i}" for i in range(50)]
    started = time.perf_counter()
    for i in range(200_000):
        trail.edit("doc", users[i % 50], 20)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{elapsed:.2f} s for 200k edits"
    assert len(trail._bursts) == 50
    assert not (tmp_path / "audit.jsonl").exists()


# -- the file sink ---------------------------------------------------------------------


async def test_file_sink_rotates_and_tail_reads_across_rotations(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/audit.jsonl?max_bytes=4000&backups=3"
    trail = AuditTrail("n", sinks=[url], data_dir=tmp_path)
    await trail.start()
    for i in range(200):
        trail.emit("document.renamed", "alice", f"d{i % 3}", old_name=str(i), new_name=str(i + 1))
    await trail.close()
    files = sorted(p.name for p in tmp_path.glob("audit.jsonl*"))
    assert files == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2", "audit.jsonl.3"]
    for name in files:
        assert (tmp_path / name).stat().st_size <= 4000
    lines = list(read_file(tmp_path / "audit.jsonl"))
    numbers = [int(json.loads(x)["new_name"]) for x in lines]
    assert numbers == list(range(numbers[0], 201))  # the newest, in order, none missing
    assert len(numbers) > 30
    only_d1 = [json.loads(x) for x in read_file(tmp_path / "audit.jsonl", document="d1")]
    assert only_d1 and all(e["document_id"] == "d1" for e in only_d1)


def test_sink_urls_are_checked(tmp_path: Path) -> None:
    for bad in (
        "redis://x/y",
        "kafka://nohost/t",
        "kafka://h:1/",
        "kafka://h:1/a b",
        "file://",
        "file:///x?max_bytes=big",
        "file:///x?color=red",
    ):
        with pytest.raises(ValueError):
            AuditTrail("n", sinks=[bad], data_dir=tmp_path)


# -- the spool -------------------------------------------------------------------------


def test_spool_keeps_order_across_reopen_and_segments(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", max_bytes=10_000, segment_bytes=100)
    spool.open()
    lines = [f'{{"n": {i}}}'.encode() for i in range(50)]
    assert spool.append(lines[:30]) == []
    got, cursor = spool.read(7, timeout=0)
    assert got == lines[: len(got)] and cursor is not None
    spool.ack(cursor)
    delivered = len(got)
    got, _ = spool.read(5, timeout=0)  # read, not acknowledged: comes again
    spool.close()

    spool = Spool(tmp_path / "s", max_bytes=10_000, segment_bytes=100)
    spool.open()
    spool.append(lines[30:])
    out = []
    while True:
        got, cursor = spool.read(4, timeout=0)
        if cursor is None:
            break
        out.extend(got)
        spool.ack(cursor)
    assert out == lines[delivered:]
    assert spool.empty()
    assert len(list((tmp_path / "s").glob("*.jsonl"))) == 1  # delivered segments removed
    spool.close()


def test_spool_is_bounded_and_repairs_a_torn_line(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", max_bytes=100)
    spool.open()
    refused = spool.append([b"x" * 40, b"y" * 40, b"z" * 40])
    assert refused == [b"z" * 40]
    spool.close()
    with open(tmp_path / "s" / "000000000001.jsonl", "ab") as f:
        f.write(b'{"torn": ')  # a crash in the middle of a write
    spool = Spool(tmp_path / "s", max_bytes=100)
    spool.open()
    got, _ = spool.read(10, timeout=0)
    assert got == [b"x" * 40, b"y" * 40]
    spool.close()


def test_spool_is_used_by_one_process_at_a_time(tmp_path: Path) -> None:
    from jupyter_collab_docs.audit.spool import SpoolLocked

    first = Spool(tmp_path / "s")
    first.open()
    with pytest.raises(SpoolLocked):
        Spool(tmp_path / "s").open()
    first.close()
    again = Spool(tmp_path / "s")
    again.open()
    again.close()
