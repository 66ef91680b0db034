"""Comment threads over REST on a real server: who may do what (every role, share links,
administrators), bad input, filters, the audit trail, and what documents do to their
threads (versions restored, deletion). Every exchange is validated against
docs/openapi.yaml (the ``checked`` fixture of test_openapi.py)."""

from __future__ import annotations

from typing import Any

import nbformat

from tests.test_openapi import checked, new_doc, openapi  # noqa: F401  (fixtures)

MISSING_THREAD = "f" * 32


async def share(checked, doc_id: str, principal: str, role: str) -> None:  # noqa: F811
    reply = await checked("alice", "PUT", f"documents/{doc_id}/shares/{principal}", {"role": role})
    assert reply.status == 200, reply.body


async def start_thread(checked, user: str, doc_id: str, body: str = "Why?", **anchor: Any):  # noqa: F811
    if "kind" not in anchor:
        anchor = {"kind": "text", "index": 0, "length": 5, **anchor}
    return await checked(
        user, "POST", f"documents/{doc_id}/threads", {"anchor": anchor, "body": body}
    )


async def test_who_may_do_what(checked, collab, tokens):  # noqa: F811
    for name in ("dave", "erin", "frank", "gina"):
        tokens[name] = collab.users.add(name)
    doc = await new_doc(checked, content="hello world")
    doc_id = doc["id"]
    await share(checked, doc_id, "user:bob", "commenter")
    await share(checked, doc_id, "user:dave", "viewer")
    await share(checked, doc_id, "user:erin", "editor")
    link = await checked("alice", "PUT", f"documents/{doc_id}/shares/link", {"role": "commenter"})
    with_link = {"link": link.body["token"]}
    threads = f"documents/{doc_id}/threads"

    # commenters, editors and owners start threads; viewers and strangers do not
    by_bob = await start_thread(checked, "bob", doc_id, "Is this @alice's?")
    assert by_bob.status == 201, by_bob.body
    assert by_bob.body["quote"] == "hello"
    assert by_bob.body["comments"][0]["mentions"] == ["alice"]
    assert (await start_thread(checked, "erin", doc_id)).status == 201
    by_alice = await start_thread(checked, "alice", doc_id, "Mine", index=6, length=5)
    assert by_alice.body["quote"] == "world"
    assert (await start_thread(checked, "dave", doc_id)).status == 403
    assert (await start_thread(checked, "gina", doc_id)).status == 404
    # a share link carries its role: frank comments with it, and is a stranger without it
    frank = await checked(
        "frank",
        "POST",
        threads,
        {"anchor": {"kind": "text", "index": 0, "length": 1}, "body": "via link"},
        params=with_link,
    )
    assert frank.status == 201, frank.body
    assert (await checked("frank", "GET", threads)).status == 404
    assert (await checked("frank", "GET", threads, params=with_link)).status == 200

    bob_thread = f"{threads}/{by_bob.body['id']}"
    alice_thread = f"{threads}/{by_alice.body['id']}"
    alice_first = by_alice.body["comments"][0]["id"]

    # viewers read threads, and nothing more
    listed = await checked("dave", "GET", threads)
    assert len(listed.body["threads"]) == 4
    assert (await checked("dave", "POST", f"{bob_thread}/comments", {"body": "no"})).status == 403
    assert (await checked("dave", "PATCH", bob_thread, {"resolved": True})).status == 403

    # replies: commenters and up
    reply = await checked("bob", "POST", f"{alice_thread}/comments", {"body": "I agree"})
    assert reply.status == 201
    bob_reply = reply.body["comments"][-1]["id"]
    assert [c["author"] for c in reply.body["comments"]] == ["alice", "bob"]

    # nobody edits another person's comment: not an owner, not an administrator
    for user in ("alice", "erin", "carol"):
        edit = await checked(user, "PATCH", f"{alice_thread}/comments/{bob_reply}", {"body": "x"})
        assert edit.status == 403, user
    edit = await checked("bob", "PATCH", f"{alice_thread}/comments/{bob_reply}", {"body": "Yes"})
    assert (edit.status, edit.body["comments"][-1]["body"]) == (200, "Yes")
    assert edit.body["comments"][-1]["edited"] is not None
    assert (
        await checked("bob", "PATCH", f"{alice_thread}/comments/{alice_first}", {"body": "x"})
    ).status == 403

    # deletion: the author, or an owner (an administrator acts as one); not an editor
    assert (await checked("erin", "DELETE", f"{alice_thread}/comments/{bob_reply}")).status == 403
    assert (await checked("bob", "DELETE", f"{alice_thread}/comments/{alice_first}")).status == 403
    gone = await checked("alice", "DELETE", f"{alice_thread}/comments/{bob_reply}")
    assert (gone.status, [c["author"] for c in gone.body["comments"]]) == (200, ["alice"])

    # resolve / reopen: the thread's author, editors and owners; not another commenter
    assert (await checked("bob", "PATCH", alice_thread, {"resolved": True})).status == 403
    resolved = await checked("bob", "PATCH", bob_thread, {"resolved": True})
    assert (resolved.body["resolved"], resolved.body["resolved_by"]) == (True, "bob")
    assert (await checked("erin", "PATCH", bob_thread, {"resolved": False})).body[
        "resolved"
    ] is False
    assert (await checked("alice", "PATCH", bob_thread, {"resolved": True})).status == 200

    # a lowered share takes the rights with it: bob, now a viewer, edits nothing of his
    await share(checked, doc_id, "user:bob", "viewer")
    assert (await checked("bob", "PATCH", bob_thread, {"resolved": False})).status == 403
    assert (await checked("bob", "DELETE", bob_thread)).status == 403

    # deleting a thread: its author (with the comment right) or an owner
    assert (await checked("erin", "DELETE", bob_thread)).status == 403
    assert (await checked("carol", "DELETE", bob_thread)).status == 204
    assert (await checked("alice", "GET", bob_thread)).status == 404
    # the first comment takes its thread with it
    assert (
        await checked("alice", "DELETE", f"{alice_thread}/comments/{alice_first}")
    ).status == 204
    assert (await checked("alice", "GET", alice_thread)).status == 404

    activity = await checked("alice", "GET", f"documents/{doc_id}/activity")
    kinds = [e["kind"] for e in activity.body["events"]]
    assert kinds.count("comment.created") == 5
    for kind in ("comment.edited", "comment.deleted", "comment.resolved", "comment.reopened"):
        assert kind in kinds, kind
    refused = [e for e in activity.body["events"] if e["kind"] == "access.denied"]
    assert {e["attempted"] for e in refused} >= {"comment", "edit_comment", "delete_comment"}


