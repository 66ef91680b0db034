"""Comment anchors given as ``index``/``length`` count UTF-16 code units, as Yjs does
(docs/comments.md), whatever pycrdt counts internally (UTF-8 bytes): on text beyond
ASCII the bound check and the positions the server makes use that same unit. On a real
server, validated against docs/openapi.yaml."""

from __future__ import annotations

import nbformat

from tests.test_openapi import checked, new_doc, openapi  # noqa: F401  (fixtures)

# 1 + 2 (a surrogate pair) + 1 + 1 + 5 = 10 UTF-16 units; 13 UTF-8 bytes; 9 code points
TEXT = "a😀é hello"
UNITS = len(TEXT.encode("utf-16-le")) // 2


async def post(checked, doc_id: str, anchor: dict):  # noqa: F811
    return await checked(
        "alice", "POST", f"documents/{doc_id}/threads", {"anchor": anchor, "body": "Why?"}
    )


async def test_text_anchor_bounds_count_utf16_units(checked, capfd):  # noqa: F811
    assert UNITS == 10 and len(TEXT.encode()) == 13
    doc_id = (await new_doc(checked, content=TEXT))["id"]

    # the last five units, "hello": attached where it was put, quoted right
    hello = await post(checked, doc_id, {"kind": "text", "index": 5, "length": 5})
    assert hello.status == 201, hello.body
    assert hello.body["quote"] == "hello"
    assert hello.body["position"] == {"attached": True, "start": 5, "end": 10, "cell_index": None}

    # the emoji alone (two units) and the accented letter
    emoji = await post(checked, doc_id, {"kind": "text", "index": 1, "length": 2})
    assert emoji.status == 201, emoji.body
    assert (emoji.body["quote"], emoji.body["position"]["start"]) == ("😀", 1)
    accent = await post(checked, doc_id, {"kind": "text", "index": 3, "length": 1})
    assert accent.status == 201, accent.body
    assert accent.body["quote"] == "é"

    # past the real end (within the UTF-8 byte count): refused, nothing stored
    for index, length in [(5, 6), (10, 1), (9, 4), (0, 13)]:
        reply = await post(checked, doc_id, {"kind": "text", "index": index, "length": length})
        assert reply.status == 400, (index, length, reply.body)
        assert f"({UNITS} " in reply.body["message"]
    listed = (await checked("alice", "GET", f"documents/{doc_id}/threads")).body["threads"]
    assert len(listed) == 3
    assert all(t["position"]["attached"] for t in listed)
    assert "panicked" not in capfd.readouterr().err


async def test_cell_range_bounds_count_utf16_units(checked, capfd):  # noqa: F811
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(TEXT, id="m1")])
    doc_id = (await new_doc(checked, name="NB", type="notebook", content=nb))["id"]
    whole = await post(
        checked, doc_id, {"kind": "cell_range", "cell_id": "m1", "index": 0, "length": 10}
    )
    assert whole.status == 201, whole.body
    assert whole.body["quote"] == TEXT
    assert whole.body["position"] == {"attached": True, "start": 0, "end": 10, "cell_index": 0}
    past = await post(
        checked, doc_id, {"kind": "cell_range", "cell_id": "m1", "index": 8, "length": 4}
    )
    assert past.status == 400, past.body
    listed = (await checked("alice", "GET", f"documents/{doc_id}/threads")).body["threads"]
    assert [t["position"]["attached"] for t in listed] == [True]
    assert "panicked" not in capfd.readouterr().err
