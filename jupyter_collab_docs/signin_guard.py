"""Which requests may sign a browser in: the defence against login CSRF.

A page must not be able to sign a visitor in as someone else (for example by sending them
to ``{base}lab?token=ATTACKER``: they would then work in the attacker's account). Browsers
say where a request comes from in the Fetch Metadata headers ``Sec-Fetch-Site`` and
``Sec-Fetch-Mode``:

- ``none``: the user typed the address, or opened a bookmark or a link from another
  application. A token in the URL signs the browser in (README: open ``…/lab?token=…``).
- ``same-origin``: the server's own pages. Their scripts may use ``?token=`` (the web
  page does, on its room sockets), but a *navigation* with a URL token is refused: it is
  a link or redirect someone else wrote (a link in a shared document, or Jupyter's login
  redirect back to ``next=/lab?token=ATTACKER``).
- ``same-site`` and ``cross-site`` (another origin; another port of the same host is
  same-site): a token in the URL or form is ignored and no login cookie is set. WebSocket
  upgrades may still use ``?token=`` (a browser cannot put a header on a WebSocket; a
  socket is no navigation and sets no cookie here), so a page of another origin can open a
  room (docs/own-app.md).

A token in the ``Authorization`` header (which no other site can make a browser send) and
Jupyter's login form (a POST under its XSRF check) sign in unless the request is
cross-site. Without Fetch Metadata (not a browser, or one older than 2023), an ``Origin``
or ``Referer`` of another host counts as cross-site; otherwise a URL token is accepted for
that request only, without a login cookie.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tornado import web

NAVIGATION_MODES = frozenset({"navigate", "nested-navigate"})


def request_site(handler: web.RequestHandler) -> str:
    """``user`` (Sec-Fetch-Site: none), ``same-origin``, ``foreign``, or ``unknown`` (no
    Fetch Metadata and no Origin or Referer of another host)."""
    headers = handler.request.headers
    site = headers.get("Sec-Fetch-Site")
    if site is not None:
        site = site.strip().lower()
        return {"none": "user", "same-origin": "same-origin"}.get(site, "foreign")
    host = handler.request.host.lower()
    origin = headers.get("Origin")
    if origin is not None:
        return "unknown" if urlsplit(origin).netloc.lower() == host else "foreign"
    referer = headers.get("Referer")
    if referer and urlsplit(referer).netloc.lower() != host:
        return "foreign"
    return "unknown"


def is_navigation(handler: web.RequestHandler) -> bool:
    return handler.request.headers.get("Sec-Fetch-Mode", "").lower() in NAVIGATION_MODES


def is_websocket_upgrade(handler: web.RequestHandler) -> bool:
    headers = handler.request.headers
    return (
        headers.get("Sec-Fetch-Mode", "").lower() == "websocket"
        or headers.get("Upgrade", "").lower() == "websocket"
    )


def token_in_arguments(handler: web.RequestHandler) -> bool:
    """Whether the request carries ``token`` in its URL (or form body), where another site
    can put it, rather than in its ``Authorization`` header."""
    return bool(handler.get_argument("token", ""))


def may_use_argument_token(handler: web.RequestHandler) -> bool:
    """Whether a ``?token=`` of this request may authenticate it."""
    if is_websocket_upgrade(handler):
        return True
    site = request_site(handler)
    if site == "same-origin":
        return not is_navigation(handler)
    return site in ("user", "unknown")


def may_set_login_cookie(handler: web.RequestHandler) -> bool:
    """Whether this request may sign the browser in (set the login cookie)."""
    site = request_site(handler)
    if site == "foreign":
        return False
    if not token_in_arguments(handler):
        return True  # the Authorization header, or Jupyter's login form
    if site == "same-origin":
        return not is_navigation(handler)
    return site == "user"
