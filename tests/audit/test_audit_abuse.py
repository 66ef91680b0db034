"""The audit trail under abuse (issue #12 item 6): unauthenticated or malformed requests
must not be able to write the trail at will, nor fill an owner's activity feed.

* an id that is not of the server's id format is refused (404 / 4404) before anything
  is recorded or looked up;
* every string field of every schema has a length cap, and emission truncates rather
  than raising;
* refusals (``access.denied``) are rate-limited per source, the dropped ones counted;
* anonymous refusals never reach a document's activity feed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import pytest

from jupyter_collab_docs.audit import AuditTrail
from jupyter_collab_docs.audit.schemas import all_schemas
from jupyter_collab_docs.testing import RawClient

from .conftest import file_events


async def new_doc(api: Any, user: str = "alice") -> str:
    reply = await api(user, "POST", "documents", {"name": "doc", "type": "file"})
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


def audit_file(collab: Any) -> Path:
    return Path(collab.data_dir) / "audit.jsonl"


def denied(collab: Any) -> list[dict[str, Any]]:
    return [e for e in file_events(audit_file(collab)) if e["kind"] == "access.denied"]


async def refused(url: str) -> int | None:
    client = await RawClient.connect(url)
    return await client.closed()


async def test_a_malformed_document_id_is_refused_with_nothing_recorded(
    api, ws_url, collab, monkeypatch
):
    doc_id = await new_doc(api)
    before = len(file_events(audit_file(collab)))
    looked_up: list[tuple[Any, ...]] = []
    for name in ("get", "get_version"):
        real = getattr(collab.store, name)

        async def spy(*args: Any, real: Any = real, name: str = name) -> Any:
            looked_up.append((name, *(a[:40] for a in args)))
            return await real(*args)

        monkeypatch.setattr(collab.store, name, spy)
    huge = "a" * 60_000  # the attack's 60 KB id
    cases = [(None, huge), (None, "not-an-id"), ("bob", "b" * 500), ("bob", doc_id.upper())]
    for user, target in cases:
        assert await refused(ws_url(target, user)) == 4404, (user, target[:20])
    for path in (f"documents/{'z' * 5000}", "documents/not-an-id/shares"):
        assert (await api("bob", "GET", path)).status == 404
    assert (await api("bob", "GET", "documents/" + doc_id.upper())).status == 404
    version = await api(
        "alice", "GET", f"documents/{doc_id}/content", params={"version": "v" * 5000}
    )
    assert version.status == 404
    assert looked_up == [("get", doc_id)]  # only the version's document was looked up
    # nothing at all was recorded for any of them
    assert file_events(audit_file(collab))[before:] == []
    # a well-formed id still works
    assert (await api("alice", "GET", f"documents/{doc_id}")).status == 200


async def test_anonymous_refusals_are_rate_limited_and_counted(api, ws_url, collab, caplog):
    doc_id = await new_doc(api)
    limit = collab.audit.refusals_per_source
    assert 0 < limit <= 100

    async def attempt() -> None:
        assert await refused(ws_url(doc_id, None)) == 4401

    caplog.set_level(logging.WARNING, logger=collab.audit.log.name)
    for _ in range(20):  # 1,000 refused upgrades, 50 at a time
        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(attempt)
    events = denied(collab)
    assert 1 <= len(events) <= limit
    assert all(e["actor"] is None and e["source"] == "127.0.0.1" for e in events)
    assert collab.audit.refusals_dropped == 1000 - len(events)
    # the dropped events are said in the log, as a count (not one line each)
    collab.audit.report_dropped_refusals()
    said = [r.getMessage() for r in caplog.records if "access.denied" in r.getMessage()]
    assert any(str(1000 - len(events)) in message for message in said), said
    assert len(said) < 10


async def test_the_owners_feed_shows_no_anonymous_refusal(api, ws_url, collab):
    doc_id = await new_doc(api)
    for _ in range(3):
        assert await refused(ws_url(doc_id, None)) == 4401
    # the trail has them (they are a security signal)...
    assert [e["actor"] for e in denied(collab)] == [None, None, None]
    # ...the owner's activity feed does not
    feed = (await api("alice", "GET", f"documents/{doc_id}/activity")).body["events"]
    assert [e["kind"] for e in feed] == ["document.created"]
    assert all(e["actor"] is not None for e in feed)


async def test_an_authenticated_prober_is_rate_limited_too(api, ws_url, collab):
    doc_id = await new_doc(api)
    limit = collab.audit.refusals_per_source
    for _ in range(3 * limit):
        assert await refused(ws_url(doc_id, "bob")) == 4404
        assert (await api("bob", "GET", f"documents/{doc_id}")).status == 404
    by_bob = [e for e in denied(collab) if e["actor"] == "bob"]
    assert 1 <= len(by_bob) <= limit
    feed = await api("alice", "GET", f"documents/{doc_id}/activity", params={"limit": "500"})
    feed = feed.body["events"]
    assert len([e for e in feed if e["kind"] == "access.denied"]) <= limit


# -- the schemas' length caps --------------------------------------------------------------


def test_every_string_field_of_every_schema_is_capped() -> None:
    for sid, schema in all_schemas().items():
        for name, prop in schema["properties"].items():
            types = prop.get("type")
            types = types if isinstance(types, list) else [types]
            if "string" in types and "pattern" not in prop and "enum" not in prop:
                cap = prop.get("maxLength")
                assert isinstance(cap, int) and 0 < cap <= 1024, f"{sid}: {name} is not capped"


async def test_oversize_fields_are_truncated_not_raised(tmp_path: Path) -> None:
    trail = AuditTrail("node-1", sinks=[f"file://{tmp_path}/audit.jsonl"], data_dir=tmp_path)
    await trail.start()
    try:
        reason = "r" * 1_000_000
        trail.emit("access.denied", "alice", "d1", attempted="connect", reason=reason)
        trail.emit("document.renamed", "alice", "d1", old_name="a" * 5000, new_name="b")
    finally:
        await trail.close()
    events = file_events(tmp_path / "audit.jsonl")  # checked against the schemas
    assert [e["kind"] for e in events] == ["access.denied", "document.renamed"]
    assert 0 < len(events[0]["reason"]) <= 1024
    assert events[0]["reason"].startswith("rrrr")
    assert len(events[1]["old_name"]) < 5000
    assert (tmp_path / "audit.jsonl").stat().st_size < 10_000


@pytest.mark.parametrize("actor", ["mallory", None])
async def test_the_limiter_of_the_trail_on_its_own(tmp_path: Path, actor: str | None) -> None:
    trail = AuditTrail(
        "node-1",
        sinks=[f"file://{tmp_path}/audit.jsonl"],
        data_dir=tmp_path,
        refusals_per_source=5,
        refusal_interval=3600,
    )
    await trail.start()
    try:
        for _ in range(50):
            trail.emit("access.denied", actor, "d1", attempted="read", source="10.0.0.1")
        trail.emit("access.denied", "alice", "d1", attempted="read")  # another source
        trail.emit("document.deleted", "alice", "d1")  # other kinds are never limited
    finally:
        await trail.close()
    kinds = [(e["kind"], e["actor"]) for e in file_events(tmp_path / "audit.jsonl")]
    assert kinds == [("access.denied", actor)] * 5 + [
        ("access.denied", "alice"),
        ("document.deleted", "alice"),
    ]
    assert trail.refusals_dropped == 45
