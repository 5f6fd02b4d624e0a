#!/usr/bin/env bash
# Makes sure a PostgreSQL server is there and prints the DATABASE_URL to use on stdout.
#  1. DATABASE_URL set: use it if its server answers, else stop with a clear message.
#  2. Otherwise: a project-local cluster in .pgdata (port $SHIPGATE_PG_PORT, default 54329,
#     or the next free one), created and started with the system's initdb/pg_ctl (as the
#     postgres user when root). It is for development: trust authentication, loopback only,
#     no Unix socket (a deep checkout path would exceed the socket path limit).
#  3. Otherwise: say exactly what to install.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
say() { echo "postgres: $*" >&2; }

# host and port of a postgres:// URL
url_host_port() {
  local rest="${1#*://}"; rest="${rest%%/*}"; rest="${rest##*@}"
  local host="${rest%%:*}" port=5432
  [[ "$rest" == *:* ]] && port="${rest##*:}"
  echo "${host:-127.0.0.1} ${port}"
}

answers() { # host port
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

if [[ -n "${DATABASE_URL:-}" ]]; then
  read -r host port < <(url_host_port "$DATABASE_URL")
  if answers "$host" "$port"; then
    echo "$DATABASE_URL"; exit 0
  fi
  say "DATABASE_URL is set, but nothing answers at $host:$port. Start that server or unset DATABASE_URL to use a project-local cluster."
  exit 1
fi


bindir=""
if command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir 2>/dev/null)/initdb" ]]; then
  bindir="$(pg_config --bindir)"
elif compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  bindir="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")"
elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
  bindir="$(dirname "$(command -v initdb)")"
fi
if [[ -z "$bindir" ]]; then
  say "no PostgreSQL server binaries found (initdb, pg_ctl)."
  say "Install them:   apt-get install -y postgresql"
  say "or point DATABASE_URL at a running server, e.g. postgres://user@host:5432/shipgate"
  exit 1
fi

run_pg() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

data="$root/.pgdata"
mkdir -p "$data"
if [[ "$(id -u)" == 0 ]]; then
  chown postgres: "$data"
  if ! runuser -u postgres -- test -w "$data"; then
    # The postgres user cannot reach the checkout (a private parent folder): keep the
    # cluster in a temporary folder named after the checkout instead.
    data="${TMPDIR:-/tmp}/shipgate-pgdata-$(echo "$root" | cksum | cut -d' ' -f1)"
    if [[ -L "$data" ]] || { [[ -e "$data" ]] && [[ "$(stat -c %U "$data")" != postgres ]]; }; then
      say "$data exists but is not a folder of the postgres user; remove it or set DATABASE_URL."
      exit 1
    fi
    mkdir -p "$data" && chown postgres: "$data" && chmod 700 "$data"
  fi
fi

if [[ ! -f "$data/PG_VERSION" ]]; then
  say "creating a project-local cluster in $data"
  run_pg "$bindir/initdb" -D "$data" -A trust -U postgres --no-sync >/dev/null
fi

# The port is remembered with the cluster; a new one is chosen only when starting it.
port_file="$data/shipgate.port"
if ! run_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  port="${SHIPGATE_PG_PORT:-54329}"
  if [[ -z "${SHIPGATE_PG_PORT:-}" ]]; then
    # Another checkout's cluster may hold the default port: take the next free one.
    while answers 127.0.0.1 "$port"; do port=$((port + 1)); done
  elif answers 127.0.0.1 "$port"; then
    say "SHIPGATE_PG_PORT=$port is taken by another server."
    exit 1
  fi
  echo "$port" | run_pg tee "$port_file" >/dev/null
  say "starting the project-local cluster on 127.0.0.1:$port"
  run_pg "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=" start >/dev/null
fi
port="$(cat "$port_file" 2>/dev/null || echo "${SHIPGATE_PG_PORT:-54329}")"
echo "postgres://postgres@127.0.0.1:${port}/shipgate"
