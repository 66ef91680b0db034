"""The standalone server confines non-administrators to collab-docs (issue 12, item 1).

A server configured exactly as ``jupyter collab-docs`` configures it (its
``serverapp_config``), with every server extension installed here, is walked rule by rule:
each URL rule that Jupyter Server, JupyterLab and the extensions registered gets every
method its handler implements (WebSockets as an upgrade), from a non-administrator with a
token and from one signed in by cookie. What each may use is the table below; a rule not
in it fails the test, so that a new extension's handlers are reviewed before they open.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from jupyter_core.paths import jupyter_config_path
from jupyter_server.auth.authorizer import AllowAllAuthorizer
from jupyter_server.extension.config import ExtensionConfigManager
from jupyter_server.extension.manager import ExtensionManager
from jupyterlab.commands import get_app_dir
from tornado import httputil, routing, web, websocket

from jupyter_collab_docs.app import CollabDocsApp
from jupyter_collab_docs.authorizer import DENIED, REFUSED_HEADER
from jupyter_collab_docs.lab_page import workspace_for

# Every server extension enabled in this environment (read before pytest-jupyter points
# the config path at a temporary directory).
INSTALLED = sorted(
    name
    for name, enabled in ExtensionConfigManager(read_config_path=jupyter_config_path())
    .get_jpserver_extensions()
    .items()
    if enabled
)
LAB_DIR = Path(get_app_dir())

UUID = "00000000-0000-0000-0000-000000000000"
READ = {"GET", "HEAD"}
NONE: set[str] = set()
EVERY = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "WS"}

#: URL rule (regex, without the base URL) -> handler, a path that reaches it (None: an
#: earlier rule shadows it), and the methods a non-administrator may use; every other
#: method the handler implements must be refused. collab-docs' own handlers are open
#: (they check document roles) and need no row.
TABLE: dict[str, tuple[str, str | None, set[str]]] = {
    # Jupyter Server
    r"/login$": ("jupyter_server.auth.login.LoginFormHandler", "/login", {"GET", "POST"}),
    r"/logout$": ("jupyter_server.auth.logout.LogoutHandler", "/logout", READ),
    r"/$": ("jupyter_server.base.handlers.MainHandler", "/", {"GET", "POST", "PUT"}),
    r"/.*/$": ("jupyter_server.base.handlers.TrailingSlashHandler", "/x/", EVERY),
    r"(.*)$": ("jupyter_server.base.handlers.Template404", "/nothing-here", EVERY),
    r"/api$": ("jupyter_server.base.handlers.APIVersionHandler", "/api", READ),
    r"/static/(.*)$": ("jupyter_server.base.handlers.FileFindHandler", "/static/x.js", READ),
    r"/(robots\.txt|favicon\.ico)$": (
        "jupyter_server.base.handlers.PublicStaticFileHandler",
        None,  # JupyterLab's own robots.txt and favicon.ico rules come first
        READ,
    ),
    r"/api/me$": ("jupyter_server.services.api.handlers.IdentityHandler", "/api/me", READ),
    r"/api/spec.yaml$": (
        "jupyter_server.services.api.handlers.APISpecHandler",
        "/api/spec.yaml",
        NONE,
    ),
    r"/api/status$": ("jupyter_server.services.api.handlers.APIStatusHandler", "/api/status", NONE),
    r"/api/resolvePath$": (
        "jupyter_server.services.api.handlers.PathResolverHandler",
        "/api/resolvePath?path=x",
        NONE,
    ),
    r"/api/config/(?P<section_name>\w+)$": (
        "jupyter_server.services.config.handlers.ConfigHandler",
        "/api/config/notebook",
        NONE,
    ),
    r"/api/contents(?P<path>(?:(?:/[^/]+)+|/?))/checkpoints$": (
        "jupyter_server.services.contents.handlers.CheckpointsHandler",
        "/api/contents/x.txt/checkpoints",
        NONE,
    ),
    r"/api/contents(?P<path>(?:(?:/[^/]+)+|/?))/checkpoints/(?P<checkpoint_id>[\w-]+)$": (
        "jupyter_server.services.contents.handlers.ModifyCheckpointsHandler",
        "/api/contents/x.txt/checkpoints/c",
        NONE,
    ),
    r"/api/contents(?P<path>(?:(?:/[^/]+)+|/?))/trust$": (
        "jupyter_server.services.contents.handlers.TrustNotebooksHandler",
        "/api/contents/x.ipynb/trust",
        NONE,
    ),
    r"/api/contents(?P<path>(?:(?:/[^/]+)+|/?))$": (
        "jupyter_server.services.contents.handlers.ContentsHandler",
        "/api/contents/x.txt",
        NONE,
    ),
    r"/api/notebooks/?(.*)$": (
        "jupyter_server.services.contents.handlers.NotebooksRedirectHandler",
        "/api/notebooks/x.ipynb",
        NONE,
    ),
    r"/api/kernels$": (
        "jupyter_server.services.kernels.handlers.MainKernelHandler",
        "/api/kernels",
        NONE,
    ),
    r"/api/kernels/(?P<kernel_id>\w+-\w+-\w+-\w+-\w+)$": (
        "jupyter_server.services.kernels.handlers.KernelHandler",
        f"/api/kernels/{UUID}",
        NONE,
    ),
    r"/api/kernels/(?P<kernel_id>\w+-\w+-\w+-\w+-\w+)/(?P<action>restart|interrupt)$": (
        "jupyter_server.services.kernels.handlers.KernelActionHandler",
        f"/api/kernels/{UUID}/restart",
        NONE,
    ),
    r"/api/kernels/(?P<kernel_id>\w+-\w+-\w+-\w+-\w+)/channels$": (
        "jupyter_server.services.kernels.websocket.KernelWebsocketHandler",
        f"/api/kernels/{UUID}/channels",
        NONE,
    ),
    r"/kernelspecs/(?P<kernel_name>[\w\.\-%]+)/(?P<path>.*)$": (
        "jupyter_server.kernelspecs.handlers.KernelSpecResourceHandler",
        "/kernelspecs/python3/kernel.json",
        NONE,
    ),
    r"/api/kernelspecs$": (
        "jupyter_server.services.kernelspecs.handlers.MainKernelSpecHandler",
        "/api/kernelspecs",
        NONE,
    ),
    r"/api/kernelspecs/(?P<kernel_name>[\w\.\-%]+)$": (
        "jupyter_server.services.kernelspecs.handlers.KernelSpecHandler",
        "/api/kernelspecs/python3",
        NONE,
    ),
    r"/nbconvert/(?P<format>\w+)$": (
        "jupyter_server.nbconvert.handlers.NbconvertPostHandler",
        "/nbconvert/html",
        NONE,
    ),
    r"/nbconvert/(?P<format>\w+)(?P<path>(?:(?:/[^/]+)+|/?))$": (
        "jupyter_server.nbconvert.handlers.NbconvertFileHandler",
        "/nbconvert/html/x.ipynb",
        NONE,
    ),
    r"/api/nbconvert$": (
        "jupyter_server.services.nbconvert.handlers.NbconvertRootHandler",
        "/api/nbconvert",
        NONE,
    ),
    r"/api/security/csp-report$": (
        "jupyter_server.services.security.handlers.CSPReportHandler",
        "/api/security/csp-report",
        NONE,
    ),
    r"/api/sessions/(?P<session_id>\w+-\w+-\w+-\w+-\w+)$": (
        "jupyter_server.services.sessions.handlers.SessionHandler",
        f"/api/sessions/{UUID}",
        NONE,
    ),
    r"/api/sessions$": (
        "jupyter_server.services.sessions.handlers.SessionRootHandler",
        "/api/sessions",
        NONE,
    ),
    r"/api/shutdown$": ("jupyter_server.services.shutdown.ShutdownHandler", "/api/shutdown", NONE),
    r"/view(?P<path>(?:(?:/[^/]+)+|/?))$": (
        "jupyter_server.view.handlers.ViewHandler",
        "/view/x.txt",
        NONE,
    ),
    r"/api/events$": ("jupyter_server.services.events.handlers.EventHandler", "/api/events", NONE),
    r"/api/events/subscribe$": (
        "jupyter_server.services.events.handlers.SubscribeWebsocket",
        "/api/events/subscribe",
        NONE,
    ),
    r"/files/(.*)$": (
        "jupyter_server.base.handlers.AuthenticatedFileHandler",
        "/files/x.txt",
        NONE,
    ),
    r"/metrics$": ("jupyter_server.base.handlers.PrometheusMetricsHandler", "/metrics", NONE),
    # jupyter_server_terminals
    r"/terminals/websocket/(\w+)$": (
        "jupyter_server_terminals.handlers.TermSocket",
        "/terminals/websocket/1",
        NONE,
    ),
    r"/api/terminals$": (
        "jupyter_server_terminals.api_handlers.TerminalRootHandler",
        "/api/terminals",
        NONE,
    ),
    r"/api/terminals/(\w+)$": (
        "jupyter_server_terminals.api_handlers.TerminalHandler",
        "/api/terminals/1",
        NONE,
    ),
    # jupyter_lsp (language servers are processes: code execution)
    r"/lsp/status$": ("jupyter_lsp.handlers.LanguageServersHandler", "/lsp/status", NONE),
    r"/lsp/ws/(?P<language_server>.*)$": (
        "jupyter_lsp.handlers.LanguageServerWebSocketHandler",
        "/lsp/ws/pylsp",
        NONE,
    ),
    # JupyterLab: the page and what it reads to show documents
    r"/(?P<mode>lab|doc)(?P<workspace>/workspaces/[a-zA-Z0-9\-\_]+)?(?P<tree>/tree/.*)?$": (
        "jupyterlab_server.handlers.LabHandler",
        "/lab",
        READ,
    ),
    r"/lab/.*$": ("jupyterlab_server.handlers.NotFoundHandler", "/lab/nothing", READ),
    r"/lab/extensions/(.*)$": (
        "jupyter_server.base.handlers.FileFindHandler",
        "/lab/extensions/x.js",
        READ,
    ),
    r"/static/lab/(.*)$": (
        "jupyter_server.base.handlers.FileFindHandler",
        "/static/lab/x.js",
        READ,
    ),
    r"/(robots\.txt)$": ("jupyter_server.base.handlers.FileFindHandler", "/robots.txt", READ),
    r"/(favicon\.ico)$": ("jupyter_server.base.handlers.FileFindHandler", "/favicon.ico", READ),
    r"/lab/api/settings/?$": (
        "jupyterlab_server.settings_handler.SettingsHandler",
        "/lab/api/settings",
        READ,
    ),
    r"/lab/api/settings/(?P<schema_name>.+)$": (
        "jupyterlab_server.settings_handler.SettingsHandler",
        "/lab/api/settings/@jupyterlab/apputils-extension:themes",
        READ,
    ),
    r"/lab/api/translations/?$": (
        "jupyterlab_server.translations_handler.TranslationsHandler",
        "/lab/api/translations",
        READ,
    ),
    r"/lab/api/translations/(?P<locale>.*)$": (
        "jupyterlab_server.translations_handler.TranslationsHandler",
        "/lab/api/translations/en",
        READ,
    ),
    r"/lab/api/listings/(.*)$": (
        "jupyterlab_server.listings_handler.ListingsHandler",
        "/lab/api/listings/x.json",
        READ,
    ),
    r"/lab/api/themes/(.*)$": (
        "jupyterlab_server.themes_handler.ThemesHandler",
        "/lab/api/themes/x.css",
        READ,
    ),
    r"/lab/api/licenses/(.*)$": (
        "jupyterlab_server.licenses_handler.LicensesHandler",
        "/lab/api/licenses/x",
        READ,
    ),
    # each user's layout is theirs (read and written), the list and the others' are not
    # (test_a_user_reaches_only_their_own_workspace)
    r"/lab/api/workspaces/?$": (
        "jupyterlab_server.workspaces_handler.WorkspacesHandler",
        "/lab/api/workspaces",
        NONE,
    ),
    r"/lab/api/workspaces/(?P<space_name>.+)$": (
        "jupyterlab_server.workspaces_handler.WorkspacesHandler",
        f"/lab/api/workspaces/{workspace_for('alice')}",  # the table is walked as alice
        {"GET", "PUT"},
    ),
    # installs, builds, plugin switches and outbound fetches are the administrator's
    r"/lab/api/build$": ("jupyterlab.handlers.build_handler.BuildHandler", "/lab/api/build", NONE),
    r"/lab/api/extensions$": (
        "jupyterlab.handlers.extension_manager_handler.ExtensionHandler",
        "/lab/api/extensions",
        NONE,
    ),
    r"/lab/api/plugins$": (
        "jupyterlab.handlers.plugin_manager_handler.PluginHandler",
        "/lab/api/plugins",
        NONE,
    ),
    r"/lab/api/update$": (
        "jupyterlab.handlers.announcements.CheckForUpdateHandler",
        "/lab/api/update",
        NONE,
    ),
    r"/lab/api/news$": ("jupyterlab.handlers.announcements.NewsHandler", "/lab/api/news", NONE),
    # collab-docs' probes (issue #18): open to anyone, read only
    r"/api/collab-docs/live$": (
        "jupyter_collab_docs.handlers.health.LiveHandler",
        "/api/collab-docs/live",
        READ,
    ),
    r"/api/collab-docs/ready$": (
        "jupyter_collab_docs.handlers.health.ReadyHandler",
        "/api/collab-docs/ready",
        READ,
    ),
}


@pytest.fixture(autouse=True)
def _restore_the_extension_manager() -> Any:
    """Loading notebook_shim (one of the installed extensions these tests load) replaces
    ExtensionManager.sorted_extensions for the whole process with one that fails when
    notebook_shim is not enabled: every later in-process server of the run would fail."""
    original = ExtensionManager.__dict__["sorted_extensions"]
    yield
    ExtensionManager.sorted_extensions = original  # type: ignore[method-assign]


@pytest.fixture
def server_authorizer() -> type:
    return CollabDocsApp.serverapp_config.get("authorizer_class", AllowAllAuthorizer)


@pytest.fixture
def jp_base_url() -> str:
    return "/"


@pytest.fixture
def jp_server_config(tmp_path: Path, server_authorizer: type) -> dict[str, Any]:
    """What ``jupyter collab-docs`` configures, with every installed extension.

    JupyterLab gets an application directory of its own, its built assets linked in, so
    that a request that should have been refused (a build, a clean) cannot touch the
    environment's."""
    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    for name in ("static", "schemas", "themes"):
        if (LAB_DIR / name).exists():
            (lab_dir / name).symlink_to(LAB_DIR / name)
    return {
        "ServerApp": {
            **CollabDocsApp.serverapp_config,
            "authorizer_class": server_authorizer,
            "jpserver_extensions": dict.fromkeys(INSTALLED, True),
        },
        "LabApp": {"app_dir": str(lab_dir)},
        "CollabDocsApp": {"data_dir": str(tmp_path / "collab")},
    }


