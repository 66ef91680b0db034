"""Who contributed: only updates that add something to the document count (a struct
the document lacks, or a deletion of text not yet deleted). A pycrdt client echoes back
what it received; echoes must not make its user a contributor (versions, compare).
Real server, real sockets: a raw y-websocket client that only echoes, a pycrdt client
that edits."""

from __future__ import annotations

from jupyter_collab_docs.protocol import (
    MESSAGE_SYNC,
    SYNC_STEP2,
    SYNC_UPDATE,
    parse_frame,
    sync_message,
    sync_step1,
    update_message,
)
from jupyter_collab_docs.testing import RawClient, eventually, yclient


async def synced(client: RawClient) -> bytes:
    """Ask for everything (sync step 1, empty state vector); the server's step 2 answer.
    Frames of one socket are handled in order: once it is here, all sent before it
    have been applied."""
    await client.send(sync_step1(b"\x00"))
    while True:
        frame = await client.recv()
        assert frame is not None, "the server closed the echoing socket"
        parsed = parse_frame(frame)
        if parsed.kind == MESSAGE_SYNC and parsed.step == SYNC_STEP2:
            return parsed.payload


async def next_update(client: RawClient) -> bytes:
    while True:
        frame = await client.recv()
        assert frame is not None
        parsed = parse_frame(frame)
        if parsed.kind == MESSAGE_SYNC and parsed.step == SYNC_UPDATE:
            return parsed.payload


async def test_echoes_do_not_make_a_contributor_edits_do(api, ws_url):
    created = await api(
        "alice", "POST", "documents", {"name": "d", "type": "file", "content": "hello world"}
    )
    doc_id = created.body["id"]
    for user in ("bob", "carol"):
        share = await api(
            "alice", "PUT", f"documents/{doc_id}/shares/user:{user}", {"role": "editor"}
        )
        assert share.status == 200
    versions = f"documents/{doc_id}/versions"
    start = (await api("alice", "POST", versions, {"label": "start"})).body

    carol = await RawClient.connect(ws_url(doc_id, "carol"))
    try:
        # the whole document, sent back as an update and as a sync step 2 (as a client
        # answering the server's step 1 does)
        everything = await synced(carol)
        await carol.send(update_message(everything))
        await carol.send(sync_message(SYNC_STEP2, everything))
        async with yclient(ws_url(doc_id, "bob")) as bob:
            await eventually(lambda: str(bob.text) == "hello world")
            bob.text.insert(5, ",")  # structs: new
            bob_insert = await next_update(carol)
            del bob.text[0:1]  # a deletion only: new
            bob_delete = await next_update(carol)
            for echo in (bob_insert, bob_delete, bob_insert):  # and again
                await carol.send(update_message(echo))
            # alice deletes over REST; carol echoes that too
            put = await api("alice", "PUT", f"documents/{doc_id}/content", {"content": "ello"})
            assert put.status == 200
            await carol.send(update_message(await next_update(carol)))
            await synced(carol)  # all of carol's frames applied
            await eventually(lambda: str(bob.text) == "ello")
    finally:
        carol.close()

    end = (await api("alice", "POST", versions, {"label": "end"})).body
    assert set(end["contributors"]) == {"alice", "bob"}, end["contributors"]
    assert end["contributors"]["bob"]["updates"] == 2
    compared = await api(
        "alice", "GET", f"{versions}/compare", params={"from": start["id"], "to": end["id"]}
    )
    assert compared.status == 200
    assert set(compared.body["contributors"]) == {"alice", "bob"}
