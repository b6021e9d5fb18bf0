#!/usr/bin/env bash
# The daemon end to end: the real `tuban serve` on a loopback port (any free one), driven over
# HTTP with curl; answers judged with python3 (JSON), qpdf, pdfsig and unzip, the store with the
# sqlite3 shell.  Covers auth and office lanes, limits, imports (all or nothing, drivers
# restricted), patches, documents (idempotency), verify, jobs (ZIP, cancel), every route of
# docs/openapi.yaml, SIGKILL mid-job + restart (no document lost or issued twice) and the
# SIGTERM drain.
# Usage: serve.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=$(cd "${2:?source dir}" && pwd)
. "$src/tests/integration/lib.sh"
. "$src/tests/server/lib.sh"

# --- two offices in different counties, an admin ---------------------------------------------
make_office "$work/office-a" office-a 139901
make_office "$work/office-b" office-b 139902
tok_a=test-token-office-a-0001 tok_b=test-token-office-b-0002 tok_admin=test-token-admin-00003
write_config() { # <workers> <max_body_mb>
  cat >"$work/tuban.conf" <<EOF
# test configuration
store = data/tuban.db
archive = data/archive
scratch = data/scratch   # comment after a value
workers = $1
max_body_mb = $2
request_timeout_s = 60
drain_timeout_s = 30

[office office-a]
dir = office-a
token_sha256 = $(hash $tok_a)

[office office-b]
dir = office-b
imagery = $src/samples/basemap.tif
token_sha256 = $(hash $tok_b)

[admin operator]
token_sha256 = $(hash $tok_admin)
EOF
}

# wait_job <id>: polls the job until it is done or failed (at most 30 s); the last answer in body.
wait_job() {
  for _ in $(seq 1 300); do
    call $tok_a GET /v1/jobs/$1
    json "d['state'] in ('done', 'failed')" && return
    sleep 0.1
  done
}

write_config 2 1
started
ok "daemon starts on a free loopback port ($port)"

