#!/usr/bin/env bash
# Before/after: runs F1 (W=32, W=256), F2 (10,000 msg/s), F3 and C1 against two wsrelay
# binaries in one run, alternating them (relay on core 0, load on core 1, RUNS runs each),
# and prints the medians side by side. For a change's closing note: build the old commit
# and the new one in Release, then
#   bash tests/bench/compare.sh OLD/build-rel/daemon/wsrelay NEW/build-rel/daemon/wsrelay
# Environment: RUNS (3), BENCH (the wsrelay-bench to use; default build-rel's), SCALE
# (full|small). Loopback only; every run is bounded in time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
old=${1:?usage: compare.sh OLD_WSRELAY NEW_WSRELAY}
new=${2:?usage: compare.sh OLD_WSRELAY NEW_WSRELAY}
runs=${RUNS:-3}
bench=${BENCH:-$root/build-rel/tests/bench/wsrelay-bench}
py=/usr/bin/python3
[[ -x $bench ]] || { echo "compare: no $bench (ninja -C build-rel wsrelay-bench)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [[ ${SCALE:-full} == small ]]; then
  scenarios=("F1-W32|F1|--subscribers 50 --window 32 --duration 1 --warmup 0.2"
             "F2-10k|F2|--channels 10 --rate 10000 --duration 1 --warmup 0.2"
             "F3|F3|--subscribers 500 --duration 1 --warmup 0.2" "C1|C1|--connections 500")
else
  scenarios=("F1-W32|F1|--window 32" "F1-W256|F1|--window 256" "F2-10k|F2|--rate 10000"
             "F3|F3|" "C1|C1|")
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

raw=$work/results.jsonl
for run in $(seq "$runs"); do
  for entry in "${scenarios[@]}"; do
    IFS='|' read -r key scenario args <<<"$entry"
    for label in before after; do
      bin=$old; [[ $label == after ]] && bin=$new
      port=$(free_port)
      printf '{"listen": "127.0.0.1:%s", "metrics_listen": "", "log_level": "warn", "demo": false, "limits": {"max_connections": 30000}}\n' \
        "$port" >"$work/relay.json"
      taskset -c 0 "$bin" --config "$work/relay.json" 2>>"$work/relay.log" &
      relay_pid=$!
      wait_port "$port" || { echo "compare: $label relay did not start" >&2; cat "$work/relay.log" >&2; exit 1; }
      # shellcheck disable=SC2086  # args is a word list
      line=$(taskset -c 1 timeout 180 "$bench" "$scenario" --port "$port" --relay-pid "$relay_pid" \
               --label "$label" $args) || true
      kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; relay_pid=
      [[ -n $line ]] || line="{\"ok\":false,\"error\":\"no output\"}"
      echo "{\"key\":\"$key\",\"run\":$run,\"who\":\"$label\",${line#\{}" >>"$raw"
      echo "compare: run $run $key $label done" >&2
    done
  done
done

"$py" - "$raw" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def get(r, path):
    for p in path.split("."):
        r = r.get(p) if isinstance(r, dict) else None
    return r
figures = [("F1-W32", "relay_cpu_ns_per_delivery", "relay CPU ns/delivery"),
           ("F1-W32", "deliveries_per_s", "deliveries/s"),
           ("F1-W256", "relay_cpu_ns_per_delivery", "relay CPU ns/delivery"),
           ("F2-10k", "latency_us.p50", "latency p50 us"),
           ("F2-10k", "latency_us.p99", "latency p99 us"),
           ("F3", "last_subscriber_us.p50", "last subscriber p50 us"),
           ("F3", "last_subscriber_us.p99", "last subscriber p99 us"),
           ("C1", "rss_per_connection_bytes", "RSS per idle connection B"),
           ("C1", "connects_per_s", "connects/s")]
print("| scenario | figure | before | after | after/before |")
print("|---|---|---|---|---|")
for key, path, name in figures:
    med = {}
    for who in ("before", "after"):
        vals = [get(r, path) for r in rows if r["key"] == key and r["who"] == who and r.get("ok")]
        vals = [v for v in vals if v is not None]
        med[who] = statistics.median(vals) if vals else None
    if med["before"] is None and med["after"] is None:
        continue
    ratio = f"{med['after'] / med['before']:.2f}" if med["before"] and med["after"] else "-"
    f = lambda v: "-" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.1f}")
    print(f"| {key} | {name} | {f(med['before'])} | {f(med['after'])} | {ratio} |")
bad = [r for r in rows if not r.get("ok")]
noisy = sum(1 for r in rows if r.get("noisy"))
print(f"\n{len(rows)} runs, {len(bad)} not ok, {noisy} flagged noisy by the bench")
PY
