#!/usr/bin/env bash
# Runs the browser tests: a fresh database, the built shipgate binary on a free loopback
# port, Playwright in headless Chromium. Usage: end2end/run.sh PATH_TO_SHIPGATE [PLAYWRIGHT ARGS…]
# (e.g. a spec file to run only that one).
# The server sends its e-mail to an SMTP sink on loopback (scripts/smtp-sink.py), which
# keeps each message as a JSON file in SHIPGATE_E2E_MAILDIR for the tests (tests/mail.ts).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$1"; shift
: "${DATABASE_URL:?DATABASE_URL must point at the test server}"

db=shipgate_e2e
base="$(echo "$DATABASE_URL" | sed -E 's#/[^/?]*(\?.*)?$##')"
query="$(echo "$DATABASE_URL" | sed -nE 's#^[^?]*(\?.*)$#\1#p')"
e2e_url="$base/$db$query"
# tests/sso.spec.ts runs a Shipgate of its own (with single sign-on) on a database of its own.
sso_db=shipgate_e2e_sso
sso_url="$base/$sso_db$query"
admin_url="$base/postgres$query"
command -v psql >/dev/null || { echo "end2end: psql is needed: apt-get install -y postgresql-client" >&2; exit 1; }
psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $sso_db WITH (FORCE)" -c "CREATE DATABASE $sso_db" >/dev/null
DATABASE_URL="$e2e_url" "$bin" migrate up

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
log="$here/server.log"
evidence_dir="$(mktemp -d -t shipgate-e2e-evidence.XXXXXX)"
maildir="$(mktemp -d -t shipgate-e2e-mail.XXXXXX)"
sink_log="$maildir.log"
server=""; sink=""; status=1
cleanup() {
  [[ -n "$server" ]] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
  [[ -n "$sink" ]] && { kill "$sink" 2>/dev/null || true; wait "$sink" 2>/dev/null || true; }
  rm -rf "$evidence_dir"
  # The mails and the sink's log stay for a look when the tests failed.
  if [[ $status == 0 ]]; then rm -rf "$maildir" "$sink_log"
  else echo "end2end: the e-mails sent are in $maildir (the SMTP sink's log: $sink_log)" >&2; fi
}
trap cleanup EXIT

# The SMTP sink, on a port of its own choosing; it names it on its first line.
py="$("$here/../scripts/test-python.sh")"
"$py" "$here/../scripts/smtp-sink.py" --maildir "$maildir" --port 0 >"$maildir.port" 2>"$sink_log" &
sink=$!
smtp_port=""
for _ in $(seq 1 100); do
  smtp_port="$(sed -nE 's/^PORT ([0-9]+)$/\1/p' "$maildir.port" 2>/dev/null)"
  [[ -n "$smtp_port" ]] && break
  kill -0 "$sink" 2>/dev/null || break
  sleep 0.1
done
rm -f "$maildir.port"
[[ -n "$smtp_port" ]] || { echo "end2end: the SMTP sink did not start:" >&2; cat "$sink_log" >&2; exit 1; }
# Ports below the kernel's ephemeral range (32768+), so no outgoing connection holds one;
# if the port is taken anyway, try another.
for attempt in 1 2 3 4 5; do
  port=$((10000 + RANDOM % 20000))
  while answers "$port"; do port=$((port + 1)); done
  DATABASE_URL="$e2e_url" LEPTOS_SITE_ADDR="127.0.0.1:$port" LOG_LEVEL="${LOG_LEVEL:-info}" \
    PUBLIC_BASE_URL="http://127.0.0.1:$port" \
    FILE_STORAGE_MODE=local FILE_STORAGE_DIR="$evidence_dir" \
    SMTP_URL="smtp://127.0.0.1:$smtp_port?tls=none" MAIL_FROM="shipgate@example.test" \
    "$bin" serve >"$log" 2>&1 &
  server=$!
  up=false
  for _ in $(seq 1 150); do
    if answers "$port"; then up=true; break; fi
    kill -0 $server 2>/dev/null || break
    sleep 0.2
  done
  $up && break
  if ! grep -q "Address already in use" "$log"; then
    echo "end2end: server did not start:" >&2; cat "$log" >&2; exit 1
  fi
done
$up || { echo "end2end: no free port for the server:" >&2; cat "$log" >&2; exit 1; }
cd "$here"
status=0
SHIPGATE_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")" E2E_BASE_URL="http://127.0.0.1:$port" \
  E2E_SSO_DATABASE_URL="$sso_url" SHIPGATE_E2E_MAILDIR="$maildir" npx playwright test "$@" || status=$?
# Every page ran under its Content-Security-Policy; the browser reports what it blocked to
# /csp-report, which the server logs. A report here is a page that breaks its own policy.
violations="$(grep -c "CSP violation reported" "$log" || true)"
if [[ "$violations" != 0 ]]; then
  echo "end2end: the browser reported $violations CSP violation(s):" >&2
  grep "CSP violation reported" "$log" | head -n 20 >&2
  status=1
else
  echo "end2end: 0 CSP violations reported"
fi
if [[ $status != 0 ]]; then echo "end2end: server log in $log" >&2; tail -n 40 "$log" >&2; fi
exit $status
