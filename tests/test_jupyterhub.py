"""A real JupyterHub running examples/jupyterhub/jupyterhub_config.py.

One hub per module: ``python -m jupyterhub`` with configurable-http-proxy (pinned in
examples/jupyterhub/package-lock.json), users created through the hub's REST API with a
service token, one single-user server each, every request sent through the proxy. Users:

- alice, in the hub group ``collab-docs-admins`` (its role holds the custom scope
  ``custom:collab-docs:admin``): a collab-docs administrator;
- bob, in the hub group ``team``;
- carl, in no group and on no share.


Needs ``pip install jupyterhub`` and ``npm ci --prefix examples/jupyterhub``; without
them these tests fail with what to run, never skip. The hub, the proxy and the servers are
stopped when the module ends, whatever happened (about 40 s in all on 2 cores).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from httpx_ws import aconnect_ws
from pycrdt import Doc, Provider
from pycrdt.websocket.websocket import HttpxWebsocket
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from jupyter_collab_docs.testing import (
    RawClient,
    YClient,
    eventually,
    free_port,
    wait_until_ready,
)

EXAMPLE = Path(__file__).parent.parent / "examples" / "jupyterhub"
CONFIG = EXAMPLE / "jupyterhub_config.py"
PROXY = EXAMPLE / "node_modules" / ".bin" / "configurable-http-proxy"
ADMIN_SCOPE = "custom:collab-docs:admin"
USERS = ("alice", "bob", "carl")
GROUPS = {"collab-docs-admins": ["alice"], "team": ["bob"]}
HUB_START_TIMEOUT = 30.0
SPAWN_TIMEOUT = 40.0
REVALIDATE_INTERVAL = 2  # seconds, passed to every single-user server by the config
HUB_AUTH_CACHE = 1  # seconds a single-user server keeps the hub's answer about a token

# The whole module, hub start and stop included, stays well under 90 s.
# With test_jupyterhub_principals.py on one worker (xdist_group): one hub at a time.
pytestmark = [pytest.mark.timeout(90), pytest.mark.xdist_group("jupyterhub")]


def require_tools() -> None:
    """Fail (never skip) with what to install when the hub cannot be run here."""
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        pytest.fail("jupyterhub is not installed: pip install 'jupyterhub>=5' (test extra)")
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: configurable-http-proxy needs Node.js >= 18")
    if not PROXY.exists():
        pytest.fail(
            f"{PROXY} is missing: run `npm ci --prefix examples/jupyterhub` (installs the "
            "configurable-http-proxy pinned in examples/jupyterhub/package-lock.json)"
        )


@dataclass
class Hub:
    """A running hub: its public URL (the proxy), a service token and users' tokens."""

    root: Path
    port: int
    proxy_api_port: int
    hub_port: int
    service_token: str
    process: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    pids: list[int] = field(default_factory=list)  # single-user servers and proxy

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def docs_dir(self) -> Path:
        return self.root / "collab_docs"

    @property
    def log_path(self) -> Path:
        return self.root / "hub.log"

    def log_tail(self, lines: int = 60) -> str:
        with suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    # -- REST ------------------------------------------------------------------------------

    def hub_api(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """The hub's REST API, as the setup service."""
        return httpx.request(
            method,
            f"{self.url}/hub/api/{path}",
            json=body,
            headers={"Authorization": f"token {self.service_token}"},
            timeout=20,
        )

    def api(
        self, user: str, method: str, path: str, body: Any = None, *, server: str | None = None
    ) -> httpx.Response:
        """collab-docs on a user's own single-user server (or ``server``'s), with the user's
        hub API token, through the proxy."""
        return httpx.request(
            method,
            f"{self.url}/user/{server or user}/api/collab-docs/{path}",
            json=body,
            headers={"Authorization": f"token {self.tokens[user]}"},
            timeout=20,
        )

    def ws_url(self, user: str, doc_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/user/{user}/api/collab-docs/rooms/{doc_id}"

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("JUPYTERHUB_", "CONFIGPROXY_", "COLLAB_HUB_"))
        }
        env.update(
            {
                "COLLAB_HUB_STATE_DIR": str(self.root),
                "COLLAB_HUB_DOCS_DIR": str(self.docs_dir),
                "COLLAB_HUB_HOMES_DIR": str(self.root / "homes"),
                "COLLAB_HUB_PORT": str(self.port),
                "COLLAB_HUB_PROXY_API_PORT": str(self.proxy_api_port),
                "COLLAB_HUB_HUB_PORT": str(self.hub_port),
                "COLLAB_HUB_SERVICE_TOKEN": self.service_token,
                # groups start empty: members are added through the REST API below
                "COLLAB_HUB_TEAM": "",
                "COLLAB_HUB_DOC_ADMINS": "",
                "COLLAB_HUB_ROOM_IDLE_TIMEOUT": "1",
                "COLLAB_HUB_REVALIDATE_INTERVAL": str(REVALIDATE_INTERVAL),
                "COLLAB_HUB_HUB_AUTH_CACHE": str(HUB_AUTH_CACHE),
                "COLLAB_HUB_START_TIMEOUT": str(int(SPAWN_TIMEOUT)),
            }
        )
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)],
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a ^C of pytest does not hit it half-way
            )

        def hub_answers() -> bool:  # the proxy answers before the hub does: ask the hub
            with suppress(httpx.HTTPError):
                return httpx.get(f"{self.url}/hub/api/", timeout=2).status_code == 200
            return False

        try:
            wait_until_ready(
                hub_answers, what="jupyterhub", process=self.process, timeout=HUB_START_TIMEOUT
            )
        except RuntimeError as e:
            pytest.fail(f"{e}:\n{self.log_tail()}")
        with suppress(OSError, ValueError):
            self.pids.append(int((self.root / "jupyterhub-proxy.pid").read_text()))

    def setup_users(self) -> None:
        reply = self.hub_api("POST", "users", {"usernames": list(USERS)})
        assert reply.status_code == 201, reply.text
        for group, members in GROUPS.items():
            reply = self.hub_api("POST", f"groups/{group}/users", {"users": members})
            assert reply.status_code == 200, reply.text
        # Spawn all at once (the hub answers a spawn request when the server is up, or
        # after 10 s), then wait for all.
        with ThreadPoolExecutor(len(USERS)) as pool:
            replies = list(pool.map(lambda u: self.hub_api("POST", f"users/{u}/server"), USERS))
        for reply in replies:
            assert reply.status_code in (201, 202), reply.text
        for user in USERS:
            reply = self.hub_api("POST", f"users/{user}/tokens", {"note": "test_jupyterhub"})
            assert reply.status_code == 201, reply.text
            self.tokens[user] = reply.json()["token"]
        deadline = time.monotonic() + SPAWN_TIMEOUT
        waiting = set(USERS)
        while waiting:
            for user in sorted(waiting):
                server = self.hub_api("GET", f"users/{user}").json()["servers"].get("", {})
                pid = (server.get("state") or {}).get("pid")
                if pid and pid not in self.pids:
                    self.pids.append(pid)
                if server.get("ready"):
                    waiting.discard(user)
            if waiting and time.monotonic() > deadline:
                pytest.fail(f"servers of {sorted(waiting)} not ready:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the hub (which stops the proxy and the servers); then make sure, killing
        only the processes of this very hub that are still there."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.pids:
            if self.ours(pid):
                sys.stderr.write(f"killing process {pid}, left behind by the hub\n")
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def ours(self, pid: int) -> bool:
        """Whether ``pid`` is still one of this hub's servers or its proxy."""
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        server = any(str(self.docs_dir).encode() in arg for arg in argv)
        proxy = any(b"configurable-http-proxy" in arg for arg in argv)
        return server or (proxy and str(self.port).encode() in argv)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    require_tools()
    hub = Hub(
        root=tmp_path_factory.mktemp("jupyterhub"),
        port=free_port(),
        proxy_api_port=free_port(),
        hub_port=free_port(),
        service_token=secrets.token_hex(24),
    )
    try:
        started = time.monotonic()
        hub.start()
        hub.setup_users()
        sys.stderr.write(f"hub and 3 servers up in {time.monotonic() - started:.1f}s\n")
        yield hub
    finally:
        stopping = time.monotonic()
        hub.stop()
        sys.stderr.write(f"hub stopped in {time.monotonic() - stopping:.1f}s\n")


def create(hub: Hub, user: str, name: str, content: str) -> str:
    reply = hub.api(user, "POST", "documents", {"name": name, "type": "file", "content": content})
    assert reply.status_code == 201, reply.text
    assert reply.json()["owner"] == user
    return str(reply.json()["id"])


def share(hub: Hub, user: str, doc_id: str, principal: str, role: str) -> None:
    reply = hub.api(user, "PUT", f"documents/{doc_id}/shares/{principal}", {"role": role})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"principal": principal, "role": role}