@pytest.fixture
def port(http_server: Any, jp_http_port: int, collab: Any) -> int:
    """The port of the running server (its HTTP server listening, its services started)."""
    return jp_http_port


def qualified(handler_class: type) -> str:
    return f"{handler_class.__module__}.{handler_class.__qualname__}"


def url_rules(router: Any) -> list[tuple[str, type]]:
    """(regex, handler class) of every rule, nested routers included, in order."""
    found: list[tuple[str, type]] = []
    for rule in router.rules:
        if hasattr(rule.target, "rules"):
            found += url_rules(rule.target)
        elif isinstance(rule.target, type):
            found.append((rule.matcher.regex.pattern, rule.target))
        else:
            raise AssertionError(f"unexpected rule target {rule.target!r}")
    return list(dict.fromkeys(found))


def implemented(handler_class: type) -> set[str]:
    if issubclass(handler_class, websocket.WebSocketHandler):
        return {"WS"}
    return {
        method
        for method in handler_class.SUPPORTED_METHODS
        if getattr(handler_class, method.lower()) is not getattr(web.RequestHandler, method.lower())
    } or {"GET"}  # a handler answering from prepare (Template404)


def routed_to(web_app: Any, path: str) -> str:
    """The handler a path reaches, as the server routes it."""
    request = httputil.HTTPServerRequest(method="GET", uri=path, host="127.0.0.1")
    delegate = web_app.find_handler(request)
    return qualified(delegate.handler_class)


