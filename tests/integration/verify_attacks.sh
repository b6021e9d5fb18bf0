#!/usr/bin/env bash
# `tuban verify` against attacks, and independent validators (pdfsig, openssl cms, qpdf) on what
# tuban signs: countersigning keeps the first signature valid; content edited after signing and
# then signed again is refused whoever signs (same CA, other holder; self-signed with the
# office's name); a certificate without the signing key usage is refused; stripped signatures are
# refused and take the seal with them; thousands of signature fields are answered at once.
# Usage: verify_attacks.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=${2:?source dir}
. "$src/tests/integration/lib.sh"
edit() { python3 "$src/tests/integration/pdfedit.py" "$@"; }
export SOURCE_DATE_EPOCH=1732060800

# One CA for the bureau, a township, an intruder and a certificate that may not sign.
export TUBAN_SAMPLE_CA=$work/ca
make_office() { # dir cn [key usage]
  sample_office "$1"
  TUBAN_SAMPLE_KEY_USAGE=${3:-} bash "$src/scripts/make-sample-keys.sh" "$1" "$2" 2>/dev/null
}
office=$work/bureau
make_office "$office" "示例县自然资源局"
make_office "$work/township" "示例县城关镇人民政府"
make_office "$work/intruder" "某某公司"
make_office "$work/nokeyusage" "示例县自然资源局" "critical,keyEncipherment"
ca=$work/ca/ca.crt
# Self-signed, with the bureau's name.
self=$work/selfsigned
TUBAN_SAMPLE_CA= TUBAN_SAMPLE_SELF_SIGNED=1 make_office "$self" "示例县自然资源局"
render() { # office out
  "$tuban" render notice --office "$1" --imagery "$src/samples/basemap.tif" --date 2024-11-20 \
    --patches "$src/samples/patches.gpkg" --jobs 1 --out "$2" >/dev/null 2>"$work/render.err"
}
verify() { "$tuban" verify "$@" --office "$office" >"$work/verify.out" 2>&1; }
refused() { # what needle file
  verify "$3"
  local rc=$?
  if [ $rc -eq 1 ] && grep -qF -- "$2" "$work/verify.out"; then ok "$1"; else
    fail "$1 (exit $rc: $(cat "$work/verify.out"))"; fi
}
signed_by() { "$tuban" sign --office "$1" "$2" --out "$3" >/dev/null 2>"$work/sign.err"; }

render "$office" "$work/out"
check "the bureau renders" test -f "$work/out/notice-139901001.pdf"
doc=$work/out/notice-139901001.pdf
check "tuban verify --office: valid" verify "$doc"
sig=$(pdfsig "$doc" 2>&1)
check "pdfsig: signature valid" grep -q "Signature is Valid" <<<"$sig"
check "pdfsig: total document signed" grep -q "Total document signed" <<<"$sig"
check "openssl cms -verify over the ByteRange bytes" sh "$src/tests/integration/check_signature.sh" "$doc" "$ca"

# --- countersigning -------------------------------------------------------------------------
signed_by "$work/township" "$doc" "$work/counter.pdf"
check "the township countersigns (tuban sign)" test -s "$work/counter.pdf"
check "countersigned: qpdf --check clean" qpdf --check "$work/counter.pdf"
check "countersigned: tuban verify --office (the bureau first) exits 0" verify "$work/counter.pdf"
check "countersigned: two signatures, the second adds only its field" \
  bash -c "grep -q '2 signature(s) in 3 revision(s)' '$work/verify.out' && grep -q 'revision 3: adds signature field' '$work/verify.out'"
sig=$(pdfsig "$work/counter.pdf" 2>&1)
check "countersigned: pdfsig finds both signatures valid" \
  test "$(grep -c 'Signature is Valid' <<<"$sig")" -eq 2
check "countersigned: pdfsig says the last covers the whole document" grep -q "Total document signed" <<<"$sig"
check "countersigned: openssl cms -verify accepts both" sh "$src/tests/integration/check_signature.sh" "$work/counter.pdf" "$ca"
cp "$work/counter.pdf" "$work/counter-x.pdf"
printf 'X' | dd of="$work/counter-x.pdf" bs=1 seek=1500 conv=notrunc status=none
check "a changed byte: tuban verify exits 1" bash -c "! '$tuban' verify '$work/counter-x.pdf' --office '$office' >/dev/null"
check "a changed byte: pdfsig reports an invalid signature" bash -c "! pdfsig '$work/counter-x.pdf' 2>&1 | grep -q 'Signature is Valid'"
check "a changed byte: openssl cms -verify fails" bash -c "! sh '$src/tests/integration/check_signature.sh' '$work/counter-x.pdf' '$ca' 2>/dev/null"
"$tuban" sign --office "$work/township" "$work/counter.pdf" --out "$work/counter3.pdf" >/dev/null 2>&1
check "a third signature: still valid, qpdf clean" bash -c "'$tuban' verify '$work/counter3.pdf' --office '$office' >/dev/null && qpdf --check '$work/counter3.pdf' >/dev/null"

