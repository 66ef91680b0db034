"""The reference deployment on one machine (issue #18): ``scripts/deploy-local start``
runs nginx (deploy/nginx.conf) in front of three ``jupyter collab-docs`` nodes
(deploy/jupyter_server_config.py) on FerretDB, MariaDB, Redis behind Sentinel and Kafka,
and these tests drive it through nginx with pycrdt clients and the npm y-websocket client.

One stack for the module (about 15 s to start), one worker (xdist_group). Tests that stop
or kill a node start it again; each test starts with the three nodes ready.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
import tornado.websocket
from anyio.abc import TaskGroup
from pycrdt import (
    Doc,
    Text,
    YMessageType,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)

from jupyter_collab_docs.testing import eventually
from tests.audit.conftest import consume
from tests.http_json import request_json
from tests.servers.redis import pid_alive
from tests.test_interop_node import CLIENT, JS_DIR, NODE_TIMEOUT, node_binary

# One worker runs the module (its stack is per module). The rolling restart starts three
# Jupyter servers one after the other: past the suite's 120 s on a loaded machine.
pytestmark = [pytest.mark.xdist_group("deploy-local-stack"), pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
DEPLOY_LOCAL = REPO / "scripts" / "deploy-local"
CLOSE_GOING_AWAY = 1001


@dataclass
class Stack:
    """The running stack: its settings (``scripts/deploy-local env``) and users."""

    dir: Path
    env: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def nginx(self) -> str:
        return self.env["NGINX_URL"]

    @property
    def node_ports(self) -> list[int]:
        return [int(p) for p in self.env["NODE_PORTS"].split()]

    def node_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.node_ports[n - 1]}"

    def run(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run(
            [str(DEPLOY_LOCAL), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=stack_environment(self.dir),
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"deploy-local {' '.join(args)}:\n{done.stderr}"
        return done.stdout

    def ws(self, doc_id: str, user: str, base: str | None = None) -> str:
        base = (base or self.nginx).replace("http://", "ws://")
        return f"{base}/api/collab-docs/rooms/{doc_id}?token={self.tokens[user]}"

    def api(
        self, user: str | None, method: str, path: str, body: Any = None, base: str | None = None
    ) -> tuple[int, Any]:
        token = self.tokens[user] if user else None
        return request_json(f"{base or self.nginx}/api/collab-docs/{path}", method, body, token)

    def node_running(self, n: int) -> bool:
        return pid_alive(self.dir / f"node{n}" / "server.pid")


def stack_environment(directory: Path) -> dict[str, str]:
    return {
        **os.environ,
        "COLLAB_DOCS_DEPLOY_DIR": str(directory),
        "COLLAB_DOCS_PYTHON": sys.executable,
        # every server the stack starts is stopped by a watcher if this process dies
        "COLLAB_DOCS_OWNER_PID": str(os.getpid()),
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("deploy-local")
    started = time.monotonic()
    done = subprocess.run(
        [str(DEPLOY_LOCAL), "start"],
        capture_output=True,
        text=True,
        timeout=300,
        env=stack_environment(directory),
        stdin=subprocess.DEVNULL,
    )
    try:
        assert done.returncode == 0, f"deploy-local start failed:\n{done.stdout}\n{done.stderr}"
        print(f"stack started in {time.monotonic() - started:.1f}s")
        env = dict(
            line.split("=", 1)
            for line in subprocess.run(
                [str(DEPLOY_LOCAL), "env"],
                capture_output=True,
                text=True,
                check=True,
                env=stack_environment(directory),
            ).stdout.splitlines()
            if "=" in line
        )
        found = Stack(directory, {k: v.strip('"') for k, v in env.items()})
        # users are created once, by the CLI on the shared access database
        for name, admin in (("alice", False), ("bob", False), ("carol", True)):
            args = ["cli", "users", "add", name] + (["--admin"] if admin else [])
            found.tokens[name] = found.run(*args).strip().splitlines()[-1]
        yield found
    finally:
        subprocess.run(
            [str(DEPLOY_LOCAL), "stop"], env=stack_environment(directory), timeout=300, check=False
        )


@pytest.fixture
def nodes_up(stack: Stack) -> Stack:
    """Every node runs and is ready (a test before may have stopped one)."""
    for n in (1, 2, 3):
        if not stack.node_running(n):
            stack.run("node", "start", str(n))
    return stack


# -- clients -------------------------------------------------------------------------------


class Client:
    """A y-websocket client (pycrdt's sync protocol over tornado's WebSocket) that, like
    the npm client, reconnects after every close (after ``delay``) and keeps its document
    meanwhile: what it typed offline goes out in the sync of the next connection."""

    def __init__(self, name: str, url: str, delay: float = 0.1) -> None:
        self.name = name
        self.url = url
        self.delay = delay
        self.doc: Doc = Doc()
        self.text = self.doc.get("source", type=Text)
        self.stop = anyio.Event()
        self.connects = 0
        self.close_codes: list[int | None] = []
        self.synced = anyio.Event()
        self._conn: Any = None
        self._applying = False
        self.doc.observe(self._local_update)

    def _local_update(self, event: Any) -> None:
        if self._applying or self._conn is None:
            return  # a remote update, or offline: the next sync sends it
        with contextlib.suppress(tornado.websocket.WebSocketClosedError):
            self._conn.write_message(create_update_message(event.update), binary=True)

    async def run(self) -> None:
        while not self.stop.is_set():
            try:
                conn = await tornado.websocket.websocket_connect(self.url)
            except Exception:
                await anyio.sleep(self.delay)
                continue
            self.connects += 1
            self._conn = conn
            conn.write_message(create_sync_message(self.doc), binary=True)
            async with anyio.create_task_group() as tg:

                async def stopper(conn: Any) -> None:
                    await self.stop.wait()
                    conn.close()

                tg.start_soon(stopper, conn)
                while True:
                    message = await conn.read_message()
                    if message is None:
                        break
                    if message[0] == YMessageType.SYNC:
                        self._applying = True
                        try:
                            reply = handle_sync_message(message[1:], self.doc)
                        finally:
                            self._applying = False
                        if reply is not None:
                            conn.write_message(reply, binary=True)
                        if message[1] == 1:  # sync step 2: we hold the server's state
                            self.synced.set()
                tg.cancel_scope.cancel()
            self._conn = None
            self.close_codes.append(conn.close_code)
            if not self.stop.is_set():
                await anyio.sleep(self.delay)

    @property
    def value(self) -> str:
        return str(self.text)


async def type_tokens(
    client: Client, count: int, rng: random.Random, pace: float, first: int = 0
) -> list[str]:
    """``count`` unique tokens (numbered from ``first``), each inserted between two others
    (never inside one)."""
    typed = []
    for i in range(first, first + count):
        current = client.value
        gaps = [0, *(j + 1 for j, char in enumerate(current) if char == ">")]
        token = f"<{client.name}:{i}>"
        client.text.insert(rng.choice(gaps), token)
        typed.append(token)
        await anyio.sleep(pace)
    return typed


async def start_synced(tg: TaskGroup, clients: list[Client]) -> None:
    """Run every client in ``tg`` and wait until each has synced (10 s each)."""
    for client in clients:
        tg.start_soon(client.run)
    for client in clients:
        with anyio.fail_after(10):
            await client.synced.wait()


def start_typing(
    editors: TaskGroup,
    clients: list[Client],
    typed: list[str],
    count: int,
    delay: float,
    first_seed: int,
) -> None:
    """Each client types ``count`` tokens ``delay`` apart (seeded ``first_seed + i``); the
    tokens go to ``typed``."""

    async def edit(client: Client, seed: int) -> None:
        typed.extend(await type_tokens(client, count, random.Random(seed), delay))

    for i, client in enumerate(clients):
        editors.start_soon(edit, client, first_seed + i)


def missing(client: Client, tokens: list[str]) -> list[str]:
    text = client.value
    return [t for t in tokens if text.count(t) != 1]


async def all_hold(clients: list[Client], tokens: list[str], timeout: float, what: str) -> None:
    try:
        await eventually(lambda: not any(missing(c, tokens) for c in clients), timeout, what)
    except AssertionError:
        report = {c.name: missing(c, tokens)[:5] for c in clients}
        raise AssertionError(f"{what}: tokens missing or doubled: {report}") from None
    assert len({c.value for c in clients}) == 1, f"{what}: the clients differ"


def new_document(stack: Stack, content: str = "", share_bob: str | None = "editor") -> str:
    status, doc = stack.api(
        "alice", "POST", "documents", {"name": "d", "type": "file", "content": content}
    )
    assert status == 201, doc
    if share_bob:
        status, _ = stack.api(
            "alice", "PUT", f"documents/{doc['id']}/shares/user:bob", {"role": share_bob}
        )
        assert status == 200
    return str(doc["id"])


def health_node(stack: Stack, base: str | None = None) -> str:
    status, body = stack.api("carol", "GET", "health", base=base)
    assert status == 200, body
    return str(body["node"])


# -- the tests -----------------------------------------------------------------------------


def test_probes_round_robin_and_users_seen_by_every_node(nodes_up: Stack):
    stack = nodes_up
    for n in (1, 2, 3):
        for probe, expected in (("live", "ok"), ("ready", "ready")):
            status, body = stack.api(None, "GET", probe, base=stack.node_url(n))
            assert (status, body) == (200, {"status": expected}), (n, probe)
        # users created once (by the CLI) are known to every node
        status, me = stack.api("alice", "GET", "me", base=stack.node_url(n))
        assert (status, me["username"]) == (200, "alice")
        assert health_node(stack, stack.node_url(n)) == f"node{n}"
    # nginx goes round the three nodes
    assert {health_node(stack) for _ in range(6)} == {"node1", "node2", "node3"}
    # the probes leak nothing, through nginx either
    assert stack.api(None, "GET", "ready") == (200, {"status": "ready"})
    assert stack.api(None, "GET", "health")[0] == 401


async def test_a_share_changed_through_one_node_is_enforced_on_another(nodes_up: Stack):
    stack = nodes_up
    doc_id = new_document(stack, "shared", share_bob="editor")
    node2 = stack.node_url(2)
    bob = await tornado.websocket.websocket_connect(stack.ws(doc_id, "bob", node2))
    assert await bob.read_message() is not None  # the room answers: bob holds a socket
    # alice lowers bob's role through node 1: node 2 closes bob's socket (reconnect)
    status, _ = stack.api(
        "alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "viewer"},
        base=stack.node_url(1),
    )  # fmt: skip
    assert status == 200
    with anyio.fail_after(10):
        while await bob.read_message() is not None:
            pass
    assert bob.close_code == 4403
    # then revokes it through node 3: bob cannot come back on node 2
    status, _ = stack.api(
        "alice", "DELETE", f"documents/{doc_id}/shares/user:bob", base=stack.node_url(3)
    )
    assert status == 204
    again = await tornado.websocket.websocket_connect(stack.ws(doc_id, "bob", node2))
    with anyio.fail_after(10):
        while await again.read_message() is not None:
            pass
    assert again.close_code == 4404


async def run_node_client(stack: Stack, doc_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    rooms = f"{stack.nginx.replace('http://', 'ws://')}/api/collab-docs/rooms"
    proc = await anyio.open_process(
        [node_binary(), str(CLIENT), rooms, doc_id, stack.tokens["bob"], json.dumps(spec)],
        cwd=JS_DIR,
    )
    async with proc:
        with anyio.fail_after(NODE_TIMEOUT):
            out = b"".join([chunk async for chunk in proc.stdout])  # type: ignore[union-attr]
            err = b"".join([chunk async for chunk in proc.stderr])  # type: ignore[union-attr]
            await proc.wait()
    assert proc.returncode == 0, f"client.mjs exited with {proc.returncode}:\n{err.decode()}"
    return json.loads(out.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


async def test_edits_converge_across_nodes_with_pycrdt_and_npm_clients(nodes_up: Stack):
    stack = nodes_up
    doc_id = new_document(stack, "")
    # six pycrdt clients through nginx land on the three nodes (round-robin)
    clients = [Client(f"p{i}", stack.ws(doc_id, "alice")) for i in range(6)]
    typed: list[str] = []
    async with anyio.create_task_group() as tg:
        await start_synced(tg, clients)
        async with anyio.create_task_group() as editors:
            start_typing(editors, clients, typed, 25, 0.01, first_seed=0)
        # the npm y-websocket client, through nginx too, adds its own and sees everyone's
        result = await run_node_client(
            stack,
            doc_id,
            {"mode": "edit", "edits": [{"insert": "<npm>", "at": "start"}], "expect": typed[:3]},
        )
        assert all(t in result["text"] for t in typed[:3])
        await all_hold(clients, [*typed, "<npm>"], 10, "pycrdt and npm clients on three nodes")
        for client in clients:
            client.stop.set()
    assert all(c.connects == 1 for c in clients), "no client lost its connection"


async def test_a_killed_node_is_routed_around_and_its_clients_keep_their_edits(
    nodes_up: Stack,
):
    stack = nodes_up
    doc_id = new_document(stack, "")
    clients = [Client(f"k{i}", stack.ws(doc_id, "alice")) for i in range(6)]
    typed: list[str] = []
    async with anyio.create_task_group() as tg:
        await start_synced(tg, clients)
        async with anyio.create_task_group() as editors:
            start_typing(editors, clients, typed, 60, 0.03, first_seed=100)
            await anyio.sleep(0.5)
            await anyio.to_thread.run_sync(stack.run, "node", "kill", "2")  # a crash
            killed = time.monotonic()
        cut = [c for c in clients if c.connects > 1]
        assert cut, "some clients were on the killed node and reconnected"
        await all_hold(clients, typed, 15, "every edit, after the crash, on every client")
        print(f"{len(cut)} clients reconnected; converged {time.monotonic() - killed:.2f}s after")
        assert all(c.close_codes[0] != CLOSE_GOING_AWAY for c in cut), "a crash sends no 1001"
        for client in clients:
            client.stop.set()
    # a new client, through nginx, finds every edit
    await fresh_client_holds(stack, doc_id, typed)


async def fresh_client_holds(stack: Stack, doc_id: str, tokens: list[str]) -> None:
    fresh = Client("fresh", stack.ws(doc_id, "bob"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(fresh.run)
        with anyio.fail_after(10):
            await fresh.synced.wait()
        await all_hold([fresh], tokens, 10, "a new client")
        fresh.stop.set()


async def test_a_draining_node_refuses_new_work_then_sends_its_clients_elsewhere(
    nodes_up: Stack,
):
    stack = nodes_up
    doc_id = new_document(stack, "")
    port2 = stack.node_ports[1]
    # a socket held on node 2 itself (it does not type), to read the close code it sends
    direct = Client("direct", stack.ws(doc_id, "alice", stack.node_url(2)))
    clients = [Client(f"d{i}", stack.ws(doc_id, "alice")) for i in range(6)]
    typed: list[str] = []
    async with anyio.create_task_group() as tg:
        await start_synced(tg, [direct, *clients])
        async with anyio.create_task_group() as editors:
            start_typing(editors, clients, typed, 60, 0.03, first_seed=200)
            await anyio.sleep(0.5)
            pid = int((stack.dir / "node2" / "server.pid").read_text())
            os.kill(pid, 15)  # SIGTERM: drain
            signalled = time.monotonic()
            # the node closes its listening socket before it closes its rooms' sockets
            await eventually(lambda: bool(direct.close_codes), 10, "node 2 closed the socket")
            assert direct.close_codes[0] == CLOSE_GOING_AWAY
            closed = time.monotonic()
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", port2), timeout=1).close()
            # its clients reconnect through nginx at once, to another node
            drained = [c for c in clients if c.close_codes]
            assert drained, "some clients were on node 2"
            assert all(code == CLOSE_GOING_AWAY for c in drained for code in c.close_codes)
            await eventually(
                lambda: all(c.connects >= 2 for c in drained), 3, "reconnected through nginx"
            )
            print(
                f"{len(drained)} sockets closed with 1001 {closed - signalled:.2f}s after "
                f"SIGTERM, reconnected within {time.monotonic() - closed:.2f}s"
            )
        direct.stop.set()  # node 2 is gone: the direct client cannot come back
        await all_hold(clients, typed, 15, "every edit, after the drain")
        for client in clients:
            client.stop.set()
    await eventually(lambda: not stack.node_running(2), 15, "node 2 exits after its drain")
    log = (stack.dir / "node2" / "node.log").read_text(errors="replace")
    assert "unwritten" not in log, "the drained node flushed everything"
    await fresh_client_holds(stack, doc_id, typed)


async def test_a_rolling_restart_of_every_node_loses_nothing(nodes_up: Stack):
    stack = nodes_up
    doc_id = new_document(stack, "")
    clients = [Client(f"r{i}", stack.ws(doc_id, "alice")) for i in range(6)]
    typed: list[str] = []
    stop_typing = anyio.Event()
    async with anyio.create_task_group() as tg:
        await start_synced(tg, clients)

        async def edit(client: Client, seed: int) -> None:
            rng = random.Random(seed)
            i = 0
            while not stop_typing.is_set():
                typed.extend(await type_tokens(client, 1, rng, 0.05, first=i))
                i += 1

        async with anyio.create_task_group() as editors:
            for i, client in enumerate(clients):
                editors.start_soon(edit, client, 300 + i)
            started = time.monotonic()
            out = await anyio.to_thread.run_sync(stack.run, "rolling-restart")
            stop_typing.set()
        print(f"rolling restart took {time.monotonic() - started:.1f}s: {out.strip()}")
        assert out.count("restarted") == 3
        assert all(c.connects >= 2 for c in clients), "every node restarted under someone"
        await all_hold(clients, typed, 15, "every edit, after the rolling restart")
        print(f"{len(typed)} edits, each on every client exactly once")
        for client in clients:
            client.stop.set()
    await fresh_client_holds(stack, doc_id, typed)


async def test_the_audit_topic_holds_the_session_in_order(nodes_up: Stack):
    stack = nodes_up
    doc_id = new_document(stack, "base", share_bob="editor")
    alice = Client("alice", stack.ws(doc_id, "alice"))
    bob = Client("bob", stack.ws(doc_id, "bob"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(alice.run)
        with anyio.fail_after(10):
            await alice.synced.wait()
        tg.start_soon(bob.run)  # the next node, through nginx
        with anyio.fail_after(10):
            await bob.synced.wait()
        alice.text.insert(len(alice.text), " from alice")
        await eventually(lambda: bob.value == "base from alice", 5)
        bob.stop.set()
        await anyio.sleep(0.5)
        alice.stop.set()
    status, _ = stack.api("alice", "DELETE", f"documents/{doc_id}/shares/user:bob")
    assert status == 204
    await anyio.sleep(0.5)
    status, _ = stack.api("alice", "DELETE", f"documents/{doc_id}")
    assert status == 204

    topic = stack.env["COLLAB_DOCS_AUDIT_URL"].rsplit("/", 1)[1]
    records = await anyio.to_thread.run_sync(
        lambda: consume(
            stack.env["KAFKA_BOOTSTRAP"],
            topic,
            until=lambda rs: any(
                b'"document.deleted"' in v and doc_id.encode() in v for _, v in rs
            ),
        )
    )
    events = [json.loads(v) for k, v in records if k == doc_id.encode()]
    assert len({e["event_id"] for e in events}) == len(events), "no event twice"

    # Each node's events reach the topic in the order it emitted them; between nodes,
    # the topic's order is the order of arrival, so the session is read by timestamp
    # (one clock here), the topic's order breaking ties.
    def when(event: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(event["timestamp"].removesuffix("Z"))

    for node in {e["node"] for e in events}:
        stamps = [when(e) for e in events if e["node"] == node]
        assert stamps == sorted(stamps), f"{node}'s events are out of order in the topic"
    timeline = sorted(events, key=when)
    session = [
        (e["kind"], e["actor"])
        for e in timeline
        if e["kind"] not in ("document.edited", "version.created")
    ]
    assert session == [
        ("document.created", "alice"),
        ("share.granted", "alice"),
        ("session.joined", "alice"),
        ("session.joined", "bob"),
        ("session.left", "bob"),
        ("session.left", "alice"),
        ("share.revoked", "alice"),
        ("document.deleted", "alice"),
    ]
    assert ("document.edited", "alice") in [(e["kind"], e["actor"]) for e in events]
    assert len({e["node"] for e in events}) >= 2, "the session crossed nodes"
