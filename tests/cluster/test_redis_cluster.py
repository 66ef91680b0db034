"""A cluster of real ``jupyter collab-docs`` processes on one Redis (docs/cluster.md):
concurrent editing across nodes, a node killed mid-edit, Redis restarted and paused
mid-edit, a late node, and access changes crossing nodes."""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any

import anyio
import anyio.to_thread
import nbformat
from pycrdt import Array, Doc, Map, Text

from jupyter_collab_docs import protocol
from jupyter_collab_docs.protocol import AwarenessEntry
from jupyter_collab_docs.stores.sqlite import SQLiteDocumentStore
from jupyter_collab_docs.testing import RawClient, eventually, yclient
from tests.http_json import request_json

from .conftest import Cluster, Node


class LiveClient:
    """A y-websocket client (pycrdt Provider) running in its own task until ``stop``;
    ``error`` is set if its socket failed (the server went away)."""

    def __init__(self, name: str, url: str, doc: Doc | None = None) -> None:
        self.name = name
        self.url = url
        self.doc = doc if doc is not None else Doc()
        self.stop = anyio.Event()
        self.done = anyio.Event()
        self.error: BaseException | None = None

    async def run(self) -> None:
        try:
            async with yclient(self.url, self.doc):
                await self.stop.wait()
        except Exception as exc:
            self.error = exc
        finally:
            self.done.set()

    @property
    def text(self) -> str:
        return str(self.doc.get("source", type=Text))

    def cells(self) -> Any:
        return self.doc.get("cells", type=Array).to_py()


