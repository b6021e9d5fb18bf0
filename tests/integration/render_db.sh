#!/usr/bin/env bash
# One meaning of `render --db` for every kind: the store is the source and the registry, so every
# kind given --db is issued (numbered, archived, registered); --out then gets copies, equal to the
# archived bytes, written after the commit; --preview registers nothing; contradictory options
# are refused with exit 2 and a message, registering nothing.  Checked against the registry table
# (sqlite3), sha256sum, cmp, qpdf and `tuban archive check`.
# Usage: render_db.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=${2:?source dir}
. "$src/tests/integration/lib.sh"

office=$work/office
sample_office "$office"
bash "$src/scripts/make-sample-keys.sh" "$office" 2>/dev/null
export SOURCE_DATE_EPOCH=1742860800
db=$work/tuban.db
sample_store "$db"
check "the sample store with its history is made" test $? -eq 0
arch=$work/archive/sample-office/2025/示自然资发
render() { "$tuban" render "$1" --office "$office" --imagery "$src/samples/basemap.tif" --db "$db" \
           --jobs 2 "${@:2}"; }
rows() { sqlite3 "$db" "SELECT count(*) FROM registry"; }
kind_rows() { sqlite3 "$db" "SELECT count(*) FROM registry WHERE kind = '$1'"; }

# --- every kind is issued, --out gets copies of the archived bytes --------------------------------
issue_kind() { # <kind> <label> <files expected in --out: the PDFs' copies, any other> -- <args>
  local kind=$1 label=$2; shift 2
  local copies=()
  while [ "$1" != -- ]; do copies+=("$1"); shift; done
  shift
  local before; before=$(rows)
  render "$kind" "$@" --out "$work/out-$label" >"$work/paths" 2>"$work/err"
  check "$label: render $kind --db --out exits 0" test $? -eq 0
  local n=$(($(rows) - before))
  check "$label: one registry entry per document ($n, kind $kind)" \
    test "$n" -eq "$(printf '%s\n' "${copies[@]}" | grep -c '\.pdf$')" -a "$(sqlite3 "$db" "SELECT count(*) FROM (SELECT kind FROM registry ORDER BY seq DESC LIMIT $n) WHERE kind = '$kind'")" -eq "$n"
  # The paths printed: the archived files (the last n registry entries, in order), then the copies.
  sqlite3 "$db" "SELECT path FROM (SELECT seq, path FROM registry ORDER BY seq DESC LIMIT $n) ORDER BY seq" |
    sed "s|^|$work/archive/|" >"$work/want"
  for c in "${copies[@]}"; do echo "$work/out-$label/$c"; done >>"$work/want"
  check "$label: it prints every archived file, then every copy in --out" diff "$work/want" "$work/paths"
  local i=0 ok_sum=1 ok_cmp=1
  while read -r path sum; do
    local copy=$work/out-$label/${copies[$i]}
    [ "$(sha256sum "$work/archive/$path" | cut -d' ' -f1)" = "$sum" ] || ok_sum=0
    cmp -s "$work/archive/$path" "$copy" || ok_cmp=0
    i=$((i + 1))
  done < <(sqlite3 -separator ' ' "$db" "SELECT path, sha256 FROM (SELECT seq, path, sha256 FROM registry ORDER BY seq DESC LIMIT $n) ORDER BY seq")
  check "$label: every archived file has the SHA-256 the registry records" test $ok_sum -eq 1
  check "$label: every copy in --out is byte for byte the archived document" test $ok_cmp -eq 1
  check "$label: qpdf --check is clean on the first copy" qpdf --check "$work/out-$label/${copies[0]}"
}
issue_kind notice notice notice-139901001.pdf notice-139901100.pdf notice-139901201.pdf -- \
  --date 2025-03-25
issue_kind monthly monthly monthly-139901001.pdf monthly-139901100.pdf monthly-139901201.pdf \
  monthly-county.pdf -- --month 2025-03 --date 2025-03-25
