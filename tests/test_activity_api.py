"""``GET documents/{id}/activity`` through a real server: each event with its sentence
(``summary``), ``category`` and ``actor_name``; the filters ``actor``, ``kind``, ``since``
and ``until``, and their 400s. Every exchange is validated against docs/openapi.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_openapi import checked, new_doc, openapi  # noqa: F401  (fixtures)

HOSTILE = "<img src=x onerror=window.__pwned=1>"


async def story(checked, collab, tokens) -> str:  # noqa: F811
    """alice renames, shares with a group and bob; bob names a version and restores it."""
    collab.users.add_group("data-team")
    tokens["mallory"] = collab.users.add("mallory", HOSTILE)
    doc_id = (await new_doc(checked, content="one"))["id"]
    await checked("alice", "PATCH", f"documents/{doc_id}", {"name": "Q3 report"})
    for principal, role in (("group:data-team", "editor"), ("user:bob", "editor")):
        share = await checked(
            "alice", "PUT", f"documents/{doc_id}/shares/{principal}", {"role": role}
        )
        assert share.status == 200, share.body
    await checked("alice", "PUT", f"documents/{doc_id}/shares/user:mallory", {"role": "editor"})
    await checked("mallory", "PATCH", f"documents/{doc_id}", {"name": HOSTILE})
    version = await checked(
        "bob", "POST", f"documents/{doc_id}/versions", {"label": "before cleanup"}
    )
    await checked("bob", "PUT", f"documents/{doc_id}/content", {"content": "two"})
    restored = await checked(
        "bob", "POST", f"documents/{doc_id}/versions/{version.body['id']}/restore"
    )
    assert restored.status == 200, restored.body
    return doc_id


async def test_the_feed_speaks_in_sentences(checked, collab, tokens):  # noqa: F811
    doc_id = await story(checked, collab, tokens)
    reply = await checked("alice", "GET", f"documents/{doc_id}/activity")
    assert reply.status == 200, reply.body
    assert reply.body["truncated"] is False
    summaries = [e["summary"] for e in reply.body["events"]]
    assert summaries[::-1][:9] == [
        "Alice Liddell created the file “Doc”",
        "Alice Liddell renamed it from “Doc” to “Q3 report”",
        "Alice Liddell shared this with the group data-team as editor",
        "Alice Liddell shared this with bob as editor",
        f"Alice Liddell shared this with {HOSTILE} as editor",
        f"{HOSTILE} renamed it from “Q3 report” to “{HOSTILE}”",
        "bob saved the version “before cleanup”",
        "bob replaced its content",
        "bob kept an automatic version “Before restoring before cleanup”",
    ]
    newest = reply.body["events"][0]
    assert newest["summary"] == "bob restored “before cleanup”"
    # the label is in the audit event itself, not only looked up for the feed
    assert (newest["kind"], newest["label"], newest["category"]) == (
        "version.restored",
        "before cleanup",
        "versions",
    )
    by_kind = {e["kind"]: e for e in reply.body["events"]}
    assert by_kind["document.created"]["actor_name"] == "Alice Liddell"
    assert by_kind["document.created"]["actor"] == "alice"
    assert by_kind["share.granted"]["category"] == "sharing"


async def test_filters_by_person_kind_and_time(checked, collab, tokens):  # noqa: F811
    doc_id = await story(checked, collab, tokens)
    path = f"documents/{doc_id}/activity"

    async def feed(params: Any) -> list[dict[str, Any]]:
        reply = await checked("alice", "GET", path, params=params)
        assert reply.status == 200, reply.body
        return reply.body["events"]

    everything = await feed({"limit": "500"})
    sharing = await feed({"kind": "sharing"})
    assert [e["kind"] for e in sharing] == ["share.granted"] * 3
    assert sharing == [e for e in everything if e["category"] == "sharing"]
    bobs = await feed({"actor": "bob"})
    assert bobs and {e["actor"] for e in bobs} == {"bob"}
    assert bobs == [e for e in everything if e["actor"] == "bob"]
    # categories and event kinds, repeated or comma-separated: any of them
    mixed = await feed([("kind", "versions,document.renamed"), ("kind", "sharing")])
    assert {e["kind"] for e in mixed} == {
        "version.created",
        "version.restored",
        "document.renamed",
        "share.granted",
    }
    both = await feed({"actor": "bob", "kind": "versions", "limit": "2"})
    assert [e["summary"] for e in both] == [
        "bob restored “before cleanup”",
        "bob kept an automatic version “Before restoring before cleanup”",
    ]
    pivot = next(e for e in everything if e["kind"] == "document.renamed")["timestamp"]
    since = await feed({"since": pivot})
    assert since == [e for e in everything if e["timestamp"] >= pivot]
    until = await feed({"until": pivot})
    assert until == [e for e in everything if e["timestamp"] <= pivot]
    assert await feed({"since": "2999-01-01T00:00:00Z"}) == []
    assert await feed({"actor": "nobody-here"}) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kind": "gossip"}, "'kind' must be one of"),
        ({"kind": ""}, "'kind' must be one of"),
        ({"actor": ""}, "'actor'"),
        ({"actor": "x" * 300}, "'actor'"),
        ({"since": "yesterday"}, "'since'"),
        ({"until": "2026-11-26T09:00:00"}, "'until'"),
        ({"since": "2026-11-27T00:00:00Z", "until": "2026-11-26T00:00:00Z"}, "before"),
    ],
)
async def test_bad_filters_are_400_and_say_why(checked, collab, tokens, params, message):  # noqa: F811
    doc_id = (await new_doc(checked))["id"]
    reply = await checked(
        "alice", "GET", f"documents/{doc_id}/activity", params=params, valid_request=False
    )
    assert reply.status == 400, reply.body
    assert message in reply.body["message"]


async def test_filters_do_not_open_the_feed_to_others(checked, collab, tokens):  # noqa: F811
    doc_id = (await new_doc(checked))["id"]
    await checked("alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "editor"})
    path = f"documents/{doc_id}/activity"
    assert (await checked("bob", "GET", path, params={"actor": "bob"})).status == 403
    # a bad filter is refused before anything is looked up: it tells nothing of the document
    bad = await checked("bob", "GET", path, params={"kind": "x"}, valid_request=False)
    assert bad.status == 400
