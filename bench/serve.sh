#!/usr/bin/env bash
# The daemon under load, side by side with the CLI in the same run (issue 10):
#   1. the CLI's batch throughput: `tuban render notice` over 50 one-patch townships (the floor's
#      data set, ../shared/floor/data/notices50.gpkg), one worker per core, best of 3;
#   2. `tuban serve` with one worker per core: a warm-up minute of wrk (16 connections, each
#      request issuing one notice with its map), RSS noted; then the measured minute of wrk:
#      requests/s, p50/p99 latency, errors and non-2xx answers, RSS at the end.
# Usage: bench/serve.sh [build dir] [seconds per phase]   (needs wrk; not run by CI)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-60}
tuban=$(realpath "$build/src/cli/tuban")
data=$(realpath ../shared/floor/data/notices50.gpkg)
command -v wrk >/dev/null || { echo "bench/serve.sh: needs wrk (apt-get install wrk)"; exit 2; }
work=$(mktemp -d)
# set -e holds in the trap too: a kill of the daemon already gone must not make the run fail.
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
pid=

# The sample office, moved to the floor data's county (350583) so its patches are its own.
office=$work/office
mkdir -p "$office"
cp templates/sample-office/{notice.xml,seal.png} "$office"/
sed "s|\.\./\.\./samples/|$PWD/samples/|" templates/sample-office/imagery.xml >"$office/imagery.xml"
sed -e 's/code="139901"/code="350583"/' templates/sample-office/office.xml >"$office/office.xml"
bash scripts/make-sample-keys.sh "$office" 2>/dev/null
townships=$(ogrinfo -ro -q "$data" -sql "SELECT DISTINCT XZQDM FROM p50 ORDER BY XZQDM" |
            awk -F' = ' '/XZQDM/ {print $2}')
n=$(echo "$townships" | wc -l)

echo "== CLI: tuban render notice, $n one-patch notices, --jobs $(nproc), best of 3"
best=
for _ in 1 2 3; do
  rm -rf "$work/cli"
  t0=$(date +%s.%N)
  "$tuban" render notice --office "$office" --patches "$data" --date 2024-11-20 \
    --out "$work/cli" >/dev/null
  t=$(echo "$(date +%s.%N) - $t0" | bc)
  best=$(python3 -c "print(min(x for x in [$t, ${best:-1e9}]))")
done
cli_rate=$(python3 -c "print(round($n / $best, 2))")
echo "CLI: $n notices in ${best}s = $cli_rate notices/s"

token=bench-office-token-0000000001
cat >"$work/tuban.conf" <<EOF
store = data/tuban.db
archive = data/archive
workers = 0
queue_limit = 1024
request_timeout_s = 120
[office sample-office]
dir = office
token_sha256 = $(printf %s $token | sha256sum | cut -d' ' -f1)
[admin bench]
token_sha256 = $(printf %s bench-admin-token-0000000002 | sha256sum | cut -d' ' -f1)
EOF
"$tuban" serve --config "$work/tuban.conf" --listen 127.0.0.1:0 2>"$work/log" &
pid=$!
for _ in $(seq 1 100); do grep -q listening "$work/log" && break; sleep 0.1; done
port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/log" | sed 's/.*://')
[ -n "$port" ] || { echo "the daemon did not start:"; cat "$work/log"; exit 1; }
curl -s -H "Authorization: Bearer bench-admin-token-0000000002" --data-binary @"$data" \
  "http://127.0.0.1:$port/v1/imports?batch=2022" | python3 -c "import json,sys; d=json.load(sys.stdin); print(\"import:\", d.get(\"result\") or d.get(\"error\") or d[\"problems\"][:3])"

cat >"$work/issue.lua" <<EOF
local towns = { $(echo "$townships" | sed 's/.*/"&"/' | paste -sd,) }
local i = 0
request = function()
  i = i + 1
  local body = '{"kind":"notice","batch":"2022","date":"2024-11-20","township":"' ..
               towns[(i % #towns) + 1] .. '"}'
  return wrk.format("POST", "/v1/documents", {["Authorization"] = "Bearer $token",
                    ["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("requests %d in %.1fs = %.2f/s; p50 %.0f ms, p99 %.0f ms; " ..
    "socket errors %d, non-2xx %d\n", summary.requests, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
EOF
# One request first: it must issue (201), or the figures below would measure refusals.
first=$(echo "$townships" | head -1)
code=$(curl -s -o "$work/first" -w '%{http_code}' -H "Authorization: Bearer $token" \
  -d "{\"kind\":\"notice\",\"batch\":\"2022\",\"date\":\"2024-11-20\",\"township\":\"$first\"}" \
  "http://127.0.0.1:$port/v1/documents")
[ "$code" = 201 ] || { echo "a first request was answered $code: $(head -c 300 "$work/first")"; exit 1; }
rss() { awk '/VmRSS/ {print int($2 / 1024)}' /proc/$pid/status; }
echo
echo "== tuban serve, $(nproc) workers: wrk -c16 -t2 ${secs}s warm-up, then ${secs}s measured"
wrk -c16 -t2 -d"${secs}s" --timeout 60s -s "$work/issue.lua" "http://127.0.0.1:$port" |
  grep '^requests' | sed 's/^/warm-up:  /'
rss1=$(rss)
out=$(wrk -c16 -t2 -d"${secs}s" --timeout 60s -s "$work/issue.lua" "http://127.0.0.1:$port" |
      grep '^requests')
rss2=$(rss)
echo "measured: $out"
rate=$(echo "$out" | sed 's/.*= \([0-9.]*\)\/s.*/\1/')
echo "RSS after the first minute ${rss1} MB, at the end ${rss2} MB" \
     "($(echo "scale=1; 100 * ($rss2 - $rss1) / $rss1" | bc)%)"
echo "daemon / CLI throughput: $rate / $cli_rate = $(echo "scale=2; $rate / $cli_rate" | bc)"
kill -TERM "$pid"
wait "$pid" && echo "SIGTERM: exit 0"
pid=