async def raw_request(
    port: int, method: str, path: str, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """One request over a plain socket (so a WebSocket upgrade is just another request)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{'GET' if method == 'WS' else method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    body = b"{}" if method in ("POST", "PUT", "PATCH") else b""
    if method == "WS":
        lines += [
            "Connection: Upgrade",
            "Upgrade: websocket",
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        ]
    else:
        lines += ["Connection: close", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        reply_headers: dict[str, str] = {}
        for line in filter(None, header_lines):
            name, _, value = line.partition(":")
            reply_headers.setdefault(name.strip().lower(), value.strip())
        length = int(reply_headers.get("content-length", 0))
        content = b""
        if status != 101 and method != "HEAD" and length:
            content = await asyncio.wait_for(reader.readexactly(length), 30)
        return status, reply_headers, content
    finally:
        writer.close()


def refused_by_confinement(reply: tuple[int, dict[str, str], bytes]) -> bool:
    status, headers, content = reply
    if status != 403 or headers.get(REFUSED_HEADER.lower()) != "refused":
        return False
    return not content or json.loads(content)["message"] == DENIED  # HEAD: no body


async def login_cookie(port: int, token: str) -> str:
    """The cookies a browser holds after signing in with ``token`` (plus an XSRF cookie)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /api/collab-docs/me HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: token {token}\r\nConnection: close\r\n\r\n".encode()
    )
    head = (await reader.read()).decode("latin-1").split("\r\n\r\n")[0]
    writer.close()
    cookies = [
        line.split(":", 1)[1].strip().split(";")[0]
        for line in head.split("\r\n")
        if line.lower().startswith("set-cookie:")
    ]
    assert cookies, "signing in with a token set no cookie"
    return "; ".join([*cookies, "_xsrf=confinement-test"])