# --- health, metrics, auth -------------------------------------------------------------------
call - GET /healthz
check "healthz 200 ok without a token" json "d['status'] == 'ok' and d['workers'] == 2"
call - GET /v1/patches?batch=2024
check "no token: 401 with a JSON reason" json "d['status'] == 401 and 'Bearer' in d['error']"
call wrong-token-wrong-token GET /v1/patches?batch=2024
check "unknown token: 401" test "$code" = 401
call $tok_a POST /v1/imports --data-binary @"$src/samples/patches.gpkg"
check "an office token cannot import (403)" test "$code" = 403
call $tok_admin GET /v1/documents
check "an admin token cannot read an office's documents (403)" test "$code" = 403
call $tok_a GET /v1/nothing
check "unknown route: 404 JSON" json "d['status'] == 404"
call $tok_a PUT /v1/patches
check "wrong method: 405" test "$code" = 405
check "every answer carries X-Request-Id, and the log line has it" bash -c "
  rid=\$(curl -s -D - -o /dev/null http://127.0.0.1:$port/healthz | tr -d '\r' | awk -F': ' 'tolower(\$1)==\"x-request-id\"{print \$2}')
  sleep 0.2; grep -q \"rid=\$rid GET /healthz 200\" '$work/log'"

# --- imports ---------------------------------------------------------------------------------
head -c $((2 * 1024 * 1024)) /dev/zero >"$work/big.bin"
call $tok_admin POST "/v1/imports?format=csv" --data-binary @"$work/big.bin"
check "a body over max_body_mb: 413" json "d['status'] == 413 and 'limit' in d['error']"
call $tok_admin POST "/v1/imports?batch=2024&at=2024-11-01" --data-binary @"$src/samples/patches.gpkg"
check "import: 200 with the report (35 new)" json "d['result']['new'] == 35 and not d['refused']"
check "the report names the upload, not a server path" json "d['file'] == 'upload.gpkg'"
check "the store holds 35 patches" test "$(sql 'SELECT count(*) FROM patch')" = 35
check "the import is recorded as by the admin token's name" \
  test "$(sql "SELECT who FROM import_run ORDER BY id DESC LIMIT 1")" = operator
before=$(sqlite3 "$work/data/tuban.db" .dump | sha256sum)
cp "$src/samples/patches.gpkg" "$work/bad.gpkg"
ogrinfo -q "$work/bad.gpkg" -dialect SQLite -sql "UPDATE patches SET JCGDMJ = JCMJ * 2 WHERE JCBH = '139901SJBG24210003'" >/dev/null 2>&1
call $tok_admin POST "/v1/imports?batch=2024" --data-binary @"$work/bad.gpkg"
check "a bad record: 422 and the report names record and field" \
  json "d['refused'] and any(p['field'] == 'JCGDMJ' and p['patch'] == '139901SJBG24210003' for p in d['problems'])"
check "refused import: the store is unchanged" test "$(sqlite3 "$work/data/tuban.db" .dump | sha256sum)" = "$before"
# An OGR VRT naming a local file must not be opened (drivers are restricted for uploads).
printf 'secret-marker,1\n' >"$work/secret.csv"
cat >"$work/evil.vrt" <<EOF
<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>$work/secret.csv</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>
EOF
call $tok_admin POST "/v1/imports?batch=2024" --data-binary @"$work/evil.vrt"
check "an uploaded VRT is not followed (422, nothing of the file it names)" \
  bash -c "[ $code = 422 ] && ! grep -q secret-marker '$work/body'"
check "scratch folders are removed after each upload" test -z "$(ls -A "$work/data/scratch")"

# --- patches ---------------------------------------------------------------------------------
call $tok_a GET "/v1/patches?batch=2024&as_of=2024-11-30"
check "office A lists the 35 patches of its county" json "d['total'] == 35 and len(d['patches']) == 35"
call $tok_a GET "/v1/patches?batch=2024&township=139901001&state=未整改&as_of=2024-11-30"
check "filters: township and state" \
  json "d['total'] > 0 and all(p['township'].startswith('139901001') and p['state'] == '未整改' for p in d['patches'])"
call $tok_a GET "/v1/patches?batch=2024&limit=5&offset=5"
check "limit and offset" json "len(d['patches']) == 5 and d['offset'] == 5"
call $tok_b GET "/v1/patches?batch=2024"
check "office B (another county) sees none of them" json "d['total'] == 0"
call $tok_admin GET "/v1/patches?batch=2024"
check "an admin sees every county" json "d['total'] == 35"
call $tok_a GET "/v1/patches?batch=20x4"
check "bad batch: 400 naming the parameter" json "d['status'] == 400 and d['error'].startswith('batch')"
call $tok_a GET "/v1/patches/139901SJBG24210003?batch=2024"
check "one patch with its history" json "d['id'] == '139901SJBG24210003' and any(h['field'] == 'state' for h in d['history'])"
call $tok_b GET "/v1/patches/139901SJBG24210003?batch=2024"
check "another county's patch: 404" test "$code" = 404
call $tok_a POST /v1/patches/139901SJBG24210003/status -H 'Content-Type: application/json' \
  -d '{"state":"整改中","batch":"2024","note":"开始拆除","date":"2024-12-01"}'
check "status change recorded (200) with who = the office" \
  json "d['state'] == '整改中' and d['history'][-1]['by'] == 'office-a' and d['history'][-1]['note'] == '开始拆除'"
call $tok_a POST /v1/patches/139901SJBG24210003/status -d '{"state":"未整改","batch":"2024","date":"2024-12-02"}'
check "a change the workflow forbids: 422 naming the rule" json "d['status'] == 422 and '→' in d['error']"
call $tok_b POST /v1/patches/139901SJBG24210003/status -d '{"state":"已整改","batch":"2024"}'
check "another office cannot change it (404)" test "$code" = 404
call $tok_a POST /v1/patches/139901SJBG24210003/status -d '{"state":"已整改","batch":"2024","extra":1}'
check "unknown JSON member: 422" json "d['status'] == 422 and 'extra' in d['error']"
call $tok_a POST /v1/patches/139901SJBG24210003/status -d '{"state":'
check "malformed JSON: 415" test "$code" = 415

# --- documents -------------------------------------------------------------------------------
body='{"kind":"notice","batch":"2024","township":"139901001","date":"2024-11-20"}'
call $tok_a POST /v1/documents -H 'Idempotency-Key: issue-1' -d "$body"
check "issue: 201 with the record" json "d['state'] == 'done' and d['number'] >= 1 and d['docno'].endswith('号')"
doc_id=$(jget "d['id']") doc_sha=$(jget "d['sha256']") doc_no=$(jget "d['docno']")
call $tok_a POST /v1/documents -H 'Idempotency-Key: issue-1' -d "$body"
check "retry with the same Idempotency-Key: 200, same document and number" \
  json "d['id'] == $doc_id and d['sha256'] == '$doc_sha' and d['docno'] == '$doc_no'"
check "the retry issued nothing new" test "$(sql "SELECT count(*) FROM job_item WHERE state = 'done'")" = 1
call $tok_a POST /v1/documents -H 'Idempotency-Key: issue-1' -d '{"kind":"notice","batch":"2024","township":"139901100"}'
check "the same key for another request: 422" json "d['status'] == 422 and 'Idempotency-Key' in d['error']"
call $tok_a GET /v1/documents/$doc_id/pdf
cp "$work/body" "$work/doc.pdf"
check "fetch the PDF: qpdf --check" qpdf --check "$work/doc.pdf"
check "fetched PDF: pdfsig says the signature is valid" bash -c "pdfsig '$work/doc.pdf' | grep -q 'Signature is Valid'"
check "fetched PDF: its sha256 is the record's" test "$(sha256sum <"$work/doc.pdf" | cut -d' ' -f1)" = "$doc_sha"
check "fetched PDF: pdftotext finds the number" bash -c "pdftotext '$work/doc.pdf' - | grep -q '$doc_no'"
call $tok_a POST /v1/documents -H 'Accept: application/pdf' -d '{"kind":"notice","batch":"2024","township":"139901100","date":"2024-11-20"}'
check "Accept: application/pdf answers with the PDF" bash -c "head -c 5 '$work/body' | grep -q '%PDF-'"
call $tok_a POST /v1/documents/preview -d '{"kind":"notice","batch":"2024","township":"139901201","date":"2024-11-20"}'
cp "$work/body" "$work/preview.pdf"
# The watermark is set rotated: pdftotext gives its two characters on lines of their own.
check "preview: a PDF (qpdf --check) with the 样稿 watermark and no 发文字号" bash -c "
  qpdf --check '$work/preview.pdf' >/dev/null && pdftotext '$work/preview.pdf' - | grep -qx 样 &&
  pdftotext '$work/preview.pdf' - | grep -qx 稿 &&
  ! pdftotext '$work/preview.pdf' - | grep -q '〔2024〕'"
check "preview: nothing recorded" test "$(sql "SELECT count(*) FROM job_item WHERE township = '139901201'")" = 0
call $tok_a GET /v1/documents
check "list: the office's two documents" json "len(d['documents']) == 2"
call $tok_b GET /v1/documents/$doc_id
check "office B cannot read office A's document (404)" test "$code" = 404
call $tok_b GET /v1/documents/$doc_id/pdf
check "nor its PDF (404)" test "$code" = 404
call $tok_b POST /v1/documents -d "$body"
check "office B cannot issue for office A's township (404)" test "$code" = 404
call $tok_a GET /v1/documents/$doc_id
check "the record says registered" json "d['registered'] is True and d['id'] == $doc_id"
check "the registry holds it: same number, file and SHA-256" test "$(sql "SELECT count(*) FROM registry r
  JOIN job_item i ON i.id = $doc_id WHERE r.office = 'office-a' AND r.number = i.number
  AND '$work/data/archive/' || r.path = i.file AND r.sha256 = '$doc_sha' AND r.kind = 'notice'")" = 1
call $tok_a POST /v1/documents -d '{"kind":"notice","batch":"2024","township":"139901999"}'
check "a township without illegal patches: 422" test "$code" = 422
call $tok_a POST /v1/documents -d '{"kind":"monthly","batch":"2024","township":"139901001"}'
check "an unknown kind: 422" json "'kind' in d['error']"
call $tok_a POST /v1/verify --data-binary @"$work/doc.pdf"
check "verify: valid, checked against the office's CA" json "d['valid'] and d['signatures'] == 1 and 'office' in d['detail']"
check "verify: no server path in the answer" bash -c "! grep -q '$work' '$work/body'"
python3 -c "
b = bytearray(open('$work/doc.pdf', 'rb').read()); i = b.find(b'BT'); b[i + 3] ^= 1
open('$work/tampered.pdf', 'wb').write(b)"
call $tok_a POST /v1/verify --data-binary @"$work/tampered.pdf"
check "verify: one changed byte is invalid" json "not d['valid']"
call $tok_b POST /v1/verify --data-binary @"$work/doc.pdf"
check "verify with office B's CA: not valid (another office's signature)" json "not d['valid']"

# --- jobs ------------------------------------------------------------------------------------
call $tok_a POST /v1/jobs -d '{"kind":"notice","batch":"2024","date":"2024-11-20"}'
check "job: 202 with an id" json "d['id'] > 0 and d['progress']['total'] == 3"
job=$(jget "d['id']")
wait_job $job
check "job done: 3/3, no errors" json "d['state'] == 'done' and d['progress']['done'] == 3 and d['errors'] == []"
call $tok_a GET /v1/jobs/$job/results
check "results: 3 documents with their PDFs" json "len(d['documents']) == 3 and all(x['pdf'] for x in d['documents'])"
call $tok_a GET /v1/jobs/$job/results.zip
cp "$work/body" "$work/job.zip"
check "results.zip: a valid ZIP of 3 PDFs" bash -c "unzip -tq '$work/job.zip' && [ \$(unzip -Z1 '$work/job.zip' | grep -c '\.pdf$') = 3 ]"
mkdir -p "$work/unzipped" && unzip -q -o "$work/job.zip" -d "$work/unzipped"
check "every PDF in the ZIP passes qpdf --check" bash -c "for f in '$work'/unzipped/*.pdf; do qpdf --check \"\$f\" >/dev/null || exit 1; done"
call $tok_b GET /v1/jobs/$job
check "office B cannot see office A's job (404)" test "$code" = 404
call $tok_a DELETE /v1/jobs/$job
check "cancelling a finished job keeps it done" json "d['state'] == 'done'"
call $tok_a POST /v1/jobs -d '{"kind":"notice","batch":"2024","townships":["139902001"]}'
check "a job naming another county's township: 404" test "$code" = 404
check "numbers are unique per office and year" \
  test "$(sql "SELECT count(*) - count(DISTINCT number) FROM job_item WHERE office = 'office-a'")" = 0

# --- every route of docs/openapi.yaml, and nothing else -------------------------------------
"$tuban" serve --routes | awk '{print $1, $2}' | sort >"$work/routes.daemon"
python3 -c "
import yaml
spec = yaml.safe_load(open('$src/docs/openapi.yaml'))
for path, ops in spec['paths'].items():
    for m in ops:
        if m in ('get', 'post', 'put', 'delete', 'patch'):
            print(m.upper(), path)" | sort >"$work/routes.spec"
check "the spec lists exactly the daemon's routes" diff "$work/routes.spec" "$work/routes.daemon"
all_ok=1
while read -r m p; do
  url=$(echo "$p" | sed -e "s/{id}/139901SJBG24210003/" -e "s/{n}/$doc_id/")
  [ "${url#*/jobs/}" != "$url" ] && url=$(echo "$p" | sed "s/{n}/$job/")
  case "$m $p" in
    "POST /v1/imports") args=(--data-binary @"$src/samples/patches.gpkg"); t=$tok_admin; url="$url?batch=2024" ;;
    "POST /v1/verify") args=(--data-binary @"$work/doc.pdf"); t=$tok_a ;;
    "POST /v1/patches/{id}/status") args=(-d '{"state":"已整改","batch":"2024"}'); t=$tok_a ;;
    "POST /v1/documents") args=(-d "$body" -H 'Idempotency-Key: issue-1'); t=$tok_a ;;
    "POST /v1/documents/preview") args=(-d "$body"); t=$tok_a ;;
    "POST /v1/jobs") args=(-d '{"kind":"notice","batch":"2024","townships":["139901001"]}'); t=$tok_a ;;
    GET\ /v1/patches*) args=(); t=$tok_a; url="$url?batch=2024" ;;
    *) args=(); t=$tok_a ;;
  esac
  call "$t" "$m" "$url" "${args[@]}"
  case "$code" in 2??) ;; *) all_ok=0; echo "  $m $url -> $code: $(head -c 200 "$work/body")" ;; esac
