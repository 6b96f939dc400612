// SPDX-License-Identifier: MIT
// How many event loops (`workers`, README "Scaling") the daemon runs: the configured
// number; `0` = the CPUs this process may run on (sched_getaffinity: a cgroup cpuset or
// `taskset` narrows it); unset = 1, or WSRELAY_WORKERS from the environment. At most
// kMaxWorkers. One loop is the default until history, presence and the Redis broker work
// across workers (today a config with them runs one loop anyway).
#pragma once

#include <cstdint>
#include <limits>

namespace relay::daemon {

// Channel interest is a 64-bit mask of workers (worker_hub.h).
constexpr uint32_t kMaxWorkers = 64;

// Config::workers for `"workers": 0` (every CPU the process may run on).
constexpr uint32_t kWorkersPerCpu = std::numeric_limits<uint32_t>::max();

// `configured` is Config::workers (0 = unset, kWorkersPerCpu = `0` in the file).
uint32_t resolve_workers(uint32_t configured) noexcept;

}  // namespace relay::daemon
