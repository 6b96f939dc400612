#!/usr/bin/env bash
# `workers: 1` beside `workers: 2` (README "Scaling"): F1 (W=32) and F2 (10,000 msg/s) with
# wsrelay-bench, the relay and the load generator NOT pinned: on a 2-core machine the second
# worker shares the cores with the load, so this measures the hand-off's cost, not scaling.
#   bash tests/bench/workers_compare.sh build-rel/daemon/wsrelay
# Environment: RUNS (1), BENCH (default build-rel's wsrelay-bench), WORKERS ("1 2"),
# SCALE (full|small). Loopback only; every run is bounded in time. Prints one JSON line per
# run (key, workers, the wsrelay-bench result).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:?usage: workers_compare.sh WSRELAY}
runs=${RUNS:-1}
bench=${BENCH:-$root/build-rel/tests/bench/wsrelay-bench}
py=/usr/bin/python3
[[ -x $bench ]] || { echo "workers_compare: no $bench" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ ${SCALE:-full} == small ]]; then
  scenarios=("F1-W32|F1|--subscribers 50 --window 32 --duration 1 --warmup 0.2"
             "F2-10k|F2|--channels 10 --rate 10000 --duration 1 --warmup 0.2")
else
  scenarios=("F1-W32|F1|--window 32" "F2-10k|F2|--rate 10000")
fi
work=$(mktemp -d)
relay_pid=
cleanup() {
  [[ -n $relay_pid ]] && { kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
for run in $(seq "$runs"); do
  for entry in "${scenarios[@]}"; do
    IFS='|' read -r key scenario args <<<"$entry"
    for workers in ${WORKERS:-1 2}; do
      port=$(free_port)
      printf '{"listen": "127.0.0.1:%s", "metrics_listen": "", "log_level": "warn", "demo": false, "workers": %s, "limits": {"max_connections": 30000}}\n' \
        "$port" "$workers" >"$work/relay.json"
      "$bin" --config "$work/relay.json" 2>>"$work/relay.log" &
      relay_pid=$!
      wait_port "$port" || { echo "workers_compare: relay did not start" >&2; cat "$work/relay.log" >&2; exit 1; }
      # shellcheck disable=SC2086  # args is a word list
      line=$(timeout 180 "$bench" "$scenario" --port "$port" --relay-pid "$relay_pid" \
               --label "workers-$workers" $args) || true
      kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; relay_pid=
      [[ -n $line ]] || line="{\"ok\":false,\"error\":\"no output\"}"
      echo "{\"key\":\"$key\",\"run\":$run,\"workers\":$workers,${line#\{}"
    done
  done
done
