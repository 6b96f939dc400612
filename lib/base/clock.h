// SPDX-License-Identifier: MIT
// Monotonic time in milliseconds. now() is libdill's clock: it never returns 0 or -1,
// so those two values stay free to mean "don't block" and "no deadline".
#pragma once

#include <cstdint>

namespace relay {
int64_t monotonic_ms() noexcept;  // CLOCK_MONOTONIC in ms, offset so it is always >= 1
int64_t monotonic_ns() noexcept;  // CLOCK_MONOTONIC in ns (for latency figures)
}  // namespace relay
