// SPDX-License-Identifier: MIT
#include "worker_count.h"

#include <sched.h>

#include <cstdlib>

namespace relay::daemon {
namespace {

uint32_t cpus_allowed() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? uint32_t(n) : 1;
}

}  // namespace

uint32_t resolve_workers(uint32_t configured) noexcept {
  uint32_t n = configured;
  if (n == 0) {
    n = 1;
    if (const char* e = std::getenv("WSRELAY_WORKERS"); e && *e) {
      char* end = nullptr;
      const unsigned long v = std::strtoul(e, &end, 10);
      if (*end == '\0') n = v == 0 ? kWorkersPerCpu : uint32_t(v > kMaxWorkers ? kMaxWorkers : v);
    }
  }
  if (n == kWorkersPerCpu) n = cpus_allowed();
  return n > kMaxWorkers ? kMaxWorkers : n;
}

}  // namespace relay::daemon
