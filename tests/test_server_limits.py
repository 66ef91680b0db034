"""What one connection may cost the standalone server, and what its log keeps (issue 12,
items 7, 10 and 12): a real ``jupyter collab-docs`` process over plain sockets."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from jupyter_collab_docs.testing import StandaloneServer

MiB = 1024 * 1024


def peak_rss_bytes(pid: int) -> int:
    """The most memory the process has held (VmHWM, Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def connect(server: StandaloneServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Read until the server closes the connection (True) or ``seconds`` pass (False)."""
    sock.settimeout(0.2)
    received = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True, received
        if not data:
            return True, received
        received += data
    return False, received


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_an_oversized_anonymous_body_is_refused_unread(standalone: StandaloneServer, framing):
    standalone.extra_args = [f"--CollabDocsApp.max_body_size={MiB}"]
    standalone.start()
    assert standalone.process is not None
    before = peak_rss_bytes(standalone.process.pid)
    total = 200 * MiB
    sock = connect(standalone)
    head = "POST /api/collab-docs/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += (
        f"Content-Length: {total}\r\n\r\n"
        if framing == "content-length"
        else "Transfer-Encoding: chunked\r\n\r\n"
    )
    sock.sendall(head.encode())
    block = b"x" * MiB
    frame = block if framing == "content-length" else b"%x\r\n%s\r\n" % (len(block), block)
    sent = 0
    try:
        while sent < total:
            sock.sendall(frame)
            sent += len(block)
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass  # the server cut the connection
    closed, answer = closed_within(sock, 10)
    sock.close()
    after = peak_rss_bytes(standalone.process.pid)
    growth = (after - before) / MiB
    print(f"{framing}: {sent // MiB} MiB sent before the cut; peak RSS +{growth:.1f} MiB")
    assert closed, "the server kept reading the body"
    assert sent < total, "the whole 200 MiB body was accepted"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400")
    assert after - before < 32 * MiB


def test_a_body_within_the_limit_still_reaches_the_api(standalone: StandaloneServer):
    standalone.extra_args = [f"--CollabDocsApp.max_body_size={MiB}"]
    standalone.start()
    content = "y" * (MiB // 2)
    doc = standalone.request(
        "POST", "documents", {"name": "big", "type": "file", "content": content}
    )
    assert standalone.request("GET", f"documents/{doc['id']}/content")["content"] == content


def test_slow_and_idle_connections_are_closed(standalone: StandaloneServer):
    standalone.extra_args = ["--CollabDocsApp.header_timeout=1", "--CollabDocsApp.body_timeout=1"]
    standalone.start()
    idle = connect(standalone)  # says nothing at all
    unfinished = connect(standalone)  # headers that never end (an unfinished upgrade)
    unfinished.sendall(
        b"GET /api/collab-docs/rooms/x HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    )
    slow_body = connect(standalone)  # a body that never arrives
    slow_body.sendall(
        b"POST /api/collab-docs/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    keep_alive = connect(standalone)  # one answered request, then silence
    keep_alive.sendall(b"GET /api/collab-docs/me HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    started = time.monotonic()
    for name, sock in [
        ("idle", idle),
        ("unfinished headers", unfinished),
        ("slow body", slow_body),
        ("idle keep-alive", keep_alive),
    ]:
        closed, answer = closed_within(sock, 10 - (time.monotonic() - started))
        sock.close()
        assert closed, f"{name} connection still open after {time.monotonic() - started:.1f} s"
        if name == "idle keep-alive":
            assert answer.startswith(b"HTTP/1.1 401")


def test_share_link_tokens_stay_out_of_the_request_log(standalone: StandaloneServer):
    standalone.start()
    secret = "cdl_ShouldNeverBeLogged1234567890"
    for path in [
        f"/api/collab-docs/documents/0123456789abcdef0123456789abcdef?link={secret}",
        f"/api/collab-docs/me?x=1&link={secret}",
    ]:
        request = urllib.request.Request(standalone.url + path)
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=10)
    standalone.stop()
    assert standalone.log_path is not None
    log = standalone.log_path.read_text()
    assert "link=[secret]" in log
    assert secret not in log
