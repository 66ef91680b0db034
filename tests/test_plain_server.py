"""Inside a plain Jupyter server (not the standalone app), Jupyter's own identity is used."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def jp_server_config(tmp_path, collab_config):
    """A plain Jupyter server: its own identity provider, not the standalone one."""
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_collab_docs": True}},
        "CollabDocsApp": {"data_dir": str(tmp_path / "collab"), **collab_config},
    }


async def test_in_a_personal_jupyter_server_the_token_holder_is_admin(jp_fetch, collab):
    response = await jp_fetch("api", "collab-docs", "me")
    me = json.loads(response.body)
    assert me["is_admin"] is True
    created = await jp_fetch(
        "api",
        "collab-docs",
        "documents",
        method="POST",
        body=json.dumps({"name": "x", "type": "file"}),
    )
    assert created.code == 201
    listed = json.loads((await jp_fetch("api", "collab-docs", "documents")).body)
    assert [d["name"] for d in listed["documents"]] == ["x"]


@pytest.mark.parametrize("collab_config", [{"admin_users": ["somebody-else"]}])
async def test_admin_users_setting_decides_who_is_admin(jp_fetch, collab_config, collab):
    me = json.loads((await jp_fetch("api", "collab-docs", "me")).body)
    assert me["is_admin"] is False
