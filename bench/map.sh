#!/usr/bin/env bash
# Map frames from large imagery: one 120 x 90 mm frame at 200 dpi (945 x 709 px) per page from
# tiled, JPEG-compressed COGs with overviews, made here from the sample image (20,000 x 20,000 px
# and, to show that memory does not follow the raster's size, 5,000 x 5,000 px over the same
# ground).  Side by side, in the same run: GDALTranslate in the same process (bench_map) and the
# `gdal_translate -projwin … -outsize 945 709 -of JPEG` command (start-up included) producing the
# same windows.  Prints median ms per frame and peak RSS.
# Usage: bench/map.sh [build dir] [frames]      (the set-up takes a minute; kept in $TMPDIR)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-90}
dir=${TMPDIR:-/tmp}/tuban-bench-map
mkdir -p "$dir"
# Sample extent (EPSG:4548), see samples/README.md.
ullr="507100 3898300 511150 3895300"
for size in 20000 5000; do
  cog=$dir/cog-$size.tif
  if [ ! -s "$cog" ]; then
    echo "set-up: $cog ($size x $size px, JPEG, overviews)" >&2
    gdal_translate -q -of COG -outsize "$size" "$size" -r bilinear -a_srs EPSG:4548 -a_ullr $ullr \
      -co COMPRESS=JPEG -co QUALITY=80 -co BLOCKSIZE=512 -co OVERVIEWS=IGNORE_EXISTING \
      --config GDAL_NUM_THREADS 2 samples/basemap.tif "$cog"
  fi
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
for size in 20000 5000; do
  cog=$dir/cog-$size.tif
  echo "== $size x $size px COG: $(du -h "$cog" | cut -f1) =="
  /usr/bin/time -f "tuban peak RSS (whole process): %M KB" "$build/bench/bench_map" "$cog" "$n" \
    >"$dir/frames.txt" 2>"$dir/time.txt"
  grep -v '^projwin' "$dir/frames.txt"
  cat "$dir/time.txt"
  : >"$dir/gt.ms"
  peak=0
  while read -r _ ulx uly lrx lry; do
    t0=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$dir/gt.rss" gdal_translate -q -of JPEG -co QUALITY=85 \
      -projwin "$ulx" "$uly" "$lrx" "$lry" -outsize 945 709 -r bilinear "$cog" "$dir/window.jpg"
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000)) >>"$dir/gt.ms"
    rss=$(cat "$dir/gt.rss"); [ "$rss" -gt "$peak" ] && peak=$rss
  done < <(grep '^projwin' "$dir/frames.txt")
  printf 'gdal_translate -projwin -outsize 945 709 -of JPEG, same %d windows: median %.1f ms; peak RSS %d KB\n' \
    "$n" "$(median <"$dir/gt.ms" | awk '{print $1 / 1000}')" "$peak"
done