def as_cookie(cookie: str) -> dict[str, str]:
    return {"Cookie": cookie, "X-XSRFToken": "confinement-test"}


async def test_a_non_admin_reaches_only_what_the_table_opens(
    jp_serverapp: Any, port: int, tokens: dict[str, str]
):
    web_app = jp_serverapp.web_app
    alice = tokens["alice"]
    credentials = {
        "token": {"Authorization": f"token {alice}"},
        "cookie": as_cookie(await login_cookie(port, alice)),
    }
    # Not confined at all: stop before sending builds, installs and shutdowns.
    status, _, _ = await raw_request(port, "GET", "/api/kernels", credentials["token"])
    assert status == 403, f"a non-administrator listed the kernels ({status})"
    # both credentials really sign alice in
    for how, headers in credentials.items():
        status, _, content = await raw_request(port, "GET", "/api/collab-docs/me", headers)
        assert (status, json.loads(content)["username"]) == (200, "alice"), how

    rules = url_rules(web_app.default_router)
    unknown = [
        (pattern, qualified(cls))
        for pattern, cls in rules
        if pattern not in TABLE and not cls.__module__.startswith("jupyter_collab_docs.")
    ]
    assert not unknown, f"handlers missing from the confinement table: {unknown}"

    wrong: list[str] = []
    checked = 0
    for pattern, handler_class in rules:
        name = qualified(handler_class)
        if handler_class.__module__.startswith("jupyter_collab_docs.") and pattern not in TABLE:
            path, allowed = rule_path(pattern), EVERY
        else:
            expected_name, path, allowed = TABLE[pattern]
            assert name == expected_name, f"{pattern} is served by {name}, not {expected_name}"
        if path is None:
            continue
        assert routed_to(web_app, path.split("?")[0]) == name, f"{path} does not reach {name}"
        for method in sorted(implemented(handler_class)):
            for how, headers in credentials.items():
                reply = await raw_request(port, method, path, headers)
                checked += 1
                if refused_by_confinement(reply) == (method in allowed):
                    outcome = "refused" if method in allowed else f"got {reply[0]}"
                    wrong.append(f"{method} {path} ({name}) by {how}: {outcome}")
    assert not wrong, "\n".join(wrong)
    assert checked > 150  # every rule was walked