# -- identity --------------------------------------------------------------------------


def test_me_has_the_hub_groups_and_the_admin_flag_from_the_custom_scope(hub: Hub):
    me = {user: hub.api(user, "GET", "me").json() for user in USERS}
    assert me["alice"]["username"] == "alice"
    assert (me["alice"]["groups"], me["alice"]["is_admin"]) == (["collab-docs-admins"], True)
    assert (me["bob"]["groups"], me["bob"]["is_admin"]) == (["team"], False)
    assert (me["carl"]["groups"], me["carl"]["is_admin"]) == ([], False)
    # the hub agrees on where the flag comes from
    alice = httpx.get(
        f"{hub.url}/hub/api/user",
        headers={"Authorization": f"token {hub.tokens['alice']}"},
        timeout=20,
    ).json()
    assert ADMIN_SCOPE in alice["scopes"]


def test_a_browser_session_carries_the_admin_scope_through_oauth(hub: Hub):
    """Sign in at the hub's login form, let the single-user server's OAuth dance set its
    cookie, then ask collab-docs who we are: the OAuth token must hold the custom scope
    (``Spawner.oauth_client_allowed_scopes`` in the config), not only API tokens."""
    with httpx.Client(base_url=hub.url, follow_redirects=True, timeout=20) as browser:
        browser.get("/hub/login")
        xsrf = browser.cookies.get("_xsrf", path="/hub/")
        signed_in = browser.post(
            "/hub/login", data={"username": "alice", "password": "any", "_xsrf": xsrf}
        )
        assert "jupyterhub-hub-login" in browser.cookies, signed_in.text[:500]
        # An authenticated page of the server (JupyterLab) starts the OAuth dance; the
        # login's own redirect to the spawned server may already have made it.
        page = browser.get("/user/alice/lab")
        hops = [str(r.url) for r in (*signed_in.history, *page.history)]
        assert any("/hub/api/oauth2/authorize" in hop for hop in hops), hops
        assert "jupyterhub-user-alice" in browser.cookies
        me = browser.get("/user/alice/api/collab-docs/me")
    assert me.status_code == 200, me.text
    assert me.json()["is_admin"] is True
    assert me.json()["groups"] == ["collab-docs-admins"]


