"""``{base}collab-docs/``: the web page for browser users outside JupyterLab.

The page shell and its assets are public, like Jupyter's login page: they hold no data.
Everything with data goes through the authenticated REST API and room WebSocket. The
page is built from ``webapp/`` into ``static/webapp/`` (see ``hatch_build.py``); the
server injects its base URL so the page works under any ``base_url`` or JupyterHub prefix.

These are the only handlers without ``@web.authenticated``: they carry Jupyter's
``@allow_unauthenticated`` instead (tests/test_handlers_auth.py checks exactly that).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from .. import __version__
from ..identity import CollabDocsIdentityProvider
from .base import AUTH_RESOURCE

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "webapp"
PAGE_PATH = "collab-docs/"
CONFIG_MARKER = "<!-- collab-docs-config -->"
NOT_BUILT = (
    "The jupyter-collab-docs web page was not built ({path} is missing). Reinstall the "
    "package with Node.js 18+ and npm available (pip install .), or build it in a source "
    "checkout: cd webapp && npm ci && npm run build."
)
# The page's own scripts and styles only; CodeMirror and remote cursors set inline styles;
# images of notebook outputs are data: URIs; the room is a same-origin WebSocket.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)


def json_for_html(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class WebAppPageHandler(JupyterHandler):
    """index.html (at ``collab-docs/``) and example.html, with the page config injected."""

    auth_resource = AUTH_RESOURCE
    static_dir = STATIC_DIR
    page = "index.html"

    def set_default_headers(self) -> None:
        super().set_default_headers()
        if "Content-Security-Policy" not in self.settings.get("headers", {}):
            self.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)

    @allow_unauthenticated
    def get(self) -> None:
        path = self.static_dir / self.page
        if not path.is_file():
            self.log.error(NOT_BUILT.format(path=path))
            self.set_status(500)
            self.set_header("Content-Type", "text/plain; charset=UTF-8")
            self.finish(NOT_BUILT.format(path=path))
            return
        # The _xsrf cookie, which a page signed in by Jupyter's login cookie echoes as
        # X-XSRFToken on its REST calls.
        self.xsrf_token  # noqa: B018
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Cache-Control", "no-cache")
        self.finish(self.render_page(path.read_text("utf-8")))

    def render_page(self, html: str) -> str:
        provider = self.identity_provider
        config = {
            "baseUrl": self.base_url,
            "pageUrl": url_path_join(self.base_url, PAGE_PATH),
            "version": __version__,
            "standalone": isinstance(provider, CollabDocsIdentityProvider),
        }
        script = (
            '<script id="collab-docs-config" type="application/json">'
            f"{json_for_html(config)}</script>"
        )
        html = html.replace(CONFIG_MARKER, script, 1)
        for asset, digest in self.manifest().items():
            html = html.replace(f'"static/{asset}"', f'"static/{asset}?v={digest}"')
        return html

    def manifest(self) -> dict[str, str]:
        try:
            data = json.loads((self.static_dir / "manifest.json").read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


class WebAppExampleHandler(WebAppPageHandler):
    """``collab-docs/example.html``: the plain y-websocket client example (docs/own-app.md)."""

    page = "example.html"


class WebAppRedirectHandler(JupyterHandler):
    """``collab-docs`` → ``collab-docs/``: the page's relative asset URLs need the slash."""

    auth_resource = AUTH_RESOURCE

    @allow_unauthenticated
    def get(self) -> None:
        query = self.request.query
        target = url_path_join(self.base_url, PAGE_PATH)
        self.redirect(target + (f"?{query}" if query else ""))


class WebAppStaticHandler(JupyterHandler, web.StaticFileHandler):
    """The page's bundled scripts and styles. Asset URLs carry ``?v=<content hash>`` and
    are cached for a year; without it the browser revalidates."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        web.StaticFileHandler.initialize(self, str(STATIC_DIR))

    @allow_unauthenticated
    def get(self, path: str, include_body: bool = True) -> Any:
        return web.StaticFileHandler.get(self, path, include_body)

    @allow_unauthenticated
    def head(self, path: str) -> Any:
        return web.StaticFileHandler.head(self, path)

    def get_cache_time(self, path: str, modified: Any, mime_type: str) -> int:
        return 365 * 24 * 3600 if "v" in self.request.arguments else 0

    def set_extra_headers(self, path: str) -> None:
        if "v" not in self.request.arguments:
            self.set_header("Cache-Control", "no-cache")


# The only handlers reachable without credentials (tests/test_handlers_auth.py).
PUBLIC_HANDLERS = (
    WebAppPageHandler,
    WebAppExampleHandler,
    WebAppRedirectHandler,
    WebAppStaticHandler,
)
