#!/usr/bin/env bash
# PAdES B-T: an office whose profile names a time-stamp authority (<signing tsa="…">) gets an
# RFC 3161 token over each signature value.  A local TSA (tsa_local: OpenSSL's TS_RESP_CTX on
# loopback, with its own throwaway CA) answers.  Checked: tuban verify accepts the token and
# checks the chain at its time; pdfsig and `openssl cms -verify` still accept the file; `openssl
# ts -verify` accepts the extracted token; tuban verify refuses a token for another signature, a
# tampered token and a TSA outside the trust file; signing fails (exit 1, nothing issued, no
# number used) when the TSA cannot be reached, refuses, or answers for other data.
# Usage: timestamp.sh <tuban> <source dir> <tsa_local>
set -uo pipefail
tuban=${1:?tuban binary}
src=${2:?source dir}
tsa_local=${3:?tsa_local helper}
. "$src/tests/integration/lib.sh"
export SOURCE_DATE_EPOCH=1732060800
pids=()
[ -z "${KEEP:-}" ] || echo "work: $work"
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

# A TSA certificate (extendedKeyUsage critical timeStamping) under a throwaway CA, in dir $1.
make_tsa() {
  local d=$1
  mkdir -p "$d"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=$2 CA (throwaway)" -keyout "$d/ca.key" -out "$d/ca.crt" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    2>/dev/null || return 1
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
    -keyout "$d/tsa.key" -out "$d/tsa.csr" 2>/dev/null || return 1
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n' >"$d/ext"
  openssl x509 -req -in "$d/tsa.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -days 3650 -extfile "$d/ext" -out "$d/tsa.crt" 2>/dev/null
}
start_tsa() { # dir mode -> sets port
  rm -f "$1/port"
  "$tsa_local" serve "$1/tsa.crt" "$1/tsa.key" "$1/ca.crt" "$1/port" "$2" 2>"$1/serve.err" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$1/port" ] && break; sleep 0.1; done
  port=$(cat "$1/port")
}
with_tsa() { # office url
  sed -i "s| tsa=\"[^\"]*\"||; s|<signing |<signing tsa=\"$2\" |" "$1/office.xml"
}

make_tsa "$work/tsa" "tuban test TSA"
check "a throwaway TSA CA and certificate" test -s "$work/tsa/tsa.crt"
make_tsa "$work/rogue" "rogue TSA"
start_tsa "$work/tsa" good
good_port=$port
start_tsa "$work/rogue" good
rogue_port=$port

export TUBAN_SAMPLE_CA=$work/ca
office=$work/bureau
sample_office "$office"
bash "$src/scripts/make-sample-keys.sh" "$office" "示例县自然资源局" 2>/dev/null
with_tsa "$office" "http://127.0.0.1:$good_port/tsa"
township=$work/township
sample_office "$township"
bash "$src/scripts/make-sample-keys.sh" "$township" "示例县城关镇人民政府" 2>/dev/null
with_tsa "$township" "http://127.0.0.1:$good_port/tsa"
cat "$work/ca/ca.crt" "$work/tsa/ca.crt" >"$work/trust.pem"

render() { # office (--out dir | --db store)
  local o=$1
  shift
  "$tuban" render notice --office "$o" --imagery "$src/samples/basemap.tif" --date 2024-11-20 \
    --patches "$src/samples/patches.gpkg" --jobs 1 "$@" >/dev/null 2>"$work/render.err"
}
verify() { # file [trust]
  "$tuban" verify "$1" --office "$office" --trust "${2:-$work/trust.pem}" >"$work/verify.out" 2>&1
}
refused() { # what needle file [trust]
  verify "$3" "${4:-}"
  local rc=$?
  if [ $rc -eq 1 ] && grep -qF -- "$2" "$work/verify.out"; then ok "$1"; else
    fail "$1 (exit $rc: $(cat "$work/verify.out"))"; fi
}

render "$office" --out "$work/out"
check "the bureau renders with its TSA" test -s "$work/out/notice-139901001.pdf"
doc=$work/out/notice-139901001.pdf
other=$work/out/notice-139901100.pdf
verify "$doc"
check "tuban verify: valid with the TSA's CA in the trust file (exit 0)" test $? -eq 0
check "tuban verify names the time stamp and that the TSA is trusted" \
  grep -q "time-stamped 20[0-9-]* [0-9:]*Z (RFC 3161 token over the signature value, TSA trusted" "$work/verify.out"