done <"$work/routes.spec"
check "every route in the spec answers 2xx" test $all_ok = 1
call - GET /metrics
check "metrics: requests, latencies, documents by kind, job queue depth" bash -c "
  grep -q '^tuban_http_requests_total{route=\"document_issue\",code=\"201\"} ' '$work/body' &&
  grep -q '^tuban_http_request_duration_seconds_bucket{route=\"patches\",le=\"+Inf\"} ' '$work/body' &&
  grep -q '^tuban_documents_total{kind=\"notice\"} [1-9]' '$work/body' &&
  grep -q '^tuban_job_queue_depth [0-9]' '$work/body'"
stop
check "SIGTERM: exit 0" test $? -eq 0
check "SIGTERM: the log says it drained and stopped" bash -c "grep -q 'SIGTERM: draining' '$work/log' && grep -q 'stopped' '$work/log'"
check "no private key material in the log" bash -c "! grep -q 'PRIVATE KEY' '$work/log'"

# --- SIGKILL in the middle of a job, restart: none lost, none twice ------------------------
write_config 1 64
started TUBAN_TEST_KILL_AFTER_FILES=2
call $tok_a POST /v1/jobs -H 'Idempotency-Key: crash-job' -d '{"kind":"notice","batch":"2024","date":"2024-11-25"}'
crash_job=$(jget "d['id']")
for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
{ wait "$pid"; } 2>/dev/null
check "the daemon was killed (SIGKILL) after its 2nd file, before recording it" test $? -eq 137
check "at the kill: 1 item done, 1 running (its temporary in the archive, uncommitted), 1 pending" \
  test "$(sql "SELECT group_concat(state, ',') FROM (SELECT state FROM job_item WHERE job_id = $crash_job ORDER BY seq)")" = "done,running,pending"