issue_kind tables tables tables.pdf tables.xlsx -- --date 2025-03-20
check "tables: the workbook goes to --out beside the copy" test -s "$work/out-tables/tables.xlsx"
check "tables: the workbook is not in the archive (only registered files are)" \
  bash -c "! ls '$arch' | grep -q xlsx"
text=$(pdftotext "$work/out-monthly/monthly-county.pdf" - | tr -d ' \n')
num=$(sqlite3 "$db" "SELECT docno FROM registry WHERE kind = 'monthly' ORDER BY seq DESC LIMIT 1")
check "the monthly copy carries the 发文字号 the registry gave it ($num)" grep -qF "$num" <<<"$text"
check "a 月报 is numbered in its 成文日期's year (〔2025〕)" grep -q '〔2025〕' <<<"$num"
text=$(pdftotext "$work/out-tables/tables.pdf" - | tr -d ' \n')
num=$(sqlite3 "$db" "SELECT docno FROM registry WHERE kind = 'tables' ORDER BY seq DESC LIMIT 1")
check "the tables carry the 发文字号 the registry gave them ($num)" grep -qF "$num" <<<"$text"

# Without --out: issued into the archive only.
before=$(rows)
render notice --date 2025-03-26 >"$work/paths" 2>"$work/err"
check "render notice --db without --out exits 0" test $? -eq 0
check "it issues three more notices" test $(($(rows) - before)) -eq 3
check "it prints the three archived files only" \
  test "$(grep -c "^$work/archive/" "$work/paths")" -eq 3 -a "$(wc -l <"$work/paths")" -eq 3
check "archive check: registry and archive agree after every kind was issued" \
  "$tuban" archive check --db "$db"
check "the numbers are gapless in issue order" test "$(sqlite3 "$db" "SELECT group_concat(number, ' ') FROM (SELECT number FROM registry ORDER BY seq)")" = "$(seq -s ' ' 1 "$(rows)")"

# --- --preview registers nothing ----------------------------------------------------------------
before=$(rows)
ls -A "$arch" >"$work/arch-before"
for kind in notice monthly tables; do
  args=(--date 2025-03-25); [ $kind = monthly ] && args+=(--month 2025-03)
  render $kind --preview "${args[@]}" --out "$work/prev-$kind" >"$work/paths" 2>"$work/err"
  check "render $kind --db --preview exits 0" test $? -eq 0
  check "$kind preview: every path printed is in --out" \
    test "$(grep -vc "^$work/prev-$kind/" "$work/paths")" -eq 0 -a -s "$work/paths"
done
check "previews add no registry entry" test "$(rows)" -eq "$before"
check "previews add no archive file" bash -c "ls -A '$arch' | cmp -s - '$work/arch-before'"
check "the preview is a 样稿 with no 发文字号" \
  bash -c "pdftotext '$work/prev-notice/notice-139901100.pdf' - | tr -d ' \n' | grep -q 样稿 &&
           ! pdftotext '$work/prev-notice/notice-139901100.pdf' - | grep -q '〔2025〕'"

# --- contradictory options: exit 2, a message, nothing registered or written ----------------------
refused() { # <what> <message pattern> <render args...>
  local what=$1 pat=$2; shift 2
  local before; before=$(rows)
  "$tuban" render "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  check "$what: exit 2" test $rc -eq 2
  check "$what: the message says why" grep -qE -- "$pat" "$work/err"
  check "$what: nothing registered" test "$(rows)" -eq "$before"
}
base=(--office "$office" --imagery "$src/samples/basemap.tif")
refused "--first-number with --db" "--first-number" notice "${base[@]}" --db "$db" --first-number 7
refused "--first-number with --db and --out" "registry" notice "${base[@]}" --db "$db" \
  --first-number 7 --out "$work/bad1"
refused "--first-number with --preview" "样稿 has no 发文字号" notice "${base[@]}" --db "$db" \
  --preview --first-number 3 --out "$work/bad2"
