"""Building the package again after an editable install (what a second and third
`make run` do) works: the install.json an editable install leaves behind is dropped."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# Builds in the checkout, as test_binder.py does: never both at once (xdist_group).
pytestmark = pytest.mark.xdist_group("builds-in-the-checkout")

ROOT = Path(__file__).resolve().parents[1]


def test_a_wheel_builds_over_the_install_json_an_editable_install_leaves(tmp_path: Path):
    built = ROOT / "jupyter_collab_docs" / "labextension"
    if not (built / "package.json").is_file():
        raise AssertionError("the JupyterLab extension is not built (run scripts/setup-venv.sh)")
    shutil.copy(ROOT / "labextension" / "install.json", built / "install.json")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert [n for n in names if n.endswith("jupyter-collab-docs/install.json")] == [
        "jupyter_collab_docs-0.1.0.data/data/share/jupyter/labextensions/"
        "jupyter-collab-docs/install.json"
    ]
