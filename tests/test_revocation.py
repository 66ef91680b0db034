"""Revoking a standalone user ends their sessions: ``users remove`` and ``users token``
(rotation), run by the CLI in its own process, end the user's login cookies (REST answers
401) and close their live room sockets with 4401 within ``revalidate_interval``, also
across a server restart. A real ``jupyter collab-docs`` process, real HTTP and sockets."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from tornado.httpclient import HTTPRequest
from tornado.web import create_signed_value
from tornado.websocket import websocket_connect

from jupyter_collab_docs.acl.database import AccessDatabase
from jupyter_collab_docs.acl.directory import AccessDirectory
from jupyter_collab_docs.acl.models import TokenRow, UserRow
from jupyter_collab_docs.identity import session_id
from jupyter_collab_docs.testing import RawClient, StandaloneServer, free_port
from jupyter_collab_docs.users import hash_token

from .acl.test_access_contract import acl_url, db, directory, utcnow  # noqa: F401 (fixtures)

# One worker runs the whole module: its server is per module (xdist_group).
pytestmark = pytest.mark.xdist_group("revocation-server")

REVALIDATE = 1.0  # the server's revalidate_interval in this module
# What "within the interval" allows on top: the sweeper's tick (interval/4) and a loaded
# machine's scheduling.
SLACK = 1.5
CLOSE_NOT_AUTHENTICATED = 4401


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneServer]:
    tmp = tmp_path_factory.mktemp("revocation")
    server = StandaloneServer(
        port=free_port(),
        data_dir=tmp / "data",
        token="revocation-admin-token",
        log_path=tmp / "server.log",
        extra_args=[
            f"--CollabDocsApp.revalidate_interval={REVALIDATE}",
            f"--ServerApp.cookie_secret_file={tmp / 'cookie_secret'}",
        ],
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    yield  # no in-process Jupyter server in this module


@dataclass
class Reply:
    status: int
    body: bytes
    cookies: list[str]


def http(
    server: StandaloneServer,
    method: str,
    path: str,
    *,
    token: str | None = None,
    cookie: str | None = None,
    body: object = None,
) -> Reply:
    headers = {"Sec-Fetch-Site": "same-origin"}
    if token:
        headers["Authorization"] = f"token {token}"
    if cookie:
        headers["Cookie"] = cookie
    data = json.dumps(body).encode() if body is not None else None
    if data is None and method in ("POST", "PUT"):
        data = b""
    request = urllib.request.Request(
        f"{server.url}/api/collab-docs/{path}", data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return Reply(response.status, response.read(), response.headers.get_all("Set-Cookie"))
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read(), exc.headers.get_all("Set-Cookie") or [])


def login_cookie(server: StandaloneServer, token: str) -> str:
    """Sign in with a token as the web page does; returns the login cookie (name=value)."""
    reply = http(server, "GET", "me", token=token)
    assert reply.status == 200, reply
    found = [c.split(";", 1)[0] for c in reply.cookies or [] if c.startswith("username-")]
    assert found, f"no login cookie in {reply.cookies}"
    return found[0]


def new_user(server: StandaloneServer, name: str) -> str:
    return server.cli("users", "add", name).splitlines()[-1].strip()


def new_document(server: StandaloneServer, owner_token: str) -> str:
    reply = http(server, "POST", "documents", token=owner_token, body={"name": "d", "type": "file"})
    assert reply.status == 201, reply
    return str(json.loads(reply.body)["id"])


async def socket(
    server: StandaloneServer, doc_id: str, *, cookie: str | None = None, query: str = ""
) -> RawClient:
    url = f"ws://127.0.0.1:{server.port}/api/collab-docs/rooms/{doc_id}{query}"
    headers = {"Cookie": cookie} if cookie else {}
    conn = await websocket_connect(HTTPRequest(url, headers=headers))
    client = RawClient(conn)
    assert await client.recv() is not None  # sync step 1: joined, not refused
    return client


def status_within(server: StandaloneServer, cookie: str, status: int, seconds: float) -> float:
    """Seconds until ``GET me`` with the cookie answers ``status`` (fails past ``seconds``)."""
    start = time.monotonic()
    while (got := http(server, "GET", "me", cookie=cookie).status) != status:
        assert time.monotonic() - start < seconds, f"still {got} after {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.mark.parametrize("revoke", ["remove", "token"])
def test_a_revoked_users_cookie_no_longer_reads_writes_or_deletes(
    server: StandaloneServer, revoke: str
) -> None:
    name = f"rest-{revoke}"
    token = new_user(server, name)
    cookie = login_cookie(server, token)
    doc_id = new_document(server, token)
    assert http(server, "GET", "me", cookie=cookie).status == 200  # the cookie alone signs in

    server.cli("users", revoke, name)

    status_within(server, cookie, 401, REVALIDATE + SLACK)
    content = f"documents/{doc_id}/content"
    assert http(server, "GET", content, cookie=cookie).status == 401
    assert http(server, "PUT", content, cookie=cookie, body={"content": "x"}).status == 401
    assert http(server, "DELETE", f"documents/{doc_id}", cookie=cookie).status == 401


def test_a_rotated_token_keeps_the_new_tokens_cookie(server: StandaloneServer) -> None:
    token = new_user(server, "rotator")
    old_cookie = login_cookie(server, token)
    new_token = server.cli("users", "token", "rotator").splitlines()[-1].strip()
    new_cookie = login_cookie(server, new_token)
    status_within(server, old_cookie, 401, REVALIDATE + SLACK)
    me = http(server, "GET", "me", cookie=new_cookie)
    assert me.status == 200 and json.loads(me.body)["username"] == "rotator"


def test_a_cookie_without_a_current_token_fails_after_a_restart(server: StandaloneServer) -> None:
    kept = login_cookie(server, new_user(server, "restart-kept"))
    gone = login_cookie(server, new_user(server, "restart-gone"))
    server.stop()
    server.cli("users", "remove", "restart-gone")
    server.start()
    assert http(server, "GET", "me", cookie=gone).status == 401
    assert http(server, "GET", "me", cookie=kept).status == 200


def test_a_login_cookie_of_another_user_cannot_be_forged_from_a_username(
    server: StandaloneServer,
) -> None:
    """The cookie names its credential: one of the user's own, still current tokens."""
    cookie = login_cookie(server, new_user(server, "forger"))
    name, value = cookie.split("=", 1)
    # A cookie signed before this check existed carries only the user model: refused.
    legacy = server_signed_cookie(server, name, {"username": "forger", "name": "forger"})
    assert http(server, "GET", "me", cookie=f"{name}={legacy}").status == 401
    assert http(server, "GET", "me", cookie=f"{name}={value}").status == 200


