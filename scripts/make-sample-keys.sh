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
# Valid from 2020 to 2035, so documents can be signed with a fixed SOURCE_DATE_EPOCH in the past
# (signing outside a certificate's validity is refused).  `openssl ca` is the OpenSSL 3.0 command
# that sets a start date.
# TUBAN_SAMPLE_CA=<dir>: issue from the CA kept there (made on first use, key kept) rather than a
# throwaway one, so tests can give several offices, or attackers, the same CA.
# TUBAN_SAMPLE_KEY_USAGE: the signer's keyUsage (default: digitalSignature, nonRepudiation).
# TUBAN_SAMPLE_SELF_SIGNED=1: a self-signed signer certificate (for forgery tests).
# TUBAN_SAMPLE_VALIDITY="<start> <end>" (YYYYMMDDHHMMSSZ): the signer's validity instead (for tests
# of the time a chain is checked at).
ca_dir=${TUBAN_SAMPLE_CA:-$tmp/ca}
[ -z "${TUBAN_SAMPLE_SELF_SIGNED:-}" ] || ca_dir=$tmp/self
key_usage=${TUBAN_SAMPLE_KEY_USAGE:-critical,digitalSignature,nonRepudiation}
mkdir -p "$ca_dir" "$tmp/db"
: >"$tmp/db/index.txt"
openssl rand -hex 8 >"$tmp/db/serial"
cat >"$tmp/ca.cnf" <<EOF
[ca]
default_ca = sample
[sample]
database = $tmp/db/index.txt
new_certs_dir = $tmp/db
serial = $tmp/db/serial
default_md = sha256
policy = anything
preserve = yes
unique_subject = no
[anything]
commonName = supplied
organizationName = optional
EOF
issue() { # csr out extfile [selfsign] [start end]
  local by=(-cert "$ca_dir/ca.crt")
  [ -z "${4:-}" ] || by=(-selfsign)
  openssl ca -batch -config "$tmp/ca.cnf" -utf8 -notext -startdate "${5:-20200101000000Z}" \
    -enddate "${6:-20351231235959Z}" -in "$1" -out "$2" -keyfile "$ca_dir/ca.key" -extfile "$3" \
    "${by[@]}" >"$tmp/ca.log" 2>&1 || { cat "$tmp/ca.log" >&2; exit 1; }
}
read -r valid_from valid_to <<<"${TUBAN_SAMPLE_VALIDITY:-20200101000000Z 20351231235959Z}"
if [ ! -f "$ca_dir/ca.key" ] && [ -z "${TUBAN_SAMPLE_SELF_SIGNED:-}" ]; then
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=tuban sample CA (throwaway)/O=tuban samples" -keyout "$ca_dir/ca.key" \
    -out "$tmp/ca.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' >"$tmp/ca.ext"
  issue "$tmp/ca.csr" "$ca_dir/ca.crt" "$tmp/ca.ext" selfsign
fi
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=$name/O=tuban samples" -utf8 -keyout "$keys/office.key" -out "$tmp/office.csr" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=%s\nextendedKeyUsage=emailProtection,1.3.6.1.4.1.311.10.3.12\n' "$key_usage" > "$tmp/ext"
if [ -n "${TUBAN_SAMPLE_SELF_SIGNED:-}" ]; then
  # For tests of forgeries: the signer's certificate signed by its own key (no CA).
  cp "$keys/office.key" "$ca_dir/ca.key"
  issue "$tmp/office.csr" "$keys/office.crt" "$tmp/ext" selfsign "$valid_from" "$valid_to"
  cp "$keys/office.crt" "$keys/ca.crt"
else
  cp "$ca_dir/ca.crt" "$keys/ca.crt"
  printf 'authorityKeyIdentifier=keyid\n' >>"$tmp/ext"
  issue "$tmp/office.csr" "$keys/office.crt" "$tmp/ext" "" "$valid_from" "$valid_to"
fi
chmod 600 "$keys/office.key"
chmod 644 "$keys/office.crt" "$keys/ca.crt"
if [ -n "${TUBAN_SAMPLE_CA:-}" ]; then
  echo "sample keys: $keys (CA in $TUBAN_SAMPLE_CA)" >&2
else
  echo "sample keys: $keys (throwaway CA; the CA's private key was discarded)" >&2
fi
