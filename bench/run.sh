#!/usr/bin/env bash
# make bench: seeds a bench database and measures, with wrk at 16 connections, the release
# page (SSR, signed in) and GET /api/v1/releases/{id} next to a minimal axum + sqlx handler
# running one equivalent indexed query, and archive searches next to the same SQL run
# directly, all in the same run; last, three signed-in pages in a throttled Chromium
# (bench/browser.mjs). Prints tables; never part of make test.
# Usage: bench/run.sh SHIPGATE_BIN BASELINE_BIN
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$1"; baseline="$2"
duration="${BENCH_SECONDS:-10}"
: "${DATABASE_URL:?}"

if ! command -v wrk >/dev/null; then
  if [[ "$(id -u)" == 0 ]]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null; }
  else echo "bench: wrk is needed: sudo apt-get install -y wrk" >&2; exit 1; fi
fi
command -v psql >/dev/null || { echo "bench: psql is needed: apt-get install -y postgresql-client" >&2; exit 1; }
# The browser section drives Debian's Chromium (Playwright's own browser downloads are not
# reachable here); without it that section is skipped, the rest still runs.
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ ! -x "$chromium" && "$(id -u)" == 0 ]]; then
  echo "bench: installing chromium for the browser section…" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; } \
    || echo "bench: could not install chromium" >&2
fi

db=shipgate_bench
base="$(echo "$DATABASE_URL" | sed -E 's#/[^/?]*(\?.*)?$##')"
url="$base/$db"
echo "bench: seeding $db (10k releases, 100k checklist rows, 1M audit rows, 100k archived)…" >&2
psql -q "$base/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
DATABASE_URL="$url" "$bin" migrate up 2>/dev/null
echo "bench password" | DATABASE_URL="$url" "$bin" user add captain@bench.example --role release_captain >/dev/null 2>&1
echo "bench password" | DATABASE_URL="$url" "$bin" user add owner@bench.example --role product_owner >/dev/null 2>&1
psql -q "$url" -f "$root/bench/seed.sql" >/dev/null
token="$(DATABASE_URL="$url" "$bin" token issue captain@bench.example --name bench 2>/dev/null)"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { local p=$((10000 + RANDOM % 20000)); while answers "$p"; do p=$((p + 1)); done; echo "$p"; }
app_port="$(free_port)"; base_port="$(free_port)"
scratch="$(mktemp -d "${BENCH_SCRATCH:-$root/target}/bench.XXXXXX")"
DATABASE_URL="$url" LEPTOS_SITE_ADDR="127.0.0.1:$app_port" LOG_LEVEL=warn \
  FILE_STORAGE_MODE=local FILE_STORAGE_DIR="$scratch/evidence" EVIDENCE_MAX_MB=1000 \
  "$bin" serve >/dev/null 2>&1 &
app_pid=$!
DATABASE_URL="$url" "$baseline" "127.0.0.1:$base_port" >/dev/null 2>&1 &
base_pid=$!
trap 'kill $app_pid $base_pid 2>/dev/null || true; rm -rf "$scratch"' EXIT
for _ in $(seq 1 100); do answers "$app_port" && answers "$base_port" && break; sleep 0.2; done

sign_in() { # EMAIL -> "shipgate_session=…"
  curl -s -D - -o /dev/null -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"bench password\"}" \
    "http://127.0.0.1:$app_port/api/v1/session" | sed -n 's/^[Ss]et-[Cc]ookie: \(shipgate_session=[^;]*\).*/\1/p'
}
cookie="$(sign_in captain@bench.example)"
[[ -n "$cookie" ]] || { echo "bench: could not sign in" >&2; exit 1; }
# BENCH_ONLY=browser measures the browser section only (to measure an older build the same
# way, e.g. for bench/browser-baseline.json).
if [[ "${BENCH_ONLY:-}" != browser ]]; then
id=5000
# Each target must answer 200 before it is measured.
for check in "http://127.0.0.1:$base_port/releases/$id" ; do curl -sf "$check" >/dev/null; done
curl -sf -H "authorization: Bearer $token" "http://127.0.0.1:$app_port/api/v1/releases/$id" >/dev/null
curl -sf -H "cookie: $cookie" "http://127.0.0.1:$app_port/releases/$id" >/dev/null

# run NAME URL [HEADER] -> "rps p99_ms errors"
measure() {
  local out
  if [[ -n "${3:-}" ]]; then out="$(wrk -t2 -c16 -d"${duration}s" --latency -H "$3" "$2")"
  else out="$(wrk -t2 -c16 -d"${duration}s" --latency "$2")"; fi
  local rps p99 non2xx sock
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' <<<"$out")"
  non2xx="$(awk '/Non-2xx/ {print $5}' <<<"$out")"
  sock="$(awk -F'[ ,]+' '/Socket errors/ {print $4+$6+$8+$10}' <<<"$out")"
  echo "$rps ${p99:-0} $(( ${non2xx:-0} + ${sock:-0} ))"
}

