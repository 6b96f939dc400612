#!/usr/bin/env bash
# Runs every scenario of README "Performance" against wsrelay and, in the same run, against the
# reference relay on Node's `ws` (node_relay.js): the relay pinned to core 0, the load
# generator (wsrelay-bench) to core 1, 3 runs each, alternating relays so both see the
# same machine. Writes tests/bench/RESULTS.md (medians, targets, machine) and
# tests/bench/results.svg (gnuplot). Loopback only; every run is bounded in time.
#
#   bash tests/bench/run_all.sh                # full scale, about 8 minutes
#   RUNS=1 SCALE=small bash tests/bench/run_all.sh   # a quick check of the script
#
# Environment: RUNS (3), SCALE (full|small), BUILD_DIR (build-bench), OUT_DIR
# (tests/bench), RAW (where the JSON lines go; default $OUT_DIR/results.jsonl), ONLY (keys
# to run, space-separated, e.g. ONLY="A1-off A1-on" or ONLY="F2-10k F2-10k-hist R1 M1",
# with OUT_DIR elsewhere; default all).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
runs=${RUNS:-3}
scale=${SCALE:-full}
out=${OUT_DIR:-$here}
raw=${RAW:-$out/results.jsonl}
only=${ONLY:-}
py=/usr/bin/python3  # Debian's python (not a pyenv one on PATH)

