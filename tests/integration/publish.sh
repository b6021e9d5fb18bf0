#!/usr/bin/env bash
# All or nothing, really: a run that fails while publishing its documents leaves the output folder
# as it found it — previous versions back in place, no new file, no temporary left behind.
# Usage: publish.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=${2:?source dir}
. "$src/tests/integration/lib.sh"

cp -r "$src/templates" "$work/templates"
rm -rf "$work/templates/sample-office/keys"
office=$work/templates/sample-office
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
finish
