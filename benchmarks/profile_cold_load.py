"""Where the cold load of a large stored notebook goes, in process (no server, no network).

    .venv/bin/python -m benchmarks.profile_cold_load [--mb 5] [--runs 3] [--profile]
    .venv/bin/python -m benchmarks.profile_cold_load --trace [--runs 3] [--profile]
    .venv/bin/python -m benchmarks.profile_cold_load --server [--mb 5] [--runs 3] [--py-spy]

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

``--server`` measures what the join workload calls the cold load, end to end: a real
``jupyter collab-docs`` (``benchmarks.servers.CollabDocs``, core 0), the notebook created
through REST, then for each run a restart and one client's connect → sync step 2
received (upgrade, identity, role, room load, first sync, over loopback). ``--py-spy``
samples the server during the last run (``benchmarks/.venv-bench``).
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


async def first_sync_ms(url: str) -> tuple[float, int]:
    """Connect, send sync step 1 of an empty doc, wait for the server's sync step 2."""
    from tornado.websocket import websocket_connect

    started = time.perf_counter()
    conn = await websocket_connect(url, max_message_size=1 << 30)
    await conn.write_message(protocol.sync_step1(b"\x00"), binary=True)
    while True:
        message = await conn.read_message()
        if message is None:
            raise RuntimeError("the server closed the socket")
        frame = protocol.parse_frame(message)  # type: ignore[arg-type]
        if frame.kind == protocol.MESSAGE_SYNC and frame.step == protocol.SYNC_STEP2:
            elapsed = (time.perf_counter() - started) * 1000
            conn.close()
            return elapsed, len(frame.payload)


def server_runs(args: argparse.Namespace) -> None:
    import subprocess

    from .servers import BENCH, CollabDocs

    work = Path(tempfile.mkdtemp(prefix="cold-load-server-"))
    notebook = make_notebook(work / "big.ipynb", args.mb)
    with CollabDocs(work / "server") as server:
        room, _ = server.notebook_room("big", notebook)
        for run in range(args.runs):
            server.restart()
            spy = None
            if args.py_spy and run == args.runs - 1:
                out = work / "cold-load.txt"
                spy = subprocess.Popen(
                    [str(BENCH / ".venv-bench/bin/py-spy"), "record", "--format", "raw",
                     "--rate", "500", "--nonblocking", "--pid", str(server.pid),
                     "--output", str(out)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                time.sleep(1.0)  # py-spy attaches
            from .profile_join import cpu_seconds

            cpu = cpu_seconds(server.pid)
            elapsed, size = asyncio.run(first_sync_ms(room["url"]))
            cpu = cpu_seconds(server.pid) - cpu
            if spy is not None:
                time.sleep(0.3)
                spy.send_signal(2)
                spy.wait(30)
                print(f"py-spy stacks: {out}")
            print(
                f"run {run + 1}: cold first sync {elapsed:.0f} ms, server CPU "
                f"{1000 * cpu:.0f} ms ({size / 1024:.0f} KiB)"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--server", action="store_true")
    parser.add_argument("--py-spy", action="store_true")
    arguments = parser.parse_args()
    if arguments.server:
        server_runs(arguments)
    else:
        asyncio.run(main(arguments))