refused "--preview without --out" "--out" notice "${base[@]}" --db "$db" --preview
refused "--preview with --archive" "never archived" notice "${base[@]}" --db "$db" --preview \
  --archive "$work/a2" --out "$work/bad3"
refused "--archive without --db" "--archive goes with --db" notice "${base[@]}" \
  --patches "$src/samples/patches.gpkg" --archive "$work/a3" --out "$work/bad4"
refused "neither --out nor --db" "--out" notice "${base[@]}" --patches "$src/samples/patches.gpkg"
refused "tables --db without --out (the workbook has no place in the archive)" "tables.xlsx" \
  tables "${base[@]}" --db "$db" --date 2025-03-20
refused "a 月报 dated before its cut-off" "before the report's cut-off 2025-03-20" \
  monthly "${base[@]}" --db "$db" --month 2025-03 --date 2025-03-19 --out "$work/bad5"
check "nothing was written for the refused runs" \
  bash -c "! ls -d '$work'/bad* '$work'/a2 '$work'/a3 2>/dev/null | grep -q ."
check "archive check is still clean" "$tuban" archive check --db "$db"

# A file without --db still numbers from --first-number and registers nothing.
"$tuban" render notice "${base[@]}" --patches "$src/samples/patches.gpkg" --date 2025-03-25 \
  --first-number 41 --out "$work/file" >/dev/null 2>&1
check "a patch file without --db renders with --first-number (示自然资发〔2025〕41号)" \
  grep -q '示自然资发〔2025〕41号' <(pdftotext "$work/file/notice-139901001.pdf" - | tr -d ' \n')
# --- the archive path carries the 机关代字: two kinds with their own prefixes in one year ----------
# Both series start at 1 in 2025; before, both went to <office>/2025/1.pdf and the second
# overwrote the first.
office2=$work/office2
sample_office "$office2"
cp -r "$office/keys" "$office2/"
sed -i 's|  <docno-prefix>示自然资发</docno-prefix>|&\n  <docno-prefix kind="monthly">示自然资月</docno-prefix>|' "$office2/office.xml"
db2=$work/two.db
sample_store "$db2"
root2=$work/archive
render2() { "$tuban" render "$1" --office "$office2" --imagery "$src/samples/basemap.tif" --db "$db2" \
            --jobs 2 "${@:2}"; }
render2 notice --date 2025-03-25 >"$work/p-notice" 2>"$work/err"
check "two prefixes: the notices are issued" test $? -eq 0
render2 monthly --month 2025-03 --date 2025-03-25 >"$work/p-monthly" 2>"$work/err"
check "two prefixes: the 月报 are issued" test $? -eq 0
check "two prefixes: each kind's series starts at 1 (示自然资发 1-3, 示自然资月 1-4)" test "$(sqlite3 "$db2" "SELECT group_concat(prefix || number, ' ') FROM (SELECT prefix, number FROM registry ORDER BY seq)")" = "示自然资发1 示自然资发2 示自然资发3 示自然资月1 示自然资月2 示自然资月3 示自然资月4"
check "two prefixes: number 1 of each kind has its own file" test "$(head -1 "$work/p-notice")" = "$root2/sample-office/2025/示自然资发/1.pdf" -a "$(head -1 "$work/p-monthly")" = "$root2/sample-office/2025/示自然资月/1.pdf"
check "two prefixes: no two registry entries share a path" \
  test "$(sqlite3 "$db2" "SELECT count(DISTINCT path) = count(*) FROM registry")" = 1
check "two prefixes: notice 1 is still the notice 示自然资发〔2025〕1号" \
  grep -q '示自然资发〔2025〕1号' <(pdftotext "$root2/sample-office/2025/示自然资发/1.pdf" - | tr -d ' \n')
check "two prefixes: 月报 1 is 示自然资月〔2025〕1号" \
  grep -q '示自然资月〔2025〕1号' <(pdftotext "$root2/sample-office/2025/示自然资月/1.pdf" - | tr -d ' \n')
check "two prefixes: archive check clean (every file's hash equals its entry's)" \
  "$tuban" archive check --db "$db2"