# -- sharing across users' servers -----------------------------------------------------


def test_user_and_group_shares_reach_other_users_servers(hub: Hub):
    plan = create(hub, "alice", "plan", "hello from alice")
    notes = create(hub, "alice", "team notes", "for the team")
    share(hub, "alice", plan, "user:bob", "editor")
    share(hub, "alice", notes, "group:team", "viewer")  # bob only through his hub group

    listed = hub.api("bob", "GET", "documents")
    assert listed.status_code == 200, listed.text
    roles = {d["id"]: d["role"] for d in listed.json()["documents"]}
    assert roles.get(plan) == "editor" and roles.get(notes) == "viewer"
    content = hub.api("bob", "GET", f"documents/{plan}/content")
    assert content.status_code == 200, content.text
    assert content.json() == {"type": "file", "format": "text", "content": "hello from alice"}
    content = hub.api("bob", "GET", f"documents/{notes}/content")
    assert content.status_code == 200, content.text
    assert content.json()["content"] == "for the team"
    # the viewer's role holds on bob's own server too
    renamed = hub.api("bob", "PATCH", f"documents/{notes}", {"name": "mine now"})
    assert renamed.status_code == 403, renamed.text

    # carl: no share, no group: as if the documents did not exist
    for doc_id in (plan, notes):
        assert hub.api("carl", "GET", f"documents/{doc_id}/content").status_code == 404
        assert hub.api("carl", "GET", f"documents/{doc_id}").status_code == 404
    ids = {d["id"] for d in hub.api("carl", "GET", "documents").json()["documents"]}
    assert not ids & {plan, notes}

    shares = hub.api("alice", "GET", f"documents/{notes}/shares").json()["shares"]
    assert {"principal": "group:team", "role": "viewer"} in shares


