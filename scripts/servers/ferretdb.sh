#!/usr/bin/env bash
# A private FerretDB (MongoDB wire protocol, SQLite handler) for the MongoDB store's tests.
#
#   ferretdb.sh install          build the pinned binary into the cache (once; ~2.5 min)
#   ferretdb.sh path             print the binary's path
#   ferretdb.sh start DIR PORT   server on 127.0.0.1:PORT, data, state and log under DIR;
#                                returns once it accepts connections
#   ferretdb.sh stop DIR         SIGTERM, wait for the exit
#   ferretdb.sh url DIR          mongodb://127.0.0.1:PORT/
#
# The binary lives outside the clone, in ${COLLAB_DOCS_CACHE:-~/.cache/jupyter-collab-docs},
# so CI keeps it between runs and `install` is a no-op once it exists. v1.24.x is the last
# line with the SQLite handler (v2 needs PostgreSQL with DocumentDB). It is built from the
# module's source, fetched with `go mod download` (the Go module proxy).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib/common.bash
. "$(dirname "$0")/lib/common.bash"

FERRETDB_VERSION="${FERRETDB_VERSION:-v1.24.2}"
BIN="$CACHE/ferretdb-$FERRETDB_VERSION/bin/ferretdb"

cmd_install() {
  [ ! -x "$BIN" ] || return 0
  command -v go >/dev/null || die "ferretdb: go is needed to build FerretDB"
  echo "ferretdb: building $FERRETDB_VERSION into $BIN (a few minutes, once)" >&2
  # A plain `go install .../cmd/ferretdb@VERSION` builds a binary that panics at start: the
  # module zip lacks the generated build/version/version.txt. So copy the module's source,
  # write that file, and build the copy.
  local src work
  src="$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$src" ] || die "ferretdb: go mod download of FerretDB $FERRETDB_VERSION failed"
  work="$(mktemp -d)"
  # shellcheck disable=SC2064  # expand $work now
  trap "chmod -R u+w '$work' && rm -rf '$work'" EXIT
  cp -R "$src/." "$work/"
  chmod -R u+w "$work"
  echo "$FERRETDB_VERSION" >"$work/build/version/version.txt"
  mkdir -p "$(dirname "$BIN")"
  (cd "$work" && GOFLAGS=-buildvcs=false go build -trimpath -o "$BIN.tmp" ./cmd/ferretdb)
  mv "$BIN.tmp" "$BIN"
  "$BIN" --version | head -1 >&2
}

listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$(cat "$DIR/port")") 2>/dev/null
}

cmd_start() {
  DIR="$1" PORT="$2"
  [ -x "$BIN" ] || not_installed ferretdb
  mkdir -p "$DIR/data" "$DIR/state"
  DIR="$(cd "$DIR" && pwd)"
  ! server_pid "$DIR" >/dev/null || die "ferretdb: a server is already running in $DIR"
  check_port "$PORT"
  echo "$PORT" >"$DIR/port"
  launch "$DIR" "$DIR/ferretdb.log" "$BIN" \
    --handler=sqlite \
    --sqlite-url="file:$DIR/data/" \
    --listen-addr="127.0.0.1:$PORT" \
    --state-dir="$DIR/state" \
    --telemetry=disable \
    --debug-addr=- \
    --log-level=warn
  wait_ready "$DIR" "$(cat "$DIR/server.pid")" 30 "$DIR/ferretdb.log" listening
}

usage() {
  usage_common
  cat >&2 <<EOF2
       $0 path               the binary's path
       $0 url DIR            mongodb://127.0.0.1:PORT/
EOF2
  exit 2
}

case "${1:-}" in
  install) cmd_install ;;
  path) echo "$BIN" ;;
  start) [ $# -eq 3 ] || usage; cmd_start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || usage; stop_server "$2" TERM 30 ;;
  url) [ $# -eq 2 ] || usage; echo "mongodb://127.0.0.1:$(cat "$2/port")/" ;;
  *) usage ;;
esac