echo "bench: warming up…" >&2
wrk -t2 -c16 -d2s "http://127.0.0.1:$base_port/releases/$id" >/dev/null
wrk -t2 -c16 -d2s -H "cookie: $cookie" "http://127.0.0.1:$app_port/releases/$id" >/dev/null
echo "bench: measuring ${duration}s each at 16 connections…" >&2
read -r b_rps b_p99 b_err < <(measure baseline "http://127.0.0.1:$base_port/releases/$id")
read -r r_rps r_p99 r_err < <(measure rest "http://127.0.0.1:$app_port/api/v1/releases/$id" "authorization: Bearer $token")
read -r p_rps p_p99 p_err < <(measure page "http://127.0.0.1:$app_port/releases/$id" "cookie: $cookie")

row() { # name rps p99 err target_ratio
  awk -v n="$1" -v rps="$2" -v p99="$3" -v err="$4" -v base="$b_rps" -v target="$5" 'BEGIN {
    ratio = rps / base * 100;
    ok = (target == "" || (ratio >= target && p99 <= 25 && err == 0)) ? "ok" : "MISSED";
    if (target == "") { t = "baseline"; ok = "" } else { t = sprintf(">= %d%%, p99 <= 25 ms, 0 err", target) }
    printf "%-34s %10.0f %9.2f %7d %8.1f%%   %-28s %s\n", n, rps, p99, err, ratio, t, ok }'
}
printf "%-34s %10s %9s %7s %9s   %-28s %s\n" "target" "req/s" "p99 ms" "errors" "of base" "goal" ""
row "baseline: axum + sqlx, 1 query" "$b_rps" "$b_p99" "$b_err" ""
row "GET /api/v1/releases/{id}" "$r_rps" "$r_p99" "$r_err" 50
row "release page (SSR, signed in)" "$p_rps" "$p_p99" "$p_err" 25

# Archive search over the 100k archived releases: a fixed mix of eight searches (a rare and
# a common word, a version and a commit prefix, outcome + environment, a day range, a
# person, page 3 of a broad word), each sent BENCH_ARCHIVE_REQUESTS times one after another
# with a token, against the same SQL run straight through sqlx in the same process.
commit="$(psql -qtA "$url" -c "SELECT left(commit_sha, 7) FROM archive_entries ORDER BY release_id OFFSET 4242 LIMIT 1")"
from_day="$(date -u -d '100 days ago' +%F)"; to_day="$(date -u -d '70 days ago' +%F)"
echo "bench: archive search, ${BENCH_ARCHIVE_REQUESTS:-200} requests per search…" >&2
read -r ab_p50 ab_p95 ab_max ab_err aa_p50 aa_p95 aa_max aa_err < <(
  "$baseline" archive-bench "http://127.0.0.1:$app_port" "$token" "$url" "$commit" "$from_day" "$to_day")
echo
printf "%-34s %10s %9s %9s %7s   %-28s %s\n" "archive search (100k releases)" "p50 ms" "p95 ms" "max ms" "errors" "goal" ""
printf "%-34s %10.2f %9.2f %9.2f %7d   %-28s\n" "baseline: sqlx, same queries" "$ab_p50" "$ab_p95" "$ab_max" "$ab_err" "baseline"
awk -v p50="$aa_p50" -v p95="$aa_p95" -v max="$aa_max" -v err="$aa_err" 'BEGIN {
  printf "%-34s %10.2f %9.2f %9.2f %7d   %-28s %s\n", "GET /api/v1/archive (8 searches)", p50, p95, max, err,
    "p95 <= 50 ms, 0 err", (p95 <= 50 && err == 0 ? "ok" : "MISSED") }'

# Evidence upload: a 200 MB file streamed into local storage on the same disk as a plain
# `cp` of it, and the server's peak memory growth while it streams (VmHWM after the upload
# against VmRSS before, with the peak reset in between).
mb="${BENCH_UPLOAD_MB:-200}"
file="$scratch/upload.bin"
head -c "$((mb * 1000 * 1000))" /dev/urandom >"$file"
sync
cp_start=$(date +%s.%N); cp "$file" "$scratch/copy.bin"; sync; cp_end=$(date +%s.%N)
rm -f "$scratch/copy.bin"
rss_before=$(awk '/^VmRSS/ {print $2}' "/proc/$app_pid/status")
echo 5 >"/proc/$app_pid/clear_refs" 2>/dev/null || true
up_start=$(date +%s.%N)
code=$(curl -s -o "$scratch/upload.json" -w '%{http_code}' -X POST -T "$file" \
  -H "authorization: Bearer $token" -H 'content-type: application/octet-stream' \
  "http://127.0.0.1:$app_port/api/v1/releases/$id/evidence?filename=upload.bin")
