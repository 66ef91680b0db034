"""Version history: named and automatic versions, content at a version, restore as a new
change that live editors see, who changed what between versions, thinning."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from jupyter_collab_docs.diffs import content_diff
from jupyter_collab_docs.stores import VersionRecord
from jupyter_collab_docs.testing import eventually, yclient
from jupyter_collab_docs.versions import VersionPolicy, thin
from tests.notebooks import cell
from tests.notebooks import notebook as build_notebook


async def new_file(api, content):
    reply = await api(
        "alice", "POST", "documents", {"name": "d", "type": "file", "content": content}
    )
    return reply.body["id"]


async def put(api, doc_id, text, user="alice"):
    reply = await api(user, "PUT", f"documents/{doc_id}/content", {"content": text})
    assert reply.status == 200, reply.body


async def test_named_versions_content_and_restore_seen_live(api, ws_url):
    doc_id = await new_file(api, "one")
    v1 = await api("alice", "POST", f"documents/{doc_id}/versions", {"label": "first draft"})
    assert v1.status == 201
    assert set(v1.body) == {"id", "label", "created", "created_by", "auto", "contributors"}
    assert (v1.body["label"], v1.body["created_by"], v1.body["auto"]) == (
        "first draft",
        "alice",
        False,
    )
    await put(api, doc_id, "one two")
    v2 = (await api("alice", "POST", f"documents/{doc_id}/versions", {"label": "second"})).body
    assert v2["contributors"] == {
        "alice": {"updates": 1, "bytes": v2["contributors"]["alice"]["bytes"]}
    }
    listed = (await api("alice", "GET", f"documents/{doc_id}/versions")).body["versions"]
    assert [v["id"] for v in listed] == [v2["id"], v1.body["id"]]
    old = await api(
        "alice", "GET", f"documents/{doc_id}/content", params={"version": v1.body["id"]}
    )
    assert old.body == {"type": "file", "format": "text", "content": "one"}
    async with yclient(ws_url(doc_id, "carol")) as live:
        await eventually(lambda: str(live.text) == "one two")
        restored = await api(
            "alice", "POST", f"documents/{doc_id}/versions/{v1.body['id']}/restore"
        )
        assert restored.status == 200 and restored.body["id"] == doc_id
        await eventually(lambda: str(live.text) == "one", what="restore seen live")
    # the restore kept what it replaced, so it can be undone
    listed = (await api("alice", "GET", f"documents/{doc_id}/versions")).body["versions"]
    before = listed[0]
    assert before["auto"] and before["label"] == "Before restoring first draft"
    await api("alice", "POST", f"documents/{doc_id}/versions/{before['id']}/restore")
    content = (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]
    assert content == "one two"


async def compare(api, doc_id: str, older: str, newer: str, user: str = "alice"):
    """``user``'s compare of two versions (``newer`` may be ``"current"``)."""
    params = {"from": older, "to": newer}
    return await api(user, "GET", f"documents/{doc_id}/versions/compare", params=params)