async def test_filters_and_mentions(checked, collab, tokens):  # noqa: F811
    doc = await new_doc(checked, content="one two three")
    doc_id = doc["id"]
    await share(checked, doc_id, "user:bob", "editor")
    threads = f"documents/{doc_id}/threads"
    first = (await start_thread(checked, "alice", doc_id, "ping @bob, and @bob. Mail a@b.c")).body
    assert first["comments"][0]["mentions"] == ["bob"]
    second = (await start_thread(checked, "bob", doc_id, "mine", index=4, length=3)).body
    await checked("bob", "POST", f"{threads}/{first['id']}/comments", {"body": "ok @alice"})
    await checked("alice", "PATCH", f"{threads}/{second['id']}", {"resolved": True})

    async def ids(user: str, **params: str) -> list[str]:
        reply = await checked(user, "GET", threads, params=params)
        assert reply.status == 200, reply.body
        return [t["id"] for t in reply.body["threads"]]

    assert await ids("alice") == [first["id"], second["id"]]  # oldest first
    assert await ids("alice", status="open") == [first["id"]]
    assert await ids("alice", status="resolved") == [second["id"]]
    assert await ids("alice", mine="true") == [first["id"]]
    assert await ids("bob", mine="true") == [first["id"], second["id"]]  # answered, started
    assert await ids("bob", mentioning_me="true") == [first["id"]]
    assert await ids("alice", mentioning_me="true") == [first["id"]]
    assert await ids("alice", mentioning_me="true", status="resolved") == []
    bad = await checked("alice", "GET", threads, params={"status": "closed"}, valid_request=False)
    assert bad.status == 400


async def test_bad_input_writes_nothing(checked, collab, collab_config):  # noqa: F811
    doc = await new_doc(checked, content="hello")
    doc_id = doc["id"]
    threads = f"documents/{doc_id}/threads"
    text = {"kind": "text", "index": 0, "length": 2}
    bad = [
        {"anchor": text, "body": ""},
        {"anchor": text, "body": "   \n"},
        {"anchor": text, "body": "x" * 10_001},
        {"anchor": text, "body": 5},
        {"anchor": text, "body": "bell\x07"},
        {"body": "no anchor"},
        {"anchor": text},
        {"anchor": {"kind": "text", "index": 3, "length": 3}, "body": "past the end"},
        {"anchor": {"kind": "text", "index": 0, "length": 0}, "body": "empty range"},
        {"anchor": {"kind": "text", "index": -1, "length": 2}, "body": "negative"},
        {"anchor": {"kind": "cell", "cell_id": "c1"}, "body": "a cell of a text"},
        {"anchor": {"kind": "text", "start": "not base64!", "end": "AA=="}, "body": "x"},
        # an item no client ever made (client 1, clock 99)
        {"anchor": {"kind": "text", "start": "AAFjAA==", "end": "AAFkQQ=="}, "body": "x"},
        {"anchor": {"kind": "somewhere"}, "body": "x"},
        {"anchor": "0:5", "body": "x"},
    ]
    for body in bad:
        reply = await checked("alice", "POST", threads, body, valid_request=False)
        assert reply.status == 400, (body, reply.body)
        assert reply.body["message"]
    raw = await checked("alice", "POST", threads, raw=b"{not json", valid_request=False)
    assert raw.status == 400
    assert (await checked("alice", "GET", threads)).body == {"threads": []}

    thread = (await start_thread(checked, "alice", doc_id)).body
    one = f"{threads}/{thread['id']}"
    for path, method, body in [
        (f"{threads}/{MISSING_THREAD}", "GET", None),
        (f"{threads}/{MISSING_THREAD}", "PATCH", {"resolved": True}),
        (f"{threads}/{MISSING_THREAD}", "DELETE", None),
        (f"{threads}/{MISSING_THREAD}/comments", "POST", {"body": "x"}),
        (f"{threads}/not-an-id", "GET", None),
        (f"{one}/comments/{MISSING_THREAD}", "PATCH", {"body": "x"}),
        (f"{one}/comments/{MISSING_THREAD}", "DELETE", None),
    ]:
        reply = await checked("alice", method, path, body)
        assert reply.status == 404, (method, path, reply.body)
    assert (
        await checked("alice", "PATCH", one, {"resolved": "yes"}, valid_request=False)
    ).status == 400
    assert (await checked("alice", "POST", f"{one}/comments", {"body": ""})).status == 400
    first = thread["comments"][0]["id"]
    assert (await checked("alice", "PATCH", f"{one}/comments/{first}", {"body": " "})).status == 400
    unchanged = (await checked("alice", "GET", one)).body
    assert unchanged["comments"] == thread["comments"]
    assert unchanged["resolved"] is False

    # a deleted document takes comments no more, and shows none
    assert (await checked("alice", "DELETE", f"documents/{doc_id}")).status == 204
    assert (await start_thread(checked, "alice", doc_id)).status == 404
    assert (await checked("alice", "GET", threads)).status == 404
    assert (await checked("alice", "POST", f"{one}/comments", {"body": "late"})).status == 404


