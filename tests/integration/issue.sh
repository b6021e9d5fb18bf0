#!/usr/bin/env bash
# Issuing: `tuban render --db` numbers, archives and registers documents all or nothing;
# `tuban archive check` finds every difference; a crash at any stage of an issue (a test hook that
# SIGKILLs the process at each stage, and plain SIGKILLs at random moments) loses no number,
# duplicates none, and leaves no orphan file and no registry row without its file.
# Usage: issue.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=${2:?source dir}
. "$src/tests/integration/lib.sh"

office=$work/office
sample_office "$office"
bash "$src/scripts/make-sample-keys.sh" "$office" 2>/dev/null
export SOURCE_DATE_EPOCH=1732060800
db=$work/tuban.db
arch=$work/archive/sample-office/2024/示自然资发
issue_cmd=("$tuban" render notice --office "$office" --imagery "$src/samples/basemap.tif"
           --date 2024-11-20 --patches "$src/samples/patches.gpkg" --jobs 1 --db "$db")
issue() { "${issue_cmd[@]}" "$@"; }
registered() { sqlite3 "$db" "SELECT group_concat(number, ' ') FROM (SELECT number FROM registry ORDER BY seq)"; }
files() { (cd "$arch" && ls -A | sort -n | tr '\n' ' ' | sed 's/ $//'); }

# --- issuing ---------------------------------------------------------------------------------
issue >"$work/paths1" 2>"$work/err"
check "first issue exits 0" test $? -eq 0
check "three notices issued into the archive as 1.pdf 2.pdf 3.pdf" \
  test "$(cat "$work/paths1" | tr '\n' ' ')" = "$arch/1.pdf $arch/2.pdf $arch/3.pdf "
issue >"$work/paths2" 2>&1
check "a second issue continues the numbers (4 5 6), never reusing one" test "$(registered)" = "1 2 3 4 5 6"
text=$(pdftotext "$arch/5.pdf" - | tr -d ' \n')
check "the document carries its number 示自然资发〔2024〕5号" grep -q "示自然资发〔2024〕5号" <<<"$text"
code=$(sqlite3 "$db" "SELECT code FROM registry WHERE number = 5")
check "the signature's /Reason names the registry's verification code ($code)" \
  python3 -c "
import re, sys
d = open(sys.argv[1], 'rb').read()
r = [bytes.fromhex(h.decode()).decode('utf-16') for h in re.findall(rb'/Reason <([0-9A-F]+)>', d)]
sys.exit(0 if any(sys.argv[2] in x for x in r) else 1)" "$arch/5.pdf" "$code"
check "archive check: archive and registry agree" "$tuban" archive check --db "$db"
check "tuban verify --db finds the registry entry and an equal hash" \
  "$tuban" verify "$arch/5.pdf" --office "$office" --db "$db"
cp "$arch/5.pdf" "$work/copy.pdf"
printf '%%' >>"$work/copy.pdf"
check "a copy with one more byte is not an issued copy (verify --db exits 1)" \
  bash -c "'$tuban' verify '$work/copy.pdf' --office '$office' --db '$db' >/dev/null; test \$? -eq 1"
sha=$(sha256sum "$arch/5.pdf" | cut -c1-64)
check "the registry holds the SHA-256 of the archived bytes" \
  test "$(sqlite3 "$db" "SELECT sha256 FROM registry WHERE number = 5")" = "$sha"
check "the registry is append-only (UPDATE refused)" \
  bash -c "! sqlite3 '$db' \"UPDATE registry SET docno = 'x' WHERE seq = 1\" 2>/dev/null"
check "the registry is append-only (DELETE refused)" \
  bash -c "! sqlite3 '$db' 'DELETE FROM registry WHERE seq = 6' 2>/dev/null"

# --- the verification mark: 验证码 and QR code, and verify --code ------------------------------
pages=$(pdfinfo "$arch/5.pdf" | awk '/^Pages:/ {print $2}')
pdftoppm -r 150 -f "$pages" -l "$pages" -png "$arch/5.pdf" "$work/last"
scanned=$(zbarimg -q --raw "$work"/last-*.png 2>/dev/null)
check "the QR code on the last page scans (zbarimg, 150 dpi) as tuban:verify:$code" \
  test "$scanned" = "tuban:verify:$code"
