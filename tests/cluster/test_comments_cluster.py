"""Comments on a three-node cluster (real ``jupyter collab-docs`` processes, Redis, the
MongoDB store on FerretDB): a thread started on one node reaches the sockets of the others
at once, a resolution made on another comes back, and anchors follow edits made through
a third."""

from __future__ import annotations

import json
from typing import Any

import anyio.to_thread

from jupyter_collab_docs.comments import MESSAGE_COMMENTS
from jupyter_collab_docs.protocol import Reader
from jupyter_collab_docs.testing import RawClient, eventually, yclient

from .test_redis_cluster import api, create


def start_slowly(cluster: Any) -> None:
    """Every node, in parallel, with time to import under load (three server processes
    on a shared CI machine took more than the default 30 s)."""
    for node in cluster.nodes:
        node.launch()
    for node in cluster.nodes:
        node.wait_ready(timeout=120)


async def next_event(client: RawClient) -> dict[str, Any]:
    while True:
        frame = await client.recv(timeout=10)
        assert frame is not None, "socket closed"
        reader = Reader(frame)
        if reader.var_uint() == MESSAGE_COMMENTS:
            return json.loads(reader.var_string())  # type: ignore[no-any-return]


async def test_comments_cross_nodes(make_cluster, mongodb_test_url):
    cluster = make_cluster(3, f"--CollabDocsApp.store_url={mongodb_test_url}")
    await anyio.to_thread.run_sync(start_slowly, cluster)
    first, second, third = cluster.nodes
    alice, bob = cluster.tokens["alice"], cluster.tokens["bob"]
    doc_id = create(cluster, "file", "hello world", bob_role="commenter")
    threads = f"documents/{doc_id}/threads"

    on_second = await RawClient.connect(second.ws(doc_id, alice) + "&comments=1")
    on_third = await RawClient.connect(third.ws(doc_id, bob) + "&comments=1")
    try:
        for client in (on_second, on_third):
            assert (await client.recv())[0] == 0  # joined: the room is open on that node
        # a commenter starts a thread on the first node
        anchor = {"kind": "text", "index": 6, "length": 5}
        status, thread = api(first, bob, "POST", threads, {"anchor": anchor, "body": "@alice?"})
        assert status == 201, thread
        # the commenter's own notifications report is in the answer only (comments.md)
        shown = {key: value for key, value in thread.items() if key != "notifications"}
        for client in (on_second, on_third):
            event = await next_event(client)
            assert (event["event"], event["thread"]) == ("thread.created", shown)

        # an editor (the owner) resolves it on the second node: the third hears of it
        status, resolved = api(
            second, alice, "PATCH", f"{threads}/{thread['id']}", {"resolved": True}
        )
        assert (status, resolved["resolved_by"]) == (200, "alice")
        for client in (on_second, on_third):  # the second node's own sockets too
            event = await next_event(client)
            assert (event["event"], event["thread"]["resolved"]) == ("thread.updated", True)
        # the commenter reopens his own thread, through the third node
        status, reopened = api(
            third, bob, "PATCH", f"{threads}/{thread['id']}", {"resolved": False}
        )
        assert (status, reopened["resolved"]) == (200, False)
        event = await next_event(on_second)
        assert event["thread"]["resolved"] is False

        # edits made through the first node move the anchor as every node sees it
        async with yclient(first.ws(doc_id, alice)) as writer:
            await eventually(lambda: str(writer.text) == "hello world")
            writer.text.insert(0, ">> ")

            def moved(node: Any) -> bool:
                status, found = api(node, alice, "GET", f"{threads}/{thread['id']}")
                return status == 200 and found["position"]["start"] == 9

            for node in cluster.nodes:
                await eventually(lambda node=node: moved(node), what=f"anchor moved on {node.name}")
        status, listed = api(third, bob, "GET", f"{threads}?mentioning_me=true")
        assert (status, listed["threads"]) == (200, [])
        status, listed = api(second, alice, "GET", f"{threads}?mentioning_me=true")
        assert [t["id"] for t in listed["threads"]] == [thread["id"]]
    finally:
        on_second.close()
        on_third.close()
