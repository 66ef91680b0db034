"""What an idle room socket keeps alive in the server process (issue #16): measured with
tracemalloc over real sockets, so a change that makes every socket keep a large object
(a request body, a read buffer, a growing queue) fails here."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import tracemalloc
from typing import Any

from jupyter_collab_docs import protocol

from .test_socket_hot_path import (  # noqa: F401
    STEP1,
    Raw,
    handshake,
    jp_server_config,
    new_doc,
    tornado_settings,
)

SOCKETS = 60


async def idle_sockets(ws_url: Any, doc_id: str, count: int) -> list[Raw]:
    clients = []
    for _ in range(count):
        client = await Raw.connect(ws_url(doc_id))
        await handshake(client)
        await client.send(STEP1)
        while protocol.parse_frame(await client.message()).step != protocol.SYNC_STEP2:
            pass
        clients.append(client)
    await asyncio.sleep(0.2)  # awareness of the others, if any, is written
    return clients


async def test_an_idle_room_socket_keeps_little_alive(api, ws_url, collab):
    # A user may hold at most 20 sockets on one document: four rooms.
    doc_ids = [await new_doc(api) for _ in range(4)]
    warm = [c for d in doc_ids for c in await idle_sockets(ws_url, d, 1)]  # rooms, caches
    gc.collect()
    tracemalloc.start(25)
    try:
        before = tracemalloc.take_snapshot()
        clients = [
            c for d in doc_ids for c in await idle_sockets(ws_url, d, SOCKETS // len(doc_ids))
        ]
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # Without what pytest's log capture keeps of each socket's log lines.
    not_logging = [tracemalloc.Filter(False, logging.__file__, all_frames=True)]
    before, after = before.filter_traces(not_logging), after.filter_traces(not_logging)
    diff = after.compare_to(before, "filename")
    grown = sum(stat.size_diff for stat in diff)
    if os.environ.get("SHOW_SOCKET_MEMORY"):
        for stat in after.compare_to(before, "traceback")[:25]:
            print(stat.size_diff / SOCKETS, stat.count_diff)
            for line in stat.traceback.format()[-12:]:
                print("   ", line)
        print("per socket", grown / SOCKETS)
    per_socket = grown / SOCKETS
    # Measured 17.0 KB with this process's own client ends counted (their streams,
    # ~3 KB); 23.9 KB before the upgrade's coroutines ended at the takeover (#16).
    assert per_socket < 20_000, per_socket
    for client in warm + clients:
        client.abort()
