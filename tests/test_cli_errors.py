"""Every ``jupyter collab-docs`` subcommand fails the same way on bad input: one line
``error: ...`` on stderr, no traceback, no credentials, exit status 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Each case: the command line, then a part of the one-line reason.
CASES = [
    (["users", "list", "--CollabDocsApp.acl_url=bogus://x"], "unsupported acl_url scheme 'bogus'"),
    (
        ["documents", "list", "--CollabDocsApp.store_url=bogus://x"],
        "unsupported store_url scheme 'bogus'",
    ),
    (
        ["groups", "list", "--CollabDocsApp.acl_url=mysql+pymysql://collab:s3cret@127.0.0.1:1/x"],
        "Can't connect to MySQL server",
    ),
]


def test_bad_configuration_is_one_line_and_exit_1(tmp_path: Path) -> None:
    # All at once: each pays the interpreter's start.
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_collab_docs",
                *args,
                f"--CollabDocsApp.data_dir={tmp_path}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args, _ in CASES
    ]
    for proc, (args, reason) in zip(procs, CASES, strict=True):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, (args, err)
        assert err.splitlines() == [err.strip()] and err.startswith("error: "), (args, err)
        assert reason in err, (args, err)
        assert "s3cret" not in err and out == "", (args, err)


def test_the_app_does_not_import_the_cli() -> None:
    """The server's module names its subcommands by import string: no app <-> cli loop
    (it imports the table of commands, cli/__init__.py, and no command)."""
    code = (
        "import sys, jupyter_collab_docs.app; "
        "print(sorted(m for m in sys.modules if m.startswith('jupyter_collab_docs.cli.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
