#!/usr/bin/env bash
# A private MariaDB server for the tests (Debian's MariaDB 10.11, from apt).
#
#   mariadb.sh install           apt-get install mariadb-server-core mariadb-client-core
#   mariadb.sh start DIR PORT    new data directory DIR/data (kept if it exists), server on
#                                127.0.0.1:PORT, database `collab`, user collab/collab
#   mariadb.sh stop DIR
#   mariadb.sh url DIR           mysql+pymysql://collab:collab@127.0.0.1:PORT/collab
#
# Only the server binaries are installed (no mariadb-server package): no system-wide service is
# set up or started, and the private server reads no /etc/mysql config (--no-defaults).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib/common.bash
. "$(dirname "$0")/lib/common.bash"

PACKAGES=(mariadb-server-core mariadb-client-core)
DB_USER=collab
DB_PASSWORD=collab
DB_NAME=collab

find_bin() {
  command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || return 1
}

installed() {
  find_bin mariadbd >/dev/null && find_bin mariadb-install-db >/dev/null && find_bin mariadb >/dev/null
}

cmd_install() {
  installed && return 0
  apt_install "${PACKAGES[@]}"
  installed || die "mariadb: installing ${PACKAGES[*]} did not give mariadbd, mariadb-install-db, mariadb"
}

# client ARGS...: the mariadb client as root over the unix socket
# shellcheck disable=SC2120
client() {
  "$(find_bin mariadb)" --no-defaults --protocol=socket --socket="$DIR/mariadb.sock" -uroot "$@"
}

cmd_start() {
  DIR="$1" PORT="$2"
  installed || not_installed mariadb
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
  ! server_pid "$DIR" >/dev/null || die "mariadb: a server is already running in $DIR"
  check_port "$PORT"
  local log="$DIR/error.log" as_root=()
  [ "$(id -u)" -ne 0 ] || as_root=(--user=root)
  if [ ! -d "$DIR/data/mysql" ]; then
    rm -rf "$DIR/data"
    # --tmpdir: a starting mariadbd deletes the #sql* files in its tmpdir, so bootstraps
    # sharing /tmp (parallel test workers) broke each other ("Unknown table tmp_user_sys").
    "$(find_bin mariadb-install-db)" --no-defaults --datadir="$DIR/data" \
      --auth-root-authentication-method=normal --skip-test-db "${as_root[@]}" \
      --tmpdir="$DIR" \
      >"$DIR/install-db.log" 2>&1 ||
      { cat "$DIR/install-db.log" >&2; die "mariadb: mariadb-install-db failed"; }
  fi
  local args=(
    --no-defaults
    --datadir="$DIR/data" --socket="$DIR/mariadb.sock" --pid-file="$DIR/mariadbd.pid"
    --port="$PORT" --bind-address=127.0.0.1 --skip-name-resolve
    --log-error="$log" --tmpdir="$DIR"
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci
    --innodb-buffer-pool-size=64M --max-connections=200
    "${as_root[@]}"
  )
  launch "$DIR" "$log" "$(find_bin mariadbd)" "${args[@]}"
  echo "$PORT" >"$DIR/port"
  wait_ready "$DIR" "$(cat "$DIR/server.pid")" 60 "$log" client -e 'SELECT 1'
  # (every start: idempotent) All privileges: a throwaway server, and tests may make a
  # database of their own.
  client <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
SQL
  # ready for the collab user over TCP, as the tests connect
  "$(find_bin mariadb)" --no-defaults --protocol=tcp -h127.0.0.1 -P"$PORT" \
    -u"$DB_USER" -p"$DB_PASSWORD" "$DB_NAME" -e 'SELECT 1' >/dev/null
}

cmd_url() {
  echo "mysql+pymysql://$DB_USER:$DB_PASSWORD@127.0.0.1:$(cat "$1/port")/$DB_NAME"
}

case "${1:-}" in
  install) cmd_install ;;
  start) [ $# -eq 3 ] || { usage_common; exit 2; }; cmd_start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || { usage_common; exit 2; }; stop_server "$2" TERM 60 ;;
  url) [ $# -eq 2 ] || { usage_common; exit 2; }; cmd_url "$2" ;;
  *) usage_common; exit 2 ;;
esac
