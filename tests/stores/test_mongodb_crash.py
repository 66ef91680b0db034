"""A server process on MongoDB (FerretDB) killed with SIGKILL keeps every edit it had
acknowledged as written, even when the log's sequence counter is behind the numbers
it already handed out (FerretDB's ``$inc`` is not atomic across connections: issue 13)."""

from __future__ import annotations

import signal
from typing import Any

import anyio
from pycrdt import Doc
from pymongo import AsyncMongoClient

from tests.conftest import StandaloneServer, eventually, yclient


async def wait_for(check: Any, what: str, timeout: float = 20.0) -> None:
    with anyio.fail_after(timeout):
        while not await check():
            await anyio.sleep(0.05)


async def test_edits_written_before_a_kill_9_load_after_a_restart_despite_a_counter_behind(
    standalone: StandaloneServer, mongodb_test_url: str
) -> None:
    standalone.extra_args = [f"--CollabDocsApp.store_url={mongodb_test_url}"]
    alice = standalone.cli("users", "add", "alice")
    standalone.start()
    doc = standalone.request(
        "POST", "documents", {"name": "d", "type": "file", "content": "start"}, token=alice
    )
    url = f"ws://127.0.0.1:{standalone.port}/api/collab-docs/rooms/{doc['id']}?token={alice}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_test_url)
    db = client.get_default_database()
    try:
        # A first session: 30 edits, then the room closes (idle) and folds them into a
        # snapshot; the log is empty again.
        async with yclient(url) as first:
            await eventually(lambda: str(first.text) == "start")
            for _ in range(30):
                first.text.insert(len(first.text), ".")
            await eventually(lambda: str(first.text) == "start" + "." * 30)

        async def folded() -> bool:
            snapshot = await db.snapshots.find_one({"_id": doc["id"]})
            return snapshot is not None and await db.updates.count_documents({}) == 0

        await wait_for(folded, "the idle room's compaction")
        # The fault: the counter falls behind what it handed out.
        await db.documents.update_one({"_id": doc["id"]}, {"$set": {"seq": 0}})

        # A second session: 20 tokens, each confirmed written before the next.
        mine: list[bytes] = []
        local = Doc()
        async with yclient(url, local) as second:
            await eventually(lambda: str(second.text) == "start" + "." * 30)
            local.observe(lambda event: mine.append(event.update))
            for i in range(20):
                second.text.insert(len(second.text), f" token{i}")
                update = mine[-1]

                async def written(update: bytes = update) -> bool:
                    return await db.updates.find_one({"data": update}) is not None

                await wait_for(written, f"token {i} written")
            assert standalone.process is not None
            standalone.process.send_signal(signal.SIGKILL)
            standalone.process.wait()
            standalone.process = None
    finally:
        await client.close()

    standalone.start()
    content = standalone.request("GET", f"documents/{doc['id']}/content", token=alice)
    lost = [i for i in range(20) if f" token{i}" not in content["content"]]
    assert lost == [], f"{len(lost)} of 20 written tokens lost after kill -9: {lost}"
    assert content["content"] == "start" + "." * 30 + "".join(f" token{i}" for i in range(20))
