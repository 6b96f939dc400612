#!/usr/bin/env bash
# Memory per idle connection (issue 13), one run each, relay on core 0, load on core 1:
#   C1-plain-cold  10,000 plain connections, each on its own channel, RSS from before the
#                  relay's first connection (nothing excluded)
#   C1-plain       today's C1: one channel, 100 warm-up connections left out
#   C1-wss-cold    2,000 wss connections (TLS 1.3, ECDSA P-256 certificate), each on its
#                  own channel, RSS from before the first connection
#   C1-wss-floor   the same against tls-floor (tls_floor.cpp): a minimal OpenSSL 3 server
#                  that only holds the SSL objects, the floor of the wss figure
# Prints one JSON line per run (wsrelay-bench C1). A fresh relay per run.
#
#   BUILD_DIR=build-rel bash tests/bench/memory.sh
# Environment: BUILD_DIR (build-bench), ONLY (keys to run), CONNS (10000), TLS_CONNS (2000), RELAY_EXTRA (JSON
# members added to the relay's config, e.g. ', "x": 1').
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
conns=${CONNS:-10000}
tls_conns=${TLS_CONNS:-2000}
relay_bin=$build/daemon/wsrelay
bench_bin=$build/tests/bench/wsrelay-bench
only=${ONLY:-}  # keys to run (space-separated), default all
py=/usr/bin/python3

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
work=$(mktemp -d)
relay_pid=
cleanup() {
  if [[ -n $relay_pid ]]; then kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" \
  -out "$work/cert.pem" -days 2 -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits for the listener without connecting to it: the relay's first connection is the
# load generator's, after the RSS it starts from is read.
wait_port() {
  for _ in $(seq 200); do
    if [[ -n $(ss -Hltn "sport = :$1") ]]; then return 0; fi
    sleep 0.05
  done
  return 1
}

# run KEY TLS BENCH-ARGS...
run() {
  local key=$1 tls=$2
  shift 2
  [[ -n $only && " $only " != *" $key "* ]] && return 0
  local port tls_json=
  port=$(free_port)
  [[ $tls == on ]] && tls_json=", \"tls\": {\"cert\": \"$work/cert.pem\", \"key\": \"$work/key.pem\"}"
  cat >"$work/relay.json" <<EOF
{"listen": "127.0.0.1:$port", "metrics_listen": "", "log_level": "warn", "demo": false,
 "limits": {"max_connections": 30000}$tls_json${RELAY_EXTRA:-}}
EOF
  taskset -c 0 "$relay_bin" --config "$work/relay.json" 2>>"$work/relay.log" &
  relay_pid=$!
  wait_port "$port" || { cat "$work/relay.log" >&2; exit 1; }
  sleep 0.3  # the relay settles
  local line
  line=$(taskset -c 1 timeout 180 "$bench_bin" C1 --port "$port" --relay-pid "$relay_pid" \
           --label wsrelay "$@") || true
  kill "$relay_pid" 2>/dev/null || true
  wait "$relay_pid" 2>/dev/null || true
  relay_pid=
  echo "{\"key\":\"$key\",${line#\{}"
}

# floor KEY BENCH-ARGS...: the same C1 against tls-floor instead of wsrelay.
floor() {
  local key=$1 port line
  shift
  [[ -n $only && " $only " != *" $key "* ]] && return 0
  port=$(free_port)
  taskset -c 0 "$build/tests/bench/tls-floor" "$port" "$work/cert.pem" "$work/key.pem" &
  relay_pid=$!
  wait_port "$port" || exit 1
  sleep 0.3
  line=$(taskset -c 1 timeout 180 "$bench_bin" C1 --port "$port" --relay-pid "$relay_pid" \
           --label tls-floor "$@") || true
  kill "$relay_pid" 2>/dev/null || true
  wait "$relay_pid" 2>/dev/null || true
  relay_pid=
  echo "{\"key\":\"$key\",${line#\{}"
}

run C1-plain-cold off --connections "$conns" --warmup-conns 0 --own-channels on
run C1-plain off --connections "$conns"
run C1-wss-cold on --connections "$tls_conns" --own-channels on --tls on
floor C1-wss-floor --connections "$tls_conns" --tls on
