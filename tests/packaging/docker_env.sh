#!/bin/bash
# A Docker engine for the container tests, without a registry:
#   docker_env.sh start   install docker.io/mmdebstrap if missing, start dockerd
#                         (overlay2 storage where the kernel mounts overlayfs on the data
#                         root's file system, vfs otherwise; no iptables) unless one
#                         answers, and import debian:bookworm-slim from a local mmdebstrap
#                         if it is absent
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

# overlay2 shares layers; vfs copies the whole file system for every layer and container
# (gigabytes for an image with a compiler stage). Use overlay2 when an overlay mount works
# where dockerd keeps its data (not inside another overlay, for one).
storage_driver() {
  local data=/var/lib/docker probe
  mkdir -p "$data"
  probe=$(mktemp -d "$data/overlay-probe.XXXXXX")
  mkdir -p "$probe"/{lower,upper,work,merged}
  if mount -t overlay overlay \
       -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" \
       2>/dev/null; then
    umount "$probe/merged"
    rm -rf "$probe"
    echo overlay2
  else
    rm -rf "$probe"
    echo vfs
  fi
}

# Starts dockerd with one storage driver; fails if it exits or does not answer within 60 s.
launch_dockerd() {
  local driver=$1 pid
  log "starting dockerd, storage $driver (log $LOG)"
  # setsid: the engine outlives this script and is not in the caller's process group.
  setsid dockerd --storage-driver="$driver" --iptables=false --pidfile "$PIDFILE" \
    >"$LOG" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 60); do
    engine_up && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  log "dockerd ($driver) did not answer; last log lines:"
  tail -20 "$LOG" >&2 || true
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return 1
}

start_dockerd() {
  engine_up && return 0
  mkdir -p "$STATE"
  local driver
  driver=$(storage_driver)
  launch_dockerd "$driver" && return 0
  [[ $driver != vfs ]] && launch_dockerd vfs
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