started
wait_job $crash_job
check "after restart the job resumes and finishes 3/3" json "d['state'] == 'done' and d['progress']['done'] == 3"
check "the log says an item was resumed" grep -q "1 job item(s) resumed" "$work/log"
check "each item's number was issued once (3 items, 3 numbers)" \
  test "$(sql "SELECT count(DISTINCT number) FROM job_item WHERE job_id = $crash_job")" = 3
check "one archived file per item, no more" bash -c "
  n=0; for f in \$(sqlite3 '$work/data/tuban.db' \"SELECT file FROM job_item WHERE job_id = $crash_job\"); do [ -f \"\$f\" ] && n=\$((n+1)); done
  [ \$n = 3 ] && [ \$(find '$work/data/archive/office-a' -name '*.pdf' | wc -l) = \$(sqlite3 '$work/data/tuban.db' \"SELECT count(*) FROM job_item WHERE office = 'office-a' AND state = 'done'\") ]"
check "no temporary files left in the archive" bash -c "! find '$work/data/archive' -name '.*' -type f | grep -q ."
call $tok_a POST /v1/jobs -H 'Idempotency-Key: crash-job' -d '{"kind":"notice","batch":"2024","date":"2024-11-25"}'
check "retrying the job's request returns the same job" json "d['id'] == $crash_job"

# --- SIGTERM while a request is in flight: it is answered, then exit 0 ---------------------
curl -s -o "$work/inflight" -w '%{http_code}' -H "Authorization: Bearer $tok_a" \
  -d '{"kind":"notice","batch":"2024","township":"139901201","date":"2024-11-26"}' \
  "http://127.0.0.1:$port/v1/documents" >"$work/inflight.code" &
curl_pid=$!
# SIGTERM once the request is being worked on (its job row exists), before it is answered.
for _ in $(seq 1 500); do
  [ "$(sql "SELECT count(*) FROM job WHERE doc_date = '2024-11-26'" 2>/dev/null)" = 1 ] && break
  sleep 0.01
done
kill -TERM "$pid"
wait "$curl_pid"
wait "$pid"
check "drain: the daemon exits 0" test $? -eq 0
check "drain: the request in flight was answered 201" test "$(cat "$work/inflight.code")" = 201
check "drain: the document it issued is on disk" \
  bash -c "f=\$(sqlite3 '$work/data/tuban.db' \"SELECT i.file FROM job_item i JOIN job j ON j.id = i.job_id WHERE j.doc_date = '2024-11-26'\"); [ -f \"\$f\" ]"
# --- one allocator: the daemon and `tuban render --db` share the registry's 发文字号 ----------
# The daemon issues, the CLI issues on the same store and archive, the daemon issues again:
# every number distinct and gapless, every daemon document registered, archive check clean.
started
call $tok_a POST /v1/documents -d '{"kind":"notice","batch":"2024","township":"139901001","date":"2024-12-03"}'
check "shared numbers: the daemon issues (201)" test "$code" = 201
"$tuban" render notice --office "$work/office-a" --db "$work/data/tuban.db" \
  --archive "$work/data/archive" --date 2024-12-03 --jobs 1 >"$work/cli.out" 2>&1
check "shared numbers: tuban render --db issues on the daemon's store" test $? -eq 0
call $tok_a POST /v1/documents -d '{"kind":"notice","batch":"2024","township":"139901100","date":"2024-12-03"}'
check "shared numbers: the daemon issues again (201)" test "$code" = 201
last_no=$(jget "d['number']")
reg_n=$(sql "SELECT count(*) FROM registry WHERE office = 'office-a' AND year = 2024")
check "shared numbers: registry numbers distinct and gapless (1..$reg_n)" test "$(sql "
  SELECT count(DISTINCT number) = count(*) AND min(number) = 1 AND max(number) = count(*)
  FROM registry WHERE office = 'office-a' AND year = 2024")" = 1
check "shared numbers: the daemon's last document has the registry's last number" \
  test "$last_no" = "$reg_n"
check "shared numbers: every document the daemon issued is registered, same number and file" \
  test "$(sql "SELECT count(*) FROM job_item i WHERE i.state = 'done' AND NOT EXISTS (
    SELECT 1 FROM registry r WHERE r.office = i.office AND r.year = i.year
    AND r.number = i.number AND '$work/data/archive/' || r.path = i.file)")" = 0
check "shared numbers: tuban archive check is clean" \
  "$tuban" archive check --db "$work/data/tuban.db" --archive "$work/data/archive"
check "shared numbers: each daemon document prints the 发文字号 the registry gave it" bash -c "
  sqlite3 -separator ' ' '$work/data/tuban.db' \"SELECT i.file, r.docno FROM job_item i JOIN registry r
    ON r.office = i.office AND r.year = i.year AND r.number = i.number WHERE i.state = 'done'\" |
  while read -r f no; do pdftotext \"\$f\" - | grep -qF \"\$no\" || exit 1; done"
stop

# --- SIGKILL with the document renamed into the archive, not yet committed ------------------
# The restarted item gets the same number and the same file; nothing is issued twice.
started TUBAN_TEST_CRASH=renamed
curl -s -o /dev/null -H "Authorization: Bearer $tok_a" -H 'Idempotency-Key: crash-renamed' \
  -d '{"kind":"notice","batch":"2024","township":"139901201","date":"2024-12-04"}' \
  "http://127.0.0.1:$port/v1/documents"
{ wait "$pid"; } 2>/dev/null
check "killed (SIGKILL) after the rename, before the commit" test $? -eq 137
next_no=$((reg_n + 1))
check "at the kill: $next_no.pdf in the archive, unregistered" bash -c "
  [ -f '$work/data/archive/office-a/2024/示自然资发/$next_no.pdf' ] &&
  [ \$(sqlite3 '$work/data/tuban.db' 'SELECT count(*) FROM registry WHERE year = 2024') = $reg_n ]"
started
for _ in $(seq 1 300); do
  [ "$(sql "SELECT i.state FROM job_item i JOIN job j ON j.id = i.job_id WHERE j.idempotency_key = 'crash-renamed'")" = done ] && break
  sleep 0.1
done
check "after restart the item is issued with the same number and file" test "$(sql "
  SELECT i.number || ' ' || i.file FROM job_item i JOIN job j ON j.id = i.job_id
  WHERE j.idempotency_key = 'crash-renamed' AND i.state = 'done'")" = "$next_no $work/data/archive/office-a/2024/示自然资发/$next_no.pdf"
call $tok_a POST /v1/documents -H 'Idempotency-Key: crash-renamed' \
  -d '{"kind":"notice","batch":"2024","township":"139901201","date":"2024-12-04"}'
check "the retried request returns that document (200, same number)" \
  json "d['number'] == $next_no and d['registered']"
check "after the crash and restart: archive check clean, numbers gapless" bash -c "
  '$tuban' archive check --db '$work/data/tuban.db' --archive '$work/data/archive' &&
  [ \$(sqlite3 '$work/data/tuban.db' 'SELECT count(*) FROM (SELECT office FROM registry
    GROUP BY office, year, prefix HAVING max(number) != count(*))') = 0 ]"
# --- 军用土地: never over the network; the CLI marks the document for 机要 delivery ---------
mil=139901SJBG24210003 # township 139901100
cp "$src/samples/patches.gpkg" "$work/military.gpkg"
ogrinfo -q "$work/military.gpkg" -sql "ALTER TABLE patches ADD COLUMN SFJYTD TEXT" >/dev/null 2>&1
ogrinfo -q "$work/military.gpkg" -dialect SQLite -sql "UPDATE patches SET SFJYTD = '是' WHERE JCBH = '$mil'" >/dev/null 2>&1
old_doc=$(sql "SELECT id FROM job_item WHERE township = '139901100' AND state = 'done' ORDER BY id LIMIT 1")
all_job=$(sql "SELECT job_id FROM job_item WHERE township = '139901100' AND state = 'done' AND job_id IN
  (SELECT job_id FROM job_item GROUP BY job_id HAVING count(*) = 3) ORDER BY id LIMIT 1")
call $tok_admin POST "/v1/imports?batch=2024" --data-binary @"$work/military.gpkg"
check "military: the import records the flag (SFJYTD)" bash -c "[ $code = 200 ] &&
  [ \$(sqlite3 '$work/data/tuban.db' \"SELECT group_concat(id) FROM patch WHERE military = 1\") = $mil ]"
reg_before=$(sql "SELECT count(*) FROM registry")
military_refused() { json "d['status'] == 403 and '$mil' in d['error'] and '军用土地' in d['error'] and d['military_patches'] == ['$mil']"; }
call $tok_a POST /v1/documents/preview -d '{"kind":"notice","batch":"2024","township":"139901100","date":"2024-12-05"}'
check "military: preview refused (403 naming the patch)" military_refused
call $tok_a POST /v1/documents -d '{"kind":"notice","batch":"2024","township":"139901100","date":"2024-12-05"}'
check "military: issue refused (403 naming the patch)" military_refused
call $tok_a POST /v1/jobs -d '{"kind":"notice","batch":"2024","date":"2024-12-05"}'
check "military: a county job that would include it is refused (403)" military_refused
call $tok_a POST /v1/jobs -d '{"kind":"notice","batch":"2024","townships":["139901001","139901100"],"date":"2024-12-05"}'
check "military: a job naming its township is refused (403)" military_refused
call $tok_a GET /v1/documents/$old_doc/pdf
check "military: the PDF of a document issued before the flag is refused (403)" military_refused
call $tok_a GET /v1/jobs/$all_job/results.zip
check "military: a ZIP that would hold such a document is refused (403)" military_refused
call $tok_a GET /v1/documents/$old_doc
check "military: its record (no PDF) is still readable" json "d['id'] == $old_doc"
call $tok_a POST /v1/jobs -d '{"kind":"notice","batch":"2024","townships":["139901001"],"date":"2024-12-05"}'
check "military: a job without military patches is still accepted (202)" test "$code" = 202
wait_job "$(jget "d['id']")"
check "military: nothing was issued by a refused request" \
  test "$(sql "SELECT count(*) FROM registry")" = $((reg_before + 1))
"$tuban" render notice --office "$work/office-a" --patches "$work/military.gpkg" --out "$work/mil-out" \
  --date 2024-12-05 --jobs 1 >/dev/null 2>&1
check "military: the CLI renders it, with the 机要 附注 naming the patch" bash -c "
  pdftotext '$work/mil-out/notice-139901100.pdf' - | tr -d '\n' | grep -q '本件涉及军用土地图斑 *$mil，以机要件 *单独报送，不得通过网络传输'"
check "military: other townships' notices carry no such 附注" \
  bash -c "! pdftotext '$work/mil-out/notice-139901001.pdf' - | grep -q 机要"
"$tuban" render notice --office "$work/office-a" --db "$work/data/tuban.db" \
  --archive "$work/data/archive" --date 2024-12-05 --jobs 1 >/dev/null 2>&1
check "military: render --db issues it from the store with the 附注 (flag kept in the store)" bash -c "
  f=\$(sqlite3 '$work/data/tuban.db' \"SELECT path FROM registry WHERE patches LIKE '%$mil%' ORDER BY seq DESC LIMIT 1\")
  pdftotext '$work/data/archive/'\$f - | grep -q 军用土地"
stop
finish
