"""The server CPU of the periodic access re-check (``revalidate_interval``) with many
sockets open and idle.

    .venv/bin/python -m benchmarks.profile_recheck [--rooms 100] [--per-room 3] [--seconds 10]

Starts ``jupyter collab-docs`` (``benchmarks.servers.CollabDocs``, core 0) with
``revalidate_interval`` = ``--interval`` (1 s), opens ``--rooms`` text documents with ``--per-room``
sockets each (one token for all, as the load generator does), lets them idle, and
prints the server's CPU over ``--seconds`` (a re-check pass every interval, if a pass
takes less than that), then the
same window with the re-check every 1000 s: the difference is the re-check's cost.
``PYTHONPATH=<dir holding another jupyter_collab_docs>`` runs the server from that code
(an A/B of two commits).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from tornado.websocket import websocket_connect

from .profile_join import cpu_seconds
from .servers import CollabDocs


class Server(CollabDocs):
    def __init__(self, workdir: Path, interval: float) -> None:
        super().__init__(workdir)
        self.interval = interval

    def command(self):
        return [*super().command(), f"--CollabDocsApp.revalidate_interval={self.interval}"]


async def idle_cpu(server: Server, urls: list[str], per_room: int, seconds: float) -> float:
    sockets = []
    for url in urls:
        for _ in range(per_room):
            sockets.append(await websocket_connect(url))
    for socket in sockets:
        await socket.read_message()  # joined: the server's sync step 1
    await asyncio.sleep(2.0)  # settle
    before = cpu_seconds(server.pid)
    await asyncio.sleep(seconds)
    used = cpu_seconds(server.pid) - before
    for socket in sockets:
        socket.close()
    return used


def run(interval: float, args: argparse.Namespace) -> float:
    work = Path(tempfile.mkdtemp(prefix="profile-recheck-"))
    with Server(work / "server", interval) as server:
        urls = [server.text_room(f"room-{i}")["url"] for i in range(args.rooms)]
        return asyncio.run(idle_cpu(server, urls, args.per_room, args.seconds))


def main(args: argparse.Namespace) -> None:
    sockets = args.rooms * args.per_room
    with_checks = run(args.interval, args)
    without = run(1000.0, args)
    passes = args.seconds / args.interval
    print(
        f"{sockets} sockets on {args.rooms} rooms, {args.seconds:.0f} s idle: server CPU "
        f"{1000 * with_checks:.0f} ms with a re-check every {args.interval:g} s, "
        f"{1000 * without:.0f} ms "
        f"without; ≈ {1000 * (with_checks - without) / passes:.1f} ms per pass "
        f"({1e6 * (with_checks - without) / passes / sockets:.0f} µs per socket)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--per-room", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=1.0, help="revalidate_interval")
    main(parser.parse_args())
