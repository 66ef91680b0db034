"""Which requests may sign a browser in: the defence against login CSRF.

A page on another site must not be able to sign a visitor in as someone else (for
example by navigating to ``{base}lab?token=ATTACKER``: the victim would then work in the
attacker's account). Browsers say where a request comes from in the Fetch Metadata header
``Sec-Fetch-Site``:

- ``none`` (typed, bookmarked, opened from another application) and ``same-origin`` (the
  server's own pages): a token in the URL is accepted and the login cookie is set;
- ``same-site`` and ``cross-site`` (another origin, another port of the same host
  included): a token in the URL or form is ignored, and no login cookie is ever set.
  WebSocket upgrades are the exception for the token: a browser cannot put a header on a
  WebSocket, the socket is no navigation and sets no cookie, so a page of another origin
  may still open a room with ``?token=`` (docs/own-app.md).

Without Fetch Metadata (not a browser, or one older than 2023), an ``Origin`` or
``Referer`` of another host counts as cross-site; otherwise a URL token is accepted for
that request only, and the login cookie is set only for a token sent in the
``Authorization`` header (which no other site can make a browser send).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tornado import web

TRUSTED_SITES = frozenset({"none", "same-origin"})


def request_site(handler: web.RequestHandler) -> str:
    """``trusted``, ``foreign`` or ``unknown`` (no Fetch Metadata, no foreign origin)."""
    headers = handler.request.headers
    site = headers.get("Sec-Fetch-Site")
    if site is not None:
        return "trusted" if site.strip().lower() in TRUSTED_SITES else "foreign"
    host = handler.request.host.lower()
    origin = headers.get("Origin")
    if origin is not None:
        return "unknown" if urlsplit(origin).netloc.lower() == host else "foreign"
    referer = headers.get("Referer")
    if referer and urlsplit(referer).netloc.lower() != host:
        return "foreign"
    return "unknown"


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
    return request_site(handler) != "foreign" or is_websocket_upgrade(handler)


def may_set_login_cookie(handler: web.RequestHandler) -> bool:
    """Whether this request may sign the browser in (set the login cookie)."""
    site = request_site(handler)
    if site == "trusted":
        return True
    return site == "unknown" and not token_in_arguments(handler)
