#!/usr/bin/env bash
# Quick start: installs what is missing, builds a release wsrelay, and runs it on the
# built-in default config (ws://127.0.0.1:8080, demo page at /, metrics on :9464).
# Extra arguments go to wsrelay, e.g. `bash deploy/dev/run.sh --listen 0.0.0.0:8080`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-release}
bash "$root/deploy/dev/install-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRELAY_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target wsrelay
exec "$build/daemon/wsrelay" "$@"
