"""Binder's install steps (binder/postBuild) work in a fresh virtual environment: the
extensions are listed as enabled and OK and the sample notebook is in the store."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

# Builds in the checkout, as test_packaging.py does: never both at once (xdist_group).
pytestmark = pytest.mark.xdist_group("builds-in-the-checkout")

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(900)
def test_binder_install_steps_in_a_fresh_venv(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "check-binder.sh"), str(tmp_path / "binder")],
        capture_output=True,
        text=True,
        timeout=880,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    listing = result.stdout
    assert "jupyter-collab-docs" in listing and "enabled" in listing and "OK" in listing
    assert "Welcome" in listing
