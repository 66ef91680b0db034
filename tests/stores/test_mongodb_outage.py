"""A live server on MongoDB (FerretDB) losing its database: rooms keep serving their
clients, buffer the edits, and write them in order when the database returns; a room
that cannot load meanwhile refuses with 4500 instead of starting empty."""

from __future__ import annotations

import time

import anyio

from jupyter_collab_docs.testing import RawClient, StandaloneServer, eventually, yclient
from tests.servers.ferretdb import FerretDB


async def test_edits_made_while_mongodb_is_down_are_stored_when_it_returns(
    standalone: StandaloneServer, tmp_path
):
    db = FerretDB(tmp_path / "ferretdb")
    db.start()
    try:
        standalone.extra_args = [f"--CollabDocsApp.store_url={db.url}collab"]
        alice = standalone.cli("users", "add", "alice")
        standalone.start()
        doc = standalone.request(
            "POST", "documents", {"name": "d", "type": "file", "content": "start"}, token=alice
        )
        other = standalone.request("POST", "documents", {"name": "o", "type": "file"}, token=alice)
        url = f"ws://127.0.0.1:{standalone.port}/api/collab-docs/rooms/{{}}?token={alice}"
        async with yclient(url.format(doc["id"])) as a, yclient(url.format(doc["id"])) as b:
            await eventually(lambda: str(a.text) == str(b.text) == "start")
            db.stop()
            stopped = time.monotonic()
            for word in [" while", " the", " database", " is", " down"]:
                a.text.insert(len(a.text), word)
                time.sleep(0.05)
            await eventually(
                lambda: str(b.text) == "start while the database is down",
                what="the room keeps serving its clients",
            )
            # a room that is not loaded cannot load without its database
            refused = await RawClient.connect(url.format(other["id"]))
            assert await refused.closed(timeout=15) == 4500
            b.text.insert(len(b.text), ",")
            await anyio.sleep(max(0.0, 10 - (time.monotonic() - stopped)))  # a 10 s outage
            db.start()
            b.text.insert(len(b.text), ", and back")
            await eventually(lambda: str(a.text).endswith("and back"))
        # everything written, in order: a fresh server process loads it from MongoDB
        standalone.stop()
        standalone.start()
        content = standalone.request("GET", f"documents/{doc['id']}/content", token=alice)
        assert content["content"] == "start while the database is down,, and back"
    finally:
        db.stop()
