"""The server memory of one idle room socket and of one open room (issue #16).

    .venv/bin/python -m benchmarks.profile_memory [--rooms 500] [--clients 3] [--server y-websocket]

Starts a fresh server (``benchmarks.servers``, core 0), creates ``--rooms`` small text
documents, then measures the server's resident set (VmRSS from /proc, after the server
is idle and, for ours, after nothing changes any more) in three states:

1. no socket open (the documents exist, no room is loaded);
2. one synced socket in every room (each room is loaded: rooms + sockets);
3. ``--clients`` synced sockets in every room (only sockets added).

Per socket = (3 - 2) / (rooms * (clients - 1)); per room = (2 - 1) / rooms - per socket.
The sockets stay idle (no awareness, no edits) while measured. RSS only grows as the
allocator takes pages, so a figure is a bound of what one more socket or room costs in
the process, comparable between servers; run it twice and compare the same server's
figures, not single bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from tornado.websocket import WebSocketClientConnection, websocket_connect

from jupyter_collab_docs import protocol

from .profile_join import settle
from .servers import CollabDocs, YWebsocket

SERVERS = {"collab-docs": CollabDocs, "y-websocket": YWebsocket}


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def steady_rss(pid: int) -> int:
    """RSS once the server has stopped working (CPU idle) and RSS stopped moving."""
    settle(pid)
    last = rss_bytes(pid)
    for _ in range(20):
        time.sleep(0.5)
        now = rss_bytes(pid)
        if abs(now - last) < 64 * 1024:
            return now
        last = now
    return last


async def synced_socket(url: str) -> WebSocketClientConnection:
    conn = await websocket_connect(url, max_message_size=16 << 20)
    await conn.write_message(protocol.sync_step1(b"\x00"), binary=True)
    while True:
        message = await conn.read_message()
        if message is None:
            raise RuntimeError(
                f"the server closed the socket: {conn.close_code} {conn.close_reason}"
            )
        frame = protocol.parse_frame(message)  # type: ignore[arg-type]
        if frame.kind == protocol.MESSAGE_SYNC and frame.step == protocol.SYNC_STEP2:
            return conn


async def drain(conns: list[WebSocketClientConnection]) -> None:
    """Reads what the server still sends (awareness of the others), so no client buffer
    and no server send queue stays full while the figures are taken."""

    async def one(conn: WebSocketClientConnection) -> None:
        while True:
            try:
                message = await asyncio.wait_for(conn.read_message(), 0.05)
            except asyncio.TimeoutError:
                return
            if message is None:
                raise RuntimeError(
                    f"the server closed a socket: {conn.close_code} {conn.close_reason}"
                )

    await asyncio.gather(*(one(c) for c in conns))


async def measure(server, urls: list[str], clients: int) -> dict[str, float]:
    pid = server.pid
    loop = asyncio.get_running_loop()
    empty = await loop.run_in_executor(None, steady_rss, pid)
    conns = [await synced_socket(url) for url in urls]
    await drain(conns)
    one_each = await loop.run_in_executor(None, steady_rss, pid)
    for _ in range(clients - 1):
        conns += [await synced_socket(url) for url in urls]
    await drain(conns)
    full = await loop.run_in_executor(None, steady_rss, pid)
    rooms = len(urls)
    per_socket = (full - one_each) / (rooms * (clients - 1))
    per_room = (one_each - empty) / rooms - per_socket
    for conn in conns:
        conn.close()
    return {
        "rss_empty": empty,
        "rss_one_each": one_each,
        "rss_full": full,
        "per_socket": per_socket,
        "per_room": per_room,
    }


def main(args: argparse.Namespace) -> None:
    server_class = SERVERS[args.server]
    missing = server_class.available()
    if missing:
        raise SystemExit(f"{args.server}: {missing}")
    if args.clients < 2:
        raise SystemExit("--clients must be at least 2 (the per-socket figure needs two)")
    work = Path(tempfile.mkdtemp(prefix="profile-memory-"))
    with server_class(work / "server") as server:
        content = "hello" if server_class is CollabDocs else ""  # y-websocket: empty rooms
        urls = [server.text_room(f"mem-{i}", content)["url"] for i in range(args.rooms)]
        figures = asyncio.run(measure(server, urls, args.clients))
    mib = 1 << 20
    print(
        f"{args.server}, {args.rooms} rooms x {args.clients} idle sockets: RSS "
        f"{figures['rss_empty'] / mib:.1f} MiB empty, {figures['rss_one_each'] / mib:.1f} MiB "
        f"with one socket a room, {figures['rss_full'] / mib:.1f} MiB with all"
    )
    print(
        f"per idle socket: {figures['per_socket'] / 1024:.1f} KiB; "
        f"per room (its first socket excluded): {figures['per_room'] / 1024:.1f} KiB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=500)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--server", choices=sorted(SERVERS), default="collab-docs")
    main(parser.parse_args())
