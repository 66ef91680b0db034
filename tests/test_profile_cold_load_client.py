"""The bare WebSocket client of ``benchmarks.profile_cold_load --server``: against a real
(in-process) server it receives the whole first sync and times its phases in order."""

from __future__ import annotations

from pycrdt import Doc, Text

from benchmarks.profile_cold_load import first_sync_split

CONTENT = "cold first sync " * 20_000  # 320 KB: a frame with a 64-bit length


async def test_the_split_client_receives_the_whole_first_sync_in_order(api, ws_url, tmp_path):
    doc = (
        await api("alice", "POST", "documents", {"name": "d", "type": "file", "content": CONTENT})
    ).body
    kept = tmp_path / "first-sync.bin"

    split = await first_sync_split(ws_url(doc["id"], "alice"), kept)

    received: Doc = Doc()
    received.apply_update(kept.read_bytes())
    assert str(received.get("source", type=Text)) == CONTENT
    phases = [split[k] for k in ("upgraded", "sent", "first_byte", "last_byte", "applied")]
    assert phases == sorted(phases) and phases[0] > 0
    assert split["kib"] * 1024 == len(kept.read_bytes())
