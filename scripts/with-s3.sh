#!/usr/bin/env bash
# Runs a command next to an S3-compatible server (moto, from PyPI) on loopback and tells
# it where: SHIPGATE_TEST_S3_ENDPOINT. The server lives exactly as long as the command.
# moto is installed once into a cache outside the checkout.
set -euo pipefail
venv="${SHIPGATE_TOOLS_DIR:-$HOME/.cache/shipgate-tools}/moto"
if [[ ! -x "$venv/bin/moto_server" ]]; then
  echo "tools: installing moto (an S3-compatible test server) into $venv …" >&2
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null; }
      rm -rf "$venv"; python3 -m venv "$venv"
    else
      echo "with-s3: python3 with venv is needed: sudo apt-get install -y python3 python3-venv" >&2; exit 1
    fi
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check 'moto[s3]>=5,<6' flask flask-cors >&2
fi
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=$((20000 + RANDOM % 20000)); while answers "$port"; do port=$((port + 1)); done
log="$(mktemp -t shipgate-moto.XXXXXX.log)"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do answers "$port" && break; sleep 0.1; done
answers "$port" || { echo "with-s3: moto did not start:" >&2; cat "$log" >&2; exit 1; }
export SHIPGATE_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
"$@"
