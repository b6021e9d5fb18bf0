#!/bin/sh
# check_signature.sh PDF CA_PEM
#
# Independent check of the signatures tuban writes, with standard tools only (python3, openssl):
# finds every /ByteRange [a b c d] in the raw file, takes the /Contents hex string in the gap,
# and runs `openssl cms -verify` on the DER CMS with the two byte ranges as detached content,
# trusting only CA_PEM (any key purpose).  Also requires the last signature to cover the whole
# file.  Exits 0 when every signature verifies, 1 when one does not, 2 on usage errors.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 PDF CA_PEM" >&2
    exit 2
fi
pdf=$1
ca=$2
for f in "$pdf" "$ca"; do
    if [ ! -r "$f" ]; then
        echo "$0: cannot read $f" >&2
        exit 2
    fi
done
command -v openssl >/dev/null || { echo "$0: openssl not found" >&2; exit 2; }
command -v python3 >/dev/null || { echo "$0: python3 not found" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/check_signature.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# Extract sigN.der + signedN.bin for each signature; prints the count, or fails.
count=$(python3 - "$pdf" "$work" <<'PY'
import re, sys
pdf, work = sys.argv[1], sys.argv[2]
data = open(pdf, "rb").read()
n = 0
last_end = 0
for m in re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data):
    a0, a1, b0, b1 = (int(x) for x in m.groups())
    if a0 != 0 or a1 >= b0 or b0 + b1 > len(data):
        sys.exit("signature %d: bad /ByteRange %r" % (n + 1, m.group(0)))
    gap = data[a1:b0]
    if not (gap.startswith(b"<") and gap.endswith(b">")):
        sys.exit("signature %d: the gap in /ByteRange is not a hex string" % (n + 1))
    der = bytes.fromhex(re.sub(rb"\s", b"", gap[1:-1]).decode("ascii"))
    if len(der) < 2 or der[0] != 0x30:
        sys.exit("signature %d: /Contents is not DER" % (n + 1))
    if der[1] < 0x80:
        size = 2 + der[1]
    else:
        k = der[1] & 0x7F
        size = 2 + k + int.from_bytes(der[2:2 + k], "big")
    n += 1
    open("%s/sig%d.der" % (work, n), "wb").write(der[:size])
    open("%s/signed%d.bin" % (work, n), "wb").write(data[:a1] + data[b0:b0 + b1])
    last_end = max(last_end, b0 + b1)
if n == 0:
    sys.exit("no signatures found")
if last_end != len(data):
    sys.exit("the last signature covers %d of %d bytes: file changed after signing"
             % (last_end, len(data)))
print(n)
PY
) || { echo "$0: $pdf: FAILED" >&2; exit 1; }

status=0
i=1
while [ "$i" -le "$count" ]; do
    if openssl cms -verify -binary -inform DER -in "$work/sig$i.der" \
        -content "$work/signed$i.bin" -CAfile "$ca" -purpose any -out /dev/null 2>"$work/err"; then
        echo "signature $i: OK"
    else
        echo "signature $i: FAILED: $(cat "$work/err")" >&2
        status=1
    fi
    i=$((i + 1))
done
exit $status