async def test_who_changed_what_between_two_versions(api, collab):
    doc_id = await new_file(api, "a")
    await api("alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "editor"})
    v0 = (await api("alice", "POST", f"documents/{doc_id}/versions", {"label": "start"})).body
    await put(api, doc_id, "ab", "bob")
    await put(api, doc_id, "abc", "bob")
    v1 = (await api("alice", "POST", f"documents/{doc_id}/versions", {"label": "mid"})).body
    await put(api, doc_id, "abcd", "alice")
    v2 = (await api("bob", "POST", f"documents/{doc_id}/versions", {"label": "end"})).body
    reply = await compare(api, doc_id, v0["id"], v2["id"])
    assert reply.status == 200
    people = reply.body["contributors"]
    assert people["bob"]["updates"] == 2 and people["alice"]["updates"] == 1
    only_bob = await compare(api, doc_id, v0["id"], v1["id"])
    assert set(only_bob.body["contributors"]) == {"bob"}
    backwards = await compare(api, doc_id, v2["id"], v0["id"])
    assert backwards.status == 400


async def test_version_permissions(api):
    doc_id = await new_file(api, "x")
    await api("alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "viewer"})
    v = (await api("alice", "POST", f"documents/{doc_id}/versions", {"label": "v"})).body
    assert (await api("bob", "GET", f"documents/{doc_id}/versions")).status == 200
    read = await api("bob", "GET", f"documents/{doc_id}/content", params={"version": v["id"]})
    assert read.status == 200
    assert (await api("bob", "POST", f"documents/{doc_id}/versions", {"label": "no"})).status == 403
    assert (
        await api("bob", "POST", f"documents/{doc_id}/versions/{v['id']}/restore")
    ).status == 403
    await api("alice", "DELETE", f"documents/{doc_id}/shares/user:bob")
    assert (await api("bob", "GET", f"documents/{doc_id}/versions")).status == 404
    assert len((await api("alice", "GET", f"documents/{doc_id}/versions")).body["versions"]) == 1


async def test_version_errors(api):
    doc_id = await new_file(api, "x")
    assert (await api("alice", "POST", f"documents/{doc_id}/versions", {"label": 5})).status == 400
    missing = await api("alice", "GET", f"documents/{doc_id}/content", params={"version": "nope"})
    assert missing.status == 404 and missing.body["message"] == "no such version"
    assert (await api("alice", "POST", f"documents/{doc_id}/versions/nope/restore")).status == 404
    unnamed = await api("alice", "POST", f"documents/{doc_id}/versions")
    assert unnamed.status == 201 and unnamed.body["label"] == ""


@pytest.mark.parametrize("collab_config", [{"auto_version_idle": 0.3}])
async def test_automatic_version_after_editing_then_idling(api, ws_url, collab_config):
    doc_id = await new_file(api, "")
    async with yclient(ws_url(doc_id)) as client:
        client.text.insert(0, "typed live")

        async def auto_versions():
            versions = (await api("alice", "GET", f"documents/{doc_id}/versions")).body["versions"]
            return [v for v in versions if v["auto"]]

        found: list = []
        for _ in range(100):
            found = await auto_versions()
            if found:
                break
            await __import__("anyio").sleep(0.05)
        assert len(found) == 1
        assert found[0]["contributors"]["alice"]["updates"] >= 1
        content = await api(
            "alice", "GET", f"documents/{doc_id}/content", params={"version": found[0]["id"]}
        )
        assert content.body["content"] == "typed live"


def test_thinning_keeps_recent_hourly_daily_and_every_named_version():
    now = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)

    def auto(minutes_ago: int, vid: str) -> VersionRecord:
        return VersionRecord(vid, "d", "", now - timedelta(minutes=minutes_ago), "", True)

    versions = [
        auto(5, "recent-a"), auto(30, "recent-b"),           # last hour: all kept
        auto(125, "h2-new"), auto(150, "h2-old"),              # same hour bucket
        auto(60 * 30, "d1-new"), auto(60 * 31, "d1-old"),     # same day, beyond a day
        auto(60 * 24 * 40, "ancient"),                         # past a month
        VersionRecord("named", "d", "keep me", now - timedelta(days=90), "alice", False),
    ]  # fmt: skip
    dropped = thin(versions, now, VersionPolicy())
    assert sorted(dropped) == ["ancient", "d1-old", "h2-old"]


def _lines(diff, kind):
    return [
        line["text"] for hunk in diff["hunks"] for line in hunk["lines"] if line["kind"] == kind
    ]


async def test_compare_shows_what_changed_in_a_text_and_who(api):
    doc_id = await new_file(api, "first line\nsecond line\n")
    await api("alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "viewer"})
    v0 = (await api("alice", "POST", f"documents/{doc_id}/versions", {"label": "start"})).body
    await put(api, doc_id, "first line\nsecond line, edited\nthird line\n")
    v1 = (await api("alice", "POST", f"documents/{doc_id}/versions", {"label": "end"})).body
    # a viewer may compare, as they may list versions
    reply = await compare(api, doc_id, v0["id"], v1["id"], user="bob")
    assert reply.status == 200, reply.body
    assert reply.body["contributors"]["alice"]["updates"] == 1  # what it said before
    changes = reply.body["changes"]
    assert changes["type"] == "file" and (changes["added"], changes["removed"]) == (2, 1)
    assert _lines(changes, "removed") == ["second line"]
    assert _lines(changes, "added") == ["second line, edited", "third line"]
    bytes_sent = reply.body["contributors"]["alice"]["bytes"]
    assert reply.body["authors"] == [
        {"username": "alice", "display_name": "Alice Liddell", "updates": 1, "bytes": bytes_sent}
    ]


async def test_compare_a_version_with_the_current_notebook(api):
    notebook = build_notebook(cell("keep", "# Title", "markdown"), cell("calc", "x = 1"))
    created = await api(
        "alice", "POST", "documents", {"name": "n", "type": "notebook", "content": notebook}
    )
    doc_id = created.body["id"]
    await api("alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "editor"})
    v0 = (await api("alice", "POST", f"documents/{doc_id}/versions", {"label": "start"})).body
    notebook["cells"][1]["source"] = "x = 2"
    notebook["cells"].append(cell("more", "<b>new</b>", "markdown"))
    reply = await api("bob", "PUT", f"documents/{doc_id}/content", {"content": notebook})
    assert reply.status == 200, reply.body
    # no version since: compared with the document as it is now
    reply = await compare(api, doc_id, v0["id"], "current")
    assert reply.status == 200, reply.body
    assert reply.body["to"] == "current"
    changes = reply.body["changes"]
    assert changes["type"] == "notebook"
    assert changes["summary"]["added"] == 1 and changes["summary"]["changed"] == 1
    by_id = {cell["id"]: cell for cell in changes["cells"]}
    assert by_id["more"]["status"] == "added"
    assert _lines(by_id["calc"]["source"], "added") == ["x = 2"]
    assert [a["username"] for a in reply.body["authors"]] == ["bob"]
    assert reply.body["authors"][0]["display_name"] == "bob"


async def test_compare_refuses_bad_ids_clearly(api):
    doc_id = await new_file(api, "x")
    v0 = (await api("alice", "POST", f"documents/{doc_id}/versions", {"label": "v"})).body
    path = f"documents/{doc_id}/versions/compare"
    unknown = await api("alice", "GET", path, params={"from": "0123456789abcdef", "to": "current"})
    assert unknown.status == 404 and unknown.body["message"] == "no such version"
    odd = await api("alice", "GET", path, params={"from": v0["id"], "to": "../../etc"})
    assert odd.status == 404 and odd.body["message"] == "no such version"
    backwards = await api("alice", "GET", path, params={"from": "current", "to": v0["id"]})
    assert backwards.status == 400
    assert (await api("alice", "GET", path, params={"from": v0["id"]})).status == 400
    same = await api("alice", "GET", path, params={"from": v0["id"], "to": v0["id"]})
    assert same.status == 200 and same.body["changes"]["hunks"] == []
    assert same.body["authors"] == []


async def test_compare_says_who_changed_each_cell(api):
    notebook = build_notebook(cell("first", "a = 1"), cell("second", "b = 1"))
    created = await api(
        "alice", "POST", "documents", {"name": "n", "type": "notebook", "content": notebook}
    )
    doc_id, versions = created.body["id"], f"documents/{created.body['id']}/versions"
    await api("alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "editor"})
    v0 = (await api("alice", "POST", versions, {"label": "start"})).body
    notebook["cells"][0]["source"] = "a = 2"
    await api("alice", "PUT", f"documents/{doc_id}/content", {"content": notebook})
    await api("alice", "POST", versions, {"label": "alice's"})
    notebook["cells"][1]["source"] = "b = 2"
    await api("bob", "PUT", f"documents/{doc_id}/content", {"content": notebook})
    reply = await api(
        "alice", "GET", f"{versions}/compare", params={"from": v0["id"], "to": "current"}
    )
    assert reply.status == 200, reply.body
    by_cell = {cell["id"]: cell["by"] for cell in reply.body["changes"]["cells"]}
    assert by_cell == {"first": ["alice"], "second": ["bob"]}


async def test_comparing_a_large_text_leaves_the_server_responsive(api, monkeypatch):
    """A diff can take a second on a large text: it runs off the event loop."""
    import asyncio
    import threading
    import time

    from jupyter_collab_docs import versions

    diff_threads: list[int] = []

    def recording_diff(*args: object) -> object:
        diff_threads.append(threading.get_ident())
        return content_diff(*args)

    monkeypatch.setattr(versions, "content_diff", recording_diff)
    old = "".join(f"line {n} of a long text\n" for n in range(20_000))
    new = "".join(line if n % 100 else "changed\n" for n, line in enumerate(old.splitlines(True)))
    doc_id = await new_file(api, old)
    v0 = (await api("alice", "POST", f"documents/{doc_id}/versions", {"label": "v"})).body
    await put(api, doc_id, new)
    gaps: list[float] = []

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    reply = await compare(api, doc_id, v0["id"], "current")
    took = time.monotonic() - started
    ticker.cancel()
    assert reply.status == 200 and reply.body["changes"]["added"] == 200
    print(f"compare took {took:.2f} s, longest event-loop gap {max(gaps):.3f} s")
    # The diff ran on a worker thread, not the loop's (the server runs in this process)...
    assert diff_threads and threading.get_ident() not in diff_threads
    # ...so the loop kept turning through most of it (in the loop, one gap was the whole
    # diff: over a second). Relative to the whole compare, so a loaded machine's slower
    # turns do not fail it (a 0.6 s bound failed at load 12).
    assert max(gaps) < took / 2