check "the last page prints the 验证码 beside it" \
  bash -c "pdftotext -f $pages -l $pages '$arch/5.pdf' - | tr -d ' ' | grep -q '验证码：$code'"
"$tuban" verify --code "$scanned" --db "$db" --office "$office" >"$work/bycode" 2>&1
check "verify --code (as scanned) --db finds entry 5 and its archived file valid (exit 0)" \
  test $? -eq 0
check "... naming the number and the registered hash" \
  grep -q "registry: entry 5, 示自然资发〔2024〕5号 (notice), verification code $code.*$sha equal" \
  "$work/bycode"
"$tuban" verify --code "${code,,}" --db "$db" "$arch/5.pdf" >/dev/null 2>&1
check "verify --code <lower case> --db 5.pdf: the file is that entry's (exit 0)" test $? -eq 0
"$tuban" verify --code "$code" --db "$db" "$arch/4.pdf" >"$work/bycode" 2>&1
check "verify --code of 5 on 4.pdf: not that entry's document (exit 1)" test $? -eq 1
check "... said so" grep -q "FAILED: not the document of the verification code given" "$work/bycode"
"$tuban" verify "$work/copy.pdf" --db "$db" >"$work/bycode" 2>&1
check "a changed copy: verify names the entry its code claims and both hashes" \
  grep -q "FAILED: the registry's entry for verification code $code is entry 5, .*its SHA-256 is $sha" \
  "$work/bycode"
"$tuban" verify --code 0000-0000-0000 --db "$db" >"$work/bycode" 2>&1
check "an unknown code: not an issued document (exit 1)" test $? -eq 1
"$tuban" verify --code 'not-a-code' --db "$db" >/dev/null 2>&1
check "a malformed code is bad input (exit 2)" test $? -eq 2
cp "$arch/3.pdf" "$work/3.pdf.orig"
printf 'X' | dd of="$arch/3.pdf" bs=1 seek=3000 conv=notrunc status=none
code3=$(sqlite3 "$db" "SELECT code FROM registry WHERE number = 3")
"$tuban" verify --code "$code3" --db "$db" >"$work/bycode" 2>&1
check "verify --code whose archived file was changed: exit 1" test $? -eq 1
cp "$work/3.pdf.orig" "$arch/3.pdf"
"$tuban" verify "$arch/1.pdf" "$arch/2.pdf" "$arch/3.pdf" --office "$office" --db "$db" \
  >"$work/many" 2>&1
check "verify of three files in one call: exit 0" test $? -eq 0
check "... one report each" test "$(grep -c 'valid, unmodified since signing' "$work/many")" -eq 3
check "... and the summary line" grep -q "^3 file(s): 3 valid, 0 not valid, 0 could not" "$work/many"
"$tuban" verify "$arch/1.pdf" "$work/copy.pdf" "$work/no-such.pdf" --office "$office" \
  --db "$db" >"$work/many" 2>"$work/many.err"
check "three files, one changed and one missing: exit 2 (the worst)" test $? -eq 2
check "... the summary counts each" grep -q "^3 file(s): 1 valid, 1 not valid, 1 could not" "$work/many"
check "... the missing one named" grep -q "no-such.pdf" "$work/many.err"

# --- preview ---------------------------------------------------------------------------------
"$tuban" render notice --office "$office" --imagery "$src/samples/basemap.tif" --date 2024-11-20 \
  --patches "$src/samples/patches.gpkg" --preview --out "$work/preview" --db "$db" >/dev/null 2>&1
check "preview exits 0" test $? -eq 0
ptext=$(pdftotext "$work/preview/notice-139901001.pdf" - | tr -d ' \n')
check "a preview carries the 样稿 watermark" grep -q "样稿" <<<"$ptext"
check "a preview has no 发文字号" bash -c "! grep -q '〔2024〕[0-9]*号' <<<'$ptext'"
check "a preview is never registered and allocates no number" test "$(registered)" = "1 2 3 4 5 6"
pdftoppm -r 150 -png "$work/preview/notice-139901001.pdf" "$work/prev"
check "a preview has no QR code (zbarimg finds none on any page)" \
  bash -c "! zbarimg -q --raw '$work'/prev-*.png >/dev/null 2>&1"
