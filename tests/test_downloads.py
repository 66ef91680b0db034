"""``GET documents/{id}/content?format=file``: the document as the file to save
(JupyterLab's File > Download), to readers only, never rendered by the browser."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from jupyter_collab_docs.downloads import content_disposition, download_name

NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {},
    "cells": [
        {"cell_type": "markdown", "id": "c1", "source": "# Héllo", "metadata": {}},
    ],
}


async def download(
    jp_fetch: Any, tokens: dict[str, str], user: str, doc_id: str, fmt: str = "file"
):
    return await jp_fetch(
        "api",
        "collab-docs",
        "documents",
        doc_id,
        "content",
        params={"format": fmt},
        headers={"Authorization": f"token {tokens[user]}"},
        raise_error=False,
    )


async def test_a_notebook_downloads_as_its_ipynb(api, jp_fetch, tokens):
    body = {"name": "Team plan", "type": "notebook", "content": NOTEBOOK}
    doc = (await api("alice", "POST", "documents", body)).body
    reply = await download(jp_fetch, tokens, "alice", doc["id"])
    assert reply.code == 200
    assert reply.headers["Content-Type"] == "application/x-ipynb+json"
    assert reply.headers["Content-Disposition"] == (
        "attachment; filename=\"Team plan.ipynb\"; filename*=UTF-8''Team%20plan.ipynb"
    )
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in reply.headers["Content-Security-Policy"]
    saved = json.loads(reply.body)
    assert saved["nbformat"] == 4 and "type" not in saved
    assert [cell["source"] for cell in saved["cells"]] == ["# Héllo"]


async def test_a_text_downloads_as_its_text_under_its_name(api, jp_fetch, tokens):
    body = {"name": "notes.md", "type": "file", "content": "# Notes\n<script>x</script>\n"}
    doc = (await api("alice", "POST", "documents", body)).body
    reply = await download(jp_fetch, tokens, "alice", doc["id"])
    assert reply.code == 200
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "filename*=UTF-8''notes.md" in reply.headers["Content-Disposition"]
    assert reply.body.decode() == "# Notes\n<script>x</script>\n"


async def test_only_readers_download_and_the_format_is_checked(api, jp_fetch, tokens):
    body = {"name": "secret", "type": "file", "content": "s3cret"}
    doc = (await api("alice", "POST", "documents", body)).body
    refused = await download(jp_fetch, tokens, "bob", doc["id"])
    assert refused.code == 404 and b"s3cret" not in refused.body
    assert "Content-Disposition" not in refused.headers
    await api("alice", "PUT", f"documents/{doc['id']}/shares/user:bob", {"role": "viewer"})
    assert (await download(jp_fetch, tokens, "bob", doc["id"])).body == b"s3cret"
    wrong = await download(jp_fetch, tokens, "alice", doc["id"], fmt="pdf")
    assert wrong.code == 400 and b"format" in wrong.body


@pytest.mark.parametrize(
    ("name", "doc_type", "file_name"),
    [
        ("Team plan", "notebook", "Team plan.ipynb"),
        ("done.IPYNB", "notebook", "done.IPYNB"),
        ("notes.md", "file", "notes.md"),
        ("notes", "file", "notes.txt"),
        (".bashrc", "file", ".bashrc.txt"),
        ("a/b", "file", "a\u2215b.txt"),
    ],
)
def test_the_file_name_is_the_jupyterlab_drives(name: str, doc_type: str, file_name: str):
    assert download_name(name, doc_type) == file_name


def test_the_disposition_names_any_file_safely():
    header = content_disposition('Ünï "q";\r\nX: y.ipynb')
    assert "\r" not in header and "\n" not in header
    fallback = header.split('filename="')[1].split('"')[0]
    assert fallback.isascii() and '"' not in fallback
    encoded = header.split("filename*=UTF-8''")[1]
    assert urllib.parse.unquote(encoded) == 'Ünï "q";\r\nX: y.ipynb'
