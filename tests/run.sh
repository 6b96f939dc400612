#!/usr/bin/env bash
# The test command (README quick start): installs what is missing, checks that every
# tracked C/C++ file is clang-format clean, builds everything with clang +
# AddressSanitizer + UndefinedBehaviorSanitizer (+ libFuzzer targets) and runs every
# CTest label.
#   BUILD_DIR=...      build directory (default: build-test)
#   CTEST_ARGS=...     extra ctest arguments, e.g. "-L unit"
#   RELAY_TSAN=0       skip the ThreadSanitizer run (a second build: BUILD_DIR-tsan)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-test}

bash "$root/deploy/dev/install-deps.sh" --test
if [ ! -d "$root/tests/node/node_modules" ] ||
   [ "$root/tests/node/package-lock.json" -nt "$root/tests/node/node_modules/.package-lock.json" ]; then
  (cd "$root/tests/node" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Formatting (.clang-format): any file clang-format would change fails the run.
git -C "$root" ls-files -z '*.c' '*.cc' '*.cpp' '*.h' '*.hpp' |
  (cd "$root" && xargs -0 clang-format --dry-run --Werror)

# The .deb tests install the package (dpkg -i), so they run only as root (as in CI).
packaging=OFF
[ "$(id -u)" -eq 0 ] && packaging=ON
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DRELAY_SANITIZE=address,undefined -DRELAY_FUZZ=ON -DRELAY_WERROR=ON \
  -DRELAY_PACKAGING_TESTS=$packaging >/dev/null
cmake --build "$build" -j "$(nproc)"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
# shellcheck disable=SC2086
ctest --output-on-failure -j "$(nproc)" ${CTEST_ARGS:-}

# ThreadSanitizer (README "Scaling"): the several-workers hand-off in its own build of only
# the targets the `tsan` label runs (the queue, reactor and worker-broker unit tests, the
# daemon for test_workers.py), so it adds a few minutes, not a second full build.
if [ "${RELAY_TSAN:-1}" != 0 ]; then
  tsan=${build}-tsan
  cmake -S "$root" -B "$tsan" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DRELAY_SANITIZE=thread -DRELAY_WERROR=ON >/dev/null
  cmake --build "$tsan" -j "$(nproc)" --target wsrelay net_mpsc_queue_test net_reactor_test \
    daemon_worker_broker_test
  (cd "$tsan" && TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
    ctest --output-on-failure -L tsan)
fi
