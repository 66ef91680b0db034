"""Under a real JupyterHub (tests/test_jupyterhub.py's hub, users and groups), users and
groups are the hub's, not in our directory (docs/sharing.md, "Who exists"): any
well-formed name may be shared with, and completion offers the caller's own hub groups."""

from __future__ import annotations

import pytest

from .test_jupyterhub import Hub, create, hub, share  # noqa: F401 (the module's hub)

# With test_jupyterhub.py on one worker: one hub at a time (each starts 3 servers).
pytestmark = pytest.mark.xdist_group("jupyterhub")


def test_completion_offers_only_the_callers_own_hub_groups(hub: Hub):  # noqa: F811
    reply = hub.api("bob", "GET", "principals?q=te")
    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "principals": [{"principal": "group:team", "display_name": "team"}],
        "directory": False,
    }
    # other hub users and groups are the hub's to list, not ours
    assert hub.api("carl", "GET", "principals?q=te").json()["principals"] == []
    assert hub.api("bob", "GET", "principals?q=a").json()["principals"] == []
    assert hub.api("bob", "GET", "principals").status_code == 400


def test_any_well_formed_name_may_be_shared_with(hub: Hub):  # noqa: F811
    doc_id = create(hub, "carl", "for later", "x")
    share(hub, "carl", doc_id, "user:not-yet-on-the-hub", "viewer")
    share(hub, "carl", doc_id, "group:not-yet-a-group", "viewer")
    reply = hub.api("carl", "PUT", f"documents/{doc_id}/shares/user:a b", {"role": "viewer"})
    assert reply.status_code == 400
