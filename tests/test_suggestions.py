"""Suggestions (docs/comments.md, "Suggestions") on a real server: a commenter proposes a
change instead of making it; an editor or the owner accepts it (the change lands in the
live document, for connected clients, attributed to the suggester in versions) or rejects
it (nothing changes); a suggestion whose text changed meanwhile, or is gone, no longer
applies (409, nothing changed). Every REST exchange is validated against
docs/openapi.yaml (the ``checked`` fixture)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import nbformat

from jupyter_collab_docs.activity import Names, describe
from jupyter_collab_docs.testing import RawClient, eventually, yclient
from tests.test_comments_live import next_event
from tests.test_openapi import checked, new_doc, openapi  # noqa: F401  (fixtures)


async def share(checked, doc_id: str, principal: str, role: str) -> None:  # noqa: F811
    reply = await checked("alice", "PUT", f"documents/{doc_id}/shares/{principal}", {"role": role})
    assert reply.status == 200, reply.body


async def suggest(checked, user: str, doc_id: str, text: str, **anchor: Any):  # noqa: F811
    if "kind" not in anchor:
        anchor = {"kind": "text", **anchor}
    body = {"anchor": anchor, "body": "How about this?", "suggestion": {"text": text}}
    return await checked(user, "POST", f"documents/{doc_id}/threads", body)


async def content(checked, doc_id: str) -> Any:  # noqa: F811
    reply = await checked("alice", "GET", f"documents/{doc_id}/content")
    assert reply.status == 200, reply.body
    return reply.body["content"]


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 10.0) -> None:
    """Wait until the server says ``check()`` (a request) is true."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await anyio.sleep(0.02)


async def kinds_of_activity(checked, doc_id: str) -> list[dict[str, Any]]:  # noqa: F811
    reply = await checked("alice", "GET", f"documents/{doc_id}/activity")
    return reply.body["events"]  # type: ignore[no-any-return]


async def test_a_commenter_suggests_and_an_editor_accepts(checked, collab, tokens, ws_url):  # noqa: F811
    tokens["erin"] = collab.users.add("erin", "Erin Editor")
    doc_id = (await new_doc(checked, content="hello world"))["id"]
    await share(checked, doc_id, "user:bob", "commenter")
    await share(checked, doc_id, "user:erin", "editor")
    before = await checked("alice", "POST", f"documents/{doc_id}/versions", {"label": "before"})
    assert before.status == 201, before.body

    # the commenter may not edit, but may suggest: the document does not change
    refused = await checked("bob", "PUT", f"documents/{doc_id}/content", {"content": "x"})
    assert refused.status == 403
    made = await suggest(checked, "bob", doc_id, "there", index=6, length=5)
    assert made.status == 201, made.body
    thread = made.body
    assert thread["quote"] == "world"
    assert thread["suggestion"] == {
        "text": "there",
        "original": "world",
        "status": "pending",
        "decided_by": None,
        "decided_by_name": None,
        "decided_at": None,
        "applies": True,
        "why": None,
    }
    assert await content(checked, doc_id) == "hello world"
    thread_path = f"documents/{doc_id}/threads/{thread['id']}"
    listed = await checked("erin", "GET", f"documents/{doc_id}/threads")
    assert listed.body["threads"][0]["suggestion"]["applies"] is True

    events = await RawClient.connect(ws_url(doc_id, "alice") + "&comments=1")
    try:
        async with yclient(ws_url(doc_id, "alice")) as client:
            await eventually(lambda: str(client.text) == "hello world", what="synced")
            # a commenter does not accept (nor does he by his own suggestion)
            denied = await checked("bob", "POST", f"{thread_path}/accept")
            assert denied.status == 403, denied.body
            assert await content(checked, doc_id) == "hello world"

            accepted = await checked("erin", "POST", f"{thread_path}/accept")
            assert accepted.status == 200, accepted.body
            assert accepted.body["resolved"] is True
            assert accepted.body["resolved_by"] == "erin"
            decided = accepted.body["suggestion"]
            assert (decided["status"], decided["decided_by"]) == ("accepted", "erin")
            assert decided["applies"] is False and "accepted" in decided["why"]
            # the change lands in the connected client, as any edit would
            await eventually(lambda: str(client.text) == "hello there", what="accepted text")
            assert await content(checked, doc_id) == "hello there"
            event = await next_event(events)
            while event["event"] != "thread.updated":
                event = await next_event(events)
            assert event["thread"]["suggestion"]["status"] == "accepted"
    finally:
        events.close()

    # accepted once only
    again = await checked("alice", "POST", f"{thread_path}/accept")
    assert again.status == 409, again.body
    assert "already accepted" in again.body["message"]
    # two deciders at once: one of them decides, the text changes once
    racing = await suggest(checked, "bob", doc_id, "Hello", index=0, length=5)
    racing_path = f"documents/{doc_id}/threads/{racing.body['id']}"
    answers = await asyncio.gather(
        checked("alice", "POST", f"{racing_path}/accept"),
        checked("erin", "POST", f"{racing_path}/accept"),
        checked("erin", "POST", f"{racing_path}/reject"),
    )
    assert sorted(a.status for a in answers) == [200, 409, 409], [a.body for a in answers]
    won = next(a for a in answers if a.status == 200).body["suggestion"]["status"]
    assert await content(checked, doc_id) == ("Hello there" if won == "accepted" else "hello there")

    # attributed to the suggester, not to whoever accepted it
    compare = await checked(
        "alice",
        "GET",
        f"documents/{doc_id}/versions/compare",
        params={"from": before.body["id"], "to": "current"},
    )
    assert compare.status == 200, compare.body
    # (alice's client counts too: pycrdt's provider sends back what it received)
    contributors = compare.body["contributors"]
    accepts = 2 if won == "accepted" else 1
    assert contributors["bob"]["updates"] == accepts and "erin" not in contributors
    assert "bob" in [a["username"] for a in compare.body["authors"]]
    saved = await checked("erin", "POST", f"documents/{doc_id}/versions", {"label": "after"})
    assert saved.body["contributors"]["bob"]["updates"] == accepts
    assert "erin" not in saved.body["contributors"]

    events_seen = await kinds_of_activity(checked, doc_id)
    accepted_events = [
        e
        for e in events_seen
        if e["kind"] == "suggestion.accepted" and e["thread_id"] == thread["id"]
    ]
    assert len(accepted_events) == 1
    assert accepted_events[0]["actor"] == "erin"
    assert accepted_events[0]["suggested_by"] == "bob"
    assert accepted_events[0]["thread_id"] == thread["id"]
    refusals = [e for e in events_seen if e["kind"] == "access.denied"]
    assert "accept_suggestion" in {e["attempted"] for e in refusals}
    # the feed names both people by their display names
    assert accepted_events[0]["summary"] == "Erin Editor accepted bob's suggestion"