check "two prefixes: verify --db finds 月报 1's entry" \
  "$tuban" verify "$root2/sample-office/2025/示自然资月/1.pdf" --office "$office2" --db "$db2"

# An archive made before the prefix had its folder (<office>/<year>/<n>.pdf) stays checkable: its
# entries keep their path.  The entry is appended here as the old version wrote it, its hash
# computed in python (the chain's published format, issue.c issue_entry_hash).
mkdir -p "$root2/sample-office/2024"
cp "$work/out-notice/notice-139901100.pdf" "$root2/sample-office/2024/1.pdf"
python3 - "$db2" "$root2/sample-office/2024/1.pdf" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
seq, prev = db.execute('SELECT seq, entry_hash FROM registry ORDER BY seq DESC LIMIT 1').fetchone()
sha = hashlib.sha256(open(sys.argv[2], 'rb').read()).hexdigest()
e = dict(seq=seq + 1, office='sample-office', year=2024, prefix='示自然资发', number=1,
         docno='示自然资发〔2024〕1号', kind='notice', patches='139901SJBG24210002',
         signer='示例县自然资源局', issued_at='2024-11-20T00:00:00Z', path='sample-office/2024/1.pdf',
         sha256=sha, code='AAAA-BBBB-CCCC', prev_hash=prev)
fields = [e['prev_hash'], str(e['seq']), e['office'], str(e['year']), e['prefix'], str(e['number']),
          e['docno'], e['kind'], e['patches'], e['signer'], e['issued_at'], e['path'], e['sha256'],
          e['code']]
e['entry_hash'] = hashlib.sha256('\x1f'.join(['tuban-registry-1'] + fields).encode()).hexdigest()
db.execute('INSERT INTO registry (%s) VALUES (%s)' % (', '.join(e), ', '.join('?' * len(e))),
           list(e.values()))
db.execute("INSERT INTO docno_counter (office, year, prefix, last) VALUES ('sample-office', 2024, '示自然资发', 1)")
db.commit()
PY
check "old layout: archive check is clean with an entry at <office>/<year>/<n>.pdf" \
  "$tuban" archive check --db "$db2"
"$tuban" render notice --office "$office2" --imagery "$src/samples/basemap.tif" --db "$db2" \
  --patches "$src/samples/patches.gpkg" --date 2024-11-21 --township 139901100 >"$work/p-2024" \
  2>"$work/err"
check "old layout: the next 2024 number goes into the prefix's folder (示自然资发/2.pdf)" \
  test "$(cat "$work/p-2024")" = "$root2/sample-office/2024/示自然资发/2.pdf"
check "old layout: the old file is left as it was" cmp -s "$work/out-notice/notice-139901100.pdf" \
  "$root2/sample-office/2024/1.pdf"
check "old layout: archive check is clean over both layouts" "$tuban" archive check --db "$db2"
printf x >>"$root2/sample-office/2024/1.pdf"
"$tuban" archive check --db "$db2" >"$work/check" 2>&1
check "old layout: a changed old file is named by archive check (exit 1)" \
  bash -c "[ $? -eq 1 ] && grep -q 'sample-office/2024/1.pdf.*differs' '$work/check'"
# A 机关代字 that cannot be a folder name is refused before anything is rendered.
sed -i 's|<docno-prefix kind="monthly">示自然资月</docno-prefix>|<docno-prefix kind="monthly">../月</docno-prefix>|' "$office2/office.xml"
before=$(sqlite3 "$db2" "SELECT count(*) FROM registry")
render2 monthly --month 2025-03 --date 2025-03-25 >/dev/null 2>"$work/err"
check "a 机关代字 with a path in it: exit 2" test $? -eq 2
check "… naming office.xml and the prefix" grep -q "office.xml: <docno-prefix> '../月'" "$work/err"
check "… nothing registered, nothing written beside the archive" bash -c "
  [ \$(sqlite3 '$db2' 'SELECT count(*) FROM registry') = $before ] && [ ! -e '$root2/sample-office/月' ]"
finish
