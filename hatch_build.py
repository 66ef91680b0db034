"""Hatch build hook: build the web page (``webapp/``) into the package.

The page served at ``{base_url}collab-docs/`` is TypeScript bundled by esbuild into
``jupyter_collab_docs/static/webapp/`` (git-ignored, shipped in the wheel as an artifact).
This hook runs ``npm ci`` and ``npm run build`` in ``webapp/`` when that output is missing
or older than its sources, and does nothing when it is up to date, so editable reinstalls
stay fast. Node.js 18+ and npm are needed only when a build is due.

``COLLAB_DOCS_SKIP_WEBAPP=1`` skips the build (the package then serves a "not built" page).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

WEBAPP = "webapp"
OUTPUT = Path("jupyter_collab_docs", "static", "webapp")
# index.html is written last by webapp/build.mjs: it marks a complete build.
MARKER = "index.html"
LABEXTENSION_OUTPUT = Path("jupyter_collab_docs", "labextension")
SOURCES = ("src", "package.json", "package-lock.json", "build.mjs", "tsconfig.json")


def newest_mtime(paths: list[Path]) -> float:
    newest = 0.0
    for path in paths:
        if path.is_dir():
            for sub in path.rglob("*"):
                if sub.is_file():
                    newest = max(newest, sub.stat().st_mtime)
        elif path.is_file():
            newest = max(newest, path.stat().st_mtime)
    return newest


def remove_stale_install_json(root: Path) -> None:
    """An editable install copies ``labextension/install.json`` into the extension's build
    output; the wheel maps both to the same path, so the next build would fail with "a
    second file is being added to the wheel archive". The copy is ours to drop."""
    copy = root / LABEXTENSION_OUTPUT / "install.json"
    if (
        copy.is_file()
        and copy.read_bytes() == (root / "labextension" / "install.json").read_bytes()
    ):
        copy.unlink()


class WebAppBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        remove_stale_install_json(root)
        webapp = root / WEBAPP
        marker = root / OUTPUT / MARKER
        if os.environ.get("COLLAB_DOCS_SKIP_WEBAPP"):
            self.app.display_warning("COLLAB_DOCS_SKIP_WEBAPP is set: the web page is not built")
            return
        if not (webapp / "package.json").is_file():
            # An sdist made without webapp/ sources: use the output it carries.
            if not marker.is_file():
                self.app.display_warning(f"no {WEBAPP}/ sources and no built page in {OUTPUT}")
            return
        sources = [webapp / name for name in SOURCES]
        if marker.is_file() and marker.stat().st_mtime >= newest_mtime(sources):
            self.app.display_info(f"web page up to date in {OUTPUT}")
            return
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            if marker.is_file():
                self.app.display_warning(
                    "Node.js/npm not found: keeping the web page built earlier in "
                    f"{OUTPUT}, which is older than {WEBAPP}/"
                )
                return
            raise RuntimeError(
                "Building jupyter-collab-docs needs Node.js 18+ and npm to build its web page "
                f"({WEBAPP}/ -> {OUTPUT}). Install them (e.g. `apt-get install nodejs npm`, "
                "or from nodejs.org) and build again, or set COLLAB_DOCS_SKIP_WEBAPP=1 to "
                "build without the page."
            )
        lock = webapp / "package-lock.json"
        installed = webapp / "node_modules" / ".package-lock.json"
        if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
            self.run([npm, "ci", "--no-audit", "--no-fund"], webapp)
        self.run([npm, "run", "build"], webapp)
        if not marker.is_file():
            raise RuntimeError(f"`npm run build` in {WEBAPP}/ did not produce {OUTPUT / MARKER}")

    def run(self, command: list[str], cwd: Path) -> None:
        self.app.display_info(f"{WEBAPP}: {' '.join(command[1:])}")
        try:
            subprocess.run(command, cwd=cwd, check=True)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(
                f"building the web page failed: `{' '.join(command[1:])}` in {WEBAPP}/ "
                f"exited with {exc.returncode} (see its output above)"
            ) from exc