async def test_reject_and_who_may_do_what(checked, collab, tokens):  # noqa: F811
    for name in ("dave", "erin"):
        tokens[name] = collab.users.add(name)
    doc_id = (await new_doc(checked, content="one two three"))["id"]
    await share(checked, doc_id, "user:bob", "commenter")
    await share(checked, doc_id, "user:dave", "viewer")
    await share(checked, doc_id, "user:erin", "editor")

    # a viewer does not suggest; a commenter, an editor and the owner do
    assert (await suggest(checked, "dave", doc_id, "2", index=4, length=3)).status == 403
    by_bob = (await suggest(checked, "bob", doc_id, "2", index=4, length=3)).body
    by_erin = (await suggest(checked, "erin", doc_id, "3", index=8, length=5)).body
    by_alice = (await suggest(checked, "alice", doc_id, "1", index=0, length=3)).body
    threads = f"documents/{doc_id}/threads"

    # a commenter rejects nobody else's suggestion; a viewer nothing
    assert (await checked("bob", "POST", f"{threads}/{by_erin['id']}/reject")).status == 403
    assert (await checked("dave", "POST", f"{threads}/{by_bob['id']}/reject")).status == 403
    assert (await checked("dave", "POST", f"{threads}/{by_bob['id']}/accept")).status == 403

    # an editor rejects: recorded, the thread resolved, the document unchanged
    rejected = await checked("erin", "POST", f"{threads}/{by_bob['id']}/reject")
    assert rejected.status == 200, rejected.body
    assert rejected.body["suggestion"]["status"] == "rejected"
    assert rejected.body["suggestion"]["decided_by"] == "erin"
    assert (rejected.body["resolved"], rejected.body["resolved_by"]) == (True, "erin")
    assert await content(checked, doc_id) == "one two three"
    late = await checked("alice", "POST", f"{threads}/{by_bob['id']}/accept")
    assert late.status == 409 and "already rejected" in late.body["message"]

    # the suggester withdraws his own; the owner accepts an editor's
    withdrawn = await suggest(checked, "bob", doc_id, "uno", index=0, length=3)
    gone = await checked("bob", "POST", f"{threads}/{withdrawn.body['id']}/reject")
    assert (gone.status, gone.body["suggestion"]["status"]) == (200, "rejected")
    assert (await checked("alice", "POST", f"{threads}/{by_erin['id']}/accept")).status == 200
    assert await content(checked, doc_id) == "one two 3"
    assert (await checked("alice", "POST", f"{threads}/{by_alice['id']}/accept")).status == 200
    assert await content(checked, doc_id) == "1 two 3"

    # a thread without a suggestion has nothing to accept; unknown threads are 404
    plain = await checked(
        "bob", "POST", threads, {"anchor": {"kind": "text", "index": 0, "length": 1}, "body": "?"}
    )
    assert "suggestion" not in plain.body
    nothing = await checked("alice", "POST", f"{threads}/{plain.body['id']}/accept")
    assert nothing.status == 400 and "no suggestion" in nothing.body["message"]
    assert (await checked("alice", "POST", f"{threads}/{'f' * 32}/accept")).status == 404
    assert (await checked("alice", "POST", f"{threads}/nothex/reject")).status == 404

    kinds = [e["kind"] for e in await kinds_of_activity(checked, doc_id)]
    assert (kinds.count("suggestion.rejected"), kinds.count("suggestion.accepted")) == (2, 2)


