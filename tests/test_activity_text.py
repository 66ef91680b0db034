"""The activity feed in people's words (jupyter_collab_docs/activity.py): one sentence per
audit event, the filters' categories and their parsing."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_collab_docs.activity import (
    CATEGORIES,
    ActivityFilter,
    FilterError,
    Names,
    category_of,
    describe,
    kind_of,
)
from jupyter_collab_docs.audit.schemas import KINDS

NAMES = Names(
    people={"alice": "Alice", "bob": "Bob", "carol": "Carol", "dave": "Dave Smith"},
    versions={"00aa11bb22cc33dd": "before cleanup"},
)


def event(kind: str, actor: str | None = "alice", **fields: Any) -> dict[str, Any]:
    return {
        "event_id": "4bb60444-bc36-431e-9e80-5e8a52451af1",
        "schema_id": f"https://jupyter.org/collab-docs/events/{kind.replace('.', '-')}/v1",
        "kind": kind,
        "timestamp": "2026-11-26T11:48:28.275742Z",
        "actor": actor,
        "document_id": "7048e62e2a2b312e08302c07d0b5bac3",
        "node": "n1",
        **fields,
    }


@pytest.mark.parametrize(
    ("kind", "actor", "fields", "sentence"),
    [
        (
            "document.created",
            "carol",
            {"name": "Draft", "type": "notebook"},
            "Carol created the notebook “Draft”",
        ),
        (
            "document.created",
            "carol",
            {"name": "notes.md", "type": "file"},
            "Carol created the file “notes.md”",
        ),
        (
            "document.renamed",
            "carol",
            {"old_name": "Draft", "new_name": "Q3 report"},
            "Carol renamed it from “Draft” to “Q3 report”",
        ),
        ("document.content_replaced", "bob", {"bytes": 12}, "Bob replaced its content"),
        (
            "document.exported",
            "bob",
            {"format": "ipynb", "version_id": None},
            "Bob exported it as ipynb",
        ),
        (
            "document.exported",
            "bob",
            {"format": "ipynb", "version_id": "00aa11bb22cc33dd"},
            "Bob exported the version “before cleanup” as ipynb",
        ),
        ("document.edited", "bob", {"updates": 12, "bytes": 80}, "Bob edited it (12 changes)"),
        ("document.edited", "bob", {"updates": 1, "bytes": 8}, "Bob edited it (1 change)"),
        ("session.joined", "dave", {"role": "viewer"}, "Dave Smith opened it as viewer"),
        ("session.left", "dave", {}, "Dave Smith closed it"),
        (
            "share.granted",
            "bob",
            {"principal": "group:data-team", "role": "editor"},
            "Bob shared this with the group data-team as editor",
        ),
        (
            "share.granted",
            "bob",
            {"principal": "user:dave", "role": "viewer"},
            "Bob shared this with Dave Smith as viewer",
        ),
        (
            "share.granted",
            "bob",
            {"principal": "user:zoe", "role": "viewer"},
            "Bob shared this with zoe as viewer",
        ),
        (
            "share.granted",
            "alice",
            {"principal": "link", "role": "commenter"},
            "Alice shared this with anyone who has the link as commenter",
        ),
        (
            "share.changed",
            "alice",
            {"principal": "user:bob", "role": "editor", "previous_role": "viewer"},
            "Alice changed Bob from viewer to editor",
        ),
        (
            "share.revoked",
            "alice",
            {"principal": "group:data-team", "previous_role": "editor"},
            "Alice stopped sharing this with the group data-team",
        ),
        (
            "version.created",
            "alice",
            {"version_id": "x", "label": "v1", "auto": False},
            "Alice saved the version “v1”",
        ),
        (
            "version.created",
            "alice",
            {"version_id": "x", "label": "", "auto": False},
            "Alice saved a version",
        ),
        (
            "version.created",
            None,
            {"version_id": "x", "label": "", "auto": True},
            "The server kept an automatic version",
        ),
        (
            "version.created",
            "alice",
            {"version_id": "x", "label": "Before restoring v1", "auto": True},
            "Alice kept an automatic version “Before restoring v1”",
        ),
        (
            "version.restored",
            "alice",
            {"version_id": "00aa11bb22cc33dd", "label": "v1"},
            "Alice restored “v1”",
        ),
        # an event from before the label was recorded: the version's label today
        (
            "version.restored",
            "alice",
            {"version_id": "00aa11bb22cc33dd"},
            "Alice restored “before cleanup”",
        ),
        (
            "version.restored",
            "alice",
            {"version_id": "ffffffffffffffff"},
            "Alice restored a version that is no longer kept",
        ),
        (
            "access.denied",
            "eve",
            {"attempted": "read_activity", "role": "editor"},
            "eve was refused reading the activity",
        ),
        (
            "access.denied",
            "eve",
            {"attempted": "write", "role": "viewer"},
            "eve was refused editing",
        ),
        (
            "document.deleted",
            "alice",
            {"purge_after": "2026-12-26T11:48:28.275742Z"},
            "Alice moved it to the trash",
        ),
        ("document.restored", "alice", {}, "Alice restored it from the trash"),
        ("document.purged", "alice", {"reason": "owner"}, "Alice deleted it for good"),
        (
            "document.purged",
            None,
            {"reason": "retention"},
            "The server deleted it for good, after its time in the trash",
        ),
        (
            "comment.created",
            "bob",
            {"thread_id": "t", "comment_id": "c", "new_thread": True, "mentions": ["dave", "zoe"]},
            "Bob started a comment thread, mentioning Dave Smith, zoe",
        ),
        (
            "comment.created",
            "bob",
            {"thread_id": "t", "comment_id": "c", "new_thread": False},
            "Bob replied to a comment thread",
        ),
        (
            "comment.edited",
            "bob",
            {"thread_id": "t", "comment_id": "c", "mentions": []},
            "Bob edited a comment",
        ),
        (
            "comment.deleted",
            "alice",
            {"thread_id": "t", "comment_id": None, "thread_deleted": True, "comments": 3},
            "Alice deleted a comment thread (3 comments)",
        ),
        (
            "comment.deleted",
            "alice",
            {"thread_id": "t", "comment_id": "c", "thread_deleted": False, "comments": 1},
            "Alice deleted a comment",
        ),
        ("comment.resolved", "carol", {"thread_id": "t"}, "Carol resolved a comment thread"),
        ("comment.reopened", "carol", {"thread_id": "t"}, "Carol reopened a comment thread"),
        (
            "access.denied",
            "eve",
            {"attempted": "delete_comment", "role": "commenter"},
            "eve was refused deleting a comment",
        ),
        (
            "access.denied",
            "eve",
            {"attempted": "resolve_comments", "role": "commenter"},
            "eve was refused resolving comments",
        ),
        ("document.someday", "alice", {}, "Alice: document.someday"),
    ],
)
def test_each_kind_reads_as_a_sentence(kind, actor, fields, sentence):
    assert describe(event(kind, actor, **fields), NAMES) == sentence


def test_names_are_data_not_markup():
    hostile = "<img src=x onerror=window.__pwned=1>"
    names = Names(people={"mallory": hostile}, versions={})
    text = describe(event("document.renamed", "mallory", old_name="a", new_name=hostile), names)
    # kept verbatim: the faces set it as text, never as HTML
    assert text == f"{hostile} renamed it from “a” to “{hostile}”"


def test_the_kind_comes_from_the_schema_when_missing():
    raw = event("share.revoked", principal="link", previous_role="viewer")
    del raw["kind"]
    assert kind_of(raw) == "share.revoked"
    assert category_of(raw) == "sharing"
    assert describe(raw, NAMES) == "Alice stopped sharing this with anyone who has the link"


def test_every_kind_the_server_emits_has_a_category_and_a_sentence():
    kinds = [k for members in CATEGORIES.values() for k in members]
    assert len(kinds) == len(set(kinds))
    assert set(CATEGORIES) == {"editing", "sharing", "versions", "lifecycle", "comments", "access"}
    for kind in KINDS:  # a kind added later must be written here too
        assert category_of(event(kind)) != "other", kind
        assert describe(event(kind), NAMES) != f"Alice: {kind}", kind
    assert category_of(event("comment.resolved")) == "comments"
    assert category_of(event("document.purged")) == "lifecycle"
    assert category_of(event("session.joined", role="editor")) == "editing"
    assert category_of(event("document.renamed")) == "lifecycle"
    assert category_of(event("version.restored")) == "versions"
    assert category_of(event("document.someday")) == "other"


def test_filters_parse_and_match():
    matching = ActivityFilter.parse(
        actors=["bob"], kinds=["sharing", "versions"], since="2026-11-26T11:00:00Z", until=None
    )
    assert matching.active
    assert matching.matches(event("share.granted", "bob", principal="link", role="viewer"))
    assert not matching.matches(event("share.granted", "alice", principal="link", role="viewer"))
    assert not matching.matches(event("document.edited", "bob"))
    early = event("version.created", "bob")
    early["timestamp"] = "2026-11-26T10:59:59.999999Z"
    assert not matching.matches(early)
    # a single event kind works as well as a category; offsets are understood
    exact = ActivityFilter.parse(
        actors=[], kinds=["document.renamed"], since=None, until="2026-11-26T12:48:28.275742+01:00"
    )
    assert exact.matches(event("document.renamed"))
    assert not exact.matches(event("document.created"))
    late = event("document.renamed")
    late["timestamp"] = "2026-11-26T11:48:28.275743Z"
    assert not exact.matches(late)
    assert not ActivityFilter.parse(actors=[], kinds=[], since=None, until=None).active


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kinds": ["gossip"]}, "'kind' must be one of"),
        ({"kinds": [""]}, "'kind' must be one of"),
        ({"actors": [""]}, "'actor'"),
        ({"actors": ["x" * 256]}, "'actor'"),
        ({"actors": ["bo\nb"]}, "'actor'"),
        ({"since": "yesterday"}, "'since'"),
        ({"since": "2026-11-26T11:00:00"}, "'since'"),  # no zone: ambiguous
        ({"until": "2026-13-01T00:00:00Z"}, "'until'"),
        ({"since": "2026-11-27T00:00:00Z", "until": "2026-11-26T00:00:00Z"}, "before"),
    ],
)
def test_bad_filters_are_refused_with_a_reason(fields, message):
    args: dict[str, Any] = {"actors": [], "kinds": [], "since": None, "until": None, **fields}
    with pytest.raises(FilterError, match=message):
        ActivityFilter.parse(**args)
