// SPDX-License-Identifier: MIT
#include "base/clock.h"

#include <time.h>

namespace relay {
int64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
int64_t monotonic_ms() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  // +1000 keeps the value away from 0 and -1 even right after boot.
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000 + 1000;
}
}  // namespace relay
