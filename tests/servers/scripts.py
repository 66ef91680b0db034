"""Running ``scripts/servers/<name>.sh`` from the test fixtures (shared by every server)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

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
