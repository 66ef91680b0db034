"""Threads name their people by display name (``author_name`` of a thread and of each
comment, ``resolved_by_name``, a suggestion's ``decided_by_name``), looked up on the
server, so a face can show who wrote a comment though they are not in the document now.
In the REST answers and the live events alike; validated against docs/openapi.yaml."""

from __future__ import annotations

from jupyter_collab_docs.testing import RawClient
from tests.test_comments_live import next_event
from tests.test_openapi import checked, new_doc, openapi  # noqa: F401  (fixtures)


async def test_threads_carry_display_names(checked, collab, tokens, ws_url):  # noqa: F811
    tokens["erin"] = collab.users.add("erin", "Erin Example")
    doc_id = (await new_doc(checked, content="hello world"))["id"]
    for user, role in (("erin", "commenter"), ("bob", "viewer")):
        share = await checked(
            "alice", "PUT", f"documents/{doc_id}/shares/user:{user}", {"role": role}
        )
        assert share.status == 200, share.body
    threads = f"documents/{doc_id}/threads"

    # bob, a viewer with no display name of his own, watches over a socket
    watcher = await RawClient.connect(ws_url(doc_id, "bob") + "&comments=1")
    try:
        assert (await watcher.recv())[0] == 0  # joined
        started = await checked(
            "erin",
            "POST",
            threads,
            {
                "anchor": {"kind": "text", "index": 0, "length": 5},
                "body": "Shout?",
                "suggestion": {"text": "HELLO"},
            },
        )
        assert started.status == 201, started.body
        assert started.body["author_name"] == "Erin Example"
        assert started.body["comments"][0]["author_name"] == "Erin Example"
        assert started.body["resolved_by_name"] is None
        assert started.body["suggestion"]["decided_by_name"] is None
        event = await next_event(watcher)
        assert event["thread"]["author_name"] == "Erin Example"
        thread_id = started.body["id"]

        reply = await checked("alice", "POST", f"{threads}/{thread_id}/comments", {"body": "Yes"})
        assert reply.status == 201, reply.body
        event = await next_event(watcher)
        assert [c["author_name"] for c in event["thread"]["comments"]] == [
            "Erin Example",
            "Alice Liddell",
        ]
        accepted = await checked("alice", "POST", f"{threads}/{thread_id}/accept")
        assert accepted.status == 200, accepted.body
        assert accepted.body["suggestion"]["decided_by_name"] == "Alice Liddell"
        event = await next_event(watcher)
        assert event["thread"]["suggestion"]["decided_by_name"] == "Alice Liddell"
        # accepting resolves the thread, in alice's name
        assert accepted.body["resolved_by_name"] == "Alice Liddell"
    finally:
        watcher.close()

    # read by someone else, later, with nobody of them in the document
    listed = (await checked("bob", "GET", threads)).body["threads"]
    assert [(t["author_name"], t["resolved_by_name"]) for t in listed] == [
        ("Erin Example", "Alice Liddell")
    ]
    assert [c["author_name"] for c in listed[0]["comments"]] == ["Erin Example", "Alice Liddell"]
    assert listed[0]["suggestion"]["decided_by_name"] == "Alice Liddell"
    one = (await checked("bob", "GET", f"{threads}/{thread_id}")).body
    assert one["comments"][1]["author_name"] == "Alice Liddell"

    # a person with no display name is named by their username
    bobs = await checked(
        "alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "commenter"}
    )
    assert bobs.status == 200
    own = await checked("bob", "POST", f"{threads}/{thread_id}/comments", {"body": "late"})
    assert own.body["comments"][-1]["author_name"] == "bob"