async def test_bad_suggestions_are_refused_and_write_nothing(checked):  # noqa: F811
    doc_id = (await new_doc(checked, content="hello world"))["id"]
    threads = f"documents/{doc_id}/threads"
    anchor = {"kind": "text", "index": 0, "length": 5}
    for suggestion, words in [
        ("hi", "must be an object"),
        ({}, "'suggestion.text'"),
        ({"text": 5}, "'suggestion.text'"),
        ({"text": "hello"}, "changes nothing"),
        ({"text": "x" * 10_001}, "longer than"),
        ({"text": "a\x00b"}, "control characters"),
        ({"text": "hi", "extra": 1}, "unknown field"),
    ]:
        reply = await checked(
            "alice",
            "POST",
            threads,
            {"anchor": anchor, "body": "b", "suggestion": suggestion},
            valid_request=False,
        )
        assert reply.status == 400, (suggestion, reply.body)
        assert words in reply.body["message"], (suggestion, reply.body)
    assert (await checked("alice", "GET", threads)).body["threads"] == []
    # an empty replacement (a deletion) is a suggestion like any other
    deletion = await suggest(checked, "alice", doc_id, "", index=5, length=6)
    assert deletion.status == 201, deletion.body
    accepted = await checked("alice", "POST", f"{threads}/{deletion.body['id']}/accept")
    assert accepted.status == 200, accepted.body
    assert await content(checked, doc_id) == "hello"


async def test_a_concurrent_edit_makes_it_not_apply(checked, tokens, ws_url):  # noqa: F811
    doc_id = (await new_doc(checked, content="hello world"))["id"]
    await share(checked, doc_id, "user:bob", "commenter")
    threads = f"documents/{doc_id}/threads"
    first = (await suggest(checked, "bob", doc_id, "there", index=6, length=5)).body
    second = (await suggest(checked, "bob", doc_id, "howdy", index=0, length=5)).body
    async with yclient(ws_url(doc_id, "alice")) as client:
        await eventually(lambda: str(client.text) == "hello world", what="synced")
        # an edit outside the range: the suggestion follows it and still applies
        client.text.insert(0, ">> ")
        # an edit inside the other one's range: it no longer applies
        client.text.insert(len(">> hello wor"), "l")
        expected = ">> hello worlld"

        async def seen() -> bool:
            return await content(checked, doc_id) == expected

        await until(seen, "the client's edits on the server")
        listed = {t["id"]: t for t in (await checked("alice", "GET", threads)).body["threads"]}
        assert listed[second["id"]]["suggestion"]["applies"] is True
        stale = listed[first["id"]]["suggestion"]
        assert stale["applies"] is False
        assert "changed since" in stale["why"]

        refused = await checked("alice", "POST", f"{threads}/{first['id']}/accept")
        assert refused.status == 409, refused.body
        assert "changed since" in refused.body["message"]
        assert await content(checked, doc_id) == expected
        after = (await checked("alice", "GET", f"{threads}/{first['id']}")).body
        assert (after["resolved"], after["suggestion"]["status"]) == (False, "pending")

        # the one that still applies lands where its text went
        assert (await checked("alice", "POST", f"{threads}/{second['id']}/accept")).status == 200
        await eventually(lambda: str(client.text) == ">> howdy worlld", what="accepted")

        # the anchored text deleted: detached, and it says so
        del client.text[len(">> howdy ") :]
        await eventually(lambda: str(client.text) == ">> howdy ")

        async def detached() -> bool:
            found = (await checked("alice", "GET", f"{threads}/{first['id']}")).body
            return found["position"]["attached"] is False

        await until(detached, "detached")
        gone = (await checked("alice", "GET", f"{threads}/{first['id']}")).body["suggestion"]
        assert gone["applies"] is False and "gone" in gone["why"]
        refused = await checked("alice", "POST", f"{threads}/{first['id']}/accept")
        assert refused.status == 409 and "gone" in refused.body["message"]
        assert str(client.text) == ">> howdy "
    kinds = [e["kind"] for e in await kinds_of_activity(checked, doc_id)]
    assert kinds.count("suggestion.accepted") == 1


