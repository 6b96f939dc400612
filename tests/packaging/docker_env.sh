#!/bin/bash
# A Docker engine for the container tests, without a registry:
#   docker_env.sh start   install docker.io/mmdebstrap if missing, start dockerd
#                         (vfs storage, no iptables) unless one answers, and import
#                         debian:bookworm-slim from a local mmdebstrap if it is absent
#   docker_env.sh stop    stop the dockerd this script started (its pidfile), nothing else
# Exit status: 0 ready, 1 failure. Needs root. Logs: $DOCKER_ENV_DIR/dockerd.log.
set -euo pipefail

STATE=${DOCKER_ENV_DIR:-/var/tmp/wsrelay-docker-env}
PIDFILE=$STATE/dockerd.pid
LOG=$STATE/dockerd.log
BASE_IMAGE=debian:bookworm-slim

log() { echo "docker_env: $*" >&2; }

install_missing() {
  local need=()
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
  command -v docker-compose >/dev/null || need+=(docker-compose)
  if ((${#need[@]})); then
    log "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2 \
      || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive \
             apt-get install -y --no-install-recommends "${need[@]}" >&2; }
  fi
}

engine_up() { timeout 10 docker info >/dev/null 2>&1; }

start_dockerd() {
  engine_up && return 0
  mkdir -p "$STATE"
  log "starting dockerd (log $LOG)"
  # setsid: the engine outlives this script and is not in the caller's process group.
  setsid dockerd --storage-driver=vfs --iptables=false --pidfile "$PIDFILE" \
    >"$LOG" 2>&1 </dev/null &
  for _ in $(seq 60); do
    engine_up && return 0
    sleep 1
  done
  log "dockerd did not answer within 60 s; last log lines:"
  tail -20 "$LOG" >&2 || true
  return 1
}

import_base() {
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return 0
  log "building $BASE_IMAGE with mmdebstrap (host apt sources)"
  mmdebstrap --variant=minbase --format=tar bookworm - 2>>"$STATE/mmdebstrap.log" \
    | docker import - "$BASE_IMAGE" >/dev/null
  docker image inspect "$BASE_IMAGE" >/dev/null
}

case ${1:-start} in
  start)
    [[ $(id -u) == 0 ]] || { log "needs root"; exit 1; }
    install_missing
    start_dockerd
    import_base
    ;;
  stop)
    if [[ -s $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      pid=$(cat "$PIDFILE")
      kill -TERM "$pid"
      for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      rm -f "$PIDFILE"
    fi
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