check "... and no 验证码" bash -c "! grep -q '验证码' <<<'$ptext'"

# --- archive check names each difference -----------------------------------------------------
cp "$arch/2.pdf" "$work/2.pdf.orig"
printf 'X' | dd of="$arch/2.pdf" bs=1 seek=3000 conv=notrunc status=none
"$tuban" archive check --db "$db" >"$work/check" 2>&1
check "a changed archive file: archive check exits 1" test $? -eq 1
check "... and names the file and its number" grep -q "2.pdf (示自然资发〔2024〕2号, entry 2) differs" "$work/check"
cp "$work/2.pdf.orig" "$arch/2.pdf"
cp "$db" "$work/edited.db"
sqlite3 "$work/edited.db" "DROP TRIGGER registry_append_only_update;
  UPDATE registry SET patches = '139901SJBG24219999' WHERE seq = 3;"
"$tuban" archive check --db "$work/edited.db" --archive "$work/archive" >"$work/check" 2>&1
check "a registry row edited around the triggers is found (content does not match its hash)" \
  grep -q "entry 3 (示自然资发〔2024〕3号): its content does not match its hash" "$work/check"
cp "$db" "$work/cut.db"
sqlite3 "$work/cut.db" "DROP TRIGGER registry_append_only_delete; DELETE FROM registry WHERE seq = 4;"
"$tuban" archive check --db "$work/cut.db" --archive "$work/archive" >"$work/check" 2>&1
check "a removed registry row is found (the chain breaks)" grep -q "entry 5.*does not match" "$work/check"
check "... and its file is named as unregistered" grep -q "4.pdf is not in the registry" "$work/check"
touch "$arch/99.pdf"
"$tuban" archive check --db "$db" >"$work/check" 2>&1
check "a file nobody registered is named" grep -q "99.pdf is not in the registry" "$work/check"
rm "$arch/99.pdf"

# --- crash at each stage, then restart --------------------------------------------------------
expected="1 2 3 4 5 6"
next=7
for stage in allocated written renamed committing; do
  TUBAN_TEST_CRASH=$stage issue >/dev/null 2>&1
  rc=$?
  check "crash at '$stage': the process was killed (exit 137)" test $rc -eq 137
  check "crash at '$stage': nothing registered" test "$(registered)" = "$expected"
  issue >"$work/restart" 2>"$work/restart.err"
  check "restart after '$stage' exits 0" test $? -eq 0
  expected="$expected $next $((next + 1)) $((next + 2))"
  next=$((next + 3))
  check "restart after '$stage': numbers gapless, none lost or issued twice" test "$(registered)" = "$expected"
  check "restart after '$stage': the archive holds exactly the registered files" test "$(files)" = "$(tr ' ' '\n' <<<"$expected" | sed 's/$/.pdf/' | tr '\n' ' ' | sed 's/ $//')"
  check "restart after '$stage': archive check agrees" "$tuban" archive check --db "$db"
done
check "a crash after the rename left files that the restart removed (and said so)" \
  grep -q "left by an interrupted issue" "$work/restart.err"

# SIGKILL at arbitrary moments of an issue, then restart.
for delay in 0.05 0.2 0.4 0.7 1.0; do
  # exec: $! must be tuban itself, not a shell around it (killing the shell would leave tuban
  # issuing beside the restart below).
  (exec "${issue_cmd[@]}") >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  issue >/dev/null 2>&1
  n=$(sqlite3 "$db" "SELECT count(*), max(number) FROM registry")
  check "SIGKILL after ${delay}s, restart: registry gapless (count = max: $n)" \
    test "${n%|*}" = "${n#*|}"
  check "SIGKILL after ${delay}s, restart: archive check agrees" "$tuban" archive check --db "$db"
done
finish
