"""Waiting in tests: a free port, the one readiness loop, and ``eventually``."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import anyio


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def url_answers(url: str) -> bool:
    """Whether an HTTP server answers ``url`` at all: an error status (401, 404...) counts,
    since the server is up; a refused or timed-out connection does not."""
    try:
        urllib.request.urlopen(url, timeout=1)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def wait_until_ready(
    ready: Callable[[], bool],
    *,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    log_path: Path | None = None,
    timeout: float = 30.0,
    interval: float = 0.1,
) -> None:
    """Poll ``ready()`` until it is true (blocking: for servers in other processes).

    Raises RuntimeError naming ``what`` (and its log) once ``process`` exited or after
    ``timeout`` seconds, so a server that cannot start fails the test at once."""
    see = f"; see {log_path}" if log_path is not None else ""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}{see}")
        if ready():
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer within {timeout:g} s{see}")
        time.sleep(interval)


async def eventually(check: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Wait until ``check()`` is true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await anyio.sleep(0.02)
