# Helpers for the daemon tests (tests/server/*.sh), sourced after tests/integration/lib.sh:
# offices with throwaway keys, starting the real daemon on a free loopback port, curl calls.
make_office() { # <dir> <id> <county code>
  mkdir -p "$1"
  cp "$src"/templates/sample-office/{notice.xml,seal.png} "$1"/
  sed "s|\.\./\.\./samples/|$src/samples/|" "$src/templates/sample-office/imagery.xml" >"$1/imagery.xml"
  sed -e "s/id=\"sample-office\"/id=\"$2\"/" -e "s/code=\"139901\"/code=\"$3\"/" \
    "$src/templates/sample-office/office.xml" >"$1/office.xml"
  bash "$src/scripts/make-sample-keys.sh" "$1" 2>/dev/null
}
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
pid= port=
# scheme=https and tls_args=(--cacert FILE) for a daemon serving TLS.
scheme=http tls_args=()
start() { # [env assignments...]
  env "$@" "$tuban" serve --config "$work/tuban.conf" --listen 127.0.0.1:0 2>>"$work/log" &
  pid=$!
  for _ in $(seq 1 300); do
    port=$(grep -o 'listening on https\?://127.0.0.1:[0-9]*' "$work/log" | tail -1 | sed 's/.*://')
    if [ -n "$port" ] && ! grep -q "^$port\$" "$work/ports.used" 2>/dev/null; then
      echo "$port" >>"$work/ports.used"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
stop() { kill -TERM "$pid" 2>/dev/null; wait "$pid"; }
# call <token|-> <method> <path> [curl args...]: status in $code, body in $work/body
call() {
  local auth=() t=$1 m=$2 p=$3
  shift 3
  [ "$t" != - ] && auth=(-H "Authorization: Bearer $t")
  code=$(curl -s -o "$work/body" -w '%{http_code}' -X "$m" "${auth[@]}" "${tls_args[@]}" "$@" \
    "$scheme://127.0.0.1:$port$p")
}
json() { python3 -c "import json,sys; d=json.load(open('$work/body')); sys.exit(0 if ($1) else 1)" 2>/dev/null; }
jget() { python3 -c "import json; d=json.load(open('$work/body')); print($1)"; }
sql() { sqlite3 -batch -noheader "$work/data/tuban.db" "$1"; }
# started() <start args>: starts the daemon, or shows its log and gives up (nothing else can pass).
started() { start "$@" || { fail "the daemon did not start:"; cat "$work/log"; finish; exit 1; }; }
