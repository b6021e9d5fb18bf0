#!/usr/bin/env bash
# Publishing a batch: a run that fails while publishing its documents leaves the output folder as
# it found it — previous versions back in place, no new file, no temporary left behind; and the
# documents are the same bytes whatever the number of workers.
# Usage: publish.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=${2:?source dir}
. "$src/tests/integration/lib.sh"

cp -r "$src/templates" "$work/templates"
rm -rf "$work/templates/sample-office/keys"
office=$work/templates/sample-office
sed -i "s|\.\./\.\./samples/|$src/samples/|" "$office/imagery.xml"
bash "$src/scripts/make-sample-keys.sh" "$office" 2>/dev/null
export SOURCE_DATE_EPOCH=1732060800
render() { "$tuban" render notice --office "$office" --imagery "$src/samples/basemap.tif" \
           --date 2024-11-20 --patches "$src/samples/patches.gpkg" --out "$out" "$@"; }

out=$work/out
render >"$work/paths" 2>"$work/err"
check "a first run publishes the three notices" test "$(wc -l <"$work/paths")" -eq 3
first=$(head -1 "$work/paths") last=$(tail -1 "$work/paths") middle=$(sed -n 2p "$work/paths")

# The folder before the failing run: an old first notice, no middle one, and the last notice's
# name taken by a non-empty directory, so its rename must fail after the first was published.
printf 'OLD VERSION\n' >"$first"
rm -f "$middle" "$last"
mkdir -p "$last/keep"
before=$(cd "$out" && find . -printf '%p %s\n' | sort)
render >"$work/paths2" 2>"$work/err2"
rc=$?
check "the run fails while working (exit 1)" test "$rc" -eq 1
check "the message names the file that could not be published" grep -qF "$(basename "$last")" "$work/err2"
check "no path is printed for a set that was not published" test ! -s "$work/paths2"
check "the old first notice is back, unchanged" grep -qx 'OLD VERSION' "$first"
check "the middle notice was not left published" test ! -e "$middle"
after=$(cd "$out" && find . -printf '%p %s\n' | sort)
if [ "$before" = "$after" ]; then ok "the folder is exactly as before (no temporary, no backup)"
else fail "the folder changed: $(diff <(echo "$before") <(echo "$after") | tr '\n' ' ')"; fi

# And the same folder, once the obstacle is gone, takes the whole set.
rm -rf "$last"
render >"$work/paths3" 2>"$work/err3"
check "after the obstacle is removed the set is published" test "$(wc -l <"$work/paths3")" -eq 3
check "the first notice is the new one" bash -c "head -c 5 '$first' | grep -q '%PDF-'"

# ECDSA signatures are randomised (OpenSSL 3.0 has no RFC 6979 nonces), so two runs differ in the
# signature values alone: compare the files with every /Contents string blanked, i.e. exactly the
# bytes the signatures cover.
same_signed_bytes() {
  python3 - "$1" "$2" <<'PY'
import re, sys
blank = lambda b: re.sub(rb'/Contents <[0-9A-Fa-f]*>', lambda m: b'0' * len(m.group(0)), b)
a, b = (blank(open(p, 'rb').read()) for p in sys.argv[1:3])
sys.exit(0 if a == b else 1)
PY
}
# Workers: --jobs 2 writes byte for byte what --jobs 1 writes (so every check made on one-worker
# output holds for two), and a patch set with more documents than workers is shared out.
out=$work/j1; render --jobs 1 >"$work/p1" 2>&1
check "--jobs 1 renders" test "$(wc -l <"$work/p1")" -eq 3
out=$work/j2; render --jobs 2 >"$work/p2" 2>&1
check "--jobs 2 renders the same files, in the same order" \
  diff <(sed 's|.*/||' "$work/p1") <(sed 's|.*/||' "$work/p2")
for f in "$work"/j1/*.pdf; do
  check "--jobs 2 is byte-identical but for the signature values: $(basename "$f")" \
    same_signed_bytes "$f" "$work/j2/$(basename "$f")"
done
cp "$f" "$work/x.pdf"; printf 'X' | dd of="$work/x.pdf" bs=1 seek=2000 conv=notrunc 2>/dev/null
if same_signed_bytes "$f" "$work/x.pdf"; then fail "the comparison misses a changed byte"
else ok "...and that comparison does see one changed byte"; fi
out=$work/j8; render --jobs 8 >/dev/null 2>&1
for f in "$work"/j1/*.pdf; do
  check "--jobs 8 (more workers than documents): $(basename "$f")" \
    same_signed_bytes "$f" "$work/j8/$(basename "$f")"
done
"$tuban" render notice --jobs 0 --office "$office" --patches "$src/samples/patches.gpkg" \
  --out "$work/j0" >/dev/null 2>&1
check "--jobs 0 is refused (exit 2)" test $? -eq 2
finish
