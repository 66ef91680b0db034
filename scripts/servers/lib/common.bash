# Helpers shared by scripts/servers/{mariadb,redis,kafka}.sh (sourced, not run; it is not a
# *.sh so that scripts/servers/install-all.sh does not pick it up).

# shellcheck disable=SC2034  # used by the scripts that source this file
CACHE="${COLLAB_DOCS_CACHE:-$HOME/.cache/jupyter-collab-docs}"
# shellcheck disable=SC2034
SERVERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() {
  echo "$*" >&2
  exit 1
}

# not_installed NAME: the exit code (3) and message the pytest fixtures turn into a failure.
not_installed() {
  echo "$1 is not installed: run scripts/servers/$1.sh install (or scripts/servers/install-all.sh)" >&2
  exit 3
}

# apt_install PKG...: install Debian packages; refresh the package lists only if that is needed.
apt_install() {
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -q >/dev/null
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >/dev/null
  fi
}

# alive PID: the process exists and is not a zombie (PID 1 here may not reap orphans).
alive() {
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [ -n "$state" ] && [[ "$state" != Z* ]]
}

# launch DIR LOGFILE CMD...: start CMD in the background, detached from the caller's stdin,
# stdout and stderr (so `subprocess.run(..., capture_output=True)` returns), write its pid to
# DIR/server.pid. With COLLAB_DOCS_OWNER_PID set, a watcher stops the server once that process
# (e.g. the pytest session) is gone, so a killed test run leaves no server behind.
launch() {
  local dir="$1" log="$2"
  shift 2
  nohup "$@" </dev/null >>"$log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/server.pid"
  if [ -n "${COLLAB_DOCS_OWNER_PID:-}" ]; then
    # shellcheck disable=SC2016  # expanded by the watcher shell
    nohup bash -c '
      owner=$1 pid=$2
      alive() { local s; s="$(ps -o stat= -p "$1" 2>/dev/null)" && [ -n "$s" ] && [[ "$s" != Z* ]]; }
      while alive "$owner" && alive "$pid"; do sleep 1; done
      if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 60); do alive "$pid" || exit 0; sleep 0.5; done
        kill -KILL "$pid" 2>/dev/null
      fi' watcher "$COLLAB_DOCS_OWNER_PID" "$pid" </dev/null >/dev/null 2>&1 &
  fi
}

# server_pid DIR: the pid of the running server started in DIR (nothing if none).
server_pid() {
  local pid
  [ -f "$1/server.pid" ] || return 1
  pid="$(cat "$1/server.pid")"
  alive "$pid" || return 1
  echo "$pid"
}

# stop_server DIR [SIGNAL] [SECONDS]: send SIGNAL (TERM) and wait up to SECONDS (30) for the
# server to exit, then SIGKILL it.
stop_server() {
  local dir="$1" sig="${2:-TERM}" secs="${3:-30}" pid
  pid="$(server_pid "$dir")" || { rm -f "$dir/server.pid"; return 0; }
  kill "-$sig" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + secs))
  while alive "$pid"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "pid $pid did not exit within ${secs}s after SIG$sig; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
  done
  rm -f "$dir/server.pid"
}

# show_log LOG: the first errors in LOG, then its last lines.
show_log() {
  echo "--- errors in $1:" >&2
  grep -m 10 -E 'ERROR|FATAL|\[ERROR\]|Exception' "$1" >&2 || true
  echo "--- end of $1:" >&2
  tail -n 15 "$1" >&2 || true
}

# wait_ready DIR PID SECONDS LOG CHECK...: run CHECK until it succeeds; fail (showing LOG) if
# the server exits or SECONDS pass.
wait_ready() {
  local dir="$1" pid="$2" secs="$3" log="$4"
  shift 4
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ! alive "$pid"; then
      echo "server in $dir exited during start-up" >&2
      show_log "$log"
      rm -f "$dir/server.pid"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "server in $dir not ready after ${secs}s" >&2
      show_log "$log"
      stop_server "$dir" KILL 5
      return 1
    fi
    sleep 0.2
  done
}

# check_port PORT: PORT is a port number and nothing else is listening on 127.0.0.1:PORT.
check_port() {
  { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; } || die "not a TCP port: $1"
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    die "port $1 on 127.0.0.1 is already in use"
  fi
}

# free_port: a TCP port on 127.0.0.1 that is free right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

usage_common() {
  cat >&2 <<EOF
usage: $0 install            install the server (idempotent; quick when already installed)
       $0 start DIR PORT     start a private server on 127.0.0.1:PORT, all its files under DIR
       $0 stop DIR           stop the server started in DIR
EOF
}
