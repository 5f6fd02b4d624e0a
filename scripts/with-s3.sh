#!/usr/bin/env bash
# Runs a command next to an S3-compatible server (moto, from PyPI) on loopback and tells
# it where: SHIPGATE_TEST_S3_ENDPOINT. The server lives exactly as long as the command.
# moto is installed once into a cache outside the checkout (scripts/test-python.sh), and
# that venv's python is SHIPGATE_TEST_PYTHON (with aiosmtpd and icalendar) for the tests.
set -euo pipefail
py="$("$(dirname "$0")/test-python.sh")"
[[ -x "$py" ]] || { echo "with-s3: no test Python" >&2; exit 1; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=$((20000 + RANDOM % 20000)); while answers "$port"; do port=$((port + 1)); done
log="$(mktemp -t shipgate-moto.XXXXXX.log)"
"$(dirname "$py")/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do answers "$port" && break; sleep 0.1; done
answers "$port" || { echo "with-s3: moto did not start:" >&2; cat "$log" >&2; exit 1; }
export SHIPGATE_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
export SHIPGATE_TEST_PYTHON="$py"
"$@"
