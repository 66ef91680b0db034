"""Where the cold load of a large stored notebook goes, in process (no server, no network).

    .venv/bin/python -m benchmarks.profile_cold_load [--mb 5] [--runs 3] [--profile]
    .venv/bin/python -m benchmarks.profile_cold_load --trace [--runs 3] [--profile]
    .venv/bin/python -m benchmarks.profile_cold_load --server [--trace] [--mb 5] [--runs 3]
        [--wait 0] [--py-spy] [--harness N]

Stores the generated notebook (``fixtures.make_notebook``) in a fresh SQLite store the way
``POST /documents`` does (its initial state as the snapshot), then, ``--runs`` times, opens
it in a new ``RoomManager`` (as after a restart) and answers one client's sync step 1 with
an empty state vector: the first full sync. Prints the wall and CPU time of each phase
(load from the store, build the doc, encode the answer); ``--profile`` adds the cProfile
functions with the most cumulative time of the last run.

``--trace`` does the same with the trace document instead: the automerge-paper trace
(``fixtures.TRACE``, 259,778 edits) replayed by one pycrdt client into a ``file`` doc's
``source`` text, one transaction per edit as a typing client sends them, and its whole
state stored as the snapshot (what compaction leaves after the trace workload).

``--server`` measures the cold first sync end to end: a real ``jupyter collab-docs``
(``benchmarks.servers.CollabDocs``, core 0), the notebook created through REST (with
``--trace``: the trace state written as the stored snapshot), then for each run a
restart and one bare WebSocket client, split into: ready -> connect (``--wait`` seconds,
default 0 as the harness; the server's CPU in it is the start work still running after
"ready", mostly jupyter-lsp's scan), upgrade, server load + encode + send (step 1 sent ->
first byte of step 2), transfer (first -> last byte), and the client's apply (pycrdt;
the Node yjs apply of the same bytes is timed after the runs). ``--py-spy`` samples the
server from the restart through the last run (``benchmarks/.venv-bench``).
``--harness N`` times the harness's own Node anchor instead (the join workload's
``anchor_sync_ms``: the generator forks N workers on its core as the anchor connects).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jupyter_collab_docs import protocol
from jupyter_collab_docs.doctypes import initial_state
from jupyter_collab_docs.identity import Actor
from jupyter_collab_docs.rooms import RoomConfig, RoomManager
from jupyter_collab_docs.stores import DocumentRecord
from jupyter_collab_docs.stores.sqlite import SQLiteDocumentStore

from .fixtures import TRACE, make_notebook


def trace_state() -> tuple[bytes, str]:
    """The trace document's Yjs state after every edit of the trace, and its end text."""
    import gzip

    from pycrdt import Doc, Text

    trace = json.loads(gzip.decompress(TRACE.read_bytes()))
    doc: Doc = Doc()
    text = doc.get("source", type=Text)
    for txn in trace["txns"]:
        with doc.transaction():
            for position, deleted, inserted in txn["patches"]:
                if deleted:
                    del text[position : position + deleted]
                if inserted:
                    text.insert(position, inserted)
    assert str(text) == trace["endContent"]
    return doc.get_update(), trace["endContent"]


class Client:
    """A socket as the room sees it, keeping what it is sent."""

    def __init__(self) -> None:
        self.actor = Actor.create("reader")
        self.role = "viewer"
        self.can_write = False
        self.sent: list[bytes] = []

    async def current_role(self) -> str | None:
        return self.role

    def send(self, message: bytes) -> None:
        self.sent.append(message)

    def close(self, code: int, reason: str) -> None:
        pass