def api(node: Node, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    return request_json(f"{node.url}/api/collab-docs/{path}", method, body, token)


def create(
    cluster: Cluster,
    doc_type: str,
    content: Any,
    share_with_bob: bool = True,
    bob_role: str = "editor",
) -> str:
    """alice's document, created on the first node (shared with bob as ``bob_role``)."""
    node, token = cluster.nodes[0], cluster.tokens["alice"]
    status, doc = api(
        node, token, "POST", "documents", {"name": "d", "type": doc_type, "content": content}
    )
    assert status == 201, doc
    if share_with_bob:
        status, _ = api(
            node, token, "PUT", f"documents/{doc['id']}/shares/user:bob", {"role": bob_role}
        )
        assert status == 200
    return str(doc["id"])


async def stored_doc(cluster: Cluster, doc_id: str) -> Doc:
    """The document as a fresh load from the shared store rebuilds it."""
    store = SQLiteDocumentStore(cluster.data_dir / "documents.db")
    await store.start()
    try:
        loaded = await store.load(doc_id)
    finally:
        await store.close()
    doc: Doc = Doc()
    for record in ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates:
        doc.apply_update(record.data)
    return doc


async def until_stored(
    cluster: Cluster, doc_id: str, read: Any, expected: Any, timeout: float = 10
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        found = read(await stored_doc(cluster, doc_id))
        if found == expected:
            return
        assert time.monotonic() < deadline, f"the store holds {found!r}, not {expected!r}"
        await anyio.sleep(0.2)


def text_of(doc: Doc) -> str:
    return str(doc.get("source", type=Text))


def cells_of(doc: Doc) -> Any:
    return doc.get("cells", type=Array).to_py()


# -- random editing ----------------------------------------------------------------------


async def edit_text(
    client: LiveClient,
    rng: random.Random,
    ops: int,
    tokens: bool = False,
    first: int = 0,
    pace: tuple[float, float] = (0, 0.008),
) -> None:
    """Seeded random inserts and deletions (``tokens``: inserts of unique tokens only,
    numbered from ``first``, so that every one can be looked for at the end)."""
    for i in range(first, first + ops):
        text = client.doc.get("source", type=Text)
        length = len(text)
        if tokens:  # between two tokens, so that every token stays whole
            current = str(text)
            gaps = [0, *(j + 1 for j, char in enumerate(current) if char == ">")]
            text.insert(rng.choice(gaps), f"<{client.name}:{i}>")
        elif length > 20 and rng.random() < 0.3:
            start = rng.randrange(length - 3)
            del text[start : start + rng.randrange(1, 4)]
        else:
            text.insert(rng.randrange(length + 1), rng.choice(["a", "bc", "def ", "\n", "e"]))
        await anyio.sleep(rng.uniform(*pace))


def new_cell(rng: random.Random) -> Map:
    return Map(
        {
            "id": uuid.UUID(int=rng.getrandbits(128)).hex[:8],
            "cell_type": "markdown",
            "source": Text(rng.choice(["# title", "text", ""])),
            "metadata": Map(),
        }
    )


async def edit_notebook(client: LiveClient, rng: random.Random, ops: int) -> None:
    for _ in range(ops):
        cells = client.doc.get("cells", type=Array)
        n = len(cells)
        roll = rng.random()
        if n == 0 or roll < 0.1:
            cells.insert(rng.randrange(n + 1), new_cell(rng))
        elif roll < 0.15 and n > 2:
            del cells[rng.randrange(n)]
        elif roll < 0.25:
            cells[rng.randrange(n)]["metadata"][rng.choice("xyz")] = rng.randrange(100)
        else:
            source = cells[rng.randrange(n)]["source"]
            length = len(source)
            if length > 10 and rng.random() < 0.3:
                start = rng.randrange(length - 2)
                del source[start : start + 2]
            else:
                source.insert(rng.randrange(length + 1), rng.choice(["x", "yz", " ", "\n"]))
        await anyio.sleep(rng.uniform(0, 0.008))


def state_vector(doc: Doc) -> dict[int, int]:
    reader = protocol.Reader(doc.get_state())
    return {reader.var_uint(): reader.var_uint() for _ in range(reader.var_uint())}


async def converged(clients: list[LiveClient], read: Any, timeout: float, what: str) -> Any:
    try:
        await eventually(
            lambda: len({json.dumps(read(c.doc), sort_keys=True) for c in clients}) == 1,
            timeout,
            what,
        )
    except AssertionError:
        states = [state_vector(c.doc) for c in clients]
        every = set().union(*states)
        table = {cid: [s.get(cid, 0) for s in states] for cid in every}
        uneven = {cid: row for cid, row in table.items() if len(set(row)) > 1}
        raise AssertionError(f"{what}: clocks that differ between clients: {uneven}") from None
    return read(clients[0].doc)


# -- the tests ---------------------------------------------------------------------------


async def test_clients_on_three_nodes_edit_a_notebook_and_a_text_and_converge(make_cluster):
    cluster = make_cluster(3)
    await anyio.to_thread.run_sync(cluster.start)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print(1)"), nbformat.v4.new_markdown_cell("hi")]
    nb_id = create(cluster, "notebook", json.loads(nbformat.writes(notebook)))
    text_id = create(cluster, "file", "base\n")
    users = ["alice", "bob"]
    text_clients = [
        LiveClient(f"t{i}", cluster.nodes[i % 3].ws(text_id, cluster.tokens[users[i % 2]]))
        for i in range(6)
    ]
    nb_clients = [
        LiveClient(f"n{i}", cluster.nodes[i % 3].ws(nb_id, cluster.tokens[users[i % 2]]))
        for i in range(6)
    ]
    async with anyio.create_task_group() as tg:
        for client in text_clients + nb_clients:
            tg.start_soon(client.run)
        await eventually(lambda: all(c.text == "base\n" for c in text_clients), 10, "text sync")
        await eventually(lambda: all(len(c.cells()) == 2 for c in nb_clients), 10, "nb sync")
        started = time.monotonic()
        async with anyio.create_task_group() as editors:
            for i, client in enumerate(text_clients):
                editors.start_soon(edit_text, client, random.Random(1000 + i), 250)
            for i, client in enumerate(nb_clients):
                editors.start_soon(edit_notebook, client, random.Random(2000 + i), 250)
        edited = time.monotonic()
        text = await converged(text_clients, text_of, 10, "text clients converge")
        cells = await converged(nb_clients, cells_of, 10, "notebook clients converge")
        print(
            f"3000 ops in {edited - started:.1f}s, converged {time.monotonic() - edited:.2f}s later"
        )
        assert len(text) > 500 and len(cells) > 2
        for client in text_clients + nb_clients:
            assert client.error is None, (client.name, client.error)
            client.stop.set()
    await until_stored(cluster, text_id, text_of, text)
    await until_stored(cluster, nb_id, cells_of, cells)
    # and each node serves the same content over REST
    for node in cluster.nodes:
        status, body = api(node, cluster.tokens["alice"], "GET", f"documents/{text_id}/content")
        assert status == 200 and body["content"] == text
    for node in cluster.nodes:
        assert "collab-docs node node" in node.log_text()  # the node id at start


async def test_a_node_killed_mid_edit_loses_nothing_its_clients_typed(make_cluster):
    cluster = make_cluster(3, "--CollabDocsApp.awareness_timeout=3")
    await anyio.to_thread.run_sync(cluster.start)
    doc_id = create(cluster, "file", "")
    alice = cluster.tokens["alice"]
    a, b, c = cluster.nodes
    victim = LiveClient("A", a.ws(doc_id, alice))
    others = [LiveClient("B", b.ws(doc_id, alice)), LiveClient("C", c.ws(doc_id, alice))]
    # presence of a client of node A, watched from node B
    presence = await RawClient.connect(a.ws(doc_id, alice))
    watcher = await RawClient.connect(b.ws(doc_id, alice))
    seen: dict[int, Any] = {}

    async def watch() -> None:
        while (frame := await watcher.conn.read_message()) is not None:
            parsed = protocol.parse_frame(frame)
            if parsed.kind == protocol.MESSAGE_AWARENESS:
                for entry in protocol.decode_awareness(parsed.payload):
                    seen[entry.client_id] = entry.state

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch)
        for client in [victim, *others]:
            tg.start_soon(client.run)
        await presence.send(protocol.awareness_message([AwarenessEntry(4242, 1, {"cursor": 1})]))
        await eventually(lambda: seen.get(4242) is not None, 5, "awareness across nodes")
        assert seen[4242]["user"]["name"]
        rngs = {name: random.Random(seed) for name, seed in (("A", 1), ("B", 2), ("C", 3))}
        async with anyio.create_task_group() as editors:
            for client in [victim, *others]:
                editors.start_soon(edit_text, client, rngs[client.name], 60, True)
        # node A dies while its clients type; its client keeps typing offline, then
        # reconnects to node B with its doc and types on
        async with anyio.create_task_group() as editors:
            for client in [victim, *others]:
                editors.start_soon(
                    edit_text, client, rngs[client.name], 150, True, 60, (0.01, 0.02)
                )
            await anyio.sleep(0.5)
            killed_at = time.monotonic()
            a.kill()
            await eventually(lambda: victim.done.is_set(), 5, "node A's client notices")
            await anyio.sleep(0.5)
            again = LiveClient("A", b.ws(doc_id, alice), victim.doc)
            tg.start_soon(again.run)
        everyone = [again, *others]
        final = await converged(everyone, text_of, 10, "convergence after the kill")

        expected = {f"<{n}:{i}>" for n in "ABC" for i in range(210)}
        missing = [t for t in expected if t not in final]
        assert not missing, f"lost: {sorted(missing)[:10]}"
        assert final.count("<") == len(expected)
        for client in others:
            assert client.error is None and not client.done.is_set(), "B and C never noticed"
        # node A's client's awareness is gone from node B within the timeout
        await eventually(lambda: seen.get(4242, 1) is None, 8, "awareness of the dead node")
        print(f"awareness removed {time.monotonic() - killed_at:.1f}s after the kill")
        for client in everyone:
            client.stop.set()
        watcher.close()
        presence.close()
    await until_stored(cluster, doc_id, text_of, final)


async def test_redis_stopped_restarted_and_paused_during_editing(make_cluster, redis_server):
    cluster = make_cluster(
        3,
        "--ClusterBus.resync_interval=60",  # healing must come from the reconnect, not the timer
    )
    await anyio.to_thread.run_sync(cluster.start)
    doc_id = create(cluster, "file", "")
    carol = cluster.tokens["carol"]
    clients = [
        LiveClient(f"c{i}", cluster.nodes[i % 3].ws(doc_id, cluster.tokens["alice"]))
        for i in range(6)
    ]
    same_node = [clients[0], clients[3]]
    health = lambda: api(cluster.nodes[0], carol, "GET", "health")  # noqa: E731
    assert health()[0] == 200
    async with anyio.create_task_group() as tg:
        for client in clients:
            tg.start_soon(client.run)
        await eventually(lambda: all(c.doc.get_state() for c in clients), 5)

        async def edit_all(seed: int, ops: int) -> None:
            async with anyio.create_task_group() as editors:
                for i, client in enumerate(clients):
                    editors.start_soon(edit_text, client, random.Random(seed + i), ops)

        # 1. Redis goes away during editing, and comes back
        tg.start_soon(edit_all, 10, 80)
        await anyio.sleep(0.3)
        await anyio.to_thread.run_sync(redis_server.stop)
        await edit_all(15, 60)  # and while it is away
        await eventually(lambda: health()[0] == 503, 5, "health says degraded")
        _, body = await anyio.to_thread.run_sync(health)
        assert body["status"] == "degraded" and body["checks"]["cluster"]["ok"] is False
        assert body["checks"]["store"]["ok"] is True
        # each node keeps serving its own clients
        await anyio.sleep(0.5)
        await converged(same_node, text_of, 5, "clients of one node while Redis is down")
        assert clients[0].text != clients[1].text  # the nodes went apart
        await anyio.to_thread.run_sync(redis_server.start)
        back = time.monotonic()
        # Healing comes from the reconnect's exchange (the resync timer is 60 s): 15 s
        # leaves room for a loaded machine (3 test workers on 2 cores took over 5 s once).
        await converged(clients, text_of, 15, "everyone within 15 s of Redis returning")
        print(f"converged {time.monotonic() - back:.2f}s after Redis returned")
        await eventually(lambda: health()[0] == 200, 5, "healthy again")

        # 2. Redis stops answering for 2 s (CLIENT PAUSE) during editing
        tg.start_soon(edit_all, 20, 80)
        await anyio.sleep(0.3)
        await anyio.to_thread.run_sync(redis_server.pause, 2.0)
        paused_until = time.monotonic() + 2.0
        await anyio.sleep(2.5)
        await converged(clients, text_of, 5, "everyone within 5 s of the pause")
        print(f"converged {time.monotonic() - paused_until:.2f}s after the pause ended")
        for client in clients:
            assert client.error is None
            client.stop.set()
    final = clients[0].text
    await until_stored(cluster, doc_id, text_of, final)


async def test_a_node_joining_a_busy_room_late_ends_with_the_same_content(make_cluster):
    cluster = make_cluster(3)
    early, late = cluster.nodes[:2], cluster.nodes[2]
    for node in early:
        node.launch()
    for node in early:
        await anyio.to_thread.run_sync(node.wait_ready)
    doc_id = create(cluster, "file", "start\n")
    alice = cluster.tokens["alice"]
    clients = [LiveClient(f"e{i}", early[i % 2].ws(doc_id, alice)) for i in range(4)]
    async with anyio.create_task_group() as tg:
        for client in clients:
            tg.start_soon(client.run)
        for i, client in enumerate(clients):
            tg.start_soon(edit_text, client, random.Random(50 + i), 400)
        await anyio.to_thread.run_sync(late.start)  # while the others edit
        newcomer = LiveClient("late", late.ws(doc_id, alice))
        tg.start_soon(newcomer.run)
        await anyio.sleep(0.5)
        tg.start_soon(edit_text, newcomer, random.Random(99), 50)
        everyone = [*clients, newcomer]
        await anyio.sleep(1.0)
        final = await converged(everyone, text_of, 15, "the late node's client converges")
        for client in everyone:
            client.stop.set()
    await until_stored(cluster, doc_id, text_of, final)


async def test_revocation_and_deletion_on_one_node_close_sockets_on_another(make_cluster):
    cluster = make_cluster(2, "--CollabDocsApp.revalidate_interval=600")
    await anyio.to_thread.run_sync(cluster.start)
    a, b = cluster.nodes
    doc_id = create(cluster, "file", "x")
    bob = await RawClient.connect(b.ws(doc_id, cluster.tokens["bob"]))
    assert await bob.recv() is not None
    started = time.monotonic()
    status, _ = api(a, cluster.tokens["alice"], "DELETE", f"documents/{doc_id}/shares/user:bob")
    assert status == 204
    assert await bob.closed(timeout=5) == 4403
    print(f"revoked on node A, closed on node B after {time.monotonic() - started:.2f}s")
    alice = await RawClient.connect(b.ws(doc_id, cluster.tokens["alice"]))
    assert await alice.recv() is not None
    status, _ = api(a, cluster.tokens["alice"], "DELETE", f"documents/{doc_id}")
    assert status == 204
    assert await alice.closed(timeout=5) == 4410
