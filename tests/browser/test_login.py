"""A browser signs in with a per-user token once and stays that user (Jupyter's login
cookie), which both JupyterLab and the standalone page rely on."""

from __future__ import annotations

import json


def test_token_login_sets_a_cookie_for_that_user(collab_server, user_page) -> None:
    page = user_page("bob")
    url = f"{collab_server.url}/api/collab-docs/me"
    first = page.goto(f"{url}?token={collab_server.tokens['bob']}")
    assert first is not None and first.status == 200
    assert json.loads(page.inner_text("body"))["username"] == "bob"

    again = page.goto(url)  # no token this time: the login cookie
    assert again is not None and again.status == 200
    me = json.loads(page.inner_text("body"))
    assert (me["username"], me["display_name"], me["is_admin"]) == ("bob", "Bob Builder", False)


def test_another_context_is_not_signed_in(collab_server, user_page) -> None:
    url = f"{collab_server.url}/api/collab-docs/me"
    user_page("bob").goto(f"{url}?token={collab_server.tokens['bob']}")
    stranger = user_page("carol").goto(url)
    assert stranger is not None and stranger.status == 401
