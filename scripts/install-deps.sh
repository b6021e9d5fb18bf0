#!/usr/bin/env bash
# Installs the Debian 12 packages tuban needs to build, run and test.  Idempotent; run as root.
set -euo pipefail
packages=(
  # build
  build-essential cmake pkg-config clang libclang-rt-14-dev
  # libraries (DESIGN §3): Cairo + Pango, GDAL/OGR + PROJ, libxml2, OpenSSL 3, SQLite, cmocka
  libcairo2-dev libpango1.0-dev libgdal-dev libproj-dev libxml2-dev libssl-dev libsqlite3-dev
  libcmocka-dev libjansson-dev libxlsxwriter-dev zlib1g-dev libqrencode-dev
  # RFC 3161 time stamps over HTTP (libgdal-dev already pulls in a libcurl -dev)
  libcurl4-openssl-dev
  # ICU: the dictionary word boundaries titles are broken at (src/layout/textline.c)
  libicu-dev
  # the daemon (src/server): libmicrohttpd; curl drives it in the tests
  libmicrohttpd-dev curl
  # fonts: TeX Live's Fandol (the default roles); Noto CJK for the seal script and map tests
  fonts-noto-cjk texlive-lang-chinese
  # run-time tools and the independent checkers the tests use
  openssl gdal-bin qpdf poppler-utils python3 python3-yaml sqlite3 unzip
  # regenerating the committed samples (scripts/make_samples.py, make_map_samples.py)
  python3-gdal python3-numpy python3-pil
  # zbarimg: the tests scan the QR code of issued documents from pdftoppm's pictures
  zbar-tools
  # bench/speed.sh and ../shared/floor/compare.sh time runs side by side with it (not CI)
  hyperfine
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
