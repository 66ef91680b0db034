"""The audit trail on a real Kafka broker (the session's ``kafka_server``): the events of
a real editing session in order on the topic, the spool replayed after an outage and
after a restart of the server, and ``audit tail`` on a topic."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from jupyter_collab_docs.audit.sinks import KafkaSink
from jupyter_collab_docs.testing import eventually, yclient

from .conftest import check_event, consume, file_events


@pytest.fixture
def collab_config(kafka_server: Any, topic: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "audit_sinks": [
            f"kafka://{kafka_server.bootstrap}/{topic}",
            f"file://{tmp_path}/audit.jsonl",
        ],
        "auto_version_idle": 3600.0,
    }


@pytest.fixture
def audit_config() -> dict[str, Any]:
    return {"edit_burst_idle": 60.0}  # bursts end at boundaries only: a fixed sequence


async def settled(collab: Any, quiet: float = 0.3) -> None:
    """Wait until the server applied every update in flight (the counts of the open
    edit bursts stay the same for ``quiet`` seconds)."""
    last, since = None, time.monotonic()
    while time.monotonic() - since < quiet:
        now = {k: b[0] for k, b in collab.audit._bursts.items()}
        if now != last:
            last, since = now, time.monotonic()
        await anyio.sleep(0.05)


def ordered(records: list[tuple[bytes | None, bytes]], doc_id: str) -> list[dict[str, Any]]:
    """The document's events, first occurrence of each event id, in topic order."""
    seen, events = set(), []
    for key, value in records:
        event = check_event(json.loads(value))
        if event.get("document_id") != doc_id or event["event_id"] in seen:
            continue
        assert key == doc_id.encode(), "events are keyed by document id"
        seen.add(event["event_id"])
        events.append(event)
    return events


