#!/bin/bash
# Import benchmark: `tuban import` against `ogr2ogr -f SQLite` (the floor: GDAL reading the same
# GeoPackage and writing SQLite, with no checks), side by side on the same file.
#
#   bench/import/run.sh [build dir] [N]       (defaults: build 100000)
#
# Generates N synthetic patches (bench/import/make_patches.py, cached in $TUBAN_BENCH_DIR,
# default /tmp/tuban-bench-import), then runs each tool 3 times, alternating, into a fresh output
# each time, measuring wall clock and peak RSS with /usr/bin/time.  Prints the medians, patches/s
# and the ratio tuban/ogr2ogr; then tuban import of 10000 and N patches, to show that memory does
# not grow with N beyond the duplicate-id index (TUBAN_BENCH_SIZES="10000 100000 300000" to choose
# the sizes).  Use a RelWithDebInfo build without sanitizers.
set -euo pipefail

build=${1:-build}
n=${2:-100000}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tuban=$(cd "$build" && pwd)/src/cli/tuban
data=${TUBAN_BENCH_DIR:-/tmp/tuban-bench-import}
python=/usr/bin/python3 # Debian's, with python3-gdal
runs=3

[ -x "$tuban" ] || { echo "run.sh: no tuban binary at $tuban (build first)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "run.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
command -v ogr2ogr >/dev/null || { echo "run.sh: needs ogr2ogr (gdal-bin)" >&2; exit 2; }
if grep -q 'fsanitize' "$build/CMakeCache.txt" 2>/dev/null &&
   grep -q '^TUBAN_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
    echo "run.sh: warning: $build is a sanitizer build; figures will be meaningless" >&2
fi

mkdir -p "$data"
gen() { # gen N -> path of the cached GeoPackage
    local f="$data/patches-$1.gpkg"
    if [ ! -s "$f" ]; then
        echo "generating $1 patches -> $f" >&2
        "$python" "$here/make_patches.py" "$f.tmp.gpkg" "$1" >&2
        mv "$f.tmp.gpkg" "$f"
    fi
    echo "$f"
}
file=$(gen "$n")
work=$(mktemp -d "${TMPDIR:-/tmp}/tuban-bench-import.XXXXXX")
trap 'rm -rf "$work"' EXIT

# measure <label> <command...>: runs once, appends "label seconds kbytes" to $work/times.
measure() {
    local label=$1; shift
    local status=0
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >"$work/out" 2>"$work/err" || status=$?
    if [ $status -ne 0 ]; then
        echo "run.sh: $label failed (exit $status):" >&2
        tail -20 "$work/err" "$work/out" >&2
        exit 1
    fi
    echo "$label $(tail -1 "$work/t")" >>"$work/times"
}
ogr_once() {
    rm -f "$work/out.sqlite"
    measure "$1" ogr2ogr -f SQLite "$work/out.sqlite" "$2"
}
tuban_once() {
    rm -f "$work/store.db" "$work/store.db-wal" "$work/store.db-shm" "$work/store.db-journal"
    measure "$1" "$tuban" import "$2" --db "$work/store.db"
}
median() { # median <label> <column: 2 = seconds, 3 = KB>
    awk -v l="$1" -v c="$2" '$1 == l { print $c }' "$work/times" | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

: >"$work/times"
echo "== $n patches: $(basename "$file") ($(du -h "$file" | cut -f1)), $runs runs each, alternating" >&2
for i in $(seq $runs); do
    ogr_once ogr2ogr "$file"
    tuban_once tuban "$file"
    echo "   run $i: $(grep -E '^(ogr2ogr|tuban) ' "$work/times" | tail -2 | tr '\n' ' ')" >&2
done
imported=$(grep -Eo '[0-9]+ new' "$work/out" | head -1 || true)

o_s=$(median ogr2ogr 2); o_kb=$(median ogr2ogr 3)
t_s=$(median tuban 2); t_kb=$(median tuban 3)
echo
echo "import of $n patches (GeoPackage, EPSG:4490), median of $runs runs${imported:+; tuban: $imported}"
printf '%-30s %10s %12s %12s\n' "tool" "seconds" "patches/s" "peak RSS MB"
row() { awk -v t="$1" -v s="$2" -v kb="$3" -v n="$n" \
        'BEGIN { printf "%-30s %10.2f %12.0f %12.1f\n", t, s, (s > 0 ? n / s : 0), kb / 1024 }'; }
row "ogr2ogr -f SQLite" "$o_s" "$o_kb"
row "tuban import" "$t_s" "$t_kb"
awk -v a="$t_s" -v b="$o_s" -v ka="$t_kb" -v kb="$o_kb" \
    'BEGIN { printf "%-30s %10.2fx %12s %11.2fx\n", "ratio tuban / ogr2ogr", (b > 0 ? a / b : 0), "", (kb > 0 ? ka / kb : 0) }'

# Memory against N: one import each of 10000 and N patches (or $TUBAN_BENCH_SIZES).
echo
echo "tuban import: peak RSS against N"
printf '%-10s %10s %12s %12s\n' "N" "seconds" "patches/s" "peak RSS MB"
for m in $(printf '%s\n' ${TUBAN_BENCH_SIZES:-10000 $n} | sort -un); do
    f=$(gen "$m")
    tuban_once "scale$m" "$f"
    awk -v m="$m" -v l="scale$m" '$1 == l { printf "%-10d %10.2f %12.0f %12.1f\n", m, $2, ($2 > 0 ? m / $2 : 0), $3 / 1024 }' "$work/times"
done
