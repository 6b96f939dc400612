// SPDX-License-Identifier: MIT
// How many event loops (`workers`, README "Scaling") the daemon runs: the configured
// number, else the CPUs this process may run on (sched_getaffinity: a cgroup cpuset or
// `taskset` narrows it), at most kMaxWorkers. WSRELAY_WORKERS in the environment replaces
// that default (the test harness pins it to 1); a `workers` key in the file wins over both.
#pragma once

#include <cstdint>

namespace relay::daemon {

// Channel interest is a 64-bit mask of workers (worker_hub.h).
constexpr uint32_t kMaxWorkers = 64;

// `configured` is Config::workers (0 = unset).
uint32_t resolve_workers(uint32_t configured) noexcept;

}  // namespace relay::daemon