sync; up_end=$(date +%s.%N)
peak=$(awk '/^VmHWM/ {print $2}' "/proc/$app_pid/status")
[[ "$code" == 201 ]] || { echo "bench: upload answered $code: $(cat "$scratch/upload.json")" >&2; exit 1; }
echo
awk -v mb="$mb" -v c0="$cp_start" -v c1="$cp_end" -v u0="$up_start" -v u1="$up_end" \
    -v before="$rss_before" -v peak="$peak" 'BEGIN {
  cp = mb / (c1 - c0); up = mb / (u1 - u0); ratio = up / cp * 100; growth = (peak - before) / 1024;
  printf "%-34s %10s %9s   %-28s %s\n", "evidence upload (" mb " MB)", "MB/s", "of cp", "goal", "";
  printf "%-34s %10.1f %9s   %-28s\n", "baseline: cp on the same disk", cp, "", "baseline";
  printf "%-34s %10.1f %8.1f%%   %-28s %s\n", "POST …/evidence (streamed)", up, ratio, ">= 50% of cp", (ratio >= 50 ? "ok" : "MISSED");
  printf "%-34s %10.1f %9s   %-28s %s\n", "server peak RSS growth (MB)", growth, "", "<= 32 MB", (growth <= 32 ? "ok" : "MISSED");
}'

# Environment probes. First the server idle (nothing to probe), then the status view at 16
# connections against a bare axum handler returning the same snapshot bytes, then 2,000
# environments × 2 endpoints every 15 s against a local target, 20% of them hanging.
target_port="$(free_port)"
"$baseline" target "127.0.0.1:$target_port" >/dev/null 2>&1 &
target_pid=$!
static_pid=""
trap 'kill $app_pid $base_pid $target_pid $static_pid 2>/dev/null || true; rm -rf "$scratch"' EXIT
for _ in $(seq 1 50); do answers "$target_port" && break; sleep 0.1; done
ticks() { awk '{print $14 + $15}' "/proc/$app_pid/stat"; }
rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$app_pid/status"; }
hz="$(getconf CLK_TCK)"
idle_s="${BENCH_IDLE_SECONDS:-20}"
echo "bench: the server idle for ${idle_s}s…" >&2
t0=$(ticks); sleep "$idle_s"; t1=$(ticks)
idle_cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$idle_s" 'BEGIN { printf "%.1f", (b - a) / hz / s * 100 }')
idle_rss=$(rss_mb)

environments() { # FIRST COUNT: environments bench-FIRST… ; every fifth one hangs
  psql -q "$url" >/dev/null <<SQL
INSERT INTO environments (name, base_url, interval_seconds, timeout_ms)
SELECT 'bench-' || g, 'http://127.0.0.1:$target_port/' || CASE WHEN g % 5 = 0 THEN 'hang' ELSE 'ok' END || '/' || g, 15, 2000
FROM generate_series($1, $1 + $2 - 1) g;
INSERT INTO probe_endpoints (environment_id, kind, interval_ms, next_due)
SELECT e.id, k, 15000, now() + random() * interval '15 seconds'
FROM environments e CROSS JOIN unnest(ARRAY['health', 'readiness']) k
WHERE NOT EXISTS (SELECT 1 FROM probe_endpoints p WHERE p.environment_id = e.id);
SELECT pg_notify('shipgate_status', 'environments');
SQL
}

# The status view: 20 environments, the snapshot every viewer gets.
environments 1 20
sleep 20
curl -sf -H "cookie: $cookie" "http://127.0.0.1:$app_port/api/v1/status" >"$scratch/status.json"
static_port="$(free_port)"
DATABASE_URL="$url" BASELINE_STATIC_FILE="$scratch/status.json" "$baseline" "127.0.0.1:$static_port" >/dev/null 2>&1 &
static_pid=$!
for _ in $(seq 1 50); do answers "$static_port" && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$static_port/static" >/dev/null
echo "bench: status view, ${duration}s each at 16 connections…" >&2
wrk -t2 -c16 -d2s -H "cookie: $cookie" "http://127.0.0.1:$app_port/api/v1/status" >/dev/null
read -r sb_rps sb_p99 sb_err < <(measure static "http://127.0.0.1:$static_port/static")
read -r s_rps s_p99 s_err < <(measure status "http://127.0.0.1:$app_port/api/v1/status" "cookie: $cookie")
echo
b_rps="$sb_rps"
printf "%-34s %10s %9s %7s %9s   %-28s %s\n" "status view ($(wc -c <"$scratch/status.json") bytes)" "req/s" "p99 ms" "errors" "of base" "goal" ""
row "baseline: axum, same bytes" "$sb_rps" "$sb_p99" "$sb_err" ""
row "GET /api/v1/status (signed in)" "$s_rps" "$s_p99" "$s_err" 30