sig=$(pdfsig "$doc" 2>&1)
check "pdfsig: signature valid" grep -q "Signature is Valid" <<<"$sig"
check "pdfsig: total document signed" grep -q "Total document signed" <<<"$sig"
check "openssl cms -verify over the ByteRange bytes" \
  sh "$src/tests/integration/check_signature.sh" "$doc" "$work/ca/ca.crt"
check "qpdf --check clean" qpdf --check "$doc"
imprint=$("$tsa_local" token "$doc" "$work/token.der")
check "the token is extracted from the signature's unsigned attributes" test -s "$work/token.der"
check "openssl ts -verify: the token is over SHA-256 of the signature value, by the TSA" \
  bash -c "openssl ts -verify -in '$work/token.der' -token_in -digest '$imprint' \
    -CAfile '$work/tsa/ca.crt' -untrusted '$work/tsa/tsa.crt' 2>&1 | grep -q 'Verification: OK'"
check "openssl ts -verify refuses the token for another imprint" \
  bash -c "! openssl ts -verify -in '$work/token.der' -token_in \
    -digest '$(printf '%064d' 0)' -CAfile '$work/tsa/ca.crt' -untrusted '$work/tsa/tsa.crt' 2>&1 | grep -q 'Verification: OK'"
check "openssl ts -reply -text: the token's policy is the local TSA's" \
  bash -c "openssl ts -reply -in '$work/token.der' -token_in -text 2>/dev/null | grep -q '1.3.6.1.4.1.99999.1'"

# --- attacks on the token ---------------------------------------------------------------------
"$tsa_local" graft "$other" "$doc" "$work/grafted.pdf"
check "grafted file: the signature itself is untouched (openssl cms -verify still passes)" \
  sh "$src/tests/integration/check_signature.sh" "$work/grafted.pdf" "$work/ca/ca.crt"
refused "a token taken from another signature is refused" \
  "the time-stamp token is for other data, not this signature" "$work/grafted.pdf"
check "… and named as a failed time stamp" grep -q "FAILED: a time stamp does not verify" "$work/verify.out"
"$tsa_local" tamper "$doc" "$work/tampered.pdf"
refused "a token whose genTime was changed is refused" "time stamp NOT VALID" "$work/tampered.pdf"
refused "a TSA whose CA is not in the trust file is refused" \
  "the time-stamp authority's certificate is not trusted" "$doc" "$work/ca/ca.crt"
rogue_office=$work/bureau-rogue
cp -r "$office" "$rogue_office"
with_tsa "$rogue_office" "http://127.0.0.1:$rogue_port/tsa"
render "$rogue_office" --out "$work/rogue-out"
refused "a token from a TSA under another CA is refused" \
  "the time-stamp authority's certificate is not trusted" "$work/rogue-out/notice-139901001.pdf"

# --- countersigning with a time stamp -----------------------------------------------------------
"$tuban" sign --office "$township" "$doc" --out "$work/counter.pdf" >/dev/null 2>"$work/sign.err"
check "the township countersigns with its TSA" test -s "$work/counter.pdf"
verify "$work/counter.pdf"
check "countersigned: tuban verify exits 0" test $? -eq 0
check "countersigned: both signatures time-stamped" \
  test "$(grep -c "time-stamped" "$work/verify.out")" -eq 2
sig=$(pdfsig "$work/counter.pdf" 2>&1)
check "countersigned: pdfsig finds both signatures valid" \
  test "$(grep -c "Signature is Valid" <<<"$sig")" -eq 2
check "countersigned: qpdf --check clean" qpdf --check "$work/counter.pdf"

# --- the time a chain is checked at: the token's genTime when there is one, else /M -----------
# The signer's certificate is valid in 2024 only.  The document claims /M 2024-11-20 (inside);
# the local TSA stamps the real time, after 2024.  Without a token the chain holds at /M, though
# the certificate has expired by now; with one it is checked at genTime, when it had expired.
y2024=$work/bureau-2024
sample_office "$y2024"
TUBAN_SAMPLE_VALIDITY="20240101000000Z 20241231235959Z" \
  bash "$src/scripts/make-sample-keys.sh" "$y2024" "示例县自然资源局" 2>/dev/null
