#!/usr/bin/env bash
# Create .venv (once) and install the package into it with the given extras.
# The install builds the JupyterLab extension (labextension/, with jlpm from the
# jupyterlab build dependency) unless it is built already; the editable install is then
# linked into the venv so that `jupyter lab` loads it and `jlpm watch` rebuilds it live.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
.venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
PATH="$PWD/.venv/bin:$PATH" .venv/bin/jupyter labextension develop --overwrite . >/dev/null