async def test_notebook_cell_suggestions(checked, tokens):  # noqa: F811
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("x = 1\nprint(x)", id="calc"),
        nbformat.v4.new_markdown_cell("# Title", id="title"),
    ]
    doc = await new_doc(checked, type="notebook", content=dict(notebook))
    doc_id = doc["id"]
    await share(checked, doc_id, "user:bob", "commenter")
    before = await checked("alice", "POST", f"documents/{doc_id}/versions", {"label": "v0"})
    threads = f"documents/{doc_id}/threads"
    in_range = await suggest(
        checked, "bob", doc_id, "x = 2", kind="cell_range", cell_id="calc", index=0, length=5
    )
    assert in_range.status == 201, in_range.body
    whole = await suggest(checked, "bob", doc_id, "y = 3", kind="cell", cell_id="calc")
    title = await suggest(checked, "bob", doc_id, "# A better title", kind="cell", cell_id="title")
    assert whole.body["suggestion"]["original"] == "x = 1\nprint(x)"
    assert title.body["suggestion"]["applies"] is True

    ok = await checked("alice", "POST", f"{threads}/{in_range.body['id']}/accept")
    assert ok.status == 200, ok.body
    # the whole cell changed meanwhile: the cell suggestion no longer applies
    stale = await checked("alice", "POST", f"{threads}/{whole.body['id']}/accept")
    assert stale.status == 409, stale.body
    assert (await checked("alice", "POST", f"{threads}/{title.body['id']}/accept")).status == 200
    cells = (await content(checked, doc_id))["cells"]
    assert [c["source"] for c in cells] == ["x = 2\nprint(x)", "# A better title"]

    compare = await checked(
        "alice",
        "GET",
        f"documents/{doc_id}/versions/compare",
        params={"from": before.body["id"], "to": "current"},
    )
    assert set(compare.body["contributors"]) == {"bob"}


def test_the_activity_sentences():
    names = Names(people={"alice": "Alice", "bob": "Bob"})
    base = {"document_id": "d", "thread_id": "t" * 32}
    accepted = {**base, "kind": "suggestion.accepted", "actor": "alice", "suggested_by": "bob"}
    assert describe(accepted, names) == "Alice accepted Bob's suggestion"
    rejected = {**base, "kind": "suggestion.rejected", "actor": "alice", "suggested_by": "bob"}
    assert describe(rejected, names) == "Alice rejected Bob's suggestion"
    withdrawn = {**rejected, "actor": "bob"}
    assert describe(withdrawn, names) == "Bob withdrew a suggestion"
    refused = {**base, "kind": "access.denied", "actor": "bob", "attempted": "accept_suggestion"}
    assert describe(refused, names) == "Bob was refused accepting a suggestion"


async def test_text_beyond_ascii(checked, ws_url):  # noqa: F811
    """Anchors count UTF-16 units (as Yjs does), pycrdt's text edits UTF-8 bytes, Python
    code points: a suggestion after an emoji replaces exactly its text."""
    doc_id = (await new_doc(checked, content="h😀llo wörld! ok"))["id"]
    threads = f"documents/{doc_id}/threads"
    made = await suggest(checked, "alice", doc_id, "wörld? 😀", index=7, length=6)
    assert made.status == 201, made.body
    assert made.body["quote"] == made.body["suggestion"]["original"] == "wörld!"
    async with yclient(ws_url(doc_id, "alice")) as client:
        await eventually(lambda: str(client.text) == "h😀llo wörld! ok", what="synced")
        accepted = await checked("alice", "POST", f"{threads}/{made.body['id']}/accept")
        assert accepted.status == 200, accepted.body
        await eventually(lambda: str(client.text) == "h😀llo wörld? 😀 ok", what="accepted")
    assert await content(checked, doc_id) == "h😀llo wörld? 😀 ok"