# --- content edited after signing, then signed again ----------------------------------------
edit paint "$doc" "$work/painted.pdf"
check "the painted copy is a readable PDF (qpdf --check)" qpdf --check "$work/painted.pdf"
refused "painted, unsigned: refused" "changed after the last signature" "$work/painted.pdf"
signed_by "$work/intruder" "$work/painted.pdf" "$work/painted-intruder.pdf"
refused "painted then signed by another holder of the same CA: refused" "MODIFICATION: changes page object" "$work/painted-intruder.pdf"
signed_by "$self" "$work/painted.pdf" "$work/painted-self.pdf"
refused "painted then signed with a self-signed certificate in the office's name: refused" "MODIFICATION: changes page object" "$work/painted-self.pdf"
check "... and the self-signed signer is not trusted" grep -q "does not chain" "$work/verify.out"
render "$self" "$work/self-out"
refused "a document signed only by a self-signed certificate in the office's name: refused" "does not chain" "$work/self-out/notice-139901001.pdf"
render "$work/intruder" "$work/intruder-out"
refused "a document signed by another holder of the office's CA: not the issuing office" "FAILED: the first signer is not the issuing office" "$work/intruder-out/notice-139901001.pdf"

# --- a certificate without the signing key usage --------------------------------------------
render "$work/nokeyusage" "$work/noku"
"$tuban" verify "$work/noku/notice-139901001.pdf" --trust "$ca" >"$work/verify.out" 2>&1
rc=$?
check "signed with a keyEncipherment-only certificate: refused (exit 1)" test $rc -eq 1
check "... naming the key usage" grep -q "does not allow signing" "$work/verify.out"

# --- signatures stripped ----------------------------------------------------------------------
edit truncate "$doc" "$work/stripped.pdf"
check "truncated to before the signature: qpdf --check clean" qpdf --check "$work/stripped.pdf"
refused "signature stripped (truncated): refused" "FAILED: no signatures" "$work/stripped.pdf"
seal_page=$(pdfsig "$doc" >/dev/null 2>&1; python3 - "$doc" <<'PY'
import re, sys
d = open(sys.argv[1], "rb").read()
pages = [int(n) for n in re.findall(rb"(?m)^(\d+) 0 obj\s*<<\s*/Type /Page\b", d)]
p = int(re.findall(rb"/FT /Sig /F 132 /T \(Seal1\) /V \d+ 0 R /P (\d+) 0 R", d)[0])
order = []
for n in pages:
    if n not in order:
        order.append(n)
print(order.index(p) + 1)
PY
)
red() { pdftoppm -r 40 -f "$seal_page" -l "$seal_page" -singlefile "$1" "$work/red" && python3 -c "
import sys
d = open(sys.argv[1], 'rb').read()
parts = d.split(b'\n', 3)
px = parts[3]
print(sum(1 for i in range(0, len(px) - 2, 3) if px[i] > 180 and px[i + 1] < 90 and px[i + 2] < 90))" "$work/red.ppm"; }
check "the signed document shows the red seal on page $seal_page" test "$(red "$doc")" -gt 100
check "the stripped copy shows no seal at all" test "$(red "$work/stripped.pdf")" -eq 0
edit strip "$doc" "$work/stripped2.pdf"
refused "signature field and widget removed by an update: refused" "FAILED: no signatures" "$work/stripped2.pdf"
edit strip "$work/counter.pdf" "$work/stripped3.pdf"
refused "countersigned, then both fields removed: refused" "FAILED" "$work/stripped3.pdf"

# --- thousands of signature fields -------------------------------------------------------------
edit manysigs "$doc" "$work/flood.pdf" 3000
timeout 20 "$tuban" verify "$work/flood.pdf" --office "$office" >"$work/verify.out" 2>&1
rc=$?
check "3000 signature fields: refused as over the cap (exit 2), well within 20 s" test $rc -eq 2
check "... naming the cap" grep -q "more than 100 signature fields" "$work/verify.out"
edit manysigs "$doc" "$work/flood50.pdf" 50
timeout 20 "$tuban" verify "$work/flood50.pdf" --office "$office" >"$work/verify.out" 2>&1
check "50 forged signature fields after the real one: refused (exit 1)" test $? -eq 1
finish