def server_signed_cookie(server: StandaloneServer, name: str, model: dict[str, object]) -> str:
    """A cookie value signed with the server's own secret, as an older server signed it."""
    key = (Path(server.data_dir).parent / "cookie_secret").read_bytes()
    secret = hmac.new(key, b"", hashlib.sha256).digest()  # ServerApp's derivation
    full = {"display_name": "forger", "initials": None, "avatar_url": None, "color": None, **model}
    return create_signed_value(secret, name, json.dumps(full)).decode()


@pytest.mark.parametrize("revoke", ["remove", "token"])
async def test_a_revoked_users_live_sockets_close_within_the_interval(
    server: StandaloneServer, revoke: str
) -> None:
    owner = new_user(server, f"owner-{revoke}")
    name = f"ws-{revoke}"
    token = new_user(server, name)
    cookie = login_cookie(server, token)
    doc_id = new_document(server, owner)
    share = http(
        server,
        "PUT",
        f"documents/{doc_id}/shares/user:{name}",
        token=owner,
        body={"role": "editor"},
    )
    assert share.status == 200, share
    reply = http(
        server, "PUT", f"documents/{doc_id}/shares/link", token=owner, body={"role": "editor"}
    )
    assert reply.status == 200, reply
    link = json.loads(reply.body)["token"]

    by_cookie = await socket(server, doc_id, cookie=cookie)
    by_link = await socket(server, doc_id, cookie=cookie, query=f"?link={link}")
    by_url_token = await socket(server, doc_id, query=f"?token={token}&link={link}")
    bystander = await socket(server, doc_id, query=f"?token={owner}")
    server.cli("users", revoke, name)
    cli_done = time.monotonic()

    for client in (by_cookie, by_link, by_url_token):
        code = await client.closed(timeout=REVALIDATE + SLACK - (time.monotonic() - cli_done))
        assert code == CLOSE_NOT_AUTHENTICATED
    print(f"all closed {time.monotonic() - cli_done:.2f} s after the CLI returned")

    # The owner's socket stays: it still receives the document's changes.
    reply = http(server, "PUT", f"documents/{doc_id}/content", token=owner, body={"content": "x"})
    assert reply.status == 200, reply
    assert await bystander.recv() is not None
    bystander.close()


# -- the directory's side, on SQLite and MariaDB -----------------------------------------


async def test_a_session_lives_as_long_as_its_token_and_user(
    directory: AccessDirectory,  # noqa: F811 (the contract tests' fixtures)
    db: AccessDatabase,  # noqa: F811
) -> None:
    token = directory.add("alice")
    directory.add("bob")
    session = session_id(hash_token(token))
    assert (await directory.by_session("alice", session, max_age=0)).username == "alice"
    assert await directory.by_session("bob", session, max_age=0) is None  # alice's token only
    assert await directory.by_session("alice", "0" * 32, max_age=0) is None

    db.call(lambda s: s.execute(update(TokenRow).values(expires=utcnow() - timedelta(seconds=5))))
    assert await directory.by_session("alice", session, max_age=0) is None
    db.call(lambda s: s.execute(update(TokenRow).values(expires=None)))
    db.call(lambda s: s.execute(update(UserRow).values(disabled=True)))
    assert await directory.by_session("alice", session, max_age=0) is None
    db.call(lambda s: s.execute(update(UserRow).values(disabled=False)))

    new = directory.issue_token("alice")
    assert await directory.by_session("alice", session, max_age=0) is None
    renewed = session_id(hash_token(new))
    assert (await directory.by_session("alice", renewed, max_age=0)).username == "alice"


async def test_another_process_revoking_is_seen_once_the_cache_window_passed(
    directory: AccessDirectory,  # noqa: F811 (the contract tests' fixtures)
    db: AccessDatabase,  # noqa: F811
) -> None:
    """The CLI runs in another process: the server's cache cannot be told, so a look-up
    may be answered from it only for ``max_age`` seconds (0: a socket's re-check)."""
    token = directory.add("alice")
    session = session_id(hash_token(token))
    assert await directory.by_session("alice", session) is not None
    assert await directory.authenticate(token) is not None
    AccessDirectory(db).remove("alice")  # the CLI's directory, not the server's
    assert await directory.by_session("alice", session) is not None  # cached (5 s)
    assert await directory.by_session("alice", session, max_age=0) is None
    assert await directory.authenticate(token, max_age=0) is None