async def cold_load(store: SQLiteDocumentStore, doc_id: str, doc_type: str) -> dict[str, float]:
    manager = RoomManager(store, RoomConfig())
    started, cpu = time.perf_counter(), time.process_time()
    room = await manager.get(doc_id, doc_type)
    loaded = time.perf_counter()
    client = Client()
    room.join(client)
    room.receive(client, protocol.sync_step1(b"\x00"))  # an empty client
    synced = time.perf_counter()
    answer = protocol.parse_frame(client.sent[-1])
    assert answer.step == protocol.SYNC_STEP2 and len(answer.payload) > 1000
    figures = {
        "load_ms": (loaded - started) * 1000,
        "sync_ms": (synced - loaded) * 1000,
        "total_ms": (synced - started) * 1000,
        "cpu_ms": (time.process_time() - cpu) * 1000,
        "update_kb": len(answer.payload) / 1024,
    }
    room.leave(client)
    await manager.close()
    return figures


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="cold-load-"))
    store = SQLiteDocumentStore(work / "documents.db")
    await store.start()
    now = datetime.now(timezone.utc)
    if args.trace:
        state, _ = trace_state()
        record = DocumentRecord("trace", "trace.txt", "file", "alice", now, now)
        print(f"trace state: {len(state) / 1024:.0f} KiB")
    else:
        notebook = json.loads(make_notebook(work / "big.ipynb", args.mb).read_text())
        record = DocumentRecord("big", "big.ipynb", "notebook", "alice", now, now)
        state = initial_state("notebook", notebook)
    await store.create(record, state)
    profile = cProfile.Profile()
    try:
        for run in range(args.runs):
            if args.profile and run == args.runs - 1:
                profile.enable()
            figures = await cold_load(store, record.id, record.type)
            profile.disable()
            print(f"run {run + 1}: " + ", ".join(f"{k} {v:.0f}" for k, v in figures.items()))
    finally:
        await store.close()
    if args.profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


async def first_sync_split(url: str, keep: Path | None = None) -> dict[str, float]:
    """One cold first sync over a bare WebSocket client, timed per phase (ms from the
    connect call): ``upgraded`` (101 received), ``first_byte`` / ``last_byte`` of the
    server's sync step 2 frame, ``applied`` (pycrdt applies it; Node's yjs is timed apart).
    A hand-written client because tornado's only reports a message once it is whole."""
    import base64
    import os
    import struct
    from urllib.parse import urlsplit

    from pycrdt import Doc

    parts = urlsplit(url)
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"upgrade refused: {head.splitlines()[0]!r}")
    upgraded = time.perf_counter()
    message = protocol.sync_step1(b"\x00")
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(message))
    writer.write(bytes([0x82, 0x80 | len(message)]) + mask + masked)
    sent = time.perf_counter()
    while True:  # server frames are unmasked and (tornado) unfragmented
        header = await reader.readexactly(2)
        first_byte = time.perf_counter()
        size = header[1] & 0x7F
        if size == 126:
            size = struct.unpack(">H", await reader.readexactly(2))[0]
        elif size == 127:
            size = struct.unpack(">Q", await reader.readexactly(8))[0]
        payload = await reader.readexactly(size)
        last_byte = time.perf_counter()
        if header[0] & 0x0F != 0x2:
            continue
        frame = protocol.parse_frame(payload)
        if frame.kind == protocol.MESSAGE_SYNC and frame.step == protocol.SYNC_STEP2:
            break
    doc: Doc = Doc()
    doc.apply_update(frame.payload)
    applied = time.perf_counter()
    writer.close()
    if keep is not None:
        keep.write_bytes(frame.payload)

    def ms(t: float) -> float:
        return (t - started) * 1000

    return {
        "upgraded": ms(upgraded),
        "sent": ms(sent),
        "first_byte": ms(first_byte),
        "last_byte": ms(last_byte),
        "applied": ms(applied),
        "kib": len(frame.payload) / 1024,
    }


NODE_APPLY = """
const Y = require('yjs'); const fs = require('fs')
const update = fs.readFileSync(process.argv[1]); const times = []
for (let i = 0; i < 3; i++) {
  const t = process.hrtime.bigint(); Y.applyUpdate(new Y.Doc(), update)
  times.push(Number(process.hrtime.bigint() - t) / 1e6)
}
console.log(times.map(t => t.toFixed(0)).join(' '))
"""


