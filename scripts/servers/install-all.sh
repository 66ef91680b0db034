#!/usr/bin/env bash
# Install every server the tests need: runs `scripts/servers/<name>.sh install` for each script
# here (idempotent and quick once installed): FerretDB, Kafka, MariaDB, Redis (and its
# Sentinel), and nginx for the reference deployment (scripts/deploy-local, tests/deploy/).
# Downloads are cached outside the clone in ${COLLAB_DOCS_CACHE:-$HOME/.cache/jupyter-collab-docs}.
# Prints how long each one took.
set -euo pipefail
cd "$(dirname "$0")"
status=0
for script in *.sh; do
  [ "$script" != install-all.sh ] || continue
  start=${EPOCHREALTIME/[.,]/}
  if bash "./$script" install; then
    ms=$(((${EPOCHREALTIME/[.,]/} - start) / 1000))
    printf '%s installed (%d.%03ds)\n' "${script%.sh}" $((ms / 1000)) $((ms % 1000))
  else
    echo "installing ${script%.sh} failed (scripts/servers/$script install)" >&2
    status=1
  fi
done
exit "$status"
