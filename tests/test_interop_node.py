"""Interop with the npm ``y-websocket`` client (tests/js/client.mjs, versions pinned in
tests/js/package-lock.json): a Node client and a pycrdt client converge on one room, the
server's rewrite of awareness ``user`` fields reaches Node clients, refusals close 4401.

Needs ``npm ci --prefix tests/js`` first; without it these tests fail (never skip)."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Text

from .conftest import eventually, yclient

JS_DIR = Path(__file__).parent / "js"
CLIENT = JS_DIR / "client.mjs"
NODE_TIMEOUT = 25.0  # client.mjs gives up by itself after 20 s


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: these tests need Node.js >= 18 on PATH")
    if not (JS_DIR / "node_modules" / "y-websocket").is_dir():
        pytest.fail(
            f"{JS_DIR / 'node_modules'} is missing: run `npm ci --prefix tests/js` "
            "(installs the pinned y-websocket, yjs and ws from tests/js/package-lock.json)"
        )
    return node


class NodeClient:
    """One run of client.mjs, started without blocking the server's event loop."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, ws_url: Any, room: str, user: str | None, spec: dict[str, Any]):
        node = node_binary()
        # ws_url gives ".../rooms/<room>?token=..."; the provider adds "/<room>?token=" itself.
        server_url = ws_url(room, user=None).rsplit("/", 1)[0]
        token = ws_url(room, user=user).partition("?token=")[2] if user else ""
        proc = await asyncio.create_subprocess_exec(
            node,
            str(CLIENT),
            server_url,
            room,
            token,
            json.dumps(spec),
            cwd=JS_DIR,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def result(self) -> dict[str, Any]:
        try:
            out, err = await asyncio.wait_for(self.proc.communicate(), NODE_TIMEOUT)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            pytest.fail("the Node client did not finish in time")
        assert self.proc.returncode == 0, (
            f"the Node client exited with {self.proc.returncode}:\n{err.decode()}"
        )
        if err:
            sys.stderr.write(err.decode())  # the client's diagnostics, shown on failure
        lines = out.decode().strip().splitlines()
        assert lines, f"the Node client printed nothing:\n{err.decode()}"
        return json.loads(lines[-1])

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


async def run_node(ws_url: Any, room: str, user: str | None, spec: dict[str, Any]):
    client = await NodeClient.start(ws_url, room, user, spec)
    try:
        return await client.result()
    finally:
        client.kill()


async def new_file(api: Any, content: str) -> str:
    reply = await api("alice", "POST", "documents", {"name": "interop", "type": "file", "content": content})
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


async def test_node_and_python_clients_converge_on_one_text(api, ws_url):
    doc_id = await new_file(api, "HEAD|TAIL")
    node_markers = ["<node-offline>"] + [f"<n{i}>" for i in range(6)]
    py_markers = ["<py-offline>"] + [f"<p{i}>" for i in range(6)]

    # Both sides edit before connecting: those edits are concurrent whatever the timing.
    # Then both type at the start and the end while the other does the same.
    node = await NodeClient.start(
        ws_url,
        doc_id,
        "alice",
        {
            "mode": "edit",
            "offline": [{"insert": "<node-offline>", "at": "start"}],
            "edits": [{"delete": "|"}]
            + [{"insert": m, "at": "start" if i % 2 else "end"} for i, m in enumerate(node_markers[1:])],
            "expect": py_markers,
            "delay_ms": 15,
        },
    )
    try:
        doc = Doc()
        doc.get("source", type=Text).insert(0, "<py-offline>")
        async with yclient(ws_url(doc_id, "alice"), doc) as client:
            for i, marker in enumerate(py_markers[1:]):
                text = client.text
                text.insert(0 if i % 2 == 0 else len(text), marker)
                await asyncio.sleep(0.015)
            await eventually(
                lambda: all(m in str(client.text) for m in node_markers) and "|" not in str(client.text),
                15,
                "the Node client's edits at the Python client",
            )
            result = await node.result()
            python_text = str(client.text)
    finally:
        node.kill()

    node_text = result["text"]
    assert node_text == python_text
    for marker in node_markers + py_markers + ["HEAD", "TAIL"]:
        assert node_text.count(marker) == 1, (marker, node_text)
    assert "|" not in node_text
    assert len(node_text) == len("HEADTAIL") + sum(map(len, node_markers + py_markers))

    async def rest_text() -> str:
        return (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]

    assert await rest_text() == node_text


async def test_node_awareness_reaches_another_client_with_the_server_user(api, ws_url):
    doc_id = await new_file(api, "")
    alice = (await api("alice", "GET", "me")).body
    fake = {"name": "mallory", "display_name": "Mallory", "initials": "M", "color": "#000000"}
    result = await run_node(
        ws_url,
        doc_id,
        "alice",
        {
            "mode": "awareness",
            "watcher_token": ws_url(doc_id, "carol").partition("?token=")[2],
            "state": {"user": fake, "cursor": {"index": 3}},
            "update": {"user": {"name": "mallory"}, "cursor": {"index": 7}},
        },
    )
    expected_user = {k: alice[k] for k in ("name", "display_name", "initials", "color")}
    assert expected_user["name"] == "alice"
    assert result["first"] == {"user": expected_user, "cursor": {"index": 3}}
    assert result["updated"] == {"user": expected_user, "cursor": {"index": 7}}
    # The announcer sees the watcher (carol, an administrator) under carol's identity too.
    watcher_state = result["announcer_view"][str(result["watcher_id"])]
    assert watcher_state["user"]["name"] == "carol"
    # And once the announcer left, its state is gone at the watcher.
    assert str(result["announcer_id"]) not in result["after_leave"]
    # Nobody but the announcer itself (its local state) ever sees the fake user.
    seen_by_others = [result["first"], result["updated"], watcher_state, result["after_leave"]]
    assert "mallory" not in json.dumps(seen_by_others)


@pytest.mark.parametrize("user", ["bad-token", None])
async def test_node_client_without_a_valid_token_is_closed_with_4401(api, ws_url, user):
    doc_id = await new_file(api, "secret")
    spec = {"mode": "close"}
    if user == "bad-token":
        client = NodeClient(
            await asyncio.create_subprocess_exec(
                node_binary(),
                str(CLIENT),
                ws_url(doc_id, user=None).rsplit("/", 1)[0],
                doc_id,
                "not-a-real-token",
                json.dumps(spec),
                cwd=JS_DIR,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        )
        try:
            result = await client.result()
        finally:
            client.kill()
    else:
        result = await run_node(ws_url, doc_id, None, spec)
    print(f"{user or 'no token'}: close code {result['close_code']} ({result['reason']!r})")
    assert result["close_code"] == 4401
    assert result["opened"] is True  # upgraded, then closed: y-websocket sees the code
