"""The standalone app in its own process: users CLI, tokens, restart durability,
quarantine of a corrupt record, and the server extension being enabled."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import urllib.error

import pytest

from jupyter_collab_docs.testing import StandaloneServer, eventually, yclient


def ws(server: StandaloneServer, doc_id: str, token: str) -> str:
    return f"ws://127.0.0.1:{server.port}/api/collab-docs/rooms/{doc_id}?token={token}"


def test_users_cli_round_trip(standalone: StandaloneServer):
    token = standalone.cli("users", "add", "alice", "--admin", "--display-name", "Alice L")
    assert token.startswith("cd_") and len(token) > 30
    standalone.cli("users", "add", "bob")
    listing = standalone.cli("users", "list")
    assert listing.splitlines() == ["alice\tAlice L (admin)", "bob\tbob"]
    new_token = standalone.cli("users", "token", "bob")
    assert new_token != token
    assert standalone.cli("users", "remove", "bob") == "removed bob"
    assert standalone.cli("users", "list").splitlines() == ["alice\tAlice L (admin)"]
    # only hashes are stored
    db = sqlite3.connect(standalone.data_dir / "access.db")
    stored = [row[0] for row in db.execute("SELECT token_hash FROM api_tokens")]
    assert token not in stored and len(stored) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "add", "bad name"], "invalid username"),
        (["users", "remove", "nobody"], "no such user"),
        (["users", "token", "nobody"], "no such user"),
        (["users", "add"], "expected one USERNAME"),
    ],
)
def test_users_cli_errors(standalone: StandaloneServer, args, message):
    result = subprocess.run(
        standalone.command(*args, f"--CollabDocsApp.data_dir={standalone.data_dir}"),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert message in result.stderr


def test_users_cli_reads_config_files(standalone: StandaloneServer, tmp_path):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.py").write_text(
        f"c.CollabDocsApp.data_dir = {str(tmp_path / 'from-config')!r}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_collab_docs", "users", "add", "zoe"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "JUPYTER_CONFIG_DIR": str(config_dir)},
        check=True,
    )
    assert result.stdout.strip().startswith("cd_")
    assert (tmp_path / "from-config" / "access.db").exists()


def test_server_extension_is_enabled_and_ok():
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    assert "jupyter_collab_docs" in output
    line = next(ln for ln in output.splitlines() if "jupyter_collab_docs" in ln and "OK" in ln)
    assert "OK" in line


async def test_tokens_work_and_edits_survive_a_restart(standalone: StandaloneServer):
    alice = standalone.cli("users", "add", "alice")
    standalone.start()
    me = standalone.request("GET", "me", token=alice)
    assert me["username"] == "alice" and me["is_admin"] is False
    assert standalone.request("GET", "me")["is_admin"] is True  # the server's own token
    doc = standalone.request("POST", "documents", {"name": "d", "type": "file"}, token=alice)
    async with yclient(ws(standalone, doc["id"], alice)) as client:
        for word in ["durable ", "edits ", "survive"]:
            client.text.insert(len(client.text), word)
        await eventually(
            lambda: (
                standalone.request("GET", f"documents/{doc['id']}/content", token=alice)["content"]
                == "durable edits survive"
            ),
            what="edits reached the server",
        )
    standalone.stop()
    standalone.start()
    content = standalone.request("GET", f"documents/{doc['id']}/content", token=alice)
    assert content["content"] == "durable edits survive"
    # the old token still works, a removed user's does not
    standalone.cli("users", "remove", "alice")
    standalone.stop()
    standalone.start()
    with pytest.raises(urllib.error.HTTPError) as refused:
        standalone.request("GET", "me", token=alice)
    assert refused.value.code == 401


async def test_a_corrupt_record_is_quarantined_and_the_rest_loads(standalone: StandaloneServer):
    alice = standalone.cli("users", "add", "alice")
    standalone.start()
    doc = standalone.request(
        "POST", "documents", {"name": "d", "type": "file", "content": "kept"}, token=alice
    )
    standalone.stop()
    db = sqlite3.connect(standalone.data_dir / "documents.db")
    with db:
        db.execute(
            "INSERT INTO updates (doc_id, data, user, node, created) VALUES (?, ?, ?, ?, ?)",
            (doc["id"], b"\x01\xff\xffcorrupt", "mallory", "n", "2026-11-26T00:00:00+00:00"),
        )
    standalone.start()
    content = standalone.request("GET", f"documents/{doc['id']}/content", token=alice)
    assert content["content"] == "kept"
    rows = db.execute("SELECT doc_id, kind, data FROM quarantine").fetchall()
    assert rows == [(doc["id"], "update", b"\x01\xff\xffcorrupt")]
    assert db.execute("SELECT COUNT(*) FROM updates").fetchone()[0] == 0


def test_the_standalone_app_confines_non_admins(standalone: StandaloneServer):
    """`jupyter collab-docs` installs the confinement (tests/test_confinement.py walks it)."""
    alice = standalone.cli("users", "add", "alice")
    admin = standalone.cli("users", "add", "root", "--admin")
    standalone.start()

    def status(method: str, path: str, token: str) -> int:
        request = urllib.request.Request(
            f"{standalone.url}{path}",
            data=b"{}" if method == "POST" else None,
            method=method,
            headers={"Authorization": f"token {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    assert status("POST", "/api/kernels", alice) == 403
    assert status("GET", "/api/contents", alice) == 403
    assert status("POST", "/api/shutdown", alice) == 403
    assert standalone.request("GET", "me", token=alice)["can_run_code"] is False
    for token in (admin, standalone.token):
        assert status("GET", "/api/kernels", token) == 200
        assert standalone.request("GET", "me", token=token)["can_run_code"] is True
    assert standalone.process is not None and standalone.process.poll() is None