async def test_notebook_anchors(checked, capfd):  # noqa: F811
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title", id="m1"),
            nbformat.v4.new_code_cell("x = 1\ny = 2", id="c2"),
        ]
    )
    doc = await new_doc(checked, name="NB", type="notebook", content=nb)
    threads = f"documents/{doc['id']}/threads"
    on_cell = await start_thread(checked, "alice", doc["id"], kind="cell", cell_id="c2")
    assert on_cell.status == 201, on_cell.body
    assert on_cell.body["quote"] == "x = 1\ny = 2"
    assert on_cell.body["position"] == {
        "attached": True,
        "start": None,
        "end": None,
        "cell_index": 1,
    }
    in_cell = await start_thread(
        checked, "alice", doc["id"], kind="cell_range", cell_id="c2", index=6, length=5
    )
    assert in_cell.status == 201, in_cell.body
    assert in_cell.body["quote"] == "y = 2"
    assert in_cell.body["position"] == {"attached": True, "start": 6, "end": 11, "cell_index": 1}
    for anchor in (
        {"kind": "cell", "cell_id": "nope"},
        {"kind": "cell_range", "cell_id": "m1", "index": 2, "length": 50},
        {"kind": "text", "index": 0, "length": 1},
        # a range of one cell's source named as another cell's
        {
            "kind": "cell_range",
            "cell_id": "m1",
            **{k: in_cell.body["anchor"][k] for k in ("start", "end")},
        },
    ):
        reply = await checked("alice", "POST", threads, {"anchor": anchor, "body": "x"})
        assert reply.status == 400, (anchor, reply.body)

    # the cell's text is replaced under the same id: the range is gone, the cell is not
    nb.cells[1] = nbformat.v4.new_code_cell("z = 3", id="c2")
    await checked("alice", "PUT", f"documents/{doc['id']}/content", {"content": nb})
    listed = (await checked("alice", "GET", threads)).body["threads"]
    assert [t["position"]["attached"] for t in listed] == [True, False]

    # the cell goes: both threads stay, detached, with their quotes
    del nb.cells[1]
    await checked("alice", "PUT", f"documents/{doc['id']}/content", {"content": nb})
    listed = (await checked("alice", "GET", threads)).body["threads"]
    assert [(t["quote"], t["position"]["attached"]) for t in listed] == [
        ("x = 1\ny = 2", False),
        ("y = 2", False),
    ]
    # resolving anchors into removed cells never reached a panic of yrs (caught or not)
    assert "panicked" not in capfd.readouterr().err


async def test_threads_outlive_a_version_restore(checked):  # noqa: F811
    doc = await new_doc(checked, content="hello world")
    doc_id = doc["id"]
    version = (await checked("alice", "POST", f"documents/{doc_id}/versions", {"label": "v1"})).body
    thread = (await start_thread(checked, "alice", doc_id, index=6, length=5)).body
    await checked("alice", "PUT", f"documents/{doc_id}/content", {"content": "goodbye"})
    detached = (await checked("alice", "GET", f"documents/{doc_id}/threads/{thread['id']}")).body
    assert (detached["quote"], detached["position"]["attached"]) == ("world", False)
    restored = await checked(
        "alice", "POST", f"documents/{doc_id}/versions/{version['id']}/restore"
    )
    assert restored.status == 200
    listed = (await checked("alice", "GET", f"documents/{doc_id}/threads")).body["threads"]
    assert [t["id"] for t in listed] == [thread["id"]]
    assert listed[0]["comments"] == thread["comments"]