def test_the_admin_scope_opens_every_document(hub: Hub):
    private = create(hub, "bob", "private", "bob's own")
    as_admin = hub.api("alice", "GET", f"documents/{private}")
    assert as_admin.status_code == 200, as_admin.text
    assert as_admin.json()["role"] == "owner"
    assert hub.api("alice", "GET", f"documents/{private}/content").json()["content"] == "bob's own"
    assert hub.api("carl", "GET", f"documents/{private}").status_code == 404


def test_a_user_cannot_use_another_users_server(hub: Hub):
    reply = hub.api("carl", "GET", "me", server="alice")
    assert reply.status_code in (401, 403), reply.text


# -- rooms through the proxy -------------------------------------------------------------


@asynccontextmanager
async def hub_yclient(url: str, headers: dict[str, str]) -> AsyncIterator[YClient]:
    doc: Doc[Any] = Doc()
    async with (
        httpx.AsyncClient(headers=headers) as client,
        aconnect_ws(url, client, keepalive_ping_interval_seconds=None) as ws,
        Provider(doc, HttpxWebsocket(ws, url)),
    ):
        yield YClient(doc, ws)


async def raw_client(request: HTTPRequest) -> RawClient:
    """A raw y-websocket client (conftest's), connecting with the request's headers."""
    return RawClient(await websocket_connect(request, max_message_size=1 << 24))


async def test_a_room_through_the_proxy_and_a_revocation_seen_from_another_server(hub: Hub):
    doc_id = create(hub, "alice", "live", "base")
    share(hub, "alice", doc_id, "user:bob", "editor")
    bob = {"Authorization": f"token {hub.tokens['bob']}"}

    # bob edits in the room of his own server, reached through the proxy
    async with hub_yclient(hub.ws_url("bob", doc_id), bob) as client:
        await eventually(lambda: str(client.text) == "base", what="bob's sync")
        client.text.insert(len(client.text), " + bob")
        await eventually(
            lambda: (
                hub.api("bob", "GET", f"documents/{doc_id}/content").json()["content"]
                == "base + bob"
            ),
            what="bob's edit in his room",
        )

    # alice's server reads the shared database: bob's edit is there once stored (rooms
    # are not shared between servers without the cluster: a room loaded on alice's
    # server would only see it after idling out, room_idle_timeout=1 here)
    deadline = time.monotonic() + 15
    while (seen := hub.api("alice", "GET", f"documents/{doc_id}/content").json()) != {
        "type": "file",
        "format": "text",
        "content": "base + bob",
    }:
        assert time.monotonic() < deadline, f"alice's server still reads {seen}"
        await anyio.sleep(1.5)  # let alice's room idle out and reload from the database

    # a browser passes its token as ?token= (with Sec-Fetch-Mode: websocket): accepted
    conn = await raw_client(
        HTTPRequest(
            f"{hub.ws_url('bob', doc_id)}?token={hub.tokens['bob']}",
            headers={"Sec-Fetch-Mode": "websocket"},
        )
    )
    assert await conn.recv() is not None
    conn.close()

    # alice revokes on HER server; bob's socket lives on HIS server and is closed by its
    # periodic re-check of the shared access database
    conn = await raw_client(HTTPRequest(hub.ws_url("bob", doc_id), headers=bob))
    assert await conn.recv() is not None
    started = time.monotonic()
    revoked = hub.api("alice", "DELETE", f"documents/{doc_id}/shares/user:bob")
    assert revoked.status_code == 204, revoked.text
    assert await conn.closed(timeout=REVALIDATE_INTERVAL + 8) == 4403
    assert time.monotonic() - started < REVALIDATE_INTERVAL + 8
    assert hub.api("bob", "GET", f"documents/{doc_id}/content").status_code == 404


