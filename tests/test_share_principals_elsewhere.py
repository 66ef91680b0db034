"""Outside the standalone server (a personal Jupyter server; JupyterHub works the same
way), users and groups are not in our directory: shares to well-formed names are accepted
as before, and completion offers only the caller's own groups (docs/sharing.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jupyter_collab_docs.identity import Actor
from jupyter_collab_docs.principals import ExternalPrincipals


@pytest.fixture
def jp_server_config(tmp_path, collab_config):
    """A plain Jupyter server: its own identity provider, not the standalone one."""
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_collab_docs": True}},
        "CollabDocsApp": {"data_dir": str(tmp_path / "collab"), **collab_config},
    }


async def call(jp_fetch: Any, method: str, *path: str, **kwargs: Any) -> Any:
    response = await jp_fetch(
        "api", "collab-docs", *path, method=method, raise_error=False, **kwargs
    )
    return response.code, json.loads(response.body) if response.body else None


async def test_a_personal_server_shares_with_any_well_formed_name(jp_fetch, collab):
    status, doc = await call(
        jp_fetch, "POST", "documents", body=json.dumps({"name": "x", "type": "file"})
    )
    assert status == 201
    for principal in ("user:someone", "group:anyone"):
        status, share = await call(
            jp_fetch,
            "PUT",
            "documents",
            doc["id"],
            "shares",
            principal,
            body=json.dumps({"role": "viewer"}),
        )
        assert (status, share) == (200, {"principal": principal, "role": "viewer"})
    status, _ = await call(
        jp_fetch, "PUT", "documents", doc["id"], "shares", "user:b b", body='{"role": "viewer"}'
    )
    assert status == 400  # the names' form is still checked


async def test_a_personal_server_has_no_directory_to_complete_from(jp_fetch, collab):
    status, body = await call(jp_fetch, "GET", "principals", params={"q": "a"})
    assert (status, body) == (200, {"principals": [], "directory": False})
    status, _ = await call(jp_fetch, "GET", "principals")
    assert status == 400


async def test_without_a_directory_the_callers_own_groups_are_completed():
    """Under JupyterHub the hub user model carries the caller's groups: those, and only
    those, are known without asking the hub."""
    actor = Actor.create("alice", groups=frozenset({"physics", "phd", "biology"}))
    principals = ExternalPrincipals()
    assert await principals.missing("user:nobody") is None
    assert await principals.missing("group:nobody") is None
    found = await principals.complete(actor, "ph", kinds=("user", "group"), limit=10)
    assert found == [
        {"principal": "group:phd", "display_name": "phd"},
        {"principal": "group:physics", "display_name": "physics"},
    ]
    assert await principals.complete(actor, "ph", kinds=("user",), limit=10) == []
    assert len(await principals.complete(actor, "p", kinds=("group",), limit=1)) == 1
