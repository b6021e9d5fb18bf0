#!/usr/bin/env bash
# Issue 11's figures in one go, side by side in one run on this machine:
#   1. the floor of ../shared/floor (a bare Cairo+Pango+GDAL program), tuban --jobs 1 and tuban
#      with one worker per core on compare.sh's 50 one-patch notices, in one hyperfine run;
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

# 1. The floor, tuban --jobs 1 and tuban --jobs N on compare.sh's inputs, in ONE hyperfine run
#    (interleaved warm-ups, same load), then each one's peak RSS.  The floor is built and run as
#    compare.sh does it (its fonts.conf, which the tuban runs see too).
pkgs="cairo pango pangocairo gdal"
# shellcheck disable=SC2046
${CC:-cc} -O2 $(pkg-config --cflags $pkgs) -o "$work/floorbin" "$floor_dir/floor.c" \
  $(pkg-config --libs $pkgs) -ljpeg -lm
export FONTCONFIG_FILE=$floor_dir/fonts.conf
floor="$work/floorbin $floor_dir/data/L7_rgb.tif $floor_dir/data/patches.geojson $work/o-floor"
tb="$tuban render notice --office $office --patches $floor_dir/data/notices50.gpkg --imagery $floor_dir/data/L7_rgb.tif"
echo "== 50 one-patch notices, side by side (load average $(cut -d' ' -f1-3 /proc/loadavg))"
hyperfine -N --runs "$runs" --warmup 1 --prepare "rm -rf $work/o-floor $work/o-j1 $work/o-jn" \
  --export-json "$work/c.json" "$floor" "$tb --jobs 1 --out $work/o-j1" \
  "$tb --jobs $cores --out $work/o-jn" >/dev/null
rss=()
for cmd in "$floor" "$tb --jobs 1 --out $work/o-j1" "$tb --jobs $cores --out $work/o-jn"; do
  rm -rf "$work/o-floor" "$work/o-j1" "$work/o-jn"
  # shellcheck disable=SC2086
  /usr/bin/time -f "%M" -o "$work/rss" $cmd >/dev/null
  rss+=("$(cat "$work/rss")")
done
python3 - "$work/c.json" "$cores" "${rss[@]}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
names = ["floor", "tuban --jobs 1", "tuban --jobs %s" % sys.argv[2]]
floor = r[0]["median"]
print("%-16s %9s %9s %11s %10s %12s" % ("", "median s", "notices/s", "x floor", "user s", "peak RSS MB"))
for name, x, kb in zip(names, r, sys.argv[3:]):
    print("%-16s %9.3f %9.1f %11.2f %10.2f %12.1f" % (name, x["median"], 50 / x["median"],
          x["median"] / floor, x["user"], int(kb) / 1024))
PY
unset FONTCONFIG_FILE

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
echo "== peak RSS by batch size (--jobs $cores; load average $(cut -d' ' -f1-3 /proc/loadavg))"
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
echo "== core scaling, 200 notices (load average $(cut -d' ' -f1-3 /proc/loadavg))"
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