log() { echo "run_all: $*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# ---- what the run needs ---------------------------------------------------------------
need_pkgs=()
command -v gnuplot >/dev/null || need_pkgs+=(gnuplot-nox)
command -v taskset >/dev/null || need_pkgs+=(util-linux)
command -v node >/dev/null || need_pkgs+=(nodejs npm)
command -v cmake >/dev/null || need_pkgs+=(cmake)
command -v ninja >/dev/null || need_pkgs+=(ninja-build)
if ((${#need_pkgs[@]})); then
  log "installing ${need_pkgs[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}"
fi
# npm ci replaces node_modules; the tests share that tree, so only when ws is missing.
if [[ ! -d $root/tests/node/node_modules/ws ]]; then
  log "npm ci in tests/node"
  (cd "$root/tests/node" && npm ci --no-audit --no-fund)
fi

log "building Release in $build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" -j2 wsrelay wsrelay-bench >/dev/null
relay_bin=$build/daemon/wsrelay
bench_bin=$build/tests/bench/wsrelay-bench

# Tokens (README "Securing wsrelay"): the *-on keys below run wsrelay with auth.mode
# required and this HS256 key; A1-on signs a token per client with it, F1-rights-on
# subscribes and publishes with one token from `wsrelay gen-token` that grants f1.
bench_secret=wsrelay-bench-hs256-secret-0123456789abcdef
auth_json() {
  case $1 in
    A1-on | F1-rights-on)
      echo ", \"auth\": {\"mode\": \"required\", \"keys\": [{\"kid\": \"bench\", \"alg\": \"HS256\",
 \"secret\": \"$bench_secret\"}]}, \"channels\": [{\"match\": \"a1\", \"access\": {\"subscribe\": \"claims\"}},
 {\"match\": \"f1\", \"access\": {\"subscribe\": \"claims\", \"publish\": \"claims\"}}]"
      ;;
  esac
}
auth_cfg=$(mktemp)
echo "{\"listen\": \"127.0.0.1:1\"$(auth_json A1-on)}" >"$auth_cfg"
bench_token=$("$relay_bin" gen-token --config "$auth_cfg" --sub bench --subscribe f1 --publish f1 --ttl 1d)
rm -f "$auth_cfg"

# 10,000 connections on each side of F3 and C1, plus listeners and spares.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < 10100)); then
  log "ulimit -n is $(ulimit -n): F3 and C1 need more than 10,100 descriptors"
  exit 1
fi
ncpu=$(nproc)
if ((ncpu < 2)); then
  log "this needs two cores (relay on 0, load on 1)"
  exit 1
fi

# ---- the scenarios ------------------------------------------------------------------------
# key | scenario | arguments | relay config ("history": the channels of issue 11 keep
# history; wsrelay only, the Node relay has none)
if [[ $scale == small ]]; then
  scenarios=(
    "F1-W32|F1|--subscribers 50 --window 32 --duration 1 --warmup 0.2"
    "F1-W256|F1|--subscribers 50 --window 256 --duration 1 --warmup 0.2"
    "F1-B1|F1|--subscribers 50 --window 32 --batch 1 --duration 1 --warmup 0.2"
    "F1-B4|F1|--subscribers 50 --window 32 --batch 4 --duration 1 --warmup 0.2"
    "F1-B16|F1|--subscribers 50 --window 32 --batch 16 --duration 1 --warmup 0.2"
    "F1-B32|F1|--subscribers 50 --window 32 --batch 32 --duration 1 --warmup 0.2"
    "F1-B16-10k|F1|--subscribers 500 --window 32 --batch 16 --duration 1 --warmup 0.2"
    "F2-2k|F2|--channels 10 --rate 2000 --duration 1 --warmup 0.2"
    "F2-10k|F2|--channels 10 --rate 10000 --duration 1 --warmup 0.2"
    "F3|F3|--subscribers 500 --duration 1 --warmup 0.2"
    "C1|C1|--connections 500"
    "C1-cold|C1|--connections 500 --warmup-conns 0 --own-channels on"
    "H1|H1|--duration 1 --warmup 0.2"
    "I1|I1|--idle-readers 200 --duration 1"
    "A1-off|A1|--connections 300"
    "A1-on|A1|--connections 300 --token-secret $bench_secret"
    "F1-rights-off|F1|--subscribers 50 --window 32 --duration 1 --warmup 0.2"
    "F1-rights-on|F1|--subscribers 50 --window 32 --duration 1 --warmup 0.2 --token $bench_token"
    "F2-10k-hist|F2|--channels 10 --rate 10000 --duration 1 --warmup 0.2|history"
    "R1|R1|--subscribers 200|history"
    "M1|M1|--channels 10|history"
    "K1-1|K1|--subscribers 100 --flooders 1 --duration 1 --warmup 0.5"
    "K1-2|K1|--subscribers 100 --flooders 2 --duration 1 --warmup 0.5"
  )
else
  scenarios=(
    "F1-W32|F1|--window 32"
    "F1-W256|F1|--window 256"
    "F1-B1|F1|--window 32 --batch 1"
    "F1-B4|F1|--window 32 --batch 4"
    "F1-B16|F1|--window 32 --batch 16"
    "F1-B32|F1|--window 32 --batch 32"
    "F1-B16-10k|F1|--subscribers 10000 --window 32 --batch 16"
    "F2-2k|F2|--rate 2000"
    "F2-10k|F2|--rate 10000"
    "F3|F3|"
    "C1|C1|"
    "C1-cold|C1|--warmup-conns 0 --own-channels on"
    "H1|H1|"
    "I1|I1|--duration 3"
    "A1-off|A1|"
    "A1-on|A1|--token-secret $bench_secret"
    "F1-rights-off|F1|--window 32"
    "F1-rights-on|F1|--window 32 --token $bench_token"
    "F2-10k-hist|F2|--rate 10000|history"
    "R1|R1||history"
    "M1|M1||history"
    "K1-1|K1|--flooders 1 --duration 3"
    "K1-2|K1|--flooders 2 --duration 3"
  )
fi

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits for the listener, without connecting when `ss` is there: C1-cold reads the relay's
# RSS before its first connection, which must be the load generator's.
wait_port() {
  for _ in $(seq 200); do
    if command -v ss >/dev/null; then
      [[ -n $(ss -Hltn "sport = :$1") ]] && return 0
    elif (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

work=$(mktemp -d)
relay_pid=
cleanup() {
  if [[ -n $relay_pid ]]; then kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# start_relay NAME PORT [KEY] [CONFIG]: the relay alone on core 0; sets relay_pid. KEY picks
# the auth settings (auth_json), CONFIG "history" keeps history on f2-*, storm and mem-*.
start_relay() {
  local name=$1 port=$2 key=${3:-} config=${4:-}
  local channels='[]'
  # F2's channels (f2-*), R1's "storm" and M1's mem-* with history (R1/M1 need it).
  [[ $config == history ]] && channels='[{"match": "f2-*", "history_size": 100},
   {"match": "storm", "history_size": 100}, {"match": "mem-*", "history_size": 1000}]'
  if [[ $name == wsrelay ]]; then
    cat >"$work/relay.json" <<EOF
{"listen": "127.0.0.1:$port", "metrics_listen": "", "log_level": "warn", "demo": false,
 "limits": {"max_connections": 30000}, "channels": $channels$(auth_json "$key")}
EOF
    taskset -c 0 "$relay_bin" --config "$work/relay.json" 2>>"$work/relay.log" &
  else
    taskset -c 0 node "$here/node_relay.js" "$port" >/dev/null 2>>"$work/relay.log" &
  fi
  relay_pid=$!
  wait_port "$port" || { log "$name did not start"; cat "$work/relay.log" >&2; exit 1; }
}

stop_relay() {
  kill "$relay_pid" 2>/dev/null || true
  wait "$relay_pid" 2>/dev/null || true
  relay_pid=
}

mkdir -p "$(dirname "$raw")"
: >"$raw"
started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$runs"); do
  for entry in "${scenarios[@]}"; do
    IFS='|' read -r key scenario args relay_config <<<"$entry"
    [[ -n $only && " $only " != *" $key "* ]] && continue
    for relay in wsrelay node; do
      # I1 on the Node relay (no queue limit) would only fill the kernel with 2,000 x 4 MiB.
      [[ $key == I1 && $relay == node ]] && continue
      # Tokens on and off are a comparison within wsrelay: the Node relay has no tokens.
      [[ ($key == A1-* || $key == F1-rights-*) && $relay == node ]] && continue
      [[ -n $relay_config && $relay == node ]] && continue  # no history in the Node relay
      # K1 measures wsrelay's fair turns; Node's single loop has no per-client budget.
      [[ $key == K1-* && $relay == node ]] && continue
      port=$(free_port)
      start_relay "$relay" "$port" "$key" "$relay_config"
      # shellcheck disable=SC2086  # args is a word list
      line=$(taskset -c 1 timeout 180 "$bench_bin" "$scenario" --port "$port" --relay-pid "$relay_pid" \
               --label "$relay" $args) || true
      stop_relay
      if [[ -z $line ]]; then
        line="{\"scenario\":\"$scenario\",\"relay\":\"$relay\",\"ok\":false,\"error\":\"no output\"}"
      fi
      # The key and the run number go in front: {"key":..,"run":..,<the bench's fields>}.
      echo "{\"key\":\"$key\",\"run\":$run,${line#\{}" >>"$raw"
      log "run $run $key $relay: $(echo "$line" | "$py" -c 'import json,sys; r=json.load(sys.stdin); print("ok" if r.get("ok") else "NOT OK", "noisy" if r.get("noisy") else "")')"
    done
  done
done
elapsed=$(($(date +%s) - started))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$root" status --porcelain -- lib daemon 2>/dev/null) ]]; then commit="$commit (lib/ or daemon/ modified)"; fi
"$py" "$here/summarize.py" --raw "$raw" --md "$out/RESULTS.md" --svg "$out/results.svg" \
  --cpu "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" --cores "$ncpu" \
  --kernel "$(uname -r)" --date "$(date -u +%Y-%m-%dT%H:%MZ)" --commit "$commit" \
  --runs "$runs" --scale "$scale" --elapsed "$elapsed" \
  --load "$load_before -> $load_after" \
  --command "bash tests/bench/run_all.sh$([[ $scale == small ]] && echo ' (SCALE=small)' || true)" ||
  [[ -n $only ]]  # ONLY: RESULTS.md is written; the plot may have no points
log "wrote $out/RESULTS.md and $out/results.svg in ${elapsed}s"
