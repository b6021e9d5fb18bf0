#!/usr/bin/env bash
# Issue 11's figures in one go, side by side in one run on this machine:
#   1. ../shared/floor/compare.sh (tuban vs a bare Cairo+Pango+GDAL program, 50 one-patch
#      notices) with tuban forced to one worker, then with one worker per core;
#   2. peak RSS by batch size (10, 50, 200, 1000 notices) — memory must stay flat;
#   3. core scaling: a 200-notice batch, --jobs 1 against --jobs N.
# Usage: bench/speed.sh [build dir] [runs]   (needs hyperfine; not run by CI: timings are noisy)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${2:-5}
tuban=$(realpath "$build/src/cli/tuban")
floor_dir=$(realpath ../shared/floor)
office=templates/sample-office
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cores=$(nproc)

# compare.sh runs "tuban render notice …": wrappers pin the number of workers.
for j in 1 "$cores"; do
  printf '#!/bin/sh\nexec %s "$@" --jobs %s\n' "$tuban" "$j" >"$work/tuban-j$j"
  chmod +x "$work/tuban-j$j"
  echo "== compare.sh, tuban --jobs $j"
  bash "$floor_dir/compare.sh" "$work/tuban-j$j" "$office" "$runs"
done

# Batches of n one-patch notices: the floor's 50 patches, repeated with new ids and townships.
make_batch() {
  local n=$1 reps=$(( ($1 + 49) / 50 )) sql="" k
  for k in $(seq 1 "$reps"); do
    [ -n "$sql" ] && sql="$sql UNION ALL "
    sql="${sql}SELECT geom, JCBH || '-$k' AS JCBH, NF, XZQDM || printf('%03d', $k) AS XZQDM, '$k' || XZQMC AS XZQMC, JCMJ, JCGDMJ, YJJBNTMJ, PDJG, WFLX, ZGCS, ZGZT, ZGQX FROM p50"
  done
  ogr2ogr -f GPKG "$work/b$n.gpkg" "$floor_dir/data/notices50.gpkg" -dialect SQLite \
    -sql "SELECT * FROM ($sql) LIMIT $n" -nln patches 2>/dev/null
}
echo
echo "== peak RSS by batch size (--jobs $cores)"
printf '%8s %10s %12s\n' notices seconds "peak RSS MB"
for n in 10 50 200 1000; do
  make_batch "$n"
  rm -rf "$work/out"
  /usr/bin/time -f "%e %M" -o "$work/t" "$tuban" render notice --office "$office" \
    --patches "$work/b$n.gpkg" --imagery "$floor_dir/data/L7_rgb.tif" --out "$work/out" >/dev/null
  read -r secs kb <"$work/t"
  awk -v n="$n" -v s="$secs" -v kb="$kb" 'BEGIN { printf "%8s %10s %12.1f\n", n, s, kb / 1024 }'
done

echo
echo "== core scaling, 200 notices"
hyperfine -N --runs "$runs" --warmup 1 --prepare "rm -rf $work/out" --export-json "$work/s.json" \
  "$tuban render notice --jobs 1 --office $office --patches $work/b200.gpkg --imagery $floor_dir/data/L7_rgb.tif --out $work/out" \
  "$tuban render notice --jobs $cores --office $office --patches $work/b200.gpkg --imagery $floor_dir/data/L7_rgb.tif --out $work/out" >/dev/null
python3 - "$work/s.json" "$cores" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
one, many = r[0]["median"], r[1]["median"]
print("--jobs 1: %.2f s (%.1f notices/s); --jobs %s: %.2f s (%.1f notices/s); speed-up %.2fx"
      % (one, 200 / one, sys.argv[2], many, 200 / many, one / many))
PY