async def test_a_user_reaches_only_their_own_workspace(port: int, tokens: dict[str, str]):
    alice = {"Authorization": f"token {tokens['alice']}"}
    own = workspace_for("alice")
    # alice's /lab page opens her own workspace, whatever the URL names
    for path in ("/lab", f"/lab/workspaces/{workspace_for('bob')}", "/lab/workspaces/default"):
        status, _, content = await raw_request(port, "GET", path, alice)
        assert status == 200, path
        assert f'"workspace": "{own}"' in content.decode(), path
    # her own: written and read back
    layout = json.dumps({"data": {"layout-restorer:data": {}}, "metadata": {"id": own}})
    status, _, _ = await raw_request_with_body(
        port, "PUT", f"/lab/api/workspaces/{own}", alice, layout
    )
    assert status == 204
    status, _, content = await raw_request(port, "GET", f"/lab/api/workspaces/{own}", alice)
    assert status == 200 and json.loads(content)["metadata"]["id"] == own
    # never the list, the server's, another user's (however spelt), nor deleting her own
    for method, name in [
        ("GET", "default"),
        ("PUT", "default"),
        ("GET", workspace_for("bob")),
        ("PUT", workspace_for("bob")),
        ("GET", own.upper()),
        ("GET", f"{own}/x"),
        ("DELETE", own),
    ]:
        reply = await raw_request(port, method, f"/lab/api/workspaces/{name}", alice)
        assert refused_by_confinement(reply), (method, name, reply[0])
    assert refused_by_confinement(await raw_request(port, "GET", "/lab/api/workspaces", alice))


