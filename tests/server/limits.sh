#!/usr/bin/env bash
# The daemon's limits and TLS, end to end over loopback with curl: the per-request time limit
# (503 while waiting for a worker, 504 while running, a late issue still filed once and returned
# to a retry with its Idempotency-Key), body size limits with and without Content-Length, and
# HTTPS with a certificate made here (curl --cacert), refusing a group-readable TLS key.
# Usage: limits.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=$(cd "${2:?source dir}" && pwd)
. "$src/tests/integration/lib.sh"
. "$src/tests/server/lib.sh"
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; [ -n "${KEEP:-}" ] && cp "$work/log" /tmp/limits.log; rm -rf "$work"' EXIT

make_office "$work/office-a" office-a 139901
tok_a=test-token-office-a-0001 tok_admin=test-token-admin-00003
write_config() { # <request_timeout_s> <extra main-section lines>
  cat >"$work/tuban.conf" <<EOF
store = data/tuban.db
archive = data/archive
workers = 1
max_body_mb = 1
request_timeout_s = $1
$2

[office office-a]
dir = office-a
token_sha256 = $(hash $tok_a)

[admin operator]
token_sha256 = $(hash $tok_admin)
EOF
}

# --- the time limit: every rendering takes 2.5 s, the limit is 1 s, one worker -------------
# late_finishes <n>: waits (at most 60 s) until the worker has finished n late requests.
late_finishes() {
  for _ in $(seq 1 600); do
    [ "$(grep -c 'finished after its time limit' "$work/log")" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
write_config 1 ""
started TUBAN_TEST_SLOW_MS=2500
call $tok_admin POST "/v1/imports?batch=2024&at=2024-11-01" --data-binary @"$src/samples/patches.gpkg"
check "import (not rendered: not slowed): 200" test "$code" = 200
preview='{"kind":"notice","batch":"2024","township":"139901201","date":"2024-11-20"}'
t0=$(date +%s%N)
call $tok_a POST /v1/documents/preview -d "$preview"
ms=$((($(date +%s%N) - t0) / 1000000))
check "a preview past the limit: 504 with a JSON reason and the limit" \
  json "d['status'] == 504 and 'time limit' in d['error'] and d['time_limit_s'] == 1"
check "... answered at the limit (${ms} ms), not when the rendering ended (2500 ms)" \
  test "$ms" -ge 900 -a "$ms" -lt 2200
late_finishes 1 # the worker is free again
# Two at once on one worker: the first runs past the limit (504), the second never gets a
# worker in time (503, with Retry-After) and is not run at all.
curl -s -o "$work/first" -w '%{http_code}' -H "Authorization: Bearer $tok_a" -d "$preview" \
  "http://127.0.0.1:$port/v1/documents/preview" >"$work/first.code" &
first=$!
sleep 0.3
curl -s -D "$work/second.headers" -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $tok_a" \
  -d "$preview" "http://127.0.0.1:$port/v1/documents/preview" >"$work/second.code"
wait $first
check "first of two: 504" test "$(cat "$work/first.code")" = 504
check "second of two, still queued at the limit: 503 saying nothing was done" \
  bash -c "[ \$(cat '$work/second.code') = 503 ] && grep -q 'waited for a worker' '$work/body'"
check "... with Retry-After" grep -qi '^retry-after: ' "$work/second.headers"
rid2=$(tr -d '\r' <"$work/second.headers" | awk -F': ' 'tolower($1) == "x-request-id" {print $2}')
late_finishes 2
check "the queued one (rid $rid2) was never run: the worker finished only the first" \
  bash -c "[ -n '$rid2' ] && ! grep -q 'rid=$rid2: finished' '$work/log' && ! grep -q 'rid=$rid2 .*/preview 200' '$work/log'"
call - GET /healthz
check "healthz answers while a worker is busy (not queued)" test "$code" = 200
# An issue past the limit: 504, but the document is filed once; the retry gets it.
issue='{"kind":"notice","batch":"2024","township":"139901100","date":"2024-11-20"}'
call $tok_a POST /v1/documents -H 'Idempotency-Key: late-1' -d "$issue"
check "an issue past the limit: 504 telling to retry with the same Idempotency-Key" \
  json "d['status'] == 504 and 'Idempotency-Key' in d['error']"
for _ in $(seq 1 100); do
  [ "$(sql "SELECT i.state FROM job_item i JOIN job j ON j.id = i.job_id WHERE j.idempotency_key = 'late-1'")" = done ] && break
  sleep 0.1
done
call $tok_a POST /v1/documents -H 'Idempotency-Key: late-1' -d "$issue"
check "the retry with the same key: 200 with the document filed meanwhile" \
  json "d['registered'] and d['number'] >= 1"
check "filed once: one registry entry, one done item" \
  test "$(sql "SELECT count(*) FROM registry") $(sql "SELECT count(*) FROM job_item WHERE state = 'done'")" = "1 1"
call $tok_a GET /v1/documents/$(jget "d['id']")/pdf
check "its PDF passes qpdf --check" bash -c "cp '$work/body' '$work/late.pdf' && qpdf --check '$work/late.pdf'"
stop
check "SIGTERM with late answers behind: exit 0" test $? -eq 0

# --- body size: 1 MB -------------------------------------------------------------------------
write_config 120 ""
started
head -c $((1024 * 1024 + 1)) /dev/zero >"$work/big.bin"
call $tok_admin POST "/v1/imports?format=csv" --data-binary @"$work/big.bin"
check "1 MB + 1 byte with Content-Length: 413 before the body is read" \
  json "d['status'] == 413 and '1 MB' in d['error']"
call $tok_admin POST "/v1/imports?format=csv" -H 'Transfer-Encoding: chunked' --data-binary @"$work/big.bin"
check "the same chunked (no Content-Length): 413 while it arrives" json "d['status'] == 413"
python3 -c "print('{\"kind\":\"' + 'x' * 1100000 + '\"}')" >"$work/big.json"
call $tok_a POST /v1/documents/preview --data-binary @"$work/big.json"
check "a JSON body over the limit on a document route: 413" test "$code" = 413
stop

# --- TLS: a certificate for 127.0.0.1 made here ----------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
chmod 600 "$work/tls.key"
write_config 120 "tls_cert = tls.crt
tls_key = tls.key"
started
scheme=https tls_args=(--cacert "$work/tls.crt")
check "the log says https" grep -q "listening on https://127.0.0.1:$port" "$work/log"
call - GET /healthz
check "https with curl --cacert: healthz 200" json "d['status'] == 'ok'"
call $tok_a POST /v1/documents/preview -d "$preview"
check "https: a preview is a PDF" bash -c "[ $code = 200 ] && head -c 5 '$work/body' | grep -q '%PDF-'"
check "without the CA the certificate is not trusted" \
  bash -c "! curl -s -o /dev/null https://127.0.0.1:$port/healthz"
check "plain http to the TLS port gets no HTTP answer" \
  bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/healthz)\" = 000 ]"
stop
scheme=http tls_args=()
chmod 640 "$work/tls.key"
"$tuban" serve --config "$work/tuban.conf" --listen 127.0.0.1:0 2>"$work/stderr" &
pid=$!
wait $pid
check "a TLS key readable by its group: refused at start (exit 2, names the file)" \
  bash -c "[ $? = 2 ] && grep -q 'tls.key: the TLS key is readable by group or others' '$work/stderr'"
pid=

finish