async def test_an_editing_session_gives_the_expected_events_in_order(
    api: Any, ws_url: Any, collab: Any, kafka_server: Any, topic: str, tmp_path: Path
) -> None:
    audit_file = tmp_path / "audit.jsonl"

    def kinds(doc_id: str) -> list[tuple[str, str | None]]:
        return [
            (e["kind"], e["actor"]) for e in file_events(audit_file) if e["document_id"] == doc_id
        ]

    body = {"name": "Plan", "type": "file", "content": "base"}
    doc_id = (await api("alice", "POST", "documents", body)).body["id"]
    share = await api("alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "editor"})
    assert share.status == 200
    async with yclient(ws_url(doc_id, "alice")) as alice:
        await eventually(lambda: str(alice.text) == "base")
        await eventually(lambda: ("session.joined", "alice") in kinds(doc_id))
        async with yclient(ws_url(doc_id, "bob")) as bob:
            await eventually(lambda: str(bob.text) == "base")
            await eventually(lambda: ("session.joined", "bob") in kinds(doc_id))
            for ch in " hello":  # six keystrokes, six updates
                alice.text.insert(len(alice.text), ch)
            await eventually(lambda: str(bob.text) == "base hello", what="alice's keystrokes")
            for ch in " world":
                bob.text.insert(len(bob.text), ch)
            await eventually(lambda: str(alice.text) == "base hello world", what="bob's")
            await settled(collab)
            assert "document.edited" not in [k for k, _ in kinds(doc_id)]  # no keystrokes
            version = await api("alice", "POST", f"documents/{doc_id}/versions", {"label": "draft"})
            assert version.status == 201
            alice.text.insert(len(alice.text), "!")
            await eventually(lambda: str(bob.text) == "base hello world!")
            bob.text.insert(0, "?")
            await eventually(lambda: str(alice.text) == "?base hello world!")
            await settled(collab)
        await eventually(lambda: ("session.left", "bob") in kinds(doc_id))
    await eventually(lambda: ("session.left", "alice") in kinds(doc_id))
    restore = f"documents/{doc_id}/versions/{version.body['id']}/restore"
    assert (await api("alice", "POST", restore)).status == 200
    feed = (await api("alice", "GET", f"documents/{doc_id}/activity")).body["events"]
    assert (await api("alice", "DELETE", f"documents/{doc_id}")).status == 204
    await anyio.sleep(0.5)
    assert kinds(doc_id)[-1] == ("document.deleted", "alice"), "nothing after the delete"

    expected = [
        ("document.created", "alice"),
        ("share.granted", "alice"),
        ("session.joined", "alice"),
        ("session.joined", "bob"),
        ("document.edited", "alice"),  # " hello": a version closes the open bursts
        ("document.edited", "bob"),  # " world"
        ("version.created", "alice"),  # "draft"
        ("document.edited", "bob"),  # "?": leaving closes one's burst
        ("session.left", "bob"),
        ("document.edited", "alice"),  # "!"
        ("session.left", "alice"),
        ("version.created", "alice"),  # automatic, before the restore
        ("version.restored", "alice"),  # its change is this event, not also an edit burst
        ("document.deleted", "alice"),
    ]
    records = consume(
        kafka_server.bootstrap,
        topic,
        until=lambda rs: any(b'"document.deleted"' in v and doc_id.encode() in v for _, v in rs),
    )
    events = ordered(records, doc_id)
    got = [(e["kind"], e["actor"]) for e in events]
    assert got == expected, "\n".join(
        f"{k} {a} {e.get('updates', '')}" for (k, a), e in zip(got, events, strict=True)
    )
    assert len(records) == len(events), "no duplicates when Kafka never failed"
    edits = [e for e in events if e["kind"] == "document.edited"]
    # at least the keystrokes (pycrdt's Provider also sends back what it receives, and
    # the server counts those too), one event per burst, never one per keystroke
    assert len(edits) == 4
    assert [e["updates"] >= n for e, n in zip(edits, (6, 6, 1, 1), strict=True)] == [True] * 4
    assert all(e["bytes"] > 0 for e in edits)
    assert events[1]["principal"] == "user:bob" and events[1]["role"] == "editor"
    assert events[3]["role"] == "editor" and events[2]["role"] == "owner"
    assert events[6]["label"] == "draft" and events[6]["auto"] is False
    assert events[11]["auto"] is True and events[12]["version_id"] == version.body["id"]
    assert {e["node"] for e in events} == {collab.node_id}
    # every sink got the same JSON, byte for byte
    file_lines = [x for x in audit_file.read_text().splitlines() if doc_id in x]
    assert file_lines == [v.decode() for _, v in records if doc_id.encode() in v]
    # the activity feed: newest first, the same events (read before the delete)
    assert [e["event_id"] for e in feed] == [e["event_id"] for e in events[:-1]][::-1]

    # the operators' view of the same topic
    sink = f"kafka://{kafka_server.bootstrap}/{topic}"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_collab_docs",
            "audit",
            "tail",
            f"--sink={sink}",
            f"--document={doc_id}",
            f"--CollabDocsApp.data_dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert [json.loads(x)["event_id"] for x in out] == [e["event_id"] for e in events]


def test_kafka_sink_spools_when_unreachable_and_replays_in_order(
    kafka_server: Any, topic: str, tmp_path: Path
) -> None:
    """A sink whose broker is unreachable keeps its events in the spool; a sink started
    later on the same spool (a restarted server) delivers them first, in order."""
    spool = tmp_path / "spool"
    down = KafkaSink("kafka://127.0.0.1:1/x", ("127.0.0.1:1",), topic, spool, timeout=1.0)
    down.open()
    lines = [
        json.dumps({"event_id": f"e{i}", "document_id": f"d{i % 2}", "n": i}) for i in range(20)
    ]
    for line in lines[:10]:
        down.write(line, {})
    started = time.monotonic()
    down.close(timeout=0.5)
    assert time.monotonic() - started < 5
    assert down.delivered == 0 and not down.spool.empty()

    up = KafkaSink("k", (kafka_server.bootstrap,), topic, spool)
    up.open()
    for line in lines[10:]:
        up.write(line, {})
    records = consume(kafka_server.bootstrap, topic, until=lambda rs: len(rs) >= 20)
    up.close(timeout=5)
    assert up.delivered == 20 and up.spool.empty()
    assert [json.loads(v)["n"] for _, v in records] == list(range(20))
    assert [k for k, _ in records] == [f"d{i % 2}".encode() for i in range(20)]


def test_kafka_outage_and_a_server_restart_lose_nothing(
    standalone: Any, kafka_server: Any, topic: str
) -> None:
    """Kafka stopped for 20 s while a standalone server emits events, and that server
    restarted in the middle: once Kafka is back every event arrives, in order."""
    sink = f"kafka://{kafka_server.bootstrap}/{topic}"
    command = standalone.command
    standalone.command = lambda *args: command(
        *args,
        f"--CollabDocsApp.audit_sinks={sink}",
        "--AuditTrail.kafka_timeout=2",
        "--AuditTrail.close_timeout=1",
    )
    standalone.start()
    doc_id = standalone.request("POST", "documents", {"name": "n0", "type": "file"})["id"]
    consume(kafka_server.bootstrap, topic, until=lambda rs: len(rs) >= 1)
    spool = next((standalone.data_dir / "audit-spool").iterdir())

    names = []

    def rename() -> None:
        name = f"n{len(names) + 1}"
        started = time.monotonic()
        standalone.request("PATCH", f"documents/{doc_id}", {"name": name})
        assert time.monotonic() - started < 1.5, "Kafka being down must not slow requests"
        names.append(name)

    kafka_server.stop()
    down = time.monotonic()
    while time.monotonic() - down < 8:
        rename()
        time.sleep(0.25)
    assert sum(p.stat().st_size for p in spool.glob("*.jsonl")) > 0
    standalone.stop()  # a restart during the outage: the spool stays on disk
    standalone.start()
    before_restart = len(names)
    # ~20 s of outage, but renames by the second run whatever the restart took (a loaded
    # machine may take 12 s to restart; then no rename had the second node id).
    while time.monotonic() - down < 20 or len(names) < before_restart + 2:
        rename()
        time.sleep(0.25)
    kafka_server.start()

    def complete(records: list[tuple[bytes | None, bytes]]) -> bool:
        return f'"new_name": "{names[-1]}"'.encode() in b"".join(v for _, v in records)

    records = consume(kafka_server.bootstrap, topic, until=complete, timeout=60)
    events = ordered(records, doc_id)
    assert [e["kind"] for e in events] == ["document.created"] + ["document.renamed"] * len(names)
    assert [e["new_name"] for e in events[1:]] == names  # all of them, in order
    nodes = [e["node"] for e in events[1:]]
    assert len(set(nodes)) == 2, "two server runs, each its own node id"
    # the activity feed kept them across the restart, newest first
    feed = standalone.request("GET", f"documents/{doc_id}/activity?limit=5")["events"]
    assert [e["new_name"] for e in feed] == names[::-1][:5]


def test_servers_sharing_a_data_dir_each_take_a_spool_and_adopt_free_ones(
    tmp_path: Path,
) -> None:
    def sink() -> KafkaSink:
        return KafkaSink("k", ("127.0.0.1:1",), "t", tmp_path / "spool" / "main", timeout=0.5)

    first, second = sink(), sink()
    first.open()
    second.open()  # the main spool is held: a sibling
    assert first.spool.dir.name == "main" and second.spool.dir.name.startswith("main.")
    second.write('{"event_id": "x", "document_id": "d"}', {})
    second.close(timeout=0)
    assert not second.spool.empty()
    third = sink()
    third.open()  # the free sibling, with its waiting event
    assert third.spool.dir == second.spool.dir and not third.spool.empty()
    first.close(timeout=0)
    third.close(timeout=0)
