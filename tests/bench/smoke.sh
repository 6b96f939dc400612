#!/usr/bin/env bash
# CTest "bench" smoke run of wsrelay-bench: starts a wsrelay on a free loopback port,
# runs every scenario at a tiny scale for about a second, and checks that each printed
# one valid JSON line with the figures and with no message lost, duplicated, reordered,
# re-typed, corrupted or misrouted. Speed is never judged here (tests/bench/run_all.sh
# measures). With Node and tests/node/node_modules it also runs F1 and H1 against the
# reference relay (node_relay.js), so the comparison keeps working.
#   usage: smoke.sh WSRELAY WSRELAY_BENCH
set -euo pipefail

relay_bin=$1
bench_bin=$2
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
work=$(mktemp -d)
relay_pid=
cleanup() {
  if [[ -n $relay_pid ]]; then kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits up to 10 s until the port accepts connections.
wait_port() {
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "smoke: nothing listens on port $1" >&2
  return 1
}

# check LINE SCENARIO: valid JSON, the scenario's figures present, no message errors.
check() {
  "$py" - "$1" "$2" <<'EOF'
import json, sys
line, scenario = sys.argv[1], sys.argv[2]
r = json.loads(line)
assert r["scenario"] == scenario, r
if scenario == "A1":  # connects only: every one ready (with its token, when on)
    for path in ("raw", "ws"):
        p = r[path]
        assert p["connections"] == r["params"]["connections"] and p["failed"] == 0, r
        assert p["connects_per_s"] > 0 and p["handshake_us"]["p99"] > 0, r
    assert r["disconnects"] == 0 and r["ok"] is True, r
    print("smoke: %s A1 (tokens %s) ok" % (r["relay"], "on" if r["params"]["tokens"] else "off"))
    sys.exit(0)
need = ["relay_cpu_util", "other_cpu_util", "noisy", "ok"]
if scenario == "C1":
    need += ["connects_per_s", "handshake_us", "rss_per_connection_bytes", "connections",
             "rss_per_connection_from_start_bytes", "rss_start_kb"]
else:
    need += ["deliveries", "deliveries_per_s", "latency_us", "last_subscriber_us",
             "relay_cpu_ns_per_delivery", "drained"]
    assert r["deliveries"] > 0, "no deliveries"
    assert r["latency_us"]["count"] == r["deliveries"], r["latency_us"]
if scenario == "I1":
    need += ["delivered_fraction", "idle_closed", "rss_peak_kb", "tcp_mem_peak_kb"]
    assert r["delivered_fraction"] == 1, r
if scenario == "H1":
    need += ["publishes_per_s"]
    assert r["publishes"] > 0
for k in need:
    assert k in r, "missing " + k
for k in ["lost", "duplicated", "reordered", "retyped", "corrupt", "misrouted", "disconnects",
          "http_bad_responses"]:
    assert r[k] == 0, "%s = %s" % (k, r[k])
assert r["ok"] is True, r
print("smoke: %s %s ok" % (r["relay"], scenario))
EOF
}

# check_history LINE SCENARIO: R1/M1 (history, issue 11): valid JSON, the figures, no error.
check_history() {
  "$py" - "$1" "$2" <<'EOF'
import json, sys
line, scenario = sys.argv[1], sys.argv[2]
r = json.loads(line)
assert r["scenario"] == scenario, r
need = {"R1": ["seconds_to_finish", "relay_cpu_s", "relay_cpu_us_per_replayed_message",
               "bad_acks", "out_of_order", "disconnects", "incomplete"],
        "M1": ["bytes_per_stored_message", "channels_missing_history"]}[scenario]
for k in need:
    assert k in r, "missing " + k
assert r["ok"] is True, r
print("smoke: %s %s ok" % (r["relay"], scenario))
EOF
}

# run_scenario LABEL PORT PID SCENARIO ARGS...
run_scenario() {
  local label=$1 port=$2 pid=$3 scenario=$4
  shift 4
  local line
  line=$(timeout 60 "$bench_bin" "$scenario" --port "$port" --relay-pid "$pid" --label "$label" \
           --setup-timeout 20 --drain-timeout 5 "$@")
  echo "$line"
  if [[ $scenario == R1 || $scenario == M1 ]]; then check_history "$line" "$scenario"; else check "$line" "$scenario"; fi
}

run_all() {
  local label=$1 port=$2 pid=$3
  run_scenario "$label" "$port" "$pid" F1 --subscribers 20 --window 8 --duration 1 --warmup 0.1
  [[ $label == node ]] || run_scenario "$label" "$port" "$pid" F2 --channels 4 --subscribers 5 --rate 400 --duration 1 --warmup 0.1
  [[ $label == node ]] || run_scenario "$label" "$port" "$pid" F3 --subscribers 200 --rate 10 --duration 1 --warmup 0.1
  [[ $label == node ]] || run_scenario "$label" "$port" "$pid" C1 --connections 200
  # Issue 13's C1: every connection on its own channel, nothing left out.
  [[ $label == node ]] || run_scenario "$label" "$port" "$pid" C1 --connections 100 --warmup-conns 0 --own-channels on
  # The F1 batch curve's option: whole batches of frames per publisher write.
  [[ $label == node ]] || run_scenario "$label" "$port" "$pid" F1 --subscribers 20 --window 8 --batch 4 --duration 1 --warmup 0.1
  run_scenario "$label" "$port" "$pid" H1 --subscribers 10 --http-conns 2 --pipeline 4 --duration 1 --warmup 0.1
  [[ $label == node ]] || run_scenario "$label" "$port" "$pid" I1 --idle-readers 50 --subscribers 2 --rate 40 --duration 1
  [[ $label == node ]] || run_scenario "$label" "$port" "$pid" A1 --connections 50
  # History (wsrelay only): "storm" and mem-* keep history in the config below.
  [[ $label == node ]] || run_scenario "$label" "$port" "$pid" R1 --subscribers 50 --history 20
  [[ $label == node ]] || run_scenario "$label" "$port" "$pid" M1 --channels 4 --history 50
}

port=$(free_port)
cat >"$work/relay.json" <<EOF
{"listen": "127.0.0.1:$port", "metrics_listen": "", "log_level": "warn", "demo": false,
 "channels": [{"match": "storm", "history_size": 100}, {"match": "mem-*", "history_size": 1000}]}
EOF
"$relay_bin" --config "$work/relay.json" &
relay_pid=$!
wait_port "$port"
run_all wsrelay "$port" "$relay_pid"
# SIGTERM drains and exits 0; anything else (a sanitizer report included) fails.
kill "$relay_pid"
status=0
wait "$relay_pid" || status=$?
relay_pid=
if ((status != 0)); then
  echo "smoke: wsrelay exited with status $status" >&2
  exit 1
fi

# Tokens required (run_all.sh's A1-on and F1-rights-on): a token per A1 client, and F1's
# connections with one token from gen-token that grants f1.
secret=wsrelay-bench-hs256-secret-0123456789abcdef
port=$(free_port)
cat >"$work/auth.json" <<EOF
{"listen": "127.0.0.1:$port", "metrics_listen": "", "log_level": "warn", "demo": false,
 "auth": {"mode": "required", "keys": [{"kid": "bench", "alg": "HS256", "secret": "$secret"}]},
 "channels": [{"match": "f1", "access": {"subscribe": "claims", "publish": "claims"}}]}
EOF
token=$("$relay_bin" gen-token --config "$work/auth.json" --sub bench --subscribe f1 --publish f1 --ttl 1h)
"$relay_bin" --config "$work/auth.json" &
relay_pid=$!
wait_port "$port"
run_scenario wsrelay "$port" "$relay_pid" A1 --connections 50 --token-secret "$secret"
run_scenario wsrelay "$port" "$relay_pid" F1 --subscribers 20 --window 8 --duration 1 --warmup 0.1 --token "$token"
kill "$relay_pid"
status=0
wait "$relay_pid" || status=$?
relay_pid=
if ((status != 0)); then
  echo "smoke: wsrelay (tokens) exited with status $status" >&2
  exit 1
fi

# C1 over wss (--tls on), against wsrelay and against tls-floor (built next to the bench).
check_tls() {
  "$py" - "$1" "$2" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
assert r["scenario"] == "C1" and r["params"]["tls"] is True, r
assert r["ok"] is True and r["connections"] == int(sys.argv[2]), r
assert r["rss_per_connection_from_start_bytes"] is not None, r
print("smoke: %s C1 --tls on ok" % r["relay"])
EOF
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" \
  -out "$work/cert.pem" -days 2 -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
port=$(free_port)
cat >"$work/tls.json" <<EOF
{"listen": "127.0.0.1:$port", "metrics_listen": "", "log_level": "warn", "demo": false,
 "tls": {"cert": "$work/cert.pem", "key": "$work/key.pem"}}
EOF
"$relay_bin" --config "$work/tls.json" &
relay_pid=$!
wait_port "$port"
check_tls "$(timeout 60 "$bench_bin" C1 --port "$port" --relay-pid "$relay_pid" --label wsrelay \
  --connections 30 --own-channels on --tls on)" 30
kill "$relay_pid"
status=0
wait "$relay_pid" || status=$?
relay_pid=
if ((status != 0)); then
  echo "smoke: wsrelay (tls) exited with status $status" >&2
  exit 1
fi
floor_bin=$(dirname "$bench_bin")/tls-floor
if [[ -x $floor_bin ]]; then
  port=$(free_port)
  "$floor_bin" "$port" "$work/cert.pem" "$work/key.pem" &
  relay_pid=$!
  wait_port "$port"  # its probe connection fails the handshake and is dropped
  check_tls "$(timeout 60 "$bench_bin" C1 --port "$port" --relay-pid "$relay_pid" --label tls-floor \
    --connections 30 --tls on)" 30
  kill "$relay_pid"
  wait "$relay_pid" 2>/dev/null || true
  relay_pid=
fi

if command -v node >/dev/null && [[ -d $here/../node/node_modules/ws ]]; then
  port=$(free_port)
  node "$here/node_relay.js" "$port" >/dev/null &
  relay_pid=$!
  wait_port "$port"
  run_all node "$port" "$relay_pid"
fi
echo "smoke: all scenarios ok"
