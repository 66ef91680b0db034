#!/usr/bin/env bash
# Install jupyter-collab-docs into .venv and start the standalone server on the embedded
# defaults (SQLite files in the Jupyter data dir; no other server needed).
# Extra arguments go to `jupyter collab-docs` (e.g. --port=9999).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-venv.sh
args=()
if [ "$(id -u)" = "0" ]; then
  args+=(--allow-root)  # Jupyter refuses root unless told; containers often run as root
fi
exec .venv/bin/jupyter collab-docs "${args[@]}" "$@"
