"""Interop with the npm ``y-websocket`` client (tests/js/client.mjs; y-websocket, yjs and
ws pinned in tests/js/package-lock.json): a Node client and a pycrdt client converge on
one room, awareness from a Node client reaches another with the server's ``user``, and a
Node client without valid credentials sees close code 4401.

Needs ``npm ci --prefix tests/js`` first; without it these tests fail, never skip."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Text

from jupyter_collab_docs.testing import eventually, yclient

JS_DIR = Path(__file__).parent / "js"
CLIENT = JS_DIR / "client.mjs"
NODE_TIMEOUT = 25.0  # client.mjs exits non-zero by itself after 20 s


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: these tests need Node.js >= 18")
    if not (JS_DIR / "node_modules" / "y-websocket").is_dir():
        pytest.fail(
            f"{JS_DIR / 'node_modules'} is missing: run `npm ci --prefix tests/js` "
            "(installs the y-websocket, yjs and ws pinned in tests/js/package-lock.json)"
        )
    return node


def rooms_url(ws_url: Callable[..., str]) -> str:
    """The rooms endpoint without a room: WebsocketProvider appends "/ROOM?token=..."."""
    return ws_url("ROOM", user=None).removesuffix("/ROOM")


async def run_node(ws_url: Callable[..., str], room: str, token: str, spec: dict[str, Any]):
    """Run client.mjs as a subprocess (the server's loop keeps running) and return the
    JSON it prints; fail with its stderr if it exits non-zero."""
    proc = await asyncio.create_subprocess_exec(
        node_binary(),
        str(CLIENT),
        rooms_url(ws_url),
        room,
        token,
        json.dumps(spec),
        cwd=JS_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), NODE_TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    sys.stderr.write(err.decode())  # shown by pytest when the test fails
    assert proc.returncode == 0, f"client.mjs exited with {proc.returncode}:\n{err.decode()}"
    lines = out.decode().strip().splitlines()
    assert lines, f"client.mjs printed nothing:\n{err.decode()}"
    return json.loads(lines[-1])


async def new_file(api: Any, content: str) -> str:
    reply = await api(
        "alice", "POST", "documents", {"name": "interop", "type": "file", "content": content}
    )
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


def awareness_user(me: dict[str, Any]) -> dict[str, Any]:
    return {k: me[k] for k in ("name", "display_name", "initials", "color")}


async def test_node_and_python_clients_converge_on_one_text(api, ws_url, tokens):
    doc_id = await new_file(api, "HEAD|TAIL")
    node_markers = ["<node-offline>"] + [f"<n{i}>" for i in range(6)]
    py_markers = ["<py-offline>"] + [f"<p{i}>" for i in range(6)]
    # Both sides edit before connecting, so those edits are concurrent whatever the timing;
    # then both type at the start and at the end of the text at the same time (inserts at
    # the ends never split another marker), and Node deletes the "|" of the initial text.
    node_spec = {
        "mode": "edit",
        "offline": [{"insert": node_markers[0], "at": "start"}],
        "edits": [{"delete": "|"}]
        + [
            {"insert": m, "at": "start" if i % 2 else "end"} for i, m in enumerate(node_markers[1:])
        ],
        "expect": py_markers,
        "delay_ms": 15,
    }
    node = asyncio.ensure_future(run_node(ws_url, doc_id, tokens["alice"], node_spec))
    try:
        doc = Doc()
        doc.get("source", type=Text).insert(0, py_markers[0])
        async with yclient(ws_url(doc_id, "alice"), doc) as client:
            for i, marker in enumerate(py_markers[1:]):
                text = client.text
                text.insert(0 if i % 2 == 0 else len(text), marker)
                await asyncio.sleep(0.015)
            await eventually(
                lambda: (
                    all(m in str(client.text) for m in node_markers) and "|" not in str(client.text)
                ),
                15,
                "the Node client's edits at the Python client",
            )
            result = await node  # Node is done once it has every Python marker
            python_text = str(client.text)
    finally:
        if not node.done():
            node.cancel()
            await asyncio.gather(node, return_exceptions=True)

    node_text = result["text"]
    assert node_text == python_text
    for marker in node_markers + py_markers + ["HEAD", "TAIL"]:
        assert node_text.count(marker) == 1, (marker, node_text)
    assert len(node_text) == len("HEADTAIL") + sum(map(len, node_markers + py_markers))
    content = await api("alice", "GET", f"documents/{doc_id}/content")
    assert content.body == {"type": "file", "format": "text", "content": node_text}


async def test_node_awareness_reaches_another_client_with_the_server_user(api, ws_url, tokens):
    doc_id = await new_file(api, "")
    alice = awareness_user((await api("alice", "GET", "me")).body)
    carol = awareness_user((await api("carol", "GET", "me")).body)
    fake = {"name": "mallory", "display_name": "Mallory", "initials": "M", "color": "#000000"}
    # Two providers in one Node process, BroadcastChannel off: the server is their only
    # link. The announcer (alice) claims to be mallory; the watcher is carol (an admin).
    result = await run_node(
        ws_url,
        doc_id,
        tokens["alice"],
        {
            "mode": "awareness",
            "watcher_token": tokens["carol"],
            "state": {"user": fake, "cursor": {"index": 3}},
            "update": {"user": {"name": "mallory"}, "cursor": {"index": 7}},
        },
    )
    print(f"the watcher saw {result['first']} then {result['updated']}")
    assert alice["name"] == "alice"
    assert result["first"] == {"user": alice, "cursor": {"index": 3}}
    assert result["updated"] == {"user": alice, "cursor": {"index": 7}}
    watcher_state = result["announcer_view"][str(result["watcher_id"])]
    assert watcher_state == {"watching": True, "user": carol}
    # Once the announcer left, its state is gone at the watcher.
    assert str(result["announcer_id"]) not in result["after_leave"]
    # Only the announcer's own local state ever held the fake user.
    assert "mallory" not in json.dumps([result["first"], result["updated"], result["after_leave"]])


@pytest.mark.parametrize("token", ["not-a-real-token", ""], ids=["bad-token", "no-token"])
async def test_node_client_without_a_valid_token_is_closed_with_4401(api, ws_url, token):
    doc_id = await new_file(api, "secret")
    result = await run_node(ws_url, doc_id, token, {"mode": "close"})
    print(f"close code {result['close_code']} reason {result['reason']!r}")
    assert result["close_code"] == 4401
    assert result["opened"] is True  # upgraded, then closed: y-websocket can see the code
