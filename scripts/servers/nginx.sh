#!/usr/bin/env bash
# A private nginx in front of collab-docs nodes, run from deploy/nginx.conf (Debian's nginx).
#
#   nginx.sh install                      apt-get install nginx (the binary only is used)
#   nginx.sh start DIR PORT NODE1 NODE2 NODE3
#                                         deploy/nginx.conf filled in (NGINX_LISTEN=
#                                         127.0.0.1:PORT, NODEn=HOST:PORT, NGINX_RUN_DIR=DIR,
#                                         NGINX_WORKERS=1) as DIR/nginx.conf, checked
#                                         (nginx -t), then run in the foreground of its own
#                                         process (daemon off); returns once it listens
#   nginx.sh stop DIR                     SIGTERM (fast shutdown: open sockets are closed)
#                                         then, after 10 s, SIGKILL
#   nginx.sh url DIR                      http://127.0.0.1:PORT
#
# COLLAB_DOCS_NGINX_CONF names another template. Debian's package also sets up a
# system-wide nginx service where services start on install; these scripts never use it.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib/common.bash
. "$(dirname "$0")/lib/common.bash"

TEMPLATE="${COLLAB_DOCS_NGINX_CONF:-$SERVERS_DIR/../../deploy/nginx.conf}"

find_nginx() {
  command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || return 1
}

cmd_install() {
  find_nginx >/dev/null && return 0
  apt_install nginx
  find_nginx >/dev/null || die "nginx: installing the nginx package did not give /usr/sbin/nginx"
}

# render TEMPLATE OUT: ${NAME} placeholders that are set in the environment are replaced
# (like the nginx image's envsubst); nginx's own $variables are not.
render() {
  python3 - "$1" "$2" <<'EOF'
import os, re, sys
template, out = sys.argv[1:]
text = open(template).read()
names = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", text))
missing = sorted(n for n in names if n not in os.environ)
if missing:
    sys.exit(f"nginx: {template} needs {', '.join(missing)}")
open(out, "w").write(re.sub(r"\$\{([A-Z][A-Z0-9_]*)\}", lambda m: os.environ[m[1]], text))
EOF
}

listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$(cat "$DIR/port")") 2>/dev/null
}

cmd_start() {
  DIR="$1" PORT="$2"
  shift 2
  local nginx
  nginx="$(find_nginx)" || not_installed nginx
  [ $# -eq 3 ] || die "nginx: deploy/nginx.conf names three nodes; got $# ($*)"
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
  ! server_pid "$DIR" >/dev/null || die "nginx: a server is already running in $DIR"
  check_port "$PORT"
  NGINX_LISTEN="127.0.0.1:$PORT" NODE1="$1" NODE2="$2" NODE3="$3" NGINX_RUN_DIR="$DIR" \
    NGINX_WORKERS=1 render "$TEMPLATE" "$DIR/nginx.conf"
  # -e: the error log before the configuration is read (Debian's default is not writable
  # for everyone); -p: relative paths are under DIR.
  "$nginx" -t -q -p "$DIR" -e "$DIR/error.log" -c "$DIR/nginx.conf" ||
    die "nginx: $DIR/nginx.conf does not pass nginx -t"
  echo "$PORT" >"$DIR/port"
  launch "$DIR" "$DIR/error.log" "$nginx" -p "$DIR" -e "$DIR/error.log" -c "$DIR/nginx.conf" \
    -g "daemon off;"
  wait_ready "$DIR" "$(cat "$DIR/server.pid")" 30 "$DIR/error.log" listening
}

usage() {
  cat >&2 <<EOF
usage: $0 install
       $0 start DIR PORT NODE1 NODE2 NODE3   nginx on 127.0.0.1:PORT from deploy/nginx.conf
       $0 stop DIR
       $0 url DIR
EOF
}

case "${1:-}" in
  install) cmd_install ;;
  start) [ $# -eq 6 ] || { usage; exit 2; }; cmd_start "$2" "$3" "$4" "$5" "$6" ;;
  stop) [ $# -eq 2 ] || { usage; exit 2; }; stop_server "$2" TERM 10 ;;
  url) [ $# -eq 2 ] || { usage; exit 2; }; echo "http://127.0.0.1:$(cat "$2/port")" ;;
  *) usage; exit 2 ;;
esac
