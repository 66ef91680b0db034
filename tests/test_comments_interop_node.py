"""Comments with the npm clients (tests/js/comments.mjs: yjs and y-websocket as pinned in
tests/js): relative positions made by Yjs are accepted and stored as sent, the ones the
server makes resolve in Yjs, and the comment events reach a y-websocket provider that
registered a handler for frame type 100. Needs ``npm ci --prefix tests/js``."""

from __future__ import annotations

import asyncio
import json
import sys

from tests.test_interop_node import JS_DIR, NODE_TIMEOUT, node_binary, rooms_url


async def test_yjs_positions_and_events(api, ws_url, tokens):
    reply = await api(
        "alice", "POST", "documents", {"name": "n", "type": "file", "content": "hello world"}
    )
    doc_id = reply.body["id"]
    spec = {"from": 6, "to": 11}
    proc = await asyncio.create_subprocess_exec(
        node_binary(),
        str(JS_DIR / "comments.mjs"),
        rooms_url(ws_url),
        doc_id,
        tokens["alice"],
        json.dumps(spec),
        cwd=JS_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), NODE_TIMEOUT)
    sys.stderr.write(err.decode())
    assert proc.returncode == 0, err.decode()
    result = json.loads(out.decode().strip().splitlines()[-1])

    by_yjs, by_server = result["byYjs"], result["byServer"]
    for thread in (by_yjs, by_server):
        assert thread["quote"] == "world"
        assert thread["position"] == {"attached": True, "start": 6, "end": 11, "cell_index": None}
    # the server's positions, decoded and resolved by Yjs, name the same range
    assert result["resolved"] == [6, 11]
    # both creations reached the provider's handler for type 100, in order
    # (the mention report, "notifications", is the commenter's own: never in an event)
    assert [(e["event"], e["thread"]) for e in result["events"]] == [
        ("thread.created", {k: v for k, v in by_yjs.items() if k != "notifications"}),
        ("thread.created", {k: v for k, v in by_server.items() if k != "notifications"}),
    ]
    assert "notifications" in by_yjs
    listed = (await api("alice", "GET", f"documents/{doc_id}/threads")).body["threads"]
    assert listed[0]["anchor"] == by_yjs["anchor"]  # stored as Yjs encoded it