async def test_edits_made_at_once_on_two_servers_both_survive(hub: Hub):
    doc_id = create(hub, "alice", "at once", "base")
    share(hub, "alice", doc_id, "user:bob", "editor")
    alice = {"Authorization": f"token {hub.tokens['alice']}"}
    bob = {"Authorization": f"token {hub.tokens['bob']}"}
    async with (
        hub_yclient(hub.ws_url("alice", doc_id), alice) as on_alices,
        hub_yclient(hub.ws_url("bob", doc_id), bob) as on_bobs,
    ):
        await eventually(lambda: str(on_alices.text) == str(on_bobs.text) == "base")
        on_bobs.text.insert(len(on_bobs.text), " bob")
        await anyio.sleep(0.5)  # stored by bob's server first
        on_alices.text.insert(0, "alice ")
        await anyio.sleep(0.5)
    # Without the cluster bus the two rooms do not see each other's edits live; both
    # are in the database, and every server that loads the document afresh must read
    # both. Let both rooms idle out (room_idle_timeout=1) and compact, then read: a
    # room that folded only its own doc into the snapshot would drop bob's edit.
    await anyio.sleep(4)
    for user in ("alice", "bob"):
        content = hub.api(user, "GET", f"documents/{doc_id}/content").json()["content"]
        assert content == "alice base bob", f"{user}'s server reads {content!r}"


# -- group changes on the hub ------------------------------------------------------------


@contextmanager
def out_of_group(hub: Hub, group: str, user: str) -> Iterator[None]:
    reply = hub.hub_api("DELETE", f"groups/{group}/users", {"users": [user]})
    assert reply.status_code == 200, reply.text
    try:
        yield
    finally:
        hub.hub_api("POST", f"groups/{group}/users", {"users": [user]})


async def test_leaving_a_hub_group_ends_its_shares_once_the_servers_cache_expires(hub: Hub):
    doc_id = create(hub, "alice", "team only", "x")
    share(hub, "alice", doc_id, "group:team", "editor")
    assert hub.api("bob", "GET", f"documents/{doc_id}").status_code == 200
    with out_of_group(hub, "team", "bob"):
        await eventually(
            lambda: hub.api("bob", "GET", "me").json()["groups"] == [],
            timeout=HUB_AUTH_CACHE + 10,
            what="the hub's group change on bob's server",
        )
        assert hub.api("bob", "GET", f"documents/{doc_id}").status_code == 404
    await eventually(
        lambda: hub.api("bob", "GET", f"documents/{doc_id}").status_code == 200,
        timeout=HUB_AUTH_CACHE + 10,
        what="bob back in the team",
    )


async def test_leaving_a_hub_group_closes_the_sockets_it_opened(hub: Hub):
    doc_id = create(hub, "alice", "team room", "x")
    share(hub, "alice", doc_id, "group:team", "editor")
    bob = {"Authorization": f"token {hub.tokens['bob']}"}
    conn = await raw_client(HTTPRequest(hub.ws_url("bob", doc_id), headers=bob))
    assert await conn.recv() is not None
    with out_of_group(hub, "team", "bob"):
        await eventually(
            lambda: hub.api("bob", "GET", "me").json()["groups"] == [],
            timeout=HUB_AUTH_CACHE + 10,
        )
        try:
            assert await conn.closed(timeout=REVALIDATE_INTERVAL + 5) == 4403
        finally:
            conn.close()
