#!/usr/bin/env bash
# Prints the notice-rendering figures: in-process throughput and peak RSS (bench_notices), and
# the whole CLI run on the samples (start-up included), side by side in one run.
# Usage: bench/run.sh [build dir] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-50}
bash scripts/make-sample-keys.sh templates/sample-office
echo "== in process: $n notices =="
"$build/bench/bench_notices" "$n"
echo "== CLI: tuban render notice on the samples (3 notices, 5 runs) =="
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%e s wall, %M KB peak RSS" "$build/src/cli/tuban" render notice \
    --office templates/sample-office --patches samples/patches.gpkg --out "$out" >/dev/null
done
echo "== signing and verifying (bench_sign): share of rendering, documents/s, linearity =="
"$build/bench/bench_sign" 20
echo "== typesetting: a 20-page text-and-table report, tuban against a bare Cairo+Pango floor =="
"$build/bench/bench_typeset" 15
