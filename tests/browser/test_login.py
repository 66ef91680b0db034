"""A browser signs in with a per-user token once and stays that user (Jupyter's login
cookie), which both JupyterLab and the standalone page rely on; a page of another origin
cannot sign it in (login CSRF)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page

# One worker runs the whole module: its browser and server are per module (xdist_group).
pytestmark = pytest.mark.xdist_group("browser-login")


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


# -- login CSRF: another site must not sign the browser in (issue #12, item 5) ---------


@dataclass
class AttackerSite:
    """A page on another origin that sends the browser to ``target`` at once."""

    url: str
    target: str = ""


@pytest.fixture(params=["127.0.0.2", "127.0.0.1"], ids=["cross-site", "same-site"])
def attacker(request: pytest.FixtureRequest) -> Iterator[AttackerSite]:
    """127.0.0.2 is another site; 127.0.0.1 on another port is the same site, another
    origin (Sec-Fetch-Site: same-site), which may not sign in either."""
    site = AttackerSite(url="")

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            target = json.dumps(site.target)
            body = f"<!doctype html><script>location.href = {target};</script>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((request.param, 0), Page)
    site.url = f"http://{request.param}:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()


def follow_attack(page: Page, attacker: AttackerSite, server_url: str, target: str) -> None:
    """The visitor opens the attacker's page, which sends them on to ``target``."""
    attacker.target = f"{server_url}/{target}"
    page.goto(attacker.url)
    page.wait_for_url(f"{server_url}/**")  # the target, or where it redirects (login)
    page.wait_for_load_state("load")


def whoami(page: Page, server_url: str) -> tuple[int, str | None]:
    reply = page.goto(f"{server_url}/api/collab-docs/me")
    assert reply is not None
    body = page.inner_text("body")
    return reply.status, json.loads(body)["username"] if reply.status == 200 else None


@pytest.mark.parametrize("path", ["collab-docs/", "lab", "api/collab-docs/me"])
def test_another_site_cannot_sign_a_visitor_in_as_the_attacker(
    collab_server, user_page, attacker, path
) -> None:
    page = user_page("alice")
    follow_attack(page, attacker, collab_server.url, f"{path}?token={collab_server.tokens['bob']}")
    assert whoami(page, collab_server.url) == (401, None)
    cookies = page.context.cookies(collab_server.url)
    assert [c["name"] for c in cookies if c["name"].startswith("username-")] == []


def test_another_site_cannot_replace_a_signed_in_visitors_session(
    collab_server, user_page, attacker
) -> None:
    page = user_page("alice")
    page.goto(f"{collab_server.url}/collab-docs/?token={collab_server.tokens['alice']}")
    assert whoami(page, collab_server.url) == (200, "alice")
    target = f"collab-docs/?token={collab_server.tokens['bob']}"
    follow_attack(page, attacker, collab_server.url, target)
    assert whoami(page, collab_server.url) == (200, "alice")


def test_the_login_cookie_is_samesite_lax(collab_server, user_page) -> None:
    page = user_page("bob")
    page.goto(f"{collab_server.url}/api/collab-docs/me?token={collab_server.tokens['bob']}")
    [cookie] = [c for c in page.context.cookies() if c["name"].startswith("username-")]
    assert cookie["sameSite"] == "Lax" and cookie["httpOnly"] is True


def test_signing_in_on_the_login_page_after_an_attack_keeps_the_visitors_identity(
    collab_server, user_page, attacker
) -> None:
    """The refused /lab?token=ATTACKER lands on Jupyter's login page with
    next=/lab?token=ATTACKER; the visitor signs in there with their own token, and the
    redirect back (same-origin) must not sign them in as the attacker after all."""
    page = user_page("alice")
    follow_attack(page, attacker, collab_server.url, f"lab?token={collab_server.tokens['bob']}")
    assert "/login" in page.url
    page.fill("input[name=password]", collab_server.tokens["alice"])
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("load")
    assert whoami(page, collab_server.url) == (200, "alice")


def test_a_typed_address_signs_in_through_the_pages_redirect(collab_server, user_page) -> None:
    """README: the user opens the address with their token (Sec-Fetch-Site: none, kept
    through the server's own redirect from collab-docs to collab-docs/)."""
    page = user_page("carol")
    page.goto(f"{collab_server.url}/collab-docs?token={collab_server.tokens['carol']}")
    assert whoami(page, collab_server.url) == (200, "carol")
