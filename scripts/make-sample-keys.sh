#!/usr/bin/env bash
# Makes a throwaway CA and a signing key + certificate for a SAMPLE office, in <office>/keys/.
# For samples and tests only: real offices bring keys issued by their CA.  Never commit keys/.
# Idempotent: existing keys are kept.
set -euo pipefail
office=${1:?usage: make-sample-keys.sh <office dir> [common name]}
name=${2:-示例县自然资源局（样章）}
keys="$office/keys"
if [ -f "$keys/office.key" ] && [ -f "$keys/office.crt" ] && [ -f "$keys/ca.crt" ]; then
  exit 0
fi
mkdir -p "$keys"
chmod 700 "$keys"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -subj "/CN=tuban sample CA (throwaway)/O=tuban samples" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$tmp/ca.key" -out "$keys/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=$name/O=tuban samples" -utf8 -keyout "$keys/office.key" -out "$tmp/office.csr" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection,1.3.6.1.4.1.311.10.3.12\n' > "$tmp/ext"
openssl x509 -req -in "$tmp/office.csr" -CA "$keys/ca.crt" -CAkey "$tmp/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
  -days 1825 -extfile "$tmp/ext" -out "$keys/office.crt" 2>/dev/null
chmod 600 "$keys/office.key"
chmod 644 "$keys/office.crt" "$keys/ca.crt"
echo "sample keys: $keys (throwaway CA; the CA's private key was discarded)" >&2
