"""What one accepted room connection costs besides its own work: nothing logged per
socket of a token client. An in-process server, real sockets."""

from __future__ import annotations

import logging

from jupyter_collab_docs.testing import RawClient


async def test_a_token_clients_sockets_log_no_line_each(api, ws_url, caplog) -> None:
    doc = (await api("alice", "POST", "documents", {"name": "d", "type": "file"})).body
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        socket = await RawClient.connect(ws_url(doc["id"], "alice"))
        assert await socket.recv() is not None  # joined: sync step 1
        socket.close()
    noted = [r for r in caplog.records if "Not setting a login cookie" in r.getMessage()]
    assert len(noted) == 3  # still said, for whoever debugs sign-in ...
    assert all(r.levelno == logging.DEBUG for r in noted)  # ... but not at INFO per socket
