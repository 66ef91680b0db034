"""The shipped pytest plugin works for a project of its own: docs/testing.md's example,
run by pytest in a directory outside this repository, with only the plugin loaded."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "testing.md"


def test_the_documented_example_passes_in_a_project_of_its_own(tmp_path: Path):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    conftest = next(b for b in blocks if "pytest_plugins" in b)
    example = next(b for b in blocks if "async def test_" in b)
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_example.py").write_text(example)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout, done.stdout[-4000:]
