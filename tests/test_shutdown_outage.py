"""SIGTERM while the document store (FerretDB) is down: the server closes its sockets at
once with 1001, waits at most ``shutdown_flush_timeout`` for the store, logs what it could
not write, and exits. The edit it could not write is not lost: the client still holds it
and sends it again (sync step 2) when it reconnects to a fresh server."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import time
from datetime import datetime, timezone

from jupyter_collab_docs import protocol
from jupyter_collab_docs.rooms import RoomConfig, RoomManager
from jupyter_collab_docs.stores import DocumentRecord, StoreError
from jupyter_collab_docs.testing import RawClient, StandaloneServer, eventually, yclient
from tests.servers.ferretdb import FerretDB
from tests.test_room_unit import FakeConnection, document_store, edits

FLUSH_TIMEOUT = 2.0
# What shutdown may take on top of the flush bound: the audit trail's and the store's last
# goodbyes (at least 0.5 s each past the bound), Jupyter's own shutdown and the
# interpreter's exit: about 4 s here, more on a loaded machine. Before the bound, it never
# exited.
SHUTDOWN_SLACK = 8.0


async def test_sigterm_during_a_store_outage_exits_in_time_and_the_client_keeps_its_edit(
    standalone: StandaloneServer, tmp_path
):
    db = FerretDB(tmp_path / "ferretdb")
    db.start()
    try:
        standalone.extra_args = [
            f"--CollabDocsApp.store_url={db.url}collab",
            f"--CollabDocsApp.shutdown_flush_timeout={FLUSH_TIMEOUT}",
        ]
        alice = standalone.cli("users", "add", "alice")
        standalone.start()
        doc = standalone.request(
            "POST", "documents", {"name": "d", "type": "file", "content": "start"}, token=alice
        )
        url = f"ws://127.0.0.1:{standalone.port}/api/collab-docs/rooms/{doc['id']}?token={alice}"
        async with yclient(url) as writer, yclient(url) as watcher:
            await eventually(lambda: str(writer.text) == str(watcher.text) == "start")
            raw = await RawClient.connect(url)
            db.stop()
            writer.text.insert(len(writer.text), " kept by the client")
            # the server has the edit (it relayed it), but cannot store it
            await eventually(lambda: str(watcher.text) == "start kept by the client")
            await eventually(
                lambda: "write failed" in standalone.log_path.read_text(errors="replace"),
                what="a failed write",
            )
            process = standalone.process
            assert process is not None
            process.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            # sockets close at once, with "going away", so clients go elsewhere now
            assert await raw.closed(timeout=FLUSH_TIMEOUT) == 1001
            deadline = FLUSH_TIMEOUT + SHUTDOWN_SLACK
            while process.poll() is None and time.monotonic() - sent < 30:
                time.sleep(0.1)
            took = time.monotonic() - sent
            assert process.poll() is not None, f"still running {took:.0f} s after SIGTERM"
            print(f"exited {took:.1f} s after SIGTERM")
            assert took < deadline, f"shutdown took {took:.1f} s (bound {deadline} s)"
            standalone.process = None
            log = standalone.log_path.read_text(errors="replace")
            assert re.search(
                rf"document {doc['id']}: shut down with \d+ updates? \(\d+ bytes\) unwritten", log
            ), log[-3000:]
            assert re.search(r"shutdown: 1 document left \d+ updates? \(\d+ bytes\)", log)

            # The store comes back, a fresh server starts: the edit is not stored ...
            db.start()
            standalone.start()
            content = standalone.request("GET", f"documents/{doc['id']}/content", token=alice)
            assert content["content"] == "start"
            # ... until the client, which kept it, reconnects and sends it again.
            async with yclient(url, doc=writer.doc):
                await eventually(
                    lambda: (
                        standalone.request("GET", f"documents/{doc['id']}/content", token=alice)[
                            "content"
                        ]
                        == "start kept by the client"
                    ),
                    what="the client's edit stored by the fresh server",
                )
    finally:
        standalone.stop()
        db.stop()


class StoreDown(StoreError):
    pass


async def test_room_manager_close_is_bounded_and_reports_what_it_left(tmp_path, caplog):
    """The same bound without a process: a store that refuses every write holds each
    room's flush forever; close() returns after the bound, every writer stopped, and
    says which documents kept how many updates."""
    async with document_store(tmp_path) as store:
        now = datetime.now(timezone.utc)
        await store.create(DocumentRecord("d2", "doc", "file", "alice", now, now), None)
        manager = RoomManager(store, RoomConfig(write_delay=0.01))
        manager.start()
        conns = []
        for doc_id in ("d1", "d2"):
            room = await manager.get(doc_id, "file")
            conn = FakeConnection("alice")
            room.join(conn)
            conns.append(conn)

        async def refuse(*args, **kwargs):
            raise StoreDown("the store is down")

        store.append = refuse  # type: ignore[method-assign]
        _, updates = edits(3)
        for update in updates:
            manager.open_rooms["d1"].receive(conns[0], protocol.update_message(update))
        manager.open_rooms["d2"].receive(conns[1], protocol.update_message(updates[0]))
        rooms = list(manager.open_rooms.values())
        caplog.set_level(logging.ERROR, logger="jupyter_collab_docs.rooms")
        started = time.monotonic()
        await asyncio.wait_for(manager.close(flush_timeout=0.5), timeout=10)
        assert time.monotonic() - started < 3
        assert [c.closed and c.closed[0] for c in conns] == [1001, 1001]
        assert all(room.closed and room.writer_stopped for room in rooms)
        messages = [r.getMessage() for r in caplog.records]
        assert "document d1: shut down with 3 updates" in "\n".join(messages)
        assert "document d2: shut down with 1 update (" in "\n".join(messages)
        assert any(m.startswith("shutdown: 2 documents left 4 updates (") for m in messages)
