"""Running ``scripts/servers/<name>.sh`` from the test fixtures (shared by every server)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import ClassVar

import pytest

from jupyter_collab_docs.testing import free_port

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "servers"
NOT_INSTALLED = 3  # the scripts' exit code when the server is not installed


class ServerScriptError(RuntimeError):
    pass


def run_script(script: Path, *args: str, timeout: float = 180) -> str:
    """Run ``script args...``; a server it starts is stopped by its watcher if we die."""
    env = {**os.environ, "COLLAB_DOCS_OWNER_PID": str(os.getpid())}
    done = subprocess.run(
        ["bash", str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode == NOT_INSTALLED:
        pytest.fail(done.stderr.strip(), pytrace=False)
    if done.returncode != 0:
        raise ServerScriptError(
            f"{script.name} {' '.join(args)} failed ({done.returncode}):\n{done.stderr}"
        )
    return done.stdout


def start_on_free_port(script: Path, directory: Path, attempts: int = 3) -> int:
    """Start ``script``'s server on a free port; another process may take that port
    before the server binds it, so try again (``already in use``)."""
    for attempt in range(attempts):
        port = free_port()
        try:
            run_script(script, "start", str(directory), str(port))
            return port
        except ServerScriptError as e:
            if "already in use" not in str(e) or attempt == attempts - 1:
                pytest.fail(str(e), pytrace=False)
    raise AssertionError("unreachable")


class ScriptedServer:
    """A server run by its script: ``start()`` (same port, data kept; returns once it
    serves), ``stop()`` (clean shutdown), ``kill()`` (SIGKILL). A server the environment
    names (``URL_VARIABLE``) is not ours to stop: those skip the test."""

    SCRIPT: ClassVar[Path]
    URL_VARIABLE: ClassVar[str]
    port: int
    dir: Path | None

    def _script(self, *args: str) -> None:
        if self.dir is None:
            pytest.skip(f"{self.URL_VARIABLE} names a server these tests do not control")
        run_script(self.SCRIPT, *args)

    def start(self) -> None:
        self._script("start", str(self.dir), str(self.port))

    def stop(self) -> None:
        self._script("stop", str(self.dir))

    def kill(self) -> None:
        self._script("kill", str(self.dir))
