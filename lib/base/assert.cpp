// SPDX-License-Identifier: MIT
#include "base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace relay::detail {
void assert_failed(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "wsrelay: assertion failed: %s (%s:%d)\n", expr, file, line);
  std::abort();
}
}  // namespace relay::detail
