"""Fail fast: ``jupyter collab-docs`` that cannot load or start its own extension prints
the reason and exits non-zero (instead of serving 404 on every collab-docs URL); inside
someone else's server the reason is logged as an error and the health check names it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import free_port

EXIT_BOUND = 60.0  # seconds; a healthy start takes a few, a failed one must not hang


def run_standalone(tmp_path: Path, *args: str) -> tuple[int, str, float]:
    """Run ``jupyter collab-docs`` until it exits (or EXIT_BOUND passes): rc, stderr, s."""
    command = [
        sys.executable,
        "-m",
        "jupyter_collab_docs",
        "--no-browser",
        "--allow-root",
        f"--port={free_port()}",
        "--ServerApp.port_retries=0",
        f"--CollabDocsApp.data_dir={tmp_path / 'data'}",
        *args,
    ]
    env = {
        **os.environ,
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    started = time.monotonic()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
    )
    try:
        _, stderr = process.communicate(timeout=EXIT_BOUND)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"still running after {EXIT_BOUND:g} s; stderr:\n{stderr[-3000:]}")
    return process.returncode, stderr, time.monotonic() - started


def last_line(stderr: str) -> str:
    """The reason the app printed as it gave up: its last line of its own (other
    extensions' start-up lines, such as jupyter-lsp's, may still come after it)."""
    ours = [line for line in stderr.splitlines() if line.startswith("jupyter collab-docs: ")]
    assert ours, f"no reason printed; stderr:\n{stderr[-3000:]}"
    return ours[-1]


def refused(tmp_path: Path, *args: str) -> tuple[str, str, float]:
    """Run ``jupyter collab-docs``, which must exit with an error: (its reason, stderr, s)."""
    rc, stderr, elapsed = run_standalone(tmp_path, *args)
    assert rc != 0, stderr[-3000:]
    return last_line(stderr), stderr, elapsed


def test_a_bad_store_url_exits_naming_the_trait_with_an_example(tmp_path: Path) -> None:
    reason, stderr, _ = refused(tmp_path, "--CollabDocsApp.store_url=foo://nowhere")
    assert "CollabDocsApp.store_url" in reason and "'foo'" in reason, stderr[-3000:]
    assert "--CollabDocsApp.store_url=sqlite:///" in reason


def test_an_unknown_audit_sink_exits_showing_the_list_form(tmp_path: Path) -> None:
    reason, stderr, _ = refused(tmp_path, "--CollabDocsApp.audit_sinks=ftp://host/audit")
    assert "CollabDocsApp.audit_sinks" in reason and "ftp://host/audit" in reason, stderr[-3000:]
    # The command-line form of a list trait that `jupyter collab-docs` takes: the option
    # once per URL. (A JSON list, '["file:///a", ...]', reaches the trait as one string:
    # Jupyter Server parses the command line before the extension's traits are known.)
    assert "--CollabDocsApp.audit_sinks=file:///" in reason


def test_an_unreachable_mongodb_exits_without_printing_its_password(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"mongodb://collab:s3cret-pw@127.0.0.1:{port}/collab?serverSelectionTimeoutMS=500"
    reason, stderr, elapsed = refused(tmp_path, f"--CollabDocsApp.store_url={url}")
    assert "document store" in reason and f"127.0.0.1:{port}" in reason, stderr[-3000:]
    assert "s3cret-pw" not in stderr
    assert elapsed < EXIT_BOUND


def test_an_unreachable_access_database_exits(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"mysql+pymysql://collab:s3cret-pw@127.0.0.1:{port}/collab"
    reason, stderr, _ = refused(tmp_path, f"--CollabDocsApp.acl_url={url}")
    assert "failed to load" in reason and "MySQL server on '127.0.0.1'" in reason, stderr[-3000:]
    assert "s3cret-pw" not in stderr


# -- inside someone else's server (pytest-jupyter's in-process server) ---------------------


@pytest.fixture
def collab_config() -> dict[str, Any]:
    port = free_port()  # nothing listens there
    return {
        "store_url": f"mongodb://127.0.0.1:{port}/collab?serverSelectionTimeoutMS=300",
    }


async def test_a_backend_down_at_start_is_logged_and_named_by_health(
    jp_serverapp: Any, jp_fetch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import json

    app = next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_collab_docs"]))
    await jp_serverapp._post_start()  # runs the extension's start hook, which fails
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert any("document store" in r.getMessage() for r in errors), caplog.text[-3000:]

    response = await jp_fetch("api", "collab-docs", "health", raise_error=False)
    assert response.code == 503
    body = json.loads(response.body)
    assert body["status"] == "degraded"
    start = body["checks"]["start"]
    assert start["ok"] is False and "document store" in start["error"], body
    assert app.node_id == body["node"]


@pytest.mark.parametrize("collab_config", [{"audit_sinks": ["ftp://host/audit"]}])
async def test_a_bad_configuration_inside_a_server_is_an_error_and_the_server_runs_on(
    jp_serverapp: Any, jp_fetch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    records = caplog.get_records("setup")  # the server was built by the fixture
    errors = [r.getMessage() for r in records if r.levelname == "ERROR"]
    assert any("CollabDocsApp.audit_sinks" in m and "ftp://host/audit" in m for m in errors), (
        caplog.text[-3000:]
    )
    assert (await jp_fetch("api", "status")).code == 200  # the server itself serves
    # Not loaded: no collab-docs URL exists, health included (the log says why).
    response = await jp_fetch("api", "collab-docs", "health", raise_error=False)
    assert response.code == 404
