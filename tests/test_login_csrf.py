"""Login CSRF: a request another site makes a browser send must not sign it in.

The browser's Fetch Metadata (``Sec-Fetch-Site``) decides: ``none`` (typed, bookmarked)
and ``same-origin`` may sign in with ``?token=``; ``same-site`` and ``cross-site`` may not,
and never get a login cookie. Without Fetch Metadata an Origin or Referer of another host
counts as cross-site. The login cookie is ``SameSite=Lax``. (The real-browser version of
the attack is in tests/browser/test_login.py.)"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect
from traitlets import TraitError

from jupyter_collab_docs.identity import CollabDocsIdentityProvider
from jupyter_collab_docs.testing import RawClient


def login_cookies(response: Any) -> list[str]:
    return [c for c in response.headers.get_list("Set-Cookie") if c.startswith("username-")]


@pytest.fixture
def get(http_server_client: Any, jp_base_url: str, tokens: dict[str, str]) -> Any:
    """``await get(path, headers, token=user)``: a GET under the server's base URL with
    ``?token=`` of that user; redirects are not followed; never raises on a status."""

    async def call(path: str, headers: dict[str, str], token: str | None = None) -> Any:
        query = f"?{urlencode({'token': tokens[token]})}" if token else ""
        return await http_server_client.fetch(
            f"{jp_base_url}{path}{query}",
            headers=headers,
            follow_redirects=False,
            raise_error=False,
        )

    return call


CROSS_SITE = [
    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},
    # a link in a shared document, or Jupyter's login redirect to next=/lab?token=...
    {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"},
    {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"},  # another port, same host
    {"Referer": "http://attacker.example/page"},  # no Fetch Metadata: an old browser
    {"Origin": "http://attacker.example"},
    {"Origin": "null"},  # a sandboxed frame or a privacy-sensitive redirect
]


@pytest.mark.parametrize("headers", CROSS_SITE)
async def test_a_url_token_the_user_did_not_open_neither_authenticates_nor_signs_in(
    get, headers
) -> None:
    reply = await get("api/collab-docs/me", headers, token="bob")
    # 401; Jupyter's own origin check answers 404 to a foreign Origin first.
    assert reply.code in (401, 404) and b"bob" not in reply.body
    assert login_cookies(reply) == []


@pytest.mark.parametrize("headers", CROSS_SITE[:3])
@pytest.mark.parametrize("path", ["collab-docs/", "lab", "api/collab-docs/me"])
async def test_no_page_sets_a_login_cookie_from_a_cross_site_url_token(get, headers, path) -> None:
    reply = await get(path, headers, token="bob")
    assert login_cookies(reply) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"},  # typed, bookmarked
        {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"},  # the server's scripts
    ],
)
async def test_a_typed_or_own_script_url_token_signs_in_with_a_lax_cookie(get, headers) -> None:
    reply = await get("api/collab-docs/me", headers, token="bob")
    assert reply.code == 200
    [cookie] = login_cookies(reply)
    assert "samesite=lax" in cookie.lower() and "httponly" in cookie.lower()
    name_value = cookie.split(";", 1)[0]
    again = await get("api/collab-docs/me", {"Cookie": name_value})
    assert again.code == 200 and b'"username": "bob"' in again.body


async def test_a_victims_session_survives_a_cross_site_token_navigation(get, tokens) -> None:
    signed_in = await get("api/collab-docs/me", {"Authorization": f"token {tokens['alice']}"})
    [cookie] = login_cookies(signed_in)
    victim = {"Cookie": cookie.split(";", 1)[0]}
    attack = await get(
        "api/collab-docs/me", {**victim, "Sec-Fetch-Site": "cross-site"}, token="bob"
    )
    assert attack.code == 200 and b'"username": "alice"' in attack.body
    assert login_cookies(attack) == []


async def test_without_fetch_metadata_a_url_token_serves_one_request_and_no_cookie(
    get,
) -> None:
    """Scripts and very old browsers: the URL token works for that request only."""
    reply = await get("api/collab-docs/me", {}, token="bob")
    assert reply.code == 200
    assert login_cookies(reply) == []


async def test_an_authorization_header_signs_in_unless_cross_site(get, tokens) -> None:
    """The web page's sign-in form sends the token in the header: no other site can make
    a browser do that, so the header alone may set the cookie (not on a cross-site call)."""
    header = {"Authorization": f"token {tokens['bob']}"}
    assert len(login_cookies(await get("api/collab-docs/me", header))) == 1
    same_origin = {**header, "Sec-Fetch-Site": "same-origin"}
    assert len(login_cookies(await get("api/collab-docs/me", same_origin))) == 1
    cross = await get("api/collab-docs/me", {**header, "Sec-Fetch-Site": "cross-site"})
    assert cross.code == 200 and login_cookies(cross) == []


async def test_a_cross_site_room_socket_may_use_its_url_token_but_signs_nobody_in(
    api, jp_http_port, jp_base_url, tokens
) -> None:
    """docs/own-app.md: a page of another origin opens rooms with ?token= (a browser
    cannot set headers on a WebSocket). That is no sign-in: no cookie."""
    doc = (await api("bob", "POST", "documents", {"name": "d", "type": "file"})).body
    base = jp_base_url.rstrip("/")
    url = f"ws://127.0.0.1:{jp_http_port}{base}/api/collab-docs/rooms/{doc['id']}"
    request = HTTPRequest(
        f"{url}?token={tokens['bob']}",
        headers={
            "Origin": "http://app.example",
            "Sec-Fetch-Site": "cross-site",
            "Sec-Fetch-Mode": "websocket",
        },
    )
    conn = await websocket_connect(request)
    client = RawClient(conn)
    assert await client.recv() is not None  # joined
    assert [c for c in conn.headers.get_list("Set-Cookie") if c.startswith("username-")] == []
    client.close()


async def test_a_cross_site_post_with_a_form_token_is_no_sign_in(jp_fetch, tokens) -> None:
    """A token in a form body would skip the XSRF check (token-authenticated) and set the
    cookie: from another site it authenticates nothing."""
    try:
        reply = await jp_fetch(
            "api",
            "collab-docs",
            "documents",
            method="POST",
            body=f"token={tokens['bob']}",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Sec-Fetch-Site": "cross-site",
                "Authorization": "",
            },
        )
    except HTTPClientError as exc:
        reply = exc.response
    assert reply is not None and reply.code in (401, 403)
    assert login_cookies(reply) == []


def test_the_login_cookie_cannot_be_configured_samesite_none() -> None:
    with pytest.raises(TraitError, match="SameSite"):
        CollabDocsIdentityProvider(cookie_options={"samesite": "None"})
    strict = CollabDocsIdentityProvider(cookie_options={"samesite": "Strict"})
    assert strict.cookie_options["samesite"] == "Strict"
    assert CollabDocsIdentityProvider(cookie_options={}).cookie_options["samesite"] == "Lax"


async def login_form(
    http_server_client: Any, jp_base_url: str, password: str, headers: dict[str, str]
) -> Any:
    """Jupyter's login page as a browser submits it: its _xsrf cookie and field."""
    page = await http_server_client.fetch(f"{jp_base_url}login", raise_error=False)
    [xsrf] = [c.split(";")[0] for c in page.headers.get_list("Set-Cookie") if "_xsrf" in c]
    body = urlencode({"password": password, "_xsrf": xsrf.split("=", 1)[1]})
    return await http_server_client.fetch(
        f"{jp_base_url}login",
        method="POST",
        body=body,
        headers={"Cookie": xsrf, **headers},
        follow_redirects=False,
        raise_error=False,
    )


async def test_the_login_page_takes_a_per_user_token(
    http_server_client, jp_base_url, tokens, get
) -> None:
    """Where a browser without a session lands (also after a refused cross-site link)."""
    reply = await login_form(
        http_server_client, jp_base_url, tokens["bob"], {"Sec-Fetch-Site": "same-origin"}
    )
    assert reply.code == 302
    [cookie] = login_cookies(reply)
    assert "samesite=lax" in cookie.lower()
    me = await get("api/collab-docs/me", {"Cookie": cookie.split(";", 1)[0]})
    assert me.code == 200 and b'"username": "bob"' in me.body
    wrong = await login_form(http_server_client, jp_base_url, "cd_wrong", {})
    assert wrong.code == 401 and login_cookies(wrong) == []
