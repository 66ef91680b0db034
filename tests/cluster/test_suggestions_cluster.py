"""Suggestions on a two-node cluster (real ``jupyter collab-docs`` processes, Redis, the
MongoDB store on FerretDB): a suggestion made on one node is accepted on the other; the
change reaches a client and a comment socket on the first node, and it is decided once."""

from __future__ import annotations

import anyio.to_thread

from jupyter_collab_docs.testing import RawClient, eventually, yclient

from .test_comments_cluster import next_event, start_slowly
from .test_redis_cluster import api, create


async def test_a_suggestion_made_on_one_node_is_accepted_on_another(make_cluster, mongodb_test_url):
    cluster = make_cluster(2, f"--CollabDocsApp.store_url={mongodb_test_url}")
    await anyio.to_thread.run_sync(start_slowly, cluster)
    first, second = cluster.nodes
    alice, bob = cluster.tokens["alice"], cluster.tokens["bob"]
    doc_id = create(cluster, "file", "hello world", bob_role="commenter")
    threads = f"documents/{doc_id}/threads"

    events = await RawClient.connect(first.ws(doc_id, alice) + "&comments=1")
    try:
        assert (await events.recv())[0] == 0  # joined: the room is open on the first node
        async with yclient(first.ws(doc_id, alice)) as client:
            await eventually(lambda: str(client.text) == "hello world", what="synced")
            body = {
                "anchor": {"kind": "text", "index": 6, "length": 5},
                "body": "Friendlier?",
                "suggestion": {"text": "there"},
            }
            status, thread = api(first, bob, "POST", threads, body)
            assert status == 201, thread
            assert (await next_event(events))["event"] == "thread.created"
            accept = f"{threads}/{thread['id']}/accept"

            # the commenter may not accept, on any node; the owner accepts on the second
            status, _ = api(second, bob, "POST", accept)
            assert status == 403
            status, accepted = await anyio.to_thread.run_sync(
                lambda: api(second, alice, "POST", accept)
            )
            assert status == 200, accepted
            assert accepted["suggestion"]["status"] == "accepted"

            # the change reaches the first node's client, the event its comment socket
            await eventually(lambda: str(client.text) == "hello there", what="change on node A")
            event = await next_event(events)
            assert event["event"] == "thread.updated"
            assert event["thread"]["suggestion"]["status"] == "accepted"
            status, stored = api(first, alice, "GET", f"documents/{doc_id}/content")
            assert (status, stored["content"]) == (200, "hello there")

            # decided once: the first node knows it from the shared store
            status, again = api(first, alice, "POST", accept)
            assert status == 409 and "already accepted" in again["message"]
            assert str(client.text) == "hello there"
    finally:
        events.close()