# The prober at scale: 2,000 environments (the 20 above included), measured after a
# warm-up interval for BENCH_PROBE_SECONDS.
environments 21 1980
probe_s="${BENCH_PROBE_SECONDS:-60}"
echo "bench: 2,000 environments probed; warming up 20s, measuring ${probe_s}s…" >&2
sleep 20
echo 5 >"/proc/$app_pid/clear_refs" 2>/dev/null || true
from="$(psql -qtA "$url" -c "SELECT now()")"
t0=$(ticks); sleep "$probe_s"; t1=$(ticks)
to="$(psql -qtA "$url" -c "SELECT now()")"
busy_cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$probe_s" 'BEGIN { printf "%.1f", (b - a) / hz / s * 100 }')
busy_rss=$(rss_mb)
read -r lag_p99 probes_done < <(psql -qtA -F ' ' "$url" -c "
  SELECT round((percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - scheduled_at)) * 1000)::numeric, 1), count(*)
  FROM probe_results WHERE scheduled_at >= '$from' AND scheduled_at < '$to'")
expected=$(awk -v s="$probe_s" 'BEGIN { printf "%d", 4000 * s / 15 }')
echo
printf "%-34s %10s %9s %9s %9s   %s\n" "prober: 2,000 env × 2, 15 s, 20% hang" "lag p99" "CPU %" "RSS MB" "probes" "goal"
printf "%-34s %10s %9s %9s %9s   %s\n" "baseline: idle server" "-" "$idle_cpu" "$idle_rss" "-" "baseline"
awk -v lag="$lag_p99" -v cpu="$busy_cpu" -v rss="$busy_rss" -v n="$probes_done" -v want="$expected" 'BEGIN {
  ok = (lag <= 500 && cpu <= 25 && rss <= 150 && n >= want * 0.95) ? "ok" : "MISSED";
  printf "%-34s %8.1f ms %9.1f %9.1f %9d   lag p99 <= 500 ms, CPU <= 25%%, RSS <= 150 MB (%d due)  %s\n", "probing", lag, cpu, rss, n, want, ok }'
fi

# The browser: the sign-off page (as the product owner), the release page with 40 checklist
# items (as the release captain) and /status, in Chromium at a slow phone's network and CPU,
# cold and warm; bytes on the wire and the time until the page works, beside the budgets and
# bench/browser-baseline.json. BENCH_BROWSER_OUT=FILE also writes the figures as JSON (run
# against an older build, that is the baseline file).
echo
if [[ ! -x "$chromium" ]]; then
  echo "bench: browser section skipped: install chromium (apt-get install -y chromium)" >&2
elif ! command -v node >/dev/null; then
  echo "bench: browser section skipped: install Node.js (apt-get install -y nodejs npm)" >&2
elif [[ ! -d "$root/end2end/node_modules/playwright-core" && ! -d "$root/end2end/node_modules/@playwright/test" ]]; then
  echo "bench: browser section skipped: no Playwright in end2end/node_modules (make tools, or npm ci in end2end/)" >&2
else
  browser_id="$(psql -qtA "$url" -c "SELECT id FROM releases WHERE title = 'Browser bench: Go/No-Go, 40 checklist items'")"
  [[ -n "$browser_id" ]] || { echo "bench: bench/seed.sql did not seed the browser section's release" >&2; exit 1; }
  owner_cookie="$(sign_in owner@bench.example)"
  [[ -n "$owner_cookie" ]] || { echo "bench: could not sign in as owner@bench.example" >&2; exit 1; }
  # Back to the 20 environments of the status view: /status shows the page measured above,
  # and the prober no longer loads the machine the browser runs on.
  psql -q "$url" >/dev/null <<'SQL'
DELETE FROM environments WHERE name ~ '^bench-[0-9]+$' AND substr(name, 7)::int > 20;
SELECT pg_notify('shipgate_status', 'environments');
SQL
  sleep 5
  # What was measured, for the JSON: the server serves the bundle in $PWD's target/site.
  if desc="$(git rev-parse --short HEAD 2>/dev/null)"; then
    git diff --quiet HEAD 2>/dev/null || desc="$desc with uncommitted changes"
  else desc="(no git)"; fi
  echo "bench: browser, throttled Chromium, 3 pages cold then warm…" >&2
  CHROMIUM_PATH="$chromium" \
    BENCH_BROWSER_SOURCE="${BENCH_BROWSER_SOURCE:-$(basename "$bin") release build, git $desc, bundle from ${LEPTOS_SITE_ROOT:-target/site} in $PWD}" \
    node "$root/bench/browser.mjs" "$app_port" "$browser_id" "$cookie" "$owner_cookie"
fi