async def raw_request_with_body(
    port: int, method: str, path: str, headers: dict[str, str], body: str
) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = body.encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"Content-Length: {len(data)}", *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        status = int(head.split(b" ")[1])
        return status, {}, await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()


def rule_path(pattern: str) -> str:
    """A path for one of collab-docs' own rules: each group filled with ``x``."""
    path = routing.PathMatches(pattern).reverse(*["x"] * pattern.count("(")) or ""
    assert path, f"cannot fill {pattern}"
    return path


async def test_admins_keep_the_whole_server(jp_serverapp: Any, port: int, tokens: dict[str, str]):
    server_token = jp_serverapp.identity_provider.token
    carol_cookie = as_cookie(await login_cookie(port, tokens["carol"]))
    for headers in (
        {"Authorization": f"token {tokens['carol']}"},
        {"Authorization": f"token {server_token}"},
        carol_cookie,
    ):
        status, _, content = await raw_request(port, "GET", "/api/kernels", headers)
        assert (status, json.loads(content)) == (200, [])
        status, _, _ = await raw_request(port, "GET", "/api/contents", headers)
        assert status == 200
        status, _, _ = await raw_request(port, "POST", "/api/contents", headers)  # a new file
        assert status == 201


async def test_nobody_signed_in_still_meets_jupyters_own_authentication(port: int, collab: Any):
    status, _, _ = await raw_request(port, "GET", "/api/kernels", {})
    assert status == 403
    status, headers, _ = await raw_request(port, "GET", "/lab", {})
    assert status == 302 and "/login" in headers["location"]


async def test_me_says_who_can_run_code(port: int, jp_serverapp: Any, tokens: Any):
    async def can_run_code(token: str) -> bool:
        status, _, content = await raw_request(
            port, "GET", "/api/collab-docs/me", {"Authorization": f"token {token}"}
        )
        assert status == 200
        return bool(json.loads(content)["can_run_code"])

    assert await can_run_code(tokens["alice"]) is False
    assert await can_run_code(tokens["carol"]) is True
    assert await can_run_code(jp_serverapp.identity_provider.token) is True


@pytest.mark.parametrize("server_authorizer", [AllowAllAuthorizer])
async def test_in_a_server_without_confinement_everyone_can_run_code(port: int, tokens: Any):
    status, _, content = await raw_request(
        port, "GET", "/api/collab-docs/me", {"Authorization": f"token {tokens['alice']}"}
    )
    assert json.loads(content)["can_run_code"] is True
    status, _, _ = await raw_request(
        port, "GET", "/api/kernels", {"Authorization": f"token {tokens['alice']}"}
    )
    assert status == 200


async def test_nobody_signed_in_gets_nothing_closed_to_users(jp_serverapp: Any, port: int):
    """Anonymous requests to what users may not use meet Jupyter's own authentication:
    refused, sent to the login page, or a CORS preflight answer without data."""
    wrong: list[str] = []
    for pattern, handler_class in url_rules(jp_serverapp.web_app.default_router):
        if handler_class.__module__.startswith("jupyter_collab_docs."):
            continue
        _, path, allowed = TABLE[pattern]
        if path is None:
            continue
        for method in sorted(implemented(handler_class) - allowed):
            if (method, pattern) == ("OPTIONS", r"/lab/api/licenses/(.*)$"):
                continue  # JupyterLab's LicensesHandler never answers OPTIONS (its finish())
            status, headers, content = await asyncio.wait_for(
                raw_request(port, method, path, {}), 30
            )
            location = headers.get("location", "")
            if not (
                status in (401, 403)
                or (status == 302 and location.startswith(("/login?", "/api/contents/")))
                or (method == "OPTIONS" and status == 200 and not content)
            ):
                wrong.append(f"{method} {path}: {status} {location} {content[:80]!r}")
    assert not wrong, "\n".join(wrong)


async def test_the_probes_answer_anyone_in_the_confined_server(port: int):
    """Load balancers and Kubernetes call them without a token (issue #18)."""
    for path in ("/api/collab-docs/live", "/api/collab-docs/ready"):
        for method in ("GET", "HEAD"):
            status, headers, _ = await raw_request(port, method, path, {})
            assert status == 200, (method, path, status)
            assert REFUSED_HEADER.lower() not in {k.lower() for k in headers}
        status, _, _ = await raw_request(port, "POST", path, {})
        assert status == 405, (path, status)