def node_apply_ms(update: Path) -> str:
    """What the benchmark's Node client spends applying the first sync (yjs, 3 fresh docs)."""
    import subprocess

    from .servers import BENCH

    done = subprocess.run(
        ["node", "-e", NODE_APPLY, str(update)],
        cwd=BENCH,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout.strip() or done.stderr.strip()[-200:]


def server_runs(args: argparse.Namespace) -> None:
    """Per run: restart; sample the server's CPU for ``--wait`` seconds after "ready" (the
    start work that runs after the port answers); then one timed first sync. ``--wait 0``
    connects right after ready, as the harness does."""
    import subprocess

    from .profile_join import cpu_seconds
    from .servers import BENCH, CollabDocs

    work = Path(tempfile.mkdtemp(prefix="cold-load-server-"))
    if args.trace:
        state, _ = trace_state()
    else:
        notebook = make_notebook(work / "big.ipynb", args.mb)
    update = work / "first-sync.bin"
    with CollabDocs(work / "server") as server:
        if args.trace:
            room = server.text_room("trace")
            server.stop()
            store_trace_state(server.workdir / "data" / "documents.db", room["url"], state)
        else:
            room, _ = server.notebook_room("big", notebook)
        for run in range(args.runs):
            server.restart()
            ready, cpu_ready = time.perf_counter(), cpu_seconds(server.pid)
            spy = None
            if args.py_spy and run == args.runs - 1:
                out = work / "cold-load.txt"
                spy = subprocess.Popen(
                    [str(BENCH / ".venv-bench/bin/py-spy"), "record", "--format", "raw",
                     "--rate", "500", "--nonblocking", "--pid", str(server.pid),
                     "--output", str(out)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
            if args.wait:
                time.sleep(args.wait)
            if args.harness:
                print(f"run {run + 1}: {harness_anchor_sync(server, room, args.harness, work)}")
                continue
            waited, cpu_connect = (time.perf_counter() - ready) * 1000, cpu_seconds(server.pid)
            split = asyncio.run(first_sync_split(room["url"], update))
            cpu_sync = cpu_seconds(server.pid) - cpu_connect
            if spy is not None:
                time.sleep(0.3)
                spy.send_signal(2)
                spy.wait(30)
                print(f"py-spy stacks: {out}")
            print(
                f"run {run + 1}: ready->connect {waited:.0f} ms (server CPU in it "
                f"{1000 * (cpu_connect - cpu_ready):.0f} ms); upgrade {split['upgraded']:.0f}, "
                f"server load+encode+send {split['first_byte'] - split['sent']:.0f}, "
                f"transfer {split['last_byte'] - split['first_byte']:.0f}, "
                f"pycrdt apply {split['applied'] - split['last_byte']:.0f}; "
                f"connect->last byte {split['last_byte']:.0f} ms "
                f"(server CPU {1000 * cpu_sync:.0f} ms, {split['kib']:.0f} KiB)"
            )
    if update.exists():
        print(f"Node yjs apply of the first sync (ms, 3 fresh docs): {node_apply_ms(update)}")


def harness_anchor_sync(server: Any, room: dict[str, Any], workers: int, work: Path) -> str:
    """The join workload's cold load as the harness measures it: the Node generator forks
    ``workers`` worker processes on its core, then its anchor client connects and applies
    the first sync (anchor_sync_ms), with the socket-open and step-2-received times."""
    from .workloads import run_generator

    cfg = {
        "mode": "join",
        "protocol": server.protocol,
        "rooms": [room],
        "workers": workers,
        "clientsPerRoom": workers,
        "serverPid": server.pid,
        "connectTimeoutMs": 120000,
    }
    result, _ = run_generator(cfg, work, timeout=180)
    return f"{workers} generator workers: anchor_sync_ms {result.get('anchor_sync_ms')}"


def store_trace_state(db_path: Path, url: str, state: bytes) -> None:
    """Make the trace state (its whole edit history) the stored snapshot of the room at
    ``url``, the server being stopped: what compaction leaves after the trace workload.
    REST could only create the end text, without the history the harness's replay leaves."""
    import sqlite3
    from urllib.parse import urlsplit

    doc_id = urlsplit(url).path.rsplit("/", 1)[1]
    with sqlite3.connect(db_path) as db:
        db.execute("DELETE FROM updates WHERE doc_id = ?", (doc_id,))
        db.execute(
            "INSERT INTO snapshots VALUES (?, ?, 0, ?) ON CONFLICT(doc_id) DO UPDATE "
            "SET data = excluded.data",
            (doc_id, state, datetime.now(timezone.utc).isoformat()),
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--server", action="store_true")
    parser.add_argument("--py-spy", action="store_true")
    parser.add_argument(
        "--harness",
        type=int,
        default=0,
        help="--server: time the harness's Node anchor instead, with this many generator workers",
    )
    parser.add_argument(
        "--wait", type=float, default=0.0, help="--server: seconds from ready to connect"
    )
    arguments = parser.parse_args()
    if arguments.server:
        server_runs(arguments)
    else:
        asyncio.run(main(arguments))
