#!/usr/bin/env bash
# The first of the README's two commands: installs what tuban needs, builds it, makes throwaway
# keys for the sample office, and renders the sample notices into out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo ${TUBAN_CMAKE_ARGS:-}
cmake --build build -j"$(nproc)"
bash scripts/make-sample-keys.sh templates/sample-office
mkdir -p out
rm -rf out/tuban.db out/tuban.db-wal out/tuban.db-shm out/archive # a fresh store: a fresh archive
echo "Importing the sample patches into the store out/tuban.db:"
./build/src/cli/tuban import samples/patches.gpkg --db out/tuban.db --report out/import-report.json \
  --at 2025-01-05
# The townships' reported progress since (samples/history.csv), for the monthly reports.
tail -n +2 samples/history.csv | while IFS=, read -r id status date by note; do
  ./build/src/cli/tuban patch set "$id" --status "$status" --db out/tuban.db --at "$date" \
    --by "$by" --note "$note" >/dev/null
done
echo "Applied $(($(wc -l <samples/history.csv) - 1)) status changes from samples/history.csv."
echo "Rendering the sample notices (整改通知书) into out/:"
./build/src/cli/tuban render notice --office templates/sample-office \
  --patches samples/patches.gpkg --out out
echo "Issuing the March 2025 monthly reports (月报, 截至20日) from the store (archive out/archive/, copies in out/):"
./build/src/cli/tuban render monthly --office templates/sample-office --db out/tuban.db \
  --month 2025-03 --date 2025-03-25 --out out
echo "Issuing the statistical tables (统计表) as of 2025-03-20 from the store (the workbook and copies in out/):"
./build/src/cli/tuban render tables --office templates/sample-office --db out/tuban.db \
  --date 2025-03-20 --out out
