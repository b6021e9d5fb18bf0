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
rm -f out/tuban.db out/tuban.db-wal out/tuban.db-shm
echo "Importing the sample patches into the store out/tuban.db:"
./build/src/cli/tuban import samples/patches.gpkg --db out/tuban.db --report out/import-report.json
echo "Rendering the sample notices (整改通知书) into out/:"
./build/src/cli/tuban render notice --office templates/sample-office \
  --patches samples/patches.gpkg --out out
