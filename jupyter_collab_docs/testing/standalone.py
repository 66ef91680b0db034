"""A standalone ``jupyter collab-docs`` server in a process of its own, for tests that
need what an in-process server cannot give: a real shutdown, a crash, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

from .waiting import url_answers, wait_until_ready


@dataclass
class StandaloneServer:
    """``start()`` launches it and waits until it answers; ``cli(...)`` runs a
    ``jupyter collab-docs`` subcommand on the same data dir; ``request(...)`` calls the
    REST API with the server's token (or another)."""

    port: int
    data_dir: Path
    token: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def name(self) -> str:
        return "server"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "jupyter_collab_docs", *args]

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            self.command(*args, f"--CollabDocsApp.data_dir={self.data_dir}"),
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def server_args(self) -> list[str]:
        """The command line of the server, after ``jupyter collab-docs``."""
        return [
            *self.common_args(),
            "--CollabDocsApp.room_idle_timeout=1",
            *self.extra_args,
        ]

    def common_args(self) -> list[str]:
        return [
            "--no-browser",
            "--allow-root",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--CollabDocsApp.data_dir={self.data_dir}",
        ]

    def launch(self) -> None:
        """Start the process without waiting for it (start several, then wait for all)."""
        assert self.log_path is not None
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(*self.server_args()),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"},
        )

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the API answers (a 401 to an anonymous request means it is up). 60 s: a
        loaded CI machine took over 30 s to start JupyterLab's extensions; a process that
        exits fails at once."""
        wait_until_ready(
            lambda: url_answers(f"{self.url}/api/collab-docs/me"),
            what=self.name,
            process=self.process,
            log_path=self.log_path,
            timeout=timeout,
        )

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = Request(
            f"{self.url}/api/collab-docs/{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {token or self.token}"},
        )
        with urlopen(req, timeout=20) as response:
            text = response.read().decode()
        return json.loads(text) if text else None