check "the 2024-only certificate has expired by now (openssl verify, at the current time)" \
  bash -c "openssl verify -CAfile '$work/ca/ca.crt' '$y2024/keys/office.crt' 2>&1 | grep -q 'certificate has expired'"
check "... and held on 2024-11-20 (openssl verify -attime)" \
  openssl verify -attime 1732060800 -CAfile "$work/ca/ca.crt" "$y2024/keys/office.crt"
verify_at() { # file
  "$tuban" verify "$1" --office "$y2024" --trust "$work/trust.pem" >"$work/verify.out" 2>&1
}
render "$y2024" --out "$work/y2024-bb"
verify_at "$work/y2024-bb/notice-139901001.pdf"
check "B-B (no token): the chain is checked at /M 2024-11-20, valid (exit 0)" test $? -eq 0
check "... the report names that time" grep -q "signed 2024-11-20 00:00:00Z): valid" "$work/verify.out"
with_tsa "$y2024" "http://127.0.0.1:$good_port/tsa"
render "$y2024" --out "$work/y2024-bt"
check "B-T: signing at /M 2024-11-20 succeeds (the claim is inside the validity)" \
  test -s "$work/y2024-bt/notice-139901001.pdf"
verify_at "$work/y2024-bt/notice-139901001.pdf"
check "B-T: the same signer checked at the token's genTime (after 2024) is refused (exit 1)" \
  test $? -eq 1
check "... because the certificate had expired at genTime" \
  grep -q "does not chain to the trust anchor at the signing time: certificate has expired" \
  "$work/verify.out"
check "... the token itself is valid (the time stamp is not what failed)" \
  bash -c "grep -q 'time-stamped 20[0-9-]* [0-9:]*Z (RFC 3161 token over the signature value, TSA trusted' '$work/verify.out' && ! grep -q 'FAILED: a time stamp' '$work/verify.out'"
check "... pdfsig still finds the signature itself valid (cryptographically)" \
  bash -c "pdfsig '$work/y2024-bt/notice-139901001.pdf' 2>&1 | grep -q 'Signature is Valid'"

# --- the TSA fails: nothing is issued ------------------------------------------------------------
db=$work/tuban.db
arch=$work/archive/sample-office/2024/示自然资发
issue() { render "$1" --db "$db"; }
down=$work/bureau-down
cp -r "$office" "$down"
# A port nobody listens on: bind one, note it, close it.
dead_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
with_tsa "$down" "http://127.0.0.1:$dead_port/tsa"
issue "$down"
rc=$?
check "TSA unreachable: the issue fails with exit 1 (exit $rc)" test $rc -eq 1
check "… naming the TSA" grep -q "time-stamp authority http://127.0.0.1:$dead_port/tsa" "$work/render.err"
check "… and nothing is registered" \
  test "$(sqlite3 "$db" "SELECT count(*) FROM registry" 2>/dev/null || echo 0)" = 0
check "… and no file is archived" \
  test -z "$(ls -A "$arch" 2>/dev/null)"
start_tsa "$work/tsa" refuse
with_tsa "$down" "http://127.0.0.1:$port/tsa"
issue "$down"
rc=$?
check "TSA refuses (status rejection): exit 1 ($rc), saying it refused" \
  bash -c "test $rc -eq 1 && grep -q 'refused the request (status 2' '$work/render.err'"
start_tsa "$work/tsa" other
with_tsa "$down" "http://127.0.0.1:$port/tsa"
issue "$down"
rc=$?
check "TSA answers for other data: exit 1 ($rc), the token refused at signing" \
  bash -c "test $rc -eq 1 && grep -q 'the token does not answer our request' '$work/render.err'"
check "… and still nothing registered" \
  test "$(sqlite3 "$db" "SELECT count(*) FROM registry" 2>/dev/null || echo 0)" = 0
issue "$office"
check "with the TSA back, the issue starts at number 1 (none lost)" \
  test "$(sqlite3 "$db" "SELECT group_concat(number, ' ') FROM registry")" = "1 2 3"
check "archive check agrees" "$tuban" archive check --db "$db"
verify "$arch/1.pdf"
check "the issued 1.pdf is time-stamped and valid" \
  bash -c "test $? -eq 0 && grep -q time-stamped '$work/verify.out'"
finish
