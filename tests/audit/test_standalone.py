"""A fresh ``jupyter collab-docs``: events in ``<data_dir>/audit.jsonl`` by default, and
``audit tail`` (with ``--document`` and ``--follow``) on them. (The activity feed across a
restart: test_kafka.py's outage test.)"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from typing import Any

from .conftest import file_events, parse_lines


def test_a_fresh_server_audits_to_its_data_dir_and_tail_reads_it(standalone: Any) -> None:
    standalone.start()
    one = standalone.request("POST", "documents", {"name": "one", "type": "file"})["id"]
    two = standalone.request("POST", "documents", {"name": "two", "type": "notebook"})["id"]
    standalone.request("PATCH", f"documents/{one}", {"name": "one bis"})
    audit = standalone.data_dir / "audit.jsonl"
    events = file_events(audit)
    assert [(e["kind"], e["document_id"]) for e in events] == [
        ("document.created", one),
        ("document.created", two),
        ("document.renamed", one),
    ]
    assert {e["actor"] for e in events} == {"admin"}  # the server's own token

    tail = [*standalone.command("audit", "tail"), f"--CollabDocsApp.data_dir={standalone.data_dir}"]
    # --follow prints what was there, then what comes (started first: both CLIs start
    # at the same time)
    follow = subprocess.Popen(
        [*tail, f"--document={two}", "--follow"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(follow.stdout), daemon=True)
    reader.start()
    try:
        out = subprocess.run(tail, capture_output=True, text=True, timeout=60, check=True)
        assert out.stdout.splitlines() == audit.read_text().splitlines()
        deadline = time.monotonic() + 30
        while len(lines) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        standalone.request("PATCH", f"documents/{one}", {"name": "not shown"})
        standalone.request("PATCH", f"documents/{two}", {"name": "two bis"})
        while len(lines) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        follow.terminate()
        follow.wait(10)
    got = parse_lines(lines)
    assert [(e["kind"], e.get("new_name")) for e in got] == [
        ("document.created", None),
        ("document.renamed", "two bis"),
    ]
    # the activity feed (in the document store) has them too, newest first
    feed = standalone.request("GET", f"documents/{one}/activity")["events"]
    assert [(e["kind"], e.get("new_name")) for e in feed] == [
        ("document.renamed", "not shown"),
        ("document.renamed", "one bis"),
        ("document.created", None),
    ]
    # each exactly as the sink has it, plus the feed's own fields (docs/audit.md)
    feed_only = ("summary", "category", "actor_name")
    as_recorded = [{k: v for k, v in e.items() if k not in feed_only} for e in feed]
    assert as_recorded == [json.loads(x) for x in audit.read_text().splitlines() if one in x][::-1]
    assert feed[0]["summary"] == "Server administrator renamed it from “one bis” to “not shown”"
