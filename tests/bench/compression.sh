#!/usr/bin/env bash
# permessage-deflate beside plain frames, in one run: F1 and F2 against one wsrelay whose
# channels compress ({"match": "*", "compression": {"enabled": true}}), with the load
# generator's clients offering permessage-deflate (--deflate on) or not (off), alternating.
# The relay is pinned to core 0, wsrelay-bench to core 1, loopback only. Prints one JSON
# line per run (relay CPU per delivery, wire bytes per delivery, latencies).
#
#   bash tests/bench/compression.sh            # F1 and F2 at full scale, 3 s each, 1 run
#
# Environment: BUILD_DIR (build-bench), RUNS (1), DURATION (3), LEVEL (1), MIN_BYTES (64).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
runs=${RUNS:-1}
duration=${DURATION:-3}
level=${LEVEL:-1}
min_bytes=${MIN_BYTES:-64}
py=/usr/bin/python3

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" -j2 wsrelay wsrelay-bench >/dev/null
relay_bin=$build/daemon/wsrelay
bench_bin=$build/tests/bench/wsrelay-bench

work=$(mktemp -d)
relay_pid=
cleanup() {
  if [[ -n $relay_pid ]]; then kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/relay.json" <<JSON
{"listen": "127.0.0.1:$port", "metrics_listen": "", "log_level": "warn", "demo": false,
 "limits": {"max_connections": 30000},
 "channels": [{"match": "*", "compression": {"enabled": true, "min_bytes": $min_bytes, "level": $level}}]}
JSON

for run in $(seq "$runs"); do
  for entry in "F1|--subscribers 1000 --window 32" "F2|--rate 10000"; do
    IFS='|' read -r scenario args <<<"$entry"
    for deflate in off on; do
      taskset -c 0 "$relay_bin" --config "$work/relay.json" 2>>"$work/relay.log" &
      relay_pid=$!
      for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
      # shellcheck disable=SC2086  # args is a word list
      taskset -c 1 timeout 120 "$bench_bin" "$scenario" --port "$port" --relay-pid "$relay_pid" \
        --label "wsrelay-deflate-$deflate" --deflate "$deflate" --duration "$duration" --warmup 1 $args ||
        echo "{\"scenario\":\"$scenario\",\"deflate\":\"$deflate\",\"ok\":false}"
      kill "$relay_pid" 2>/dev/null || true
      wait "$relay_pid" 2>/dev/null || true
      relay_pid=
    done
  done
done
