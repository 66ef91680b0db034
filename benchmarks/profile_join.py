"""The server CPU of one accepted room connection, and where it goes.

    .venv/bin/python -m benchmarks.profile_join [--joins 300] [--server y-websocket] [--py-spy]

Starts a fresh ``jupyter collab-docs`` (``benchmarks.servers.CollabDocs``, core 0) with one
small text document, opens it once (so the room is loaded), then makes ``--joins``
connections one after another, each: upgrade (identity, role, room lookup, join), sync
step 1 → the server's sync step 2, close. Prints the server's CPU (utime + stime of its
process, from /proc) per connection; ``--py-spy`` samples the server meanwhile and prints
the functions with the most samples (the stacks stay in the work directory).

``--server y-websocket`` measures the reference server (``benchmarks.servers.YWebsocket``,
y-websocket 1.5.4's bin/server.js, in memory, no authentication) the same way, on an
empty room (its rooms cannot be seeded). ``--server collab-docs`` connects with the
server's own token (the administrator: no share look-up). To measure an older checkout,
put its package first: ``PYTHONPATH=/path/to/old/checkout`` (the server inherits it).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import subprocess
import tempfile
import time
from pathlib import Path

from tornado.websocket import websocket_connect

from jupyter_collab_docs import protocol

from .servers import BENCH, CollabDocs, YWebsocket

SERVERS = {"collab-docs": CollabDocs, "y-websocket": YWebsocket}

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def settle(pid: int, timeout: float = 30.0) -> None:
    """Wait until the server is idle: Jupyter's extensions finish starting in threads
    (jupyter-lsp reads every package's entry points) and would be counted otherwise."""
    deadline = time.monotonic() + timeout
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now - last < 0.01:
            return
        last = now


async def one_join(url: str) -> None:
    conn = await websocket_connect(url)
    await conn.write_message(protocol.sync_step1(b"\x00"), binary=True)
    while True:
        message = await conn.read_message()
        if message is None:
            raise RuntimeError("the server closed the socket")
        frame = protocol.parse_frame(message)  # type: ignore[arg-type]
        if frame.kind == protocol.MESSAGE_SYNC and frame.step == protocol.SYNC_STEP2:
            break
    conn.close()


async def joins(url: str, count: int) -> None:
    for _ in range(count):
        await one_join(url)


def summary(stacks: Path, top: int = 30) -> None:
    cumulative: collections.Counter[str] = collections.Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if "RoomHandler" not in stack and "rooms/" not in stack and "audit" not in stack:
            continue  # start-up, idle, other threads
        total += int(count)
        for frame in set(frames):
            cumulative[frame] += int(count)
    print(f"samples in the connection path: {total}")
    for frame, count in cumulative.most_common(top):
        print(f"{100 * count / max(total, 1):5.1f} %  {frame[:120]}")


def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="profile-join-"))
    server_class = SERVERS[args.server]
    missing = server_class.available()
    if missing:
        raise SystemExit(f"{args.server}: {missing}")
    with server_class(work / "server") as server:
        content = "hello" if server_class is CollabDocs else ""  # y-websocket: empty rooms
        url = server.text_room("join", content)["url"]
        asyncio.run(joins(url, 5))  # the room is loaded, the first-use costs are paid
        settle(server.pid)
        spy = None
        if args.py_spy:
            stacks = work / "join.txt"
            spy = subprocess.Popen(
                [str(BENCH / ".venv-bench/bin/py-spy"), "record", "--format", "raw",
                 "--rate", "250", "--nonblocking", "--pid", str(server.pid),
                 "--output", str(stacks)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(1.0)  # py-spy attaches
        before, started = cpu_seconds(server.pid), time.perf_counter()
        asyncio.run(joins(url, args.joins))
        cpu, wall = cpu_seconds(server.pid) - before, time.perf_counter() - started
        print(
            f"{args.server}, {args.joins} connections: server CPU "
            f"{1e6 * cpu / args.joins:.0f} µs per connection, "
            f"{1e3 * wall / args.joins:.1f} ms wall each"
        )
        if spy is not None:
            spy.send_signal(2)
            spy.wait(30)
            summary(stacks)
            print(f"stacks: {stacks}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--joins", type=int, default=300)
    parser.add_argument("--server", choices=sorted(SERVERS), default="collab-docs")
    parser.add_argument("--py-spy", action="store_true")
    main(parser.parse_args())
