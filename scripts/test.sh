#!/usr/bin/env bash
# Install everything the tests need (Python test deps, the Node y-websocket client) and
# run lint, type checks and the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-venv.sh dev
if [ -f tests/js/package.json ]; then
  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
fi
npm ci --prefix examples/jupyterhub --no-audit --no-fund --loglevel=error  # the hub's proxy
echo "== lint"
.venv/bin/ruff check jupyter_collab_docs tests
.venv/bin/ruff format --check jupyter_collab_docs tests
.venv/bin/mypy
echo "== JupyterLab extension: lint (prettier, eslint) and unit tests (jest)"
(cd labextension && PATH="$PWD/../.venv/bin:$PATH" jlpm lint:check && PATH="$PWD/../.venv/bin:$PATH" jlpm test --silent)
echo "== web page: type check and unit tests (vitest)"
npm --prefix webapp run --silent typecheck
npm --prefix webapp test --silent
echo "== real servers (FerretDB, MariaDB, Redis, Kafka; cached outside the clone)"
./scripts/servers/install-all.sh
echo "== the browser of the browser tests (Debian Chromium)"
./scripts/install-chromium.sh
echo "== tests"
# In parallel (pytest-xdist): most tests wait on servers and sockets, not on the CPU, so
# WORKERS processes beat one even on 2 cores (measured: docs/servers.md, "Running the
# suite"). --dist loadgroup spreads single tests over the workers, but keeps on one worker
# each module marked with @pytest.mark.xdist_group (per-module servers and browsers,
# builds in the checkout). `scripts/test.sh -n 0` runs it serially.
workers="${COLLAB_DOCS_TEST_WORKERS:-3}"
exec .venv/bin/python -m pytest -p no:cacheprovider -n "$workers" --dist loadgroup "$@"
